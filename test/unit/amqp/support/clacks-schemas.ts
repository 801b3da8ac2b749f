import * as fs from "node:fs";
import * as path from "node:path";

/**
 * The package's own Clacks-format event schemas (test/fixtures/clacks-schemas: PhoneStatus,
 * NodeStatus, ClientPoll). Tests that need them fail with this message instead of passing
 * vacuously if the folder is missing.
 */
export function clacksSchemaDir(): string {
  const dir = path.resolve(__dirname, "../../../fixtures/clacks-schemas");
  if (!fs.existsSync(path.join(dir, "PhoneStatus.xsd"))) {
    throw new Error(`Clacks-format test schemas not found at ${dir}`);
  }
  return dir;
}
