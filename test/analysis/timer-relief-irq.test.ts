// timer, relief and irq metrics on scripted streams; expected numbers from the script's
// timestamps.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { TaskReport } from "../../src/model/report.ts";
import { emptySelection } from "../../src/model/selection.ts";
import { analyzeScript, EventScript, pids, TICK_FN } from "./event-script.ts";

function task(r: { tasks: TaskReport[] }, tid: number): TaskReport {
  const t = r.tasks.find((x) => x.tid === tid);
  assert.ok(t, `task ${tid} in report`);
  return t;
}

/**
 * One cycle of a periodic task 42 on CPU 1 sleeping in clock_nanosleep:
 * it runs at `runAt`, arms timer `key` for `expires`, sleeps; the timer fires (expire_entry at
 * `entryTs` with now `now`), wakes it, it is switched in at `inTs` and returns to user
 * space at `exitTs`.
 */
function cycle(
  s: EventScript,
  o: {
    key: number;
    runAt: number;
    expires: number;
    entryTs: number;
    now: number;
    inTs: number;
    exitTs: number;
  },
  syscalls = true,
): void {
  if (syscalls) s.at(o.runAt).cpu(1).as(42).sysEnterSleep();
  s.at(o.runAt + 10)
    .cpu(1)
    .as(42)
    .hrtimerStart({ timer: o.key, expires: o.expires });
  s.at(o.runAt + 20)
    .cpu(1)
    .switch({ prev: 42, next: 0, prevState: "S", prevPrio: 19 });
  s.at(o.entryTs).cpu(1).expireEntry({ timer: o.key, now: o.now });
  s.at(o.entryTs + 50)
    .cpu(1)
    .wakeup({ tid: 42, prio: 19, targetCpu: 1 });
  s.at(o.entryTs + 80)
    .cpu(1)
    .expireExit({ timer: o.key });
  s.at(o.inTs).cpu(1).switch({ prev: 0, next: 42, prevState: "R", nextPrio: 19 });
  if (syscalls) s.at(o.exitTs).cpu(1).sysExitSleep();
}

function periodic(syscalls: boolean): EventScript {
  const s = new EventScript(2);
  s.at(0).cpu(0).other();
  s.at(0).cpu(1).switch({ prev: 0, next: 42, prevState: "R", nextPrio: 19 });
  // cycle 1: the first sleep is a timer sleep, the wakeup after it starts measuring
  cycle(
    s,
    {
      key: 0xa1,
      runAt: 100,
      expires: 100_000,
      entryTs: 100_300,
      now: 100_250,
      inTs: 101_000,
      exitTs: 101_500,
    },
    syscalls,
  );
  // cycle 2: irq part (expiry → expire_entry) 500, thread part (to exit) 3000
  cycle(
    s,
    {
      key: 0xa2,
      runAt: 102_000,
      expires: 200_000,
      entryTs: 200_500,
      now: 200_400,
      inTs: 202_000,
      exitTs: 203_500,
    },
    syscalls,
  );
  // cycle 3: irq part 2100, thread part 600
  cycle(
    s,
    {
      key: 0xa3,
      runAt: 204_000,
      expires: 300_000,
      entryTs: 302_100,
      now: 302_000,
      inTs: 302_400,
      exitTs: 302_700,
    },
    syscalls,
  );
  s.at(303_000).cpu(1).switch({ prev: 42, next: 0, prevState: "S", prevPrio: 19 });
  return s;
}

