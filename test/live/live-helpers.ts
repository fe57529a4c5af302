// Shared by the live tests: skip without root/tracefs, run rtscope as a tracked child, and
// check that no rtscope instance is left behind at the end of every test file.
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after } from "node:test";
import { instanceOwner } from "../../src/tracefs/instance.ts";
import { liveUsable } from "../../src/tracefs/live-usable.ts";
import { repoRoot } from "../helpers/paths.ts";

export const live = liveUsable();
/** Whether a command the tests compare against or drive is installed (on the PATH and runs). */
export function installed(cmd: string): boolean {
  return spawnSync(cmd, ["--help"], { stdio: "ignore" }).error === undefined;
}

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

/**
 * Runs rtscope (src/cli/main.ts) with stdout and stderr captured; `onSpawn` gets the child
 * and the output so far. Killed after `timeoutMs` (default 120 s).
 */
export function runRtscope(
  args: string[],
  opts: { onSpawn?: (c: ChildProcess, output: () => string) => void; timeoutMs?: number } = {},
): Promise<Ran> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [join(repoRoot, "src/cli/main.ts"), ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
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
    opts.onSpawn?.(c, () => stdout);
  });
}

/**
 * Resolves once the rtscope with this pid reads its instance (some CPU's stats count read
 * events): a new instance starts with tracing on, and rtscope switches it off while it sets
 * it up, so tracing_on alone does not tell. Returns the instance path.
 */
export async function untilReading(pid: number, ms = 120_000): Promise<string> {
  const inst = `/sys/kernel/tracing/instances/rtscope-${pid}`;
  const until = Date.now() + ms;
  const reading = () => {
    try {
      return readdirSync(`${inst}/per_cpu`).some((c) =>
        /read events: [1-9]/.test(readFileSync(`${inst}/per_cpu/${c}/stats`, "utf8")),
      );
    } catch {
      return false;
    }
  };
  while (!reading()) {
    if (!existsSync(`/proc/${pid}`)) throw new Error(`rtscope (pid ${pid}) exited before it read ${inst}`);
    if (Date.now() > until) throw new Error(`${inst}: rtscope never started reading`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return inst;
}
