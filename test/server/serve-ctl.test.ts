// A real daemon tracking a real SCHED_FIFO workload, driven through `rtscope ctl` (and the
// API where ctl prints text): cyclictest held before exec is added with --trace and a
// timer bound, released, runs its loops and exits. Ground truth from outside rtscope:
// cyclictest's own summary (its measuring threads' tids and cycle counts, its minimum) and
// trace-cmd's reading of the exported worst window.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { checkNoLeftoversAtEnd, installed, skipLive } from "../live/live-helpers.ts";
import {
  cyclictestSummary,
  heldCyclictest,
  MAIN,
  raw,
  type Served,
  startServe,
  stopServe,
  tempDir,
  waitFor,
} from "./serve-helpers.ts";

checkNoLeftoversAtEnd();

const haveCyclictest = installed("cyclictest");
const skip = skipLive || (haveCyclictest ? false : "cyclictest not installed");
const tmp = tempDir("rtscope-serve-ctl-");
after(() => rmSync(tmp, { recursive: true, force: true }));

function ctl(socket: string, ...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, "ctl", "--socket", socket, ...args], {
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("serve + ctl on cyclictest", { skip }, () => {
  let served: Served;
  const socket = join(tmp, "rtscope.sock");
  before(async () => {
    served = await startServe(socket);
  });
  after(async () => {
    if (served) await stopServe(served);
  });

  it("add --trace, a bound, violations counted, the exit kept, del prints the statistics", async () => {
    const LOOPS = 1500;
    const cyc = heldCyclictest(["-m", "-t2", "-p80", "-i1000", "-d0", `-l${LOOPS}`, "-q"]);
    try {
      const add = ctl(socket, "add", String(cyc.pid), "--trace");
      assert.equal(add.code, 0, add.stderr);
      assert.match(
        add.stdout,
        new RegExp(`tracking process \\S+ \\(pid ${cyc.pid},.*with worst-case windows`),
      );
      // the bound is set before any thread exists: threads tracked later get it
      const slo = ctl(socket, "slo", String(cyc.pid), "timer", "1us");
      assert.equal(slo.code, 0, slo.stderr);
      cyc.release();
      await cyc.done;
      const truth = cyclictestSummary(cyc.output());
      assert.equal(truth.length, 2, `cyclictest summary: ${cyc.output()}`);

      // the exit is noticed and the statistics frozen (exit event or /proc; then a second)
      const exited = await waitFor(async () => {
        const r = await raw({ socket, path: `/api/tasks/${cyc.pid}` });
        return r.status === 200 && r.json().exited === true;
      }, 10_000);
      assert.ok(exited, "the task was not marked exited");
      await new Promise((r) => setTimeout(r, 1500));
      const detail = (await raw({ socket, path: `/api/tasks/${cyc.pid}` })).json();
      assert.equal(detail.comm, "cyclictest", "the process name after exec");
      for (const t of truth) {
        const task = detail.tasks.find((x: { tid: number }) => x.tid === t.tid);
        assert.ok(
          task,
          `measuring thread ${t.tid} tracked (threads: ${detail.tasks.map((x: { tid: number }) => x.tid)})`,
        );
        assert.equal(task.policy, "FIFO");
        // prio is the user-visible rtprio; kernelPrio the kernel's (99 - rtprio)
        assert.equal(task.prio, 80, "rtprio 80");
        assert.equal(task.kernelPrio, 19);
        const timer = task.metrics.timer;
        // one timer sample per cycle cyclictest counted; its first sleep starts before the
        // loop counts (no cycle), so rtscope may see one more; an activation cut by lost
        // events (the machine is shared) is counted as incomplete, never as a sample
        const msg = `thread ${t.tid}: ${timer.count} timer samples, ${task.counters.incomplete} cut, for ${t.cycles} cycles (capture lost ${detail.capture.lostEvents} events)`;
        assert.ok(timer.count <= t.cycles + 1, msg);
        assert.ok(timer.count + task.counters.incomplete >= t.cycles, msg);
        if (detail.capture.lostEvents === 0) assert.ok(timer.count >= t.cycles, msg);
        // cyclictest saw every cycle at >= its Min us: with Min >= 2 every sample is over 1 us
        if (t.min >= 2)
          assert.equal(timer.slo.violations, timer.count, `thread ${t.tid}: every sample over 1 us`);
        else assert.ok(timer.slo.violations > 0);
        assert.equal(timer.slo.bound, 1000);
      }

      // the worst window of the traced task, read back by trace-cmd
      const out = join(tmp, "worst.dat");
      const w = ctl(socket, "worst", String(cyc.pid), "timer", "--format", "tracedat", "-o", out);
      assert.equal(w.code, 0, w.stderr);
      assert.ok(existsSync(out));
      const rep = spawnSync("trace-cmd", ["report", out], { encoding: "utf8" });
      if (rep.error === undefined) {
        assert.equal(rep.status, 0, rep.stderr);
        // the worst of the task's threads (cyclictest's main thread sleeps on timers too)
        const tids: number[] = detail.tasks.map((x: { tid: number }) => x.tid);
        assert.ok(
          tids.some((tid) => new RegExp(`sched_wakeup:.*:${tid} `).test(rep.stdout)),
          `the window holds the wakeup of a thread of the task: ${rep.stdout.slice(0, 2000)}`,
        );
      }

      const list = ctl(socket, "list");
      assert.equal(list.code, 0);
      assert.match(
        list.stdout,
        new RegExp(`^${cyc.pid}  cyclictest  process, 3 threads, trace, exited`, "m"),
      );

      const del = ctl(socket, "del", String(cyc.pid));
      assert.equal(del.code, 0, del.stderr);
      for (const t of truth)
        assert.match(del.stdout, new RegExp(`cyclictest \\[${t.tid}\\]  SCHED_FIFO rtprio 80`));
      assert.match(del.stdout, /timer\s+[\d,]+\s/);
      assert.match(del.stdout, /timer latency \(expiry → running\)/, "the worst window with its causes");
      assert.match(del.stdout, /SLO\s+timer <= 1 us/);
      assert.equal(ctl(socket, "list").stdout, "no tasks tracked (rtscope ctl add PID)\n");
      const again = ctl(socket, "show", String(cyc.pid));
      assert.equal(again.code, 2);
      assert.match(again.stderr, /not tracked/);
    } finally {
      cyc.child.kill("SIGKILL");
    }
  });

  it("a thread id is tracked alone; a second add is refused", async () => {
    const cyc = heldCyclictest(["-m", "-t1", "-p80", "-i1000", "-q"]);
    try {
      cyc.release();
      // the measuring thread exists once cyclictest has started
      let tid = -1;
      await waitFor(() => {
        const r = spawnSync("ls", [`/proc/${cyc.pid}/task`], { encoding: "utf8" });
        const tids = r.stdout
          .split(/\s+/)
          .filter(Boolean)
          .map(Number)
          .filter((t) => t !== cyc.pid);
        if (tids.length > 0) tid = tids[0];
        return tid > 0;
      }, 5000);
      const add = ctl(socket, "add", String(tid));
      assert.equal(add.code, 0, add.stderr);
      assert.match(add.stdout, new RegExp(`tracking thread \\S+ \\(pid ${tid}, 1 thread`));
      const dup = ctl(socket, "add", String(cyc.pid));
      assert.equal(dup.code, 2);
      assert.match(dup.stderr, /tracked alone/);
      const bad = ctl(socket, "add", String(tid), "--scope", "process");
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /already tracked|is a thread of process/);
      assert.equal(ctl(socket, "del", String(tid)).code, 0);
    } finally {
      cyc.child.kill("SIGKILL");
    }
  });

  it("ctl says clearly when no daemon answers", () => {
    const r = ctl(join(tmp, "nobody.sock"), "list");
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no rtscope daemon answers on unix:.*nobody\.sock/);
  });
});