test("timer: expiry → return from clock_nanosleep; irq part + thread part = total", () => {
  const { report } = analyzeScript(periodic(true), { selection: pids(42) });
  const t = task(report, 42);
  const m = t.metrics.timer;
  assert.ok(m);
  assert.equal(m.count, 3);
  // samples: exit − expiry, on one clock (the interrupt's `now` 50-100 ns before each
  // expire_entry is not the split point): 300 + 1200 = 1500; 500 + 3000 = 3500; 2100 + 600 = 2700
  assert.equal(m.min, 1500);
  assert.equal(m.max, 3500);
  assert.equal(m.maxAt, 203_500);
  assert.equal(m.irq?.max, 2100);
  assert.equal(m.thread?.max, 3000);
  assert.equal(m.irq?.worst, 500);
  assert.equal(m.thread?.worst, 3000);
  assert.equal((m.irq?.worst ?? 0) + (m.thread?.worst ?? 0), m.max);
  // latency is still wakeup → switch-in
  assert.equal(t.metrics.latency?.max, 202_000 - 200_550);
  assert.equal(t.policy, "RT");
  assert.equal(t.kernelPrio, 19);
  assert.equal(t.prio, 80);
});

test("timer without syscall events ends at the switch-in", () => {
  const t = task(analyzeScript(periodic(false), { selection: pids(42) }).report, 42);
  const m = t.metrics.timer;
  // 300 + 700 = 1000; 500 + 1500 = 2000; 2100 + 300 = 2400
  assert.equal(m?.count, 3);
  assert.equal(m?.min, 1000);
  assert.equal(m?.max, 2400);
});

test("relief: timer wakeup → next timer sleep; a non-timer sleep inside stays inside", () => {
  const s = new EventScript(2);
  s.at(0).cpu(0).other();
  s.at(0).cpu(1).switch({ prev: 0, next: 42, prevState: "R" });
  // timer sleep
  s.at(100).cpu(1).as(42).hrtimerStart({ timer: 0xb1, expires: 1000 });
  s.at(120).cpu(1).switch({ prev: 42, next: 0, prevState: "S" });
  // timer wakeup: the cycle starts at 1050
  s.at(1000).cpu(1).expireEntry({ timer: 0xb1, now: 1000 });
  s.at(1050).cpu(1).wakeup({ tid: 42, targetCpu: 1 });
  s.at(1060).cpu(1).expireExit({ timer: 0xb1 });
  s.at(1200).cpu(1).switch({ prev: 0, next: 42, prevState: "R" });
  // blocks on I/O (no timer): not the end of the cycle
  s.at(2000).cpu(1).switch({ prev: 42, next: 0, prevState: "D" });
  s.at(3000).cpu(0).wakeup({ tid: 42, targetCpu: 1 });
  s.at(3100).cpu(1).switch({ prev: 0, next: 42, prevState: "R" });
  // preempted inside the cycle
  s.at(3500).cpu(1).switch({ prev: 42, next: 77, prevState: "R" });
  s.at(4000).cpu(1).switch({ prev: 77, next: 42, prevState: "S" });
  // timer sleep again: relief = 6000 - 1050
  s.at(5900).cpu(1).as(42).hrtimerStart({ timer: 0xb2, expires: 9000 });
  s.at(6000).cpu(1).switch({ prev: 42, next: 0, prevState: "S" });
  const t = task(analyzeScript(s, { selection: pids(42) }).report, 42);
  assert.equal(t.metrics.relief?.count, 1);
  assert.equal(t.metrics.relief?.max, 6000 - 1050);
  assert.equal(t.metrics.response?.count, 2);
  assert.equal(t.metrics.response?.max, 6000 - 3000);
});

