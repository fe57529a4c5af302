// Who is to blame, across CPUs (issue #11 item 2): hand-built event sequences that follow
// what the kernel writes (try_to_wake_up: sched_waking in the waker's context, then
// sched_migrate_task when select_task_rq picks another CPU, then sched_wakeup by the waker
// or, queued to a remote CPU, on that CPU from its IPI; wake_up_new_task: no migrate event,
// sched_wakeup_new in the parent's context). Each test states the breakdown worked out by
// hand from its sequence; windowOf checks that the causes add up to the metric.
//
// Times are ns; the wakeup is at W = 1 ms, the window's margin is the default 100 µs.
import assert from "node:assert/strict";
import { test } from "node:test";
import { EventKind } from "../../src/model/event-kind.ts";
import type { WorstWindow } from "../../src/model/report.ts";
import { windowToJsonObject } from "../../src/output/window-json.ts";
import { formatWorstWindow } from "../../src/output/window-text.ts";
import { Script, sample, windowOf } from "./scripted.ts";

const W = 1_000_000;
const TASK = 100;
const S = 1; // prev_state S (sleeping)
const R = 0; // prev_state R (preempted)

function breakdown(w: WorstWindow): [string, string, number, number | undefined][] {
  return w.causes.map((c) => [c.kind, c.name, c.time, c.cpu]);
}

test("wakeup_new on CPU 1 onto CPU 0, behind the other cyclictest thread there: thread interference, not migration", () => {
  const PARENT = 10;
  const OTHER = 101;
  const X = 50;
  const s = new Script({ [TASK]: "cyclictest", [PARENT]: "cyclictest", [OTHER]: "cyclictest", [X]: "bash" });
  // CPU 0: the other cyclictest thread (prio 19) runs from 57 µs before the wakeup
  s.switch(W - 57_000, 0, X, 120, S, OTHER, 19)
    // CPU 1: the parent creates the thread: placed on CPU 0 at fork (no migrate event)
    .switch(W - 10_000, 1, 0, 120, R, PARENT, 120)
    .wakeup(W, 1, PARENT, TASK, 120, 0, EventKind.SchedWakeupNew)
    // CPU 0: the other thread arms its timer (the old analysis ended "migration" here) and sleeps
    .hrtimerStart(W + 64_800, 0, OTHER, 0xabc, 0x1000, W + 1_000_000)
    .switch(W + 69_600, 0, OTHER, 19, S, TASK, 120);
  const w = windowOf(
    s,
    sample({ tid: TASK, start: W, end: W + 69_600, wakeCpu: 1, runCpu: 0, cpus: [0, 1], prio: 120 }),
  );
  // CPU 0 ran OTHER (prio 19 < 120) over the whole latency
  assert.deepEqual(breakdown(w), [["thread", "cyclictest", 69_600, 0]]);
  assert.equal(w.causes[0].tid, OTHER);
  assert.equal(w.wakeCpu, 1);
  assert.equal(w.ontoCpu, 0);
  assert.deepEqual(w.waker, { event: "sched_wakeup_new", tid: PARENT, comm: "cyclictest", ontoCpu: 0 });
  assert.equal(w.migrations, undefined);
});

test("remote wakeup: sched_waking on CPU 0, sched_wakeup on idle CPU 1 from its IPI", () => {
  const WAKER = 300;
  const build = () =>
    new Script({ [TASK]: "rt-task", [WAKER]: "writer" })
      // CPU 1: the task slept there and the CPU went idle
      .switch(W - 50_000, 1, TASK, 19, S, 0, 120)
      .other(W - 40_000, 0, WAKER)
      // CPU 0: the waker; target_cpu of sched_waking is the task's previous CPU
      .wakeup(W, 0, WAKER, TASK, 19, 1, EventKind.SchedWaking)
      // CPU 1: the wakeup queued there is written from the IPI, in the idle task's context
      .wakeup(W + 3_000, 1, 0, TASK, 19, 1)
      .switch(W + 5_000, 1, 0, 120, R, TASK, 19);
  // default: the activation starts at sched_wakeup (written on CPU 1: the engine's wakeCpu 1,
  // and only CPU 1 among the sample's CPUs); the capture finds the waker's CPU 0 itself
  const w = windowOf(
    build(),
    sample({ tid: TASK, start: W + 3_000, end: W + 5_000, wakeCpu: 1, runCpu: 1, cpus: [1] }),
  );
  // CPU 1 idle from the wakeup to the switch-in: 2 µs of idle exit
  assert.deepEqual(breakdown(w), [["idle-exit", "idle exit", 2_000, 1]]);
  assert.equal(w.wakeCpu, 0, "woken on the waker's CPU");
  assert.equal(w.waker?.tid, WAKER);
  assert.equal(w.waker?.event, "sched_waking");
  assert.equal(w.ontoCpu, 1);
  // --wakeup-event waking: the activation starts at sched_waking; until the IPI queues the
  // task, CPU 1's state (idle) delays it: 3 µs, then 2 µs more of idle exit
  const ww = windowOf(
    build(),
    sample({ tid: TASK, start: W, end: W + 5_000, wakeTs: W, wakeCpu: 0, runCpu: 1, cpus: [0, 1] }),
  );
  assert.deepEqual(breakdown(ww), [["idle-exit", "idle exit", 5_000, 1]]);
});

