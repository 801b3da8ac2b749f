#!/usr/bin/env node
"use strict";
// Built by `npm run build` (src/sim/cli.ts -> sim/cli.js).
require("../sim/cli.js")
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