test("a cancelled timer does not make a timer sleep", () => {
  const s = new EventScript(2);
  s.at(0).cpu(0).other();
  s.at(0).cpu(1).switch({ prev: 0, next: 42, prevState: "R" });
  s.at(100).cpu(1).as(42).hrtimerStart({ timer: 0xc1, expires: 1000 });
  s.at(120).cpu(1).switch({ prev: 42, next: 0, prevState: "S" });
  s.at(1000).cpu(1).expireEntry({ timer: 0xc1, now: 1000 });
  s.at(1050).cpu(1).wakeup({ tid: 42, targetCpu: 1 });
  s.at(1060).cpu(1).expireExit({ timer: 0xc1 });
  s.at(1200).cpu(1).switch({ prev: 0, next: 42, prevState: "R" });
  // arms a timeout, cancels it (e.g. poll returned), then sleeps on something else
  s.at(1500).cpu(1).as(42).hrtimerStart({ timer: 0xc2, expires: 9000 });
  s.at(1600).cpu(1).as(42).hrtimerCancel({ timer: 0xc2 });
  s.at(1700).cpu(1).switch({ prev: 42, next: 0, prevState: "S" });
  // the tick timer started in IRQ context while 42 is current is not 42's timer sleep either
  s.at(3000).cpu(0).wakeup({ tid: 42, targetCpu: 1 });
  s.at(3100).cpu(1).switch({ prev: 0, next: 42, prevState: "R" });
  s.at(3200).cpu(1).as(42).flags(0x08).hrtimerStart({ timer: 0xc3, fn: TICK_FN, expires: 4000 });
  s.at(3300).cpu(1).switch({ prev: 42, next: 0, prevState: "S" });
  // a real timer sleep ends the cycle begun at 1050
  s.at(4000).cpu(0).wakeup({ tid: 42, targetCpu: 1 });
  s.at(4100).cpu(1).switch({ prev: 0, next: 42, prevState: "R" });
  s.at(4200).cpu(1).as(42).hrtimerStart({ timer: 0xc4, expires: 9000 });
  s.at(4300).cpu(1).switch({ prev: 42, next: 0, prevState: "S" });
  const t = task(analyzeScript(s, { selection: pids(42) }).report, 42);
  assert.equal(t.metrics.relief?.count, 1);
  assert.equal(t.metrics.relief?.max, 4300 - 1050);
  // the first timer wakeup after a timer sleep: timer metric 1000 → 1200 (irq 0, thread 200)
  assert.equal(t.metrics.timer?.count, 1);
  assert.equal(t.metrics.timer?.max, 200);
});

test("a wakeup by another task's timer expiry (wrong key) gives no timer sample", () => {
  const s = new EventScript(2);
  s.at(0).cpu(0).other();
  s.at(0).cpu(1).switch({ prev: 0, next: 42, prevState: "R" });
  s.at(100).cpu(1).as(42).hrtimerStart({ timer: 0xd1, expires: 5000 });
  s.at(120).cpu(1).switch({ prev: 42, next: 0, prevState: "S" });
  s.at(1000).cpu(1).expireEntry({ timer: 0xd9, now: 1000 });
  s.at(1050).cpu(1).wakeup({ tid: 42, targetCpu: 1 });
  s.at(1060).cpu(1).expireExit({ timer: 0xd9 });
  s.at(1200).cpu(1).switch({ prev: 0, next: 42, prevState: "R" });
  const t = task(analyzeScript(s, { selection: pids(42) }).report, 42);
  assert.equal(t.metrics.timer, undefined);
  assert.equal(t.metrics.latency?.max, 150);
});