test("wakeup placed onto a CPU busy with a higher-priority RT thread: thread interference and its IRQ", () => {
  const WAKER = 300;
  const H = 200;
  const s = new Script({ [TASK]: "rt-task", [WAKER]: "waker", [H]: "rt-hog" });
  s.switch(W - 80_000, 0, TASK, 19, S, 0, 120)
    .switch(W - 70_000, 0, 0, 120, R, WAKER, 120)
    .switch(W - 40_000, 1, 0, 120, R, H, 9)
    // CPU 0: waking (previous CPU 0), placement 0 → 1 by select_task_rq, wakeup onto CPU 1
    .wakeup(W - 1_000, 0, WAKER, TASK, 19, 0, EventKind.SchedWaking)
    .migrate(W - 500, 0, WAKER, TASK, 19, 0, 1)
    .wakeup(W, 0, WAKER, TASK, 19, 1)
    // CPU 1: the hog runs, an IRQ hits it, then it sleeps
    .irq(W + 10_000, W + 12_000, 1, H, 24, "eth0")
    .switch(W + 30_000, 1, H, 9, S, TASK, 19);
  const w = windowOf(
    s,
    sample({ tid: TASK, start: W, end: W + 30_000, wakeCpu: 0, runCpu: 1, cpus: [0, 1] }),
  );
  // 30 µs on CPU 1: the IRQ 2 µs, H the other 28 µs; the placement is no migration
  assert.deepEqual(breakdown(w), [
    ["thread", "rt-hog", 28_000, 1],
    ["irq", "eth0", 2_000, 1],
  ]);
  assert.deepEqual(w.waker, {
    event: "sched_waking",
    tid: WAKER,
    comm: "waker",
    ontoCpu: 1,
    placedFrom: 0,
  });
  assert.equal(w.migrations, undefined);
  const text = formatWorstWindow(w, { tid: TASK, comm: "rt-task" }, "latency", { events: false });
  assert.match(text, /woken by waker:300 on CPU 0, onto CPU 1 \(placed from CPU 0\), ran on CPU 1/);
  const json = windowToJsonObject(w);
  assert.equal(json.wakeCpu, 0);
  assert.equal(json.ontoCpu, 1);
  assert.equal(json.cpu, 1);
  assert.deepEqual(json.waker, w.waker);
});

test("load balancing: pulled by CPU 0 from behind a SCHED_OTHER thread on CPU 1", () => {
  const A = 201;
  const B = 202;
  const s = new Script({ [TASK]: "worker", [A]: "a", [B]: "b" });
  s.switch(W - 60_000, 0, 0, 120, R, B, 120)
    .switch(W - 50_000, 1, TASK, 120, S, A, 120)
    // CPU 1: A wakes the task onto CPU 1 and keeps running
    .wakeup(W - 500, 1, A, TASK, 120, 1, EventKind.SchedWaking)
    .wakeup(W, 1, A, TASK, 120, 1)
    // CPU 0: B goes to sleep; the idle balance pulls the task (written on CPU 0 in B's context)
    .migrate(W + 30_000, 0, B, TASK, 120, 1, 0)
    .switch(W + 33_000, 0, B, 120, S, TASK, 120);
  const w = windowOf(
    s,
    sample({ tid: TASK, start: W, end: W + 33_000, wakeCpu: 1, runCpu: 0, cpus: [0, 1], prio: 120 }),
  );
  // before the move: A (equal prio) held CPU 1, 30 µs; the pull by CPU 0 until its switch: 3 µs
  assert.deepEqual(breakdown(w), [
    ["blocking", "a", 30_000, 1],
    ["migration", "CPU 1 → CPU 0", 3_000, 0],
  ]);
  assert.deepEqual(w.migrations, [{ ts: 1_000_000_000 + W + 30_000, from: 1, to: 0, by: 0 }]);
  const text = formatWorstWindow(w, { tid: TASK, comm: "worker" }, "latency", { events: false });
  assert.match(text, /woken by a:201 on CPU 1, onto CPU 1, moved CPU 1 → CPU 0, ran on CPU 0/);
});

