// JSON `policy`/`prio` (issue 12, item 7): offline the class the events' kernel prio shows
// and the user-visible priority (rtprio = 99 − prio, nice = prio − 120), the kernel prio in
// its own field, a PI boost said when the events show one; live, /proc's policy and base
// priority when they agree with the events. Ground truth: the prios the scripts emit.
import assert from "node:assert/strict";
import test from "node:test";
import type { TaskInfo } from "../../src/analysis/task-info.ts";
import type { TaskReport } from "../../src/model/report.ts";
import { analyzeScript, EventScript, pids } from "./event-script.ts";

/** A thread 42 that sleeps, is woken at `prio` and runs; `boostTo` is its prio while it holds a PI lock. */
function script(prio: number, boostTo?: number): EventScript {
  const s = new EventScript(1);
  s.at(10).cpu(0).switch({ prev: 0, next: 42, prevPrio: 120, nextPrio: prio, prevState: "R" });
  s.at(20).cpu(0).switch({ prev: 42, next: 0, prevPrio: prio, nextPrio: 120, prevState: "S" });
  for (let i = 0; i < 3; i++) {
    const t = 1000 + i * 1000;
    s.at(t).cpu(0).wakeup({ tid: 42, prio, targetCpu: 0 });
    s.at(t + 100)
      .cpu(0)
      .switch({ prev: 0, next: 42, prevPrio: 120, nextPrio: prio, prevState: "R" });
    // a waiter boosts it while it holds the lock: the switch-out shows the boosted prio
    const out = i === 1 && boostTo !== undefined ? boostTo : prio;
    s.at(t + 300)
      .cpu(0)
      .switch({ prev: 42, next: 0, prevPrio: out, nextPrio: 120, prevState: "S" });
  }
  return s;
}

function task(s: EventScript, taskInfo?: (tid: number) => TaskInfo | undefined): TaskReport {
  const t = analyzeScript(s, { selection: pids(42), taskInfo }).report.tasks.find((x) => x.tid === 42);
  assert.ok(t);
  return t;
}

test("offline RT thread: class RT, rtprio 99 - prio, kernel prio kept", () => {
  const t = task(script(19));
  assert.equal(t.policy, "RT");
  assert.equal(t.prio, 80);
  assert.equal(t.kernelPrio, 19);
  assert.equal(t.boostedKernelPrio, undefined);
});

test("offline normal thread: class normal, nice = prio - 120", () => {
  const t = task(script(125));
  assert.equal(t.policy, "normal");
  assert.equal(t.prio, 5);
  assert.equal(t.kernelPrio, 125);
});

test("a PI boost the events show is reported", () => {
  const t = task(script(120, 9));
  assert.equal(t.policy, "normal");
  assert.equal(t.prio, 0);
  assert.equal(t.kernelPrio, 120);
  assert.equal(t.boostedKernelPrio, 9);
  const rt = task(script(49, 19));
  assert.equal(rt.prio, 50);
  assert.equal(rt.boostedKernelPrio, 19);
});

test("live: /proc's policy and base priority when they agree with the events", () => {
  const fifo = task(script(19), () => ({ policy: "FIFO", rtPriority: 80, nice: 0 }));
  assert.equal(fifo.policy, "FIFO");
  assert.equal(fifo.prio, 80);
  assert.equal(fifo.kernelPrio, 19);
  const batch = task(script(130), () => ({ policy: "BATCH", rtPriority: 0, nice: 10 }));
  assert.equal(batch.policy, "BATCH");
  assert.equal(batch.prio, 10);
  // boosted above its base priority at its last wakeup: /proc's base, the boost said
  const boosted = task(script(9), () => ({ policy: "FIFO", rtPriority: 50, nice: 0 }));
  assert.equal(boosted.prio, 50);
  assert.equal(boosted.kernelPrio, 9);
  assert.equal(boosted.boostedKernelPrio, 9);
  // /proc read before the thread made itself RT (cyclictest does): the events' class wins
  const stale = task(script(19), () => ({ policy: "OTHER", rtPriority: 0, nice: 0 }));
  assert.equal(stale.policy, "RT");
  assert.equal(stale.prio, 80);
});
