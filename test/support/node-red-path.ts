/**
 * The one place that says which Node-RED the tests run against: this repository's devDependency
 * (Node-RED 4.1), or the node-red package folder that INFRA_EVENTS_NODE_RED names (the Node-RED 5
 * that scripts/node22-env.js installs into ~/.cache/infra-events-nr5; scripts/run-matrix.js sets it). The node
 * tests' helper.init, the core nodes they load next to ours and the embedded runtime all come
 * from here, so one run never mixes two versions.
 */
import fs from "node:fs";
import path from "node:path";
import type { NodeAPI } from "node-red";

function selectedDir(): string {
  const env = process.env.INFRA_EVENTS_NODE_RED;
  if (!env) return path.dirname(require.resolve("node-red/package.json"));
  const dir = path.resolve(env);
  if (!fs.existsSync(path.join(dir, "package.json"))) throw new Error(`INFRA_EVENTS_NODE_RED=${env}: no node-red package there`);
  return dir;
}

/** The node-red package folder. */
export const nodeRedDir = selectedDir();
/** Its main file: what helper.init and the embedded runtime require. */
export const nodeRedPath = require.resolve(nodeRedDir);
export const nodeRedVersion = (JSON.parse(fs.readFileSync(path.join(nodeRedDir, "package.json"), "utf8")) as { version: string }).version;
/** "Node v22.23.5 + Node-RED 5.0.7": for suite titles and summaries. */
export const runtimeLabel = `Node ${process.version} + Node-RED ${nodeRedVersion}`;

const coreNodesDir = path.join(path.dirname(require.resolve("@node-red/nodes/package.json", { paths: [nodeRedDir] })), "core");

/** A core node module of the selected runtime, e.g. requireCoreNode("common/20-inject.js"). */
export function requireCoreNode(p: string): (RED: NodeAPI) => void {
  return require(path.join(coreNodesDir, p));
}