test("RT push to an idle CPU: interference before the move, idle exit after it", () => {
  const H = 200;
  const s = new Script({ [TASK]: "rt-task", [H]: "rt-hog" });
  s.switch(W - 60_000, 0, 300, 120, S, 0, 120)
    .switch(W - 50_000, 1, TASK, 19, S, H, 9)
    // CPU 1: the task's timer fires in H's context and wakes it there
    .expireEntry(W - 1_000, 1, H, 0xabc, 0x1000, W - 2_000)
    .wakeup(W - 800, 1, H, TASK, 19, 1, EventKind.SchedWaking)
    .wakeup(W, 1, H, TASK, 19, 1)
    .expireExit(W + 500, 1, H, 0xabc)
    // CPU 1 pushes it to CPU 0, which leaves idle for it
    .migrate(W + 20_000, 1, H, TASK, 19, 1, 0)
    .switch(W + 26_000, 0, 0, 120, R, TASK, 19);
  const w = windowOf(
    s,
    sample({ tid: TASK, start: W, end: W + 26_000, wakeCpu: 1, runCpu: 0, cpus: [0, 1] }),
  );
  assert.deepEqual(breakdown(w), [
    ["thread", "rt-hog", 20_000, 1],
    ["idle-exit", "idle exit", 6_000, 0],
  ]);
  assert.equal(w.waker?.context, "hrtimer callback");
  assert.equal(w.migrations?.[0].by, 1);
  const text = formatWorstWindow(w, { tid: TASK, comm: "rt-task" }, "latency", { events: false });
  assert.match(
    text,
    /woken by hrtimer callback \(in rt-hog:200\) on CPU 1, onto CPU 1, moved CPU 1 → CPU 0, ran on CPU 0/,
  );
});

test("run CPU with no event since before the margin: unknown until its next event, unless that event agrees", () => {
  const WAKER = 300;
  const X = 400;
  const Y = 401;
  const build = (next: number) =>
    new Script({ [TASK]: "rt-task", [WAKER]: "waker", [X]: "x", [Y]: "y" })
      // CPU 1: X switched in 500 µs before the wakeup, outside the 100 µs margin
      .switch(W - 500_000, 1, 0, 120, R, X, 120)
      .other(W - 20_000, 0, WAKER)
      .wakeup(W, 0, WAKER, TASK, 19, 1)
      // CPU 1's next event, 40 µs after the wakeup, in `next`'s context
      .other(W + 40_000, 1, next)
      .switch(W + 50_000, 1, next, 120, S, TASK, 19);
  const smp = () => sample({ tid: TASK, start: W, end: W + 50_000, wakeCpu: 0, runCpu: 1, cpus: [0, 1] });
  // Y is current at +40 µs with no switch recorded since X: what ran before is not known
  const w = windowOf(build(Y), smp());
  assert.deepEqual(breakdown(w), [
    ["unknown", "CPU 1: no event tells what ran, until +40.000 us", 40_000, 1],
    ["blocking", "y", 10_000, 1],
  ]);
  assert.equal(w.causes[0].until, 1_000_000_000 + W + 40_000);
  // X still current at +40 µs: X held CPU 1 all along (the cpu-load fixture's 7.4 ms case)
  const w2 = windowOf(build(X), smp());
  assert.deepEqual(breakdown(w2), [["blocking", "x", 50_000, 1]]);
});

test("run CPU with no event at all before the switch-in: unknown for the whole latency", () => {
  const WAKER = 300;
  const s = new Script({ [TASK]: "rt-task", [WAKER]: "waker", 400: "x" });
  s.other(W - 20_000, 0, WAKER)
    .wakeup(W, 0, WAKER, TASK, 19, 1)
    .switch(W + 50_000, 1, 400, 120, R, TASK, 19);
  const w = windowOf(
    s,
    sample({ tid: TASK, start: W, end: W + 50_000, wakeCpu: 0, runCpu: 1, cpus: [0, 1] }),
  );
  assert.deepEqual(breakdown(w), [
    ["unknown", "CPU 1: no event tells what ran, until +50.000 us", 50_000, 1],
  ]);
});

