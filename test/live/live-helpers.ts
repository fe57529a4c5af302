// Shared by the live tests: skip without root/tracefs, run rtscope as a tracked child, and
// check that no rtscope instance is left behind at the end of every test file.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { after } from "node:test";
import { instanceOwner } from "../../src/tracefs/instance.ts";
import { liveUsable } from "../../src/tracefs/live-usable.ts";
import { repoRoot } from "../helpers/paths.ts";

export const live = liveUsable();
/** `skip` option for tests that need live tracefs. */
export const skipLive: string | false = live.ok ? false : `live tracefs unavailable: ${live.why}`;

export function rtscopeInstances(): string[] {
  try {
    return readdirSync("/sys/kernel/tracing/instances").filter((n) => n.startsWith("rtscope-"));
  } catch {
    return [];
  }
}

const ours = new Set<number>([process.pid]);

/** Marks a process (an rtscope the test started) whose instances the end check covers. */
export function trackPid(pid: number): void {
  ours.add(pid);
}

/** Instances owned by this test process or by rtscopes it started (other users' live runs are left alone). */
export function ourInstances(): string[] {
  return rtscopeInstances().filter((n) => ours.has(instanceOwner(n)));
}

/** Registers the end-of-file check: no rtscope instance of ours (or of a child we started) remains. */
export function checkNoLeftoversAtEnd(): void {
  after(() => {
    if (!live.ok) return;
    const left = ourInstances();
    assert.deepEqual(left, [], `rtscope instances left behind: ${left.join(", ")}`);
  });
}

export interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const MAIN = join(repoRoot, "src/cli/main.ts");

/** Runs `rtscope ARGS` as a child whose instance counts as ours; SIGKILL after the timeout (default 2 min). */
export function runRtscope(
  args: string[],
  opts: { onSpawn?: (c: ChildProcess) => void; timeoutMs?: number } = {},
): Promise<Ran> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [MAIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    if (c.pid) trackPid(c.pid);
    let stdout = "";
    let stderr = "";
    c.stdout.on("data", (d) => {
      stdout += d;
    });
    c.stderr.on("data", (d) => {
      stderr += d;
    });
    const t = setTimeout(() => c.kill("SIGKILL"), opts.timeoutMs ?? 120_000);
    c.on("exit", (code, signal) => {
      clearTimeout(t);
      resolve({ code, signal, stdout, stderr });
    });
    opts.onSpawn?.(c);
  });
}
