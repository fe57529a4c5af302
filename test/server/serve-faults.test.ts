// Faults a daemon meets in the field, on a real daemon: a tracked process's pid reused by
// a new process (two tasks, never merged: their counts are each cyclictest's own), the
// tracefs instance disturbed from outside (reported and repaired, not a crash), SIGKILL
// and a restart (the dead daemon's instance and socket removed, the run history still
// readable), and a run database on a tiny full tmpfs (a clear error; the capture goes on).
// (A tracked process exiting, its statistics kept and marked exited, is in serve-ctl.)
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { checkNoLeftoversAtEnd, installed, skipLive } from "../live/live-helpers.ts";
import {
  cyclictestSummary,
  heldCyclictest,
  raw,
  sleep,
  startServe,
  stopServe,
  tempDir,
  waitFor,
} from "./serve-helpers.ts";

checkNoLeftoversAtEnd();

const tmp = tempDir("rtscope-serve-faults-");
after(() => rmSync(tmp, { recursive: true, force: true }));
const haveCyclictest = installed("cyclictest");
const INSTANCES = "/sys/kernel/tracing/instances";

/** A held cyclictest whose pid is `want` (pids are handed out in order: ns_last_pid), or null. */
async function heldWithPid(want: number, args: string[]) {
  for (let attempt = 0; attempt < 200; attempt++) {
    // another process on the machine may take the pid first: try again
    writeFileSync("/proc/sys/kernel/ns_last_pid", String(want - 1));
    const c = heldCyclictest(args);
    if (c.pid === want) return c;
    c.child.kill("SIGKILL");
    await c.done;
  }
  return null;
}