test("fair server: a SCHED_OTHER task run ahead of RT tasks is its own cause, not blocking", () => {
  const H = 200;
  const F = 500;
  const s = new Script({ [TASK]: "rt-task", [H]: "rt-hog", [F]: "fair" });
  s.switch(W - 90_000, 1, 0, 120, R, H, 9)
    // the fair server's timer (dl_task_timer) fires, then H (prio 9, runnable) gives way to F
    .expireEntry(W - 31_000, 1, H, 0xdef, 0x3000, W - 31_000)
    .expireExit(W - 30_500, 1, H, 0xdef)
    .switch(W - 30_000, 1, H, 9, R, F, 120)
    .wakeup(W, 1, F, TASK, 19, 1, EventKind.SchedWaking)
    .wakeup(W, 1, F, TASK, 19, 1)
    // the server's budget is spent: H again, then the task
    .switch(W + 40_000, 1, F, 120, R, H, 9)
    .switch(W + 60_000, 1, H, 9, S, TASK, 19);
  const w = windowOf(s, sample({ tid: TASK, start: W, end: W + 60_000, wakeCpu: 1, runCpu: 1, cpus: [1] }));
  assert.deepEqual(breakdown(w), [
    ["fair-server", "fair", 40_000, 1],
    ["thread", "rt-hog", 20_000, 1],
  ]);
  const text = formatWorstWindow(w, { tid: TASK, comm: "rt-task" }, "latency", { events: false });
  assert.match(text, /fair server \(SCHED_OTHER run ahead of RT\): fair:500 \[prio 120\]/);
});

test("fair server: an idle CPU picks a SCHED_OTHER task while the RT task is queued there", () => {
  const WAKER = 300;
  const F = 500;
  const s = new Script({ [TASK]: "rt-task", [WAKER]: "waker", [F]: "fair" });
  s.switch(W - 40_000, 1, TASK, 19, S, 0, 120)
    .other(W - 20_000, 0, WAKER)
    .wakeup(W, 0, WAKER, TASK, 19, 1)
    .switch(W + 10_000, 1, 0, 120, R, F, 120)
    .switch(W + 30_000, 1, F, 120, R, TASK, 19);
  const w = windowOf(
    s,
    sample({ tid: TASK, start: W, end: W + 30_000, wakeCpu: 0, runCpu: 1, cpus: [0, 1] }),
  );
  assert.deepEqual(breakdown(w), [
    ["fair-server", "fair", 20_000, 1],
    ["idle-exit", "idle exit", 10_000, 1],
  ]);
});

test("a SCHED_OTHER task already running when the RT task wakes is blocking, not the fair server", () => {
  const F = 500;
  const s = new Script({ [TASK]: "rt-task", [F]: "fair" });
  s.switch(W - 40_000, 1, TASK, 19, S, F, 120)
    .wakeup(W, 1, F, TASK, 19, 1)
    .switch(W + 25_000, 1, F, 120, R, TASK, 19);
  const w = windowOf(s, sample({ tid: TASK, start: W, end: W + 25_000, wakeCpu: 1, runCpu: 1, cpus: [1] }));
  assert.deepEqual(breakdown(w), [["blocking", "fair", 25_000, 1]]);
});

test("a thread's priority as of the wait: a new thread that makes itself RT later is blocking before that", () => {
  const OTHER = 101;
  const s = new Script({ [TASK]: "cyclictest", [OTHER]: "cyclictest" });
  // OTHER runs at prio 120 (just created); it becomes SCHED_FIFO (prio 19) meanwhile, which
  // no event shows until its switch-out
  s.switch(W - 50_000, 0, 0, 120, R, OTHER, 120)
    .wakeup(W, 0, OTHER, TASK, 120, 0)
    .switch(W + 30_000, 0, OTHER, 19, S, TASK, 120);
  const w = windowOf(
    s,
    sample({ tid: TASK, start: W, end: W + 30_000, wakeCpu: 0, runCpu: 0, cpus: [0], prio: 120 }),
  );
  // known prio while TASK waited: 120, equal to the task's
  assert.deepEqual(breakdown(w), [["blocking", "cyclictest", 30_000, 0]]);
  assert.equal(w.causes[0].prio, 120);
});
