// Cause analysis over scripted windows: every part is known by construction, and the parts
// must sum to the metric exactly. Wakeups across CPUs, migrations, unknown CPU states and the
// fair server: cause-culprits.test.ts.
import assert from "node:assert/strict";
import { test } from "node:test";
import { causeOf as find, windowOf as run, Script, sample } from "./scripted.ts";

const TASK = 100;
const HOG = 200;

test("thread interference by a higher-priority thread, with IRQ and softirq inside", () => {
  const s = new Script({ [TASK]: "cyclictest", [HOG]: "hog" });
  s.switch(500, 1, 0, 120, 0, HOG, 9)
    .wakeup(1000, 1, HOG, TASK, 19, 1)
    .irq(2000, 2500, 1, HOG, 24, "eth0")
    .softirq(2500, 3000, 1, HOG, 3)
    .switch(10_000, 1, HOG, 9, 1, TASK, 19);
  const w = run(s, sample({ tid: TASK, start: 1000, end: 10_000 }));
  assert.equal(find(w, "thread")?.time, 8000);
  assert.equal(find(w, "thread")?.name, "hog");
  assert.equal(find(w, "thread")?.tid, HOG);
  assert.equal(find(w, "thread")?.prio, 9);
  assert.equal(find(w, "irq")?.time, 500);
  assert.equal(find(w, "irq")?.name, "eth0");
  assert.equal(find(w, "irq")?.irq, 24);
  assert.equal(find(w, "softirq")?.name, "NET_RX");
  assert.equal(find(w, "softirq")?.time, 500);
  assert.equal(find(w, "thread")?.percent, 88.9);
  // listing: relative to the wakeup, absolute timestamps with the base
  assert.equal(w.events[0].rel, -500);
  assert.equal(w.events[0].ts, 1_000_000_500);
  assert.equal(w.events[0].fields.next_comm, "hog");
});

test("blocking by an equal/lower-priority thread", () => {
  const s = new Script({ [TASK]: "cyclictest", [HOG]: "stress-ng-vm" });
  s.other(900, 1, HOG).wakeup(1000, 1, HOG, TASK, 19, 1).switch(5000, 1, HOG, 120, 0, TASK, 19);
  const w = run(s, sample({ tid: TASK, start: 1000, end: 5000 }));
  assert.deepEqual(
    w.causes.map((c) => [c.kind, c.name, c.time, c.prio]),
    [["blocking", "stress-ng-vm", 4000, 120]],
  );
});

test("idle exit", () => {
  const s = new Script({ [TASK]: "cyclictest" });
  s.switch(100, 1, 300, 120, 1, 0, 120)
    .expireEntry(990, 1, 0, 7, 8, 990)
    .wakeup(1000, 1, 0, TASK, 19, 1)
    .switch(1800, 1, 0, 120, 0, TASK, 19);
  const w = run(s, sample({ tid: TASK, start: 1000, end: 1800 }));
  assert.deepEqual(
    w.causes.map((c) => [c.kind, c.time, c.cpu]),
    [["idle-exit", 800, 1]],
  );
});

test("response: preemption inside the activation, and who preempted", () => {
  const s = new Script({ [TASK]: "ctl", [HOG]: "hog", 201: "irq/24-eth0" });
  s.switch(500, 1, 0, 120, 0, HOG, 120)
    .wakeup(1000, 1, HOG, TASK, 19, 1)
    .switch(4000, 1, HOG, 120, 0, TASK, 19)
    .wakeup(5900, 1, TASK, 201, 9, 1)
    .switch(6000, 1, TASK, 19, 0, 201, 9)
    .switch(7000, 1, 201, 9, 1, TASK, 19)
    .switch(9000, 1, TASK, 19, 1, HOG, 120);
  const w = run(s, sample({ tid: TASK, metric: "response", start: 1000, end: 9000, switchInTs: 4000 }));
  assert.equal(find(w, "blocking")?.time, 3000);
  assert.equal(find(w, "running")?.time, 4000);
  assert.equal(find(w, "thread")?.time, 1000);
  assert.equal(find(w, "thread")?.name, "irq/24-eth0");
  assert.deepEqual(w.parts, { latency: 3000, running: 5000 });
  assert.equal(w.preemptions?.length, 1);
  assert.equal(w.preemptions?.[0].tid, 201);
  assert.equal(w.preemptions?.[0].time, 1000);
  assert.equal(w.preemptions?.[0].prio, 9);
});

test("timer: IRQ part (expiry → hrtimer_expire_entry) apart from the thread part", () => {
  const s = new Script({ [TASK]: "cyclictest" });
  s.switch(100, 1, TASK, 19, 1, 0, 120)
    .expireEntry(1000, 1, 0, 7, 8, 1000)
    .wakeup(1100, 1, 0, TASK, 19, 1)
    .expireExit(1150, 1, 0, 7)
    .switch(1500, 1, 0, 120, 0, TASK, 19);
  const w = run(
    s,
    sample({ tid: TASK, metric: "timer", start: 800, end: 1600, wakeTs: 1100, switchInTs: 1500 }),
  );
  assert.deepEqual(w.parts, { irq: 200, thread: 600 });
  assert.equal(find(w, "idle-exit", "timer IRQ latency (exit from idle)")?.time, 200);
  assert.equal(find(w, "irq", "timer handler (wakeup)")?.time, 100);
  assert.equal(find(w, "idle-exit", "idle exit")?.time, 400);
  assert.equal(find(w, "other", "return to user space")?.time, 100);
});

test("irq: hard IRQ, wakeup and handling parts", () => {
  const IRQT = 150;
  const s = new Script({ [IRQT]: "irq/24-eth0", [HOG]: "hog" });
  s.switch(100, 1, 0, 120, 0, HOG, 120)
    .irq(1000, 1300, 1, HOG, 24, "eth0")
    .wakeup(1200, 1, HOG, IRQT, 49, 1)
    .switch(1600, 1, HOG, 120, 0, IRQT, 49)
    .switch(2600, 1, IRQT, 49, 1, HOG, 120);
  // put the wakeup inside the IRQ (sorted() orders by time)
  const w = run(
    s,
    sample({ tid: IRQT, metric: "irq", start: 1000, end: 2600, wakeTs: 1200, switchInTs: 1600, prio: 49 }),
  );
  assert.deepEqual(w.parts, { hardirq: 300, wakeup: 300, handling: 1000 });
  assert.equal(find(w, "irq")?.name, "hard IRQ eth0");
  assert.equal(find(w, "blocking")?.time, 300);
  assert.equal(find(w, "running")?.time, 1000);
});

test("inferred switch-in: the task seen as current ends the wait", () => {
  const s = new Script({ [TASK]: "cyclictest" });
  s.wakeup(1000, 1, 0, TASK, 19, 1).other(1400, 1, TASK);
  const w = run(s, sample({ tid: TASK, start: 1000, end: 1400, switchInTs: 1400, inferred: true }));
  assert.deepEqual(
    w.causes.map((c) => [c.kind, c.time]),
    [["idle-exit", 400]],
  );
});
