#!/usr/bin/env node
// Launcher: rtscope is written in erasable TypeScript and runs without a build step.
// Node >= 22.18 strips types by default; 22.13–22.17 need --experimental-strip-types,
// so re-run this script with the flag there. Older Node cannot load the sources at all.
import { spawnSync } from "node:child_process";
import module from "node:module";
import { fileURLToPath } from "node:url";

const MIN = "22.13";
const [major, minor] = process.versions.node.split(".").map(Number);
const tooOld = major < 22 || (major === 22 && minor < 13);
const features = /** @type {{ typescript?: string | false }} */ (process.features);

if (tooOld || features.typescript === undefined) {
  process.stderr.write(
    `rtscope: needs Node.js >= ${MIN} (this is ${process.version} at ${process.execPath}).\n` +
      "Inside the rtscope checkout, `npm install` provides Node 24: run `npx rtscope ...` or `npm start`.\n",
  );
  process.exit(2);
}

const main = fileURLToPath(new URL("../src/cli/main.ts", import.meta.url));

if (features.typescript === false) {
  // Type stripping exists but is off (22.13–22.17): run again with it on.
  const r = spawnSync(
    process.execPath,
    [
      "--experimental-strip-types",
      "--disable-warning=ExperimentalWarning",
      ...process.execArgv,
      main,
      ...process.argv.slice(2),
    ],
    { stdio: "inherit" },
  );
  if (r.error) {
    process.stderr.write(`rtscope: cannot start ${process.execPath}: ${r.error.message}\n`);
    process.exit(2);
  }
  // A signal-killed child: re-raise the same signal so the caller sees it.
  if (r.signal) process.kill(process.pid, r.signal);
  process.exit(r.status ?? 2);
} else {
  // Keep V8's compiled code, and the type-stripped sources, on disk between runs (in
  // $NODE_COMPILE_CACHE, else the OS temp dir; NODE_DISABLE_COMPILE_CACHE=1 turns it off):
  // it saves ~0.25 CPU s of every start (the TypeScript stripper alone is ~0.15 s).
  module.enableCompileCache?.();
  const { runMain } = await import("../src/cli/main.ts");
  process.exitCode = await runMain(process.argv.slice(2));
}
