import * as fs from "node:fs";
import * as path from "node:path";

/**
 * The Clacks XSDs are GPL data kept outside the repository (../shared/clacks-events, beside the
 * repo root). Tests that need them fail with this message instead of passing vacuously.
 */
export function clacksSchemaDir(): string {
  const root = path.resolve(__dirname, "../../../..");
  const dir = path.resolve(root, "../shared/clacks-events");
  if (!fs.existsSync(path.join(dir, "PhoneStatus.xsd"))) {
    throw new Error(`Clacks event schemas not found at ${dir} (expected ../shared/clacks-events beside the repository)`);
  }
  return dir;
}
