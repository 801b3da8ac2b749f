#!/usr/bin/env node
"use strict";
// Built by `npm run build` (src/sim/cli.ts -> dist/sim/cli.js). Exit codes: 0 help or a clean stop
// on SIGINT/SIGTERM, 1 a simulator could not start, 2 a usage error.
require("../dist/sim/cli.js")
  .main(process.argv.slice(2))
  .then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      // Not a usage or listen error (those are reported by main): a bug, so show the stack.
      console.error(e);
      process.exitCode = 1;
    },
  );