test("irq: hard IRQ → irq thread's sleep, split in hardirq + wakeup + handling", () => {
  const s = new EventScript(2);
  s.name(77, "irq/30-eth0");
  s.at(0).cpu(1).other();
  s.at(10).cpu(0).switch({ prev: 0, next: 77, prevState: "R", nextPrio: 49 });
  s.at(20).cpu(0).switch({ prev: 77, next: 0, prevState: "S", prevPrio: 49 });
  // IRQ 30 on CPU 0: handler 1000 → 1400, thread woken 1500, runs 2500, sleeps 6000
  s.at(1000).cpu(0).irqEntry(30, "eth0");
  s.at(1400).cpu(0).irqExit(30, 2);
  s.at(1500).cpu(0).wakeup({ tid: 77, prio: 49, targetCpu: 0 });
  s.at(2500).cpu(0).switch({ prev: 0, next: 77, prevState: "R", nextPrio: 49 });
  s.at(6000).cpu(0).switch({ prev: 77, next: 0, prevState: "S", prevPrio: 49 });
  // a second one: 10000 → 10100, woken 10150, in 10300, sleeps 10900
  s.at(10_000).cpu(1).irqEntry(30, "eth0");
  s.at(10_100).cpu(1).irqExit(30, 2);
  s.at(10_150).cpu(1).wakeup({ tid: 77, prio: 49, targetCpu: 0 });
  s.at(10_300).cpu(0).switch({ prev: 0, next: 77, prevState: "R", nextPrio: 49 });
  s.at(10_900).cpu(0).switch({ prev: 77, next: 0, prevState: "S", prevPrio: 49 });
  // a non-threaded IRQ line
  s.at(12_000).cpu(1).irqEntry(1, "timer");
  s.at(12_250).cpu(1).irqExit(1, 1);
  const sel = { ...emptySelection(), irqThreads: true };
  const { report } = analyzeScript(s, { selection: sel });
  assert.deepEqual(
    report.tasks.map((t) => t.tid),
    [77],
  );
  const t = task(report, 77);
  const m = t.metrics.irq;
  assert.equal(m?.count, 2);
  assert.equal(m?.max, 5000);
  assert.equal(m?.min, 900);
  assert.equal(m?.hardirq?.max, 400);
  assert.equal(m?.wakeup?.max, 1100);
  assert.equal(m?.handling?.max, 3500);
  assert.equal((m?.hardirq?.worst ?? 0) + (m?.wakeup?.worst ?? 0) + (m?.handling?.worst ?? 0), m?.max);
  // IRQ threads get latency and response like any task
  assert.equal(t.metrics.latency?.max, 1000);
  assert.equal(t.metrics.response?.max, 4500);
  // hard-IRQ durations per line
  const lines = report.irqLines ?? [];
  assert.deepEqual(
    lines.map((l) => [l.irq, l.name, l.hardirq.count, l.hardirq.max]),
    [
      [1, "timer", 1, 250],
      [30, "eth0", 2, 400],
    ],
  );
});

test("an irq thread woken with no handler of its line since its last sleep gets no irq sample", () => {
  const s = new EventScript(2);
  s.name(77, "irq/30-eth0");
  s.at(0).cpu(1).other();
  s.at(500).cpu(0).irqEntry(30, "eth0");
  s.at(600).cpu(0).irqExit(30, 2);
  s.at(700).cpu(0).switch({ prev: 0, next: 77, prevState: "R" });
  s.at(800).cpu(0).switch({ prev: 77, next: 0, prevState: "S" });
  s.at(1500).cpu(0).wakeup({ tid: 77, targetCpu: 0 });
  s.at(2500).cpu(0).switch({ prev: 0, next: 77, prevState: "R" });
  s.at(3000).cpu(0).switch({ prev: 77, next: 0, prevState: "S" });
  const t = task(analyzeScript(s, { selection: { ...emptySelection(), irqThreads: true } }).report, 77);
  assert.equal(t.metrics.irq, undefined);
  assert.equal(t.metrics.latency?.max, 1000);
});

test("a timer wakeup recorded outside the expiry (remote wakeup) is tied to the timer by its key", () => {
  const s = new EventScript(2);
  s.at(0).cpu(0).other();
  s.at(0).cpu(1).switch({ prev: 0, next: 42, prevState: "R" });
  s.at(100).cpu(1).as(42).hrtimerStart({ timer: 0xe1, expires: 1000 });
  s.at(120).cpu(1).switch({ prev: 42, next: 0, prevState: "S" });
  // the timer expires on CPU 0 (no wakeup inside the expiry: sched_waking not traced) ...
  s.at(1100).cpu(0).expireEntry({ timer: 0xe1, now: 1040 });
  s.at(1200).cpu(0).expireExit({ timer: 0xe1 });
  // ... and the queued wakeup is recorded on the target CPU
  s.at(1500).cpu(1).wakeup({ tid: 42, targetCpu: 1 });
  s.at(1800).cpu(1).switch({ prev: 0, next: 42, prevState: "R" });
  const t = task(analyzeScript(s, { selection: pids(42) }).report, 42);
  // 1800 - 1000: irq part to the expire_entry 1100 - 1000 = 100, thread part 1800 - 1100 = 700
  assert.equal(t.metrics.timer?.max, 800);
  assert.equal(t.metrics.timer?.irq?.max, 100);
  assert.equal(t.metrics.timer?.thread?.max, 700);
});