describe("daemon faults", { skip: skipLive }, () => {
  it("a pid reused by a new process is a new task: the two are not merged", {
    skip: haveCyclictest ? false : "cyclictest not installed",
  }, async () => {
    const socket = join(tmp, "reuse.sock");
    const served = await startServe(socket);
    try {
      const args = ["-m", "-t1", "-p80", "-i1000", "-q"];
      const first = heldCyclictest([...args, "-l700"]);
      const pid = first.pid;
      assert.equal((await raw({ socket, method: "POST", path: "/api/tasks", body: { pid } })).status, 201);
      let released = performance.now();
      first.release();
      await first.done;
      const lifeMs1 = performance.now() - released;
      const truth1 = cyclictestSummary(first.output());
      const gone = await waitFor(
        async () => (await raw({ socket, path: `/api/tasks/${pid}` })).json().exited,
        10_000,
      );
      assert.ok(gone, "first process marked exited");

      const second = await heldWithPid(pid, [...args, "-l400"]);
      if (second === null) {
        assert.fail(`could not get pid ${pid} again for the second process`);
      }
      // the old task's selection was withdrawn: the new process is not picked up by itself
      const list = (await raw({ socket, path: "/api/tasks" })).json().tasks;
      assert.equal(list.length, 1);
      assert.equal(list[0].exited, true);
      const add = await raw({ socket, method: "POST", path: "/api/tasks", body: { pid } });
      assert.equal(add.status, 201, add.text);
      released = performance.now();
      second.release();
      await second.done;
      const lifeMs2 = performance.now() - released;
      const truth2 = cyclictestSummary(second.output());
      await waitFor(async () => {
        const t = (await raw({ socket, path: "/api/tasks" })).json().tasks;
        return t.length === 2 && t.every((x: { exited: boolean }) => x.exited);
      }, 10_000);
      await sleep(1500); // final statistics are taken a second after the exit
      const tasks = (await raw({ socket, path: "/api/tasks" })).json().tasks;
      assert.equal(tasks.length, 2, "two tasks with the same pid");
      assert.equal(tasks[0].pid, pid);
      assert.equal(tasks[1].pid, pid);
      assert.notEqual(tasks[0].startTime, tasks[1].startTime);
      // each task counted its own process's cycles only: one timer sample per cycle of its
      // measuring thread (+1: the sleep before the loop), plus its main thread's timer sleeps
      // (10 ms each, over the process's whole life as the test timed it from its release:
      // start-up and exit included, so more than cycles / 10); activations cut by lost events
      // (the machine is shared) are counted as incomplete instead
      const [old, neu] = tasks[0].startTime < tasks[1].startTime ? tasks : [tasks[1], tasks[0]];
      for (const [task, truth, lifeMs] of [
        [old, truth1[0], lifeMs1],
        [neu, truth2[0], lifeMs2],
      ] as const) {
        const n = task.metrics.timer?.count ?? 0;
        const msg = `${n} timer samples, ${task.incomplete} cut, for ${truth.cycles} cycles in ${lifeMs.toFixed(0)} ms: ${JSON.stringify(task)}`;
        assert.ok(n <= truth.cycles + 1 + Math.ceil(lifeMs / 10) + 1, msg);
        assert.ok(n + task.incomplete >= truth.cycles, msg);
      }
      // show PID names the live-or-latest one: the new task
      const shown = (await raw({ socket, path: `/api/tasks/${pid}` })).json();
      assert.equal(shown.startTime, neu.startTime);
      const detailTids = shown.tasks.map((t: { tid: number }) => t.tid);
      assert.ok(detailTids.includes(truth2[0].tid), "the new process's measuring thread");
      assert.ok(!detailTids.includes(truth1[0].tid) || truth1[0].tid === truth2[0].tid);
    } finally {
      await stopServe(served);
    }
  });

  it("the tracefs instance disturbed from outside is reported and repaired, not a crash", async () => {
    const socket = join(tmp, "disturb.sock");
    const served = await startServe(socket);
    try {
      const inst = join(INSTANCES, `rtscope-${served.pid}`);
      assert.ok(existsSync(inst));
      writeFileSync(join(inst, "tracing_on"), "0");
      writeFileSync(join(inst, "events/sched/sched_switch/enable"), "0");
      const reported = await waitFor(async () => {
        const h = (await raw({ socket, path: "/api/health" })).json();
        return h.tracefs.problems.length >= 2;
      }, 10_000);
      assert.ok(reported, "health reports the disturbance");
      const h = (await raw({ socket, path: "/api/health" })).json();
      // the kernel's count of events written rides beside the events read and lost
      assert.ok(Number.isInteger(h.written) && h.written >= h.lostEvents, `written ${h.written}`);
      const text = h.tracefs.problems.map((p: { message: string }) => p.message).join("\n");
      assert.match(text, /tracing_on was turned off from outside; turned back on/);
      assert.match(text, /sched_switch\/enable was disabled from outside; enabled again/);
      assert.equal(readFileSync(join(inst, "tracing_on"), "utf8").trim(), "1");
      assert.equal(readFileSync(join(inst, "events/sched/sched_switch/enable"), "utf8").trim(), "1");
      // an attempt to remove it while the daemon reads it fails in the kernel (busy)
      assert.throws(() => execFileSync("rmdir", [inst], { stdio: "pipe" }));
      assert.equal((await raw({ socket, path: "/api/tasks" })).status, 200, "still answering");
      assert.match(served.stderr(), /was turned off from outside/);
    } finally {
      const r = await stopServe(served);
      assert.equal(r.code, 0);
    }
  });

  it("SIGKILL, then a restart: stale instance and socket removed, run history readable", async () => {
    const socket = join(tmp, "kill.sock");
    // a first daemon stops gracefully: its run is stored
    const first = await startServe(socket);
    const sleeper = spawn("sleep", ["600"], { stdio: "ignore" });
    try {
      assert.equal(
        (await raw({ socket, method: "POST", path: "/api/tasks", body: { pid: sleeper.pid } })).status,
        201,
      );
      assert.equal((await stopServe(first)).code, 0);
      assert.match(first.stderr(), /stored as run (\d+)/);
      assert.ok(!existsSync(socket), "a graceful stop unlinks the socket");

      const killed = await startServe(socket);
      await stopServe(killed, "SIGKILL");
      const stale = `rtscope-${killed.pid}`;
      assert.ok(existsSync(join(INSTANCES, stale)), "SIGKILL leaves the instance");
      assert.ok(existsSync(socket), "and the socket");

      const again = await startServe(socket);
      try {
        // the new daemon removed it, or another rtscope on this machine did first (each live
        // rtscope removes instances of dead owners when it starts)
        assert.ok(!existsSync(join(INSTANCES, stale)), `${stale} still there: ${again.stderr()}`);
        // the database (shared by this file's daemons) holds the first daemon's run
        const id = Number(/stored as run (\d+)/.exec(first.stderr())?.[1]);
        const runs = (await raw({ socket, path: "/api/runs" })).json().runs;
        const stored = runs.find((r: { id: number }) => r.id === id);
        assert.ok(stored, `run ${id} in ${JSON.stringify(runs)}`);
        assert.equal(stored.origin, "serve");
        const run = (await raw({ socket, path: `/api/runs/${id}` })).json();
        assert.equal(run.report.selection, `--tgid ${sleeper.pid}`);
        assert.equal((await raw({ socket, path: "/api/runs/999" })).status, 404);
        // compare's rules over the API: a run against itself has no regression, and it names both
        const same = (await raw({ socket, path: `/api/compare?base=${id}&new=${id}` })).json();
        assert.equal(same.base, `run ${id}`);
        assert.equal(same.new, `run ${id}`);
        assert.equal(same.regressed, 0);
        assert.equal((await raw({ socket, path: `/api/compare?base=${id}&new=999` })).status, 404);
      } finally {
        assert.equal((await stopServe(again)).code, 0);
      }
    } finally {
      sleeper.kill("SIGKILL");
    }
  });

  it("a run database on a full tmpfs: a clear error, the capture goes on", async () => {
    const mnt = join(tmp, "full");
    mkdirSync(mnt);
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt]);
    try {
      writeFileSync(join(mnt, "filler"), Buffer.alloc(60 * 1024));
      const served = await startServe(join(tmp, "full.sock"), ["--db", join(mnt, "rtscope.db")]);
      try {
        assert.match(served.stderr(), /runs will not be stored: .*rtscope\.db: cannot .*(full|I\/O)/);
        const h = await raw({ socket: served.socket, path: "/api/health" });
        assert.equal(h.status, 200);
        const r = await raw({ socket: served.socket, path: "/api/runs" });
        assert.equal(r.status, 503);
        assert.match(r.json().error, /no run history: .*rtscope\.db/);
      } finally {
        assert.equal((await stopServe(served)).code, 0);
      }
    } finally {
      execFileSync("umount", [mnt]);
    }
  });
});
