// Runs bin/rtscope.js with the Node that runs the tests (Node 24 under npm test) and
// returns its exit status and output.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "./paths.ts";

export const rtscopeBin = join(repoRoot, "bin/rtscope.js");

export function rtscope(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [rtscopeBin, ...args], {
    encoding: "utf8",
    env: { ...process.env, RTSCOPE_DEBUG: "" },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