test("a timer that expires before the thread slept still gives a timer sample (no activation)", () => {
  const s = new EventScript(2);
  s.at(0).cpu(0).other();
  s.at(0).cpu(1).switch({ prev: 0, next: 42, prevState: "R", nextPrio: 19 });
  // enters clock_nanosleep, arms a timer that is already due, the tick IRQ expires it while 42 runs
  s.at(100).cpu(1).as(42).sysEnterSleep();
  s.at(110).cpu(1).as(42).hrtimerStart({ timer: 0xf1, expires: 90 });
  s.at(150).cpu(1).as(42).expireEntry({ timer: 0xf1, now: 140 });
  s.at(160).cpu(1).as(42).wakeup({ tid: 42, prio: 19, targetCpu: 1 });
  s.at(170).cpu(1).as(42).expireExit({ timer: 0xf1 });
  s.at(400).cpu(1).as(42).sysExitSleep();
  const t = task(analyzeScript(s, { selection: pids(42) }).report, 42);
  // 400 - 90: irq part 150 - 90 = 60, thread part 400 - 150 = 250
  assert.equal(t.metrics.timer?.count, 1);
  assert.equal(t.metrics.timer?.max, 310);
  assert.equal(t.metrics.latency, undefined, "a wakeup of a running thread starts no activation");
  assert.equal(t.counters.wakeups, 0);
});

test("a timer expiring before the sleep inside an activation leaves the activation's response intact", () => {
  const s = new EventScript(2);
  s.at(0).cpu(0).other();
  s.at(0).cpu(1).switch({ prev: 0, next: 42, prevState: "R" });
  s.at(10).cpu(1).switch({ prev: 42, next: 0, prevState: "S" });
  // an activation: woken at 1000, runs at 1100
  s.at(1000).cpu(0).wakeup({ tid: 42, targetCpu: 1 });
  s.at(1100).cpu(1).switch({ prev: 0, next: 42, prevState: "R" });
  // inside it: clock_nanosleep whose timer expires before 42 sleeps
  s.at(1200).cpu(1).as(42).sysEnterSleep();
  s.at(1210).cpu(1).as(42).hrtimerStart({ timer: 0xf2, expires: 1150 });
  s.at(1250).cpu(1).as(42).expireEntry({ timer: 0xf2, now: 1240 });
  s.at(1260).cpu(1).as(42).wakeup({ tid: 42, targetCpu: 1 });
  s.at(1270).cpu(1).as(42).expireExit({ timer: 0xf2 });
  s.at(1500).cpu(1).as(42).sysExitSleep();
  s.at(2000).cpu(1).switch({ prev: 42, next: 0, prevState: "S" });
  const t = task(analyzeScript(s, { selection: pids(42) }).report, 42);
  assert.equal(t.metrics.timer?.max, 1500 - 1150);
  assert.equal(t.metrics.response?.max, 1000, "from the wakeup at 1000 to the sleep at 2000");
  assert.equal(t.metrics.latency?.max, 100);
});

/**
 * A periodic thread 42 on CPU 1 whose timer base is `base` ns away from the trace clock
 * (trace time = base time + base): tick expiries every 100 µs give ts − now = base + 200 (the
 * smallest interrupt → callback delay); its own timer's callback runs 300 ns after `now`.
 * True samples (trace time): expiry at 1 ms → sys_exit 1 ms + 5 µs, 5000 ns; 2 ms → 2 ms + 7 µs.
 */
