// `record -- CMD ARGS` on the running kernel: how the launched command ended is in the
// report and on stderr, and a failed or killed command fails the run (exit status 5)
// unless --ignore-command-status. Ground truth: the same command run outside rtscope
// (its own exit status or signal, from spawnSync).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import type { CommandStatus, Report } from "../../src/model/report.ts";
import { checkNoLeftoversAtEnd, ourInstances, runRtscope, skipLive } from "./live-helpers.ts";

checkNoLeftoversAtEnd();

/** rtscope record ARGS (no run stored: the machine's database is not the test's). */
const record = (args: string[]) => runRtscope(["record", "--no-store", ...args], { timeoutMs: 60_000 });

const FAILING = ["sh", "-c", "exit 7"];
const KILLED = ["sh", "-c", "kill -KILL $$"];

describe("record -- CMD: the command's end (live kernel)", { skip: skipLive }, () => {
  it("a command that exits non-zero: its status in JSON, text and stderr; exit 5", async () => {
    const outside = spawnSync(FAILING[0], FAILING.slice(1));
    assert.equal(outside.status, 7);
    const r = await record(["--duration", "20s", "-f", "json", "--", ...FAILING]);
    assert.equal(r.code, 5, r.stderr);
    const report = JSON.parse(r.stdout) as Report;
    const c = report.command as CommandStatus;
    assert.deepEqual(c.argv, FAILING);
    assert.equal(c.ended, "exited");
    assert.equal(c.exitCode, outside.status);
    assert.equal(c.signal, null);
    assert.match(r.stderr, /the command 'sh -c exit 7' exited with status 7/);
    assert.match(r.stderr, /the launched command failed: exit status 5/);
    const text = await record(["--duration", "20s", "--", ...FAILING]);
    assert.equal(text.code, 5);
    assert.match(text.stdout, /command {4}sh -c exit 7 \(pid \d+\): exited with status 7/);
    assert.deepEqual(ourInstances(), []);
  });

  it("--ignore-command-status: the status is still reported, the run passes", async () => {
    const r = await record(["--duration", "20s", "-f", "json", "--ignore-command-status", "--", ...FAILING]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as Report).command?.exitCode, 7);
    assert.match(r.stderr, /exited with status 7 \(ignored: --ignore-command-status\)/);
  });

  it("a command killed by a signal: the signal in the report; exit 5", async () => {
    const outside = spawnSync(KILLED[0], KILLED.slice(1));
    assert.equal(outside.signal, "SIGKILL");
    const r = await record(["--duration", "20s", "-f", "json", "--", ...KILLED]);
    assert.equal(r.code, 5, r.stderr);
    const c = (JSON.parse(r.stdout) as Report).command as CommandStatus;
    assert.equal(c.ended, "killed");
    assert.equal(c.signal, outside.signal);
    assert.equal(c.exitCode, null);
    assert.match(r.stderr, /killed by SIGKILL/);
  });

  it("a command that cannot be executed: exit 2, no report, no instance", async () => {
    const outside = spawnSync("/etc/passwd");
    assert.equal((outside.error as NodeJS.ErrnoException | undefined)?.code, "EACCES");
    const r = await record(["--duration", "20s", "-f", "json", "--", "/etc/passwd"]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /cannot run '\/etc\/passwd': permission denied/);
    const missing = await record(["--duration", "20s", "--", "no-such-command-rtscope"]);
    assert.equal(missing.code, 2);
    assert.equal(missing.stdout, "");
    assert.match(missing.stderr, /cannot run 'no-such-command-rtscope': not found in PATH/);
    assert.deepEqual(ourInstances(), []);
  });

  it("a command that succeeds: exit 0, its status 0 in the report", async () => {
    const r = await record(["--duration", "20s", "-f", "json", "--", "true"]);
    assert.equal(r.code, 0, r.stderr);
    const c = (JSON.parse(r.stdout) as Report).command as CommandStatus;
    assert.equal(c.ended, "exited");
    assert.equal(c.exitCode, 0);
  });

  it("JSON policy/prio of a live thread come from /proc: FIFO and chrt's priority", async () => {
    // runs past --duration, so that /proc still has it when the report is built
    const r = await record([
      "--duration",
      "2s",
      "-f",
      "json",
      "--",
      "chrt",
      "-f",
      "42",
      "sh",
      "-c",
      "while :; do sleep 0.05; done",
    ]);
    const report = JSON.parse(r.stdout) as Report;
    const pid = report.command?.pid as number;
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
    assert.equal(report.command?.ended, "running");
    assert.equal(r.code, 0, r.stderr);
    const t = report.tasks.find((x) => x.tid === pid);
    assert.ok(t, `the command's thread ${pid} in the report`);
    assert.equal(t.policy, "FIFO");
    assert.equal(t.prio, 42);
    // the kernel's prio of SCHED_FIFO 42 (MAX_RT_PRIO - 1 - 42), as its sched events show it
    assert.equal(t.kernelPrio, 99 - 42);
  });
});