function otherClock(base: number): EventScript {
  const s = new EventScript(2);
  // [ts, what]: applied in time order (the script follows the current task as it goes)
  const steps: [number, () => void][] = [];
  for (let t = 100_000; t < 2_500_000; t += 100_000)
    steps.push([t + 200, () => s.cpu(1).expireEntry({ timer: 0x77, fn: TICK_FN, now: t - base })]);
  for (const [k, expiry, exit] of [
    [0xa1, 1_000_050, 1_005_050],
    [0xa2, 2_000_050, 2_007_050],
  ]) {
    steps.push(
      [expiry - 40_000, () => s.cpu(1).as(42).sysEnterSleep()],
      [
        expiry - 39_990,
        () =>
          s
            .cpu(1)
            .as(42)
            .hrtimerStart({ timer: k, expires: expiry - base }),
      ],
      [expiry - 39_980, () => s.cpu(1).switch({ prev: 42, next: 0, prevState: "S", prevPrio: 19 })],
      [expiry + 400, () => s.cpu(1).expireEntry({ timer: k, now: expiry + 100 - base })],
      [expiry + 450, () => s.cpu(1).wakeup({ tid: 42, prio: 19, targetCpu: 1 })],
      [expiry + 2000, () => s.cpu(1).switch({ prev: 0, next: 42, prevState: "R", nextPrio: 19 })],
      [exit, () => s.cpu(1).as(42).sysExitSleep()],
    );
  }
  s.at(0).cpu(0).other();
  s.at(0).cpu(1).switch({ prev: 0, next: 42, prevState: "R", nextPrio: 19 });
  for (const [ts, step] of steps.sort((a, b) => a[0] - b[0])) {
    s.at(ts);
    step();
  }
  return s;
}

test("timer on another clock: the offset is estimated from the expiries, low by the smallest delay, said in the report", () => {
  for (const [traceClock, base] of [
    ["local", 23_000_000], // sched_clock 23 ms ahead of CLOCK_MONOTONIC
    ["mono", -1_700_000_000_000_000], // a CLOCK_REALTIME timer on the mono trace clock
    ["", 5_000], // a text trace that does not state its clock
  ] as const) {
    const { report } = analyzeScript(otherClock(base), { selection: pids(42), traceClock });
    const m = task(report, 42).metrics.timer;
    // estimated expiry = true expiry + 200 (the ticks' delay): each sample 200 ns low
    assert.equal(m?.count, 2, traceClock);
    assert.equal(m?.min, 5000 - 200, traceClock);
    assert.equal(m?.max, 7000 - 200, traceClock);
    // parts: estimated expiry → expire_entry (400 − 200), expire_entry → sys_exit
    assert.equal(m?.irq?.worst, 200, traceClock);
    assert.equal(m?.thread?.worst, 6600, traceClock);
    const tc = report.source.timerClock;
    assert.deepEqual(tc, { mode: "estimated", traceClock, direct: 0, estimated: 2, errorBound: 1000 });
    const d = report.diagnostics.find((x) => x.key === "timer_clock_estimated");
    assert.ok(d && d.count === 2 && /record with the mono trace clock/.test(d.remedy ?? ""), traceClock);
    assert.match(d.details?.[0] ?? "", /error bound 1000 ns/);
  }
});

test("timer on a mono trace clock with MONOTONIC timers: direct, no diagnostic", () => {
  const { report } = analyzeScript(otherClock(0), { selection: pids(42), traceClock: "mono" });
  assert.equal(task(report, 42).metrics.timer?.max, 7000);
  assert.deepEqual(report.source.timerClock, {
    mode: "direct",
    traceClock: "mono",
    direct: 2,
    estimated: 0,
    errorBound: 0,
  });
  assert.equal(
    report.diagnostics.find((x) => x.key.startsWith("timer_clock")),
    undefined,
  );
});

test("timer on a counter or x86-tsc trace clock: no timer sample, a diagnostic says why", () => {
  for (const traceClock of ["counter", "x86-tsc"]) {
    const { report } = analyzeScript(otherClock(0), { selection: pids(42), traceClock });
    assert.equal(task(report, 42).metrics.timer, undefined);
    assert.equal(report.source.timerClock?.mode, "unavailable");
    const d = report.diagnostics.find((x) => x.key === "timer_clock_unavailable");
    assert.ok(d && d.severity === "warning" && /record with the mono trace clock/.test(d.remedy ?? ""));
  }
});
