// Activation rules of SPEC §1 on scripted streams: every expected number is computed by
// hand from the script's timestamps.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Pipeline } from "../../src/analysis/analyzer.ts";
import { Diagnostics } from "../../src/model/diagnostics.ts";
import type { TaskReport } from "../../src/model/report.ts";
import { analyzeScript, EventScript, pids, SCRIPT_INFO } from "./event-script.ts";

function task(r: { tasks: TaskReport[] }, tid: number): TaskReport {
  const t = r.tasks.find((x) => x.tid === tid);
  assert.ok(t, `task ${tid} in report`);
  return t;
}

/** 42 runs on CPU 0 and goes to sleep at ts 100: from then on its next wakeup counts. */
function sleeping42(cpus = 2): EventScript {
  const s = new EventScript(cpus);
  s.at(0).cpu(1).other();
  s.at(50).cpu(0).switch({ prev: 0, next: 42, prevState: "R" });
  s.at(100).cpu(0).switch({ prev: 42, next: 0, prevState: "S" });
  return s;
}

test("latency = wakeup → switch-in, response = wakeup → sleeping switch-out", () => {
  const s = sleeping42();
  s.at(1000).cpu(1).wakeup({ tid: 42, targetCpu: 0 });
  s.at(3000).cpu(0).switch({ prev: 0, next: 42, prevState: "R" });
  s.at(10_000).cpu(0).switch({ prev: 42, next: 0, prevState: "S" });
  const { report } = analyzeScript(s, { selection: pids(42) });
  const t = task(report, 42);
  assert.equal(t.metrics.latency?.count, 1);
  assert.equal(t.metrics.latency?.max, 2000);
  assert.equal(t.metrics.latency?.min, 2000);
  assert.equal(t.metrics.latency?.maxAt, 3000);
  assert.equal(t.metrics.latency?.inferred, 0);
  assert.equal(t.metrics.response?.max, 9000);
  assert.equal(t.counters.wakeups, 1);
  assert.equal(t.counters.voluntarySwitches, 2);
  assert.equal(t.counters.involuntarySwitches, 0);
  assert.equal(t.counters.runtime, 50 + 7000);
  assert.equal(report.tasks.length, 1, "only the selected thread");
});

test("a wakeup of a running or runnable task starts nothing", () => {
  const s = sleeping42();
  s.at(1000).cpu(1).wakeup({ tid: 42, targetCpu: 0 });
  s.at(2000).cpu(0).switch({ prev: 0, next: 42, prevState: "R" });
  // running: the kernel still emits sched_wakeup
  s.at(2500).cpu(1).wakeup({ tid: 42, targetCpu: 0 });
  // preempted (runnable), then woken again: still nothing
  s.at(3000).cpu(0).switch({ prev: 42, next: 50, prevState: "R" });
  s.at(3500).cpu(1).wakeup({ tid: 42, targetCpu: 0 });
  s.at(6000).cpu(0).switch({ prev: 50, next: 42, prevState: "S" });
  s.at(9000).cpu(0).switch({ prev: 42, next: 0, prevState: "S" });
  const t = task(analyzeScript(s, { selection: pids(42) }).report, 42);
  assert.equal(t.counters.wakeups, 1);
  assert.equal(t.metrics.latency?.count, 1);
  assert.equal(t.metrics.latency?.max, 1000);
  // preemption stays inside the activation: response runs to the sleep at 9000
  assert.equal(t.metrics.response?.count, 1);
  assert.equal(t.metrics.response?.max, 8000);
  assert.equal(t.counters.involuntarySwitches, 1);
});

test("the first wakeup of a thread never seen switching counts once its switch-in follows (every CPU had data)", () => {
  const s = new EventScript(2);
  s.at(0).cpu(0).other();
  s.at(0).cpu(1).other();
  s.at(1000).cpu(1).wakeup({ tid: 42, targetCpu: 0 });
  s.at(3000).cpu(0).switch({ prev: 0, next: 42, prevState: "R" });
  s.at(4000).cpu(0).switch({ prev: 42, next: 0, prevState: "S" });
  const t = task(analyzeScript(s, { selection: pids(42), validFromTs: undefined }).report, 42);
  assert.equal(t.counters.wakeups, 1);
  assert.equal(t.metrics.latency?.max, 2000);
  assert.equal(t.metrics.response?.max, 3000);
});

test("the first wakeup of a thread never seen switching starts nothing when the thread shows up running first", () => {
  const s = new EventScript(2);
  s.at(0).cpu(0).other();
  s.at(0).cpu(1).other();
  s.at(1000).cpu(1).wakeup({ tid: 42, targetCpu: 0 });
  // a wakeup of a running thread: its next sign of life is an event in its own context
  s.at(2000).cpu(0).as(42).other();
  s.at(4000).cpu(0).switch({ prev: 42, next: 0, prevState: "S" });
  const t = task(analyzeScript(s, { selection: pids(42), validFromTs: undefined }).report, 42);
  assert.equal(t.counters.wakeups, 0);
  assert.equal(t.metrics.latency, undefined, "a metric with no samples is absent");
  assert.equal(t.metrics.response, undefined);
});

test("the first wakeup of a thread never seen switching starts nothing while a CPU has no data yet", () => {
  const s = new EventScript(2);
  s.at(0).cpu(0).other();
  s.at(1000).cpu(0).wakeup({ tid: 42, targetCpu: 0 });
  s.at(3000).cpu(0).switch({ prev: 0, next: 42, prevState: "R" });
  s.at(4000).cpu(0).switch({ prev: 42, next: 0, prevState: "S" });
  s.at(5000).cpu(1).other();
  const t = task(analyzeScript(s, { selection: pids(42), validFromTs: undefined }).report, 42);
  assert.equal(t.counters.wakeups, 0);
  assert.equal(t.metrics.latency, undefined);
});

test("missing switch-in: latency closed at the task's first event, flagged inferred", () => {
  const s = sleeping42();
  s.at(1000).cpu(1).wakeup({ tid: 42, targetCpu: 1 });
  // the switch idle → 42 on CPU 1 is not recorded; 42's first own event is at 4200
  s.at(4200).cpu(1).as(42).sysExitSleep();
  s.at(5000).cpu(1).switch({ prev: 42, next: 0, prevState: "S" });
  const { report } = analyzeScript(s, { selection: pids(42) });
  const t = task(report, 42);
  assert.equal(t.metrics.latency?.max, 3200);
  assert.equal(t.metrics.latency?.inferred, 1);
  assert.equal(t.metrics.response?.max, 4000);
  assert.equal(t.counters.runtime, 50 + 800);
  const d = report.diagnostics.find((x) => x.key === "inferred_switch_in");
  assert.equal(d?.count, 1);
  assert.ok(report.diagnostics.find((x) => x.key === "missed_switch" && x.cpu === 1));
});

test("the switch-out event itself closes a pending latency when the switch-in was lost", () => {
  const s = sleeping42();
  s.at(1000).cpu(1).wakeup({ tid: 42, targetCpu: 1 });
  s.at(7000).cpu(1).switch({ prev: 42, next: 0, prevState: "S" });
  const t = task(analyzeScript(s, { selection: pids(42) }).report, 42);
  assert.equal(t.metrics.latency?.max, 6000);
  assert.equal(t.metrics.latency?.inferred, 1);
  assert.equal(t.metrics.response?.max, 6000);
});

test("lost events cut every open activation: incomplete, no sample; the next one counts", () => {
  const s = sleeping42();
  s.at(1000).cpu(1).wakeup({ tid: 42, targetCpu: 0 });
  s.at(1500).cpu(1).lost(12);
  s.at(2000).cpu(0).switch({ prev: 0, next: 42, prevState: "R" });
  s.at(3000).cpu(0).switch({ prev: 42, next: 0, prevState: "S" });
  s.at(5000).cpu(1).wakeup({ tid: 42, targetCpu: 0 });
  s.at(5300).cpu(0).switch({ prev: 0, next: 42, prevState: "R" });
  s.at(6000).cpu(0).switch({ prev: 42, next: 0, prevState: "S" });
  const { report } = analyzeScript(s, { selection: pids(42) });
  const t = task(report, 42);
  assert.equal(t.counters.incomplete, 1);
  assert.equal(t.counters.wakeups, 2);
  assert.equal(t.metrics.latency?.count, 1);
  assert.equal(t.metrics.latency?.max, 300);
  assert.equal(t.metrics.response?.count, 1);
  assert.equal(t.metrics.response?.max, 1000);
  assert.equal(report.source.lostEvents, 12);
  assert.equal(report.diagnostics.find((d) => d.key === "activation_cut_by_loss")?.count, 1);
});

test("a lost-event count the source does not know makes lostEvents -1", () => {
  const s = sleeping42();
  s.at(1500).cpu(1).lost(-1);
  assert.equal(analyzeScript(s, { selection: pids(42) }).report.source.lostEvents, -1);
});

test("a CPU's current task changing without a switch cuts the activation of the task believed running", () => {
  const s = sleeping42();
  s.at(1000).cpu(1).wakeup({ tid: 42, targetCpu: 0 });
  s.at(1200).cpu(0).switch({ prev: 0, next: 42, prevState: "R" });
  // 42's switch-out was not recorded: 50 is suddenly current on CPU 0
  s.at(2000).cpu(0).as(50).other();
  s.at(2500).cpu(0).switch({ prev: 50, next: 0, prevState: "S" });
  const t = task(analyzeScript(s, { selection: pids(42) }).report, 42);
  assert.equal(t.metrics.latency?.max, 200);
  assert.equal(t.metrics.response, undefined);
  assert.equal(t.counters.incomplete, 1);
});

test("migrations are counted from sched_migrate_task", () => {
  const s = sleeping42();
  s.at(1000).cpu(0).wakeup({ tid: 42, targetCpu: 0 });
  s.at(1100).cpu(0).migrate({ tid: 42, from: 0, to: 1 });
  s.at(1500).cpu(1).switch({ prev: 0, next: 42, prevState: "R" });
  s.at(2500).cpu(1).switch({ prev: 42, next: 0, prevState: "S" });
  const t = task(analyzeScript(s, { selection: pids(42) }).report, 42);
  assert.equal(t.counters.migrations, 1);
  assert.equal(t.metrics.latency?.max, 500);
});

test("sched_waking starts activations with wakeupEvent 'waking'", () => {
  const s = sleeping42();
  s.at(900).cpu(1).waking({ tid: 42, targetCpu: 0 });
  s.at(1000).cpu(1).wakeup({ tid: 42, targetCpu: 0 });
  s.at(3000).cpu(0).switch({ prev: 0, next: 42, prevState: "R" });
  s.at(4000).cpu(0).switch({ prev: 42, next: 0, prevState: "S" });
  const waking = task(analyzeScript(s, { selection: pids(42), wakeupEvent: "waking" }).report, 42);
  assert.equal(waking.metrics.latency?.max, 2100);
  const wakeup = task(analyzeScript(s, { selection: pids(42) }).report, 42);
  assert.equal(wakeup.metrics.latency?.max, 2000);
});

test("sched_wakeup_new starts the first activation of a forked thread", () => {
  const s = new EventScript(2);
  s.at(0).cpu(0).other();
  s.at(0).cpu(1).other();
  s.at(100).cpu(0).as(10).fork({ parent: 10, child: 11, comm: "worker" });
  s.at(200).cpu(0).as(10).wakeupNew({ tid: 11, targetCpu: 1 });
  s.at(700).cpu(1).switch({ prev: 0, next: 11, prevState: "R" });
  s.at(900).cpu(1).switch({ prev: 11, next: 0, prevState: "S" });
  const t = task(analyzeScript(s, { selection: pids(11) }).report, 11);
  assert.equal(t.metrics.latency?.max, 500);
  assert.equal(t.comm, "worker");
});

test("before a CPU has data, only activations involving it are incomplete (no validFromTs given)", () => {
  const s = new EventScript(2);
  s.at(50).cpu(0).switch({ prev: 0, next: 42, prevState: "R" });
  s.at(100).cpu(0).switch({ prev: 42, next: 0, prevState: "S" });
  // CPU 1 has no data yet: an activation on CPU 0 alone is measured
  s.at(1000).cpu(0).wakeup({ tid: 42, targetCpu: 0 });
  s.at(1200).cpu(0).switch({ prev: 0, next: 42, prevState: "R" });
  s.at(1300).cpu(0).switch({ prev: 42, next: 0, prevState: "S" });
  // woken onto CPU 1, which has no data yet: cut
  s.at(2000).cpu(0).wakeup({ tid: 42, targetCpu: 1 });
  s.at(2500).cpu(0).switch({ prev: 0, next: 42, prevState: "R" });
  s.at(2600).cpu(0).switch({ prev: 42, next: 0, prevState: "S" });
  // CPU 1's data begins here
  s.at(5000).cpu(1).other();
  s.at(6000).cpu(0).wakeup({ tid: 42, targetCpu: 1 });
  s.at(6400).cpu(1).switch({ prev: 0, next: 42, prevState: "R" });
  s.at(6500).cpu(1).switch({ prev: 42, next: 0, prevState: "S" });
  const { report } = analyzeScript(s, { selection: pids(42), validFromTs: undefined });
  const t = task(report, 42);
  assert.equal(t.metrics.latency?.count, 2);
  assert.equal(t.metrics.latency?.max, 400);
  assert.equal(t.metrics.latency?.min, 200);
  assert.equal(t.counters.incomplete, 1);
  assert.deepEqual(t.counters.cut, { lostEvents: 0, cpuWithoutData: 1, missedSwitch: 0, missedRun: 0 });
  assert.equal(report.diagnostics.find((d) => d.key === "activation_cut_cpu_without_data")?.count, 1);
  assert.ok(report.diagnostics.find((d) => d.key === "cpu_data_late" && d.cpu === 1));
});

test("a source-given validFromTs is the start of valid data", () => {
  const s = sleeping42();
  s.at(1000).cpu(1).wakeup({ tid: 42, targetCpu: 0 });
  s.at(1200).cpu(0).switch({ prev: 0, next: 42, prevState: "R" });
  s.at(1300).cpu(0).switch({ prev: 42, next: 0, prevState: "S" });
  s.at(3000).cpu(1).wakeup({ tid: 42, targetCpu: 0 });
  s.at(3100).cpu(0).switch({ prev: 0, next: 42, prevState: "R" });
  s.at(3300).cpu(0).switch({ prev: 42, next: 0, prevState: "S" });
  const t = task(analyzeScript(s, { selection: pids(42), validFromTs: 2000 }).report, 42);
  assert.equal(t.metrics.latency?.count, 1);
  assert.equal(t.metrics.latency?.max, 100);
});

test("SLO: a violation is a sample strictly greater than the bound", () => {
  const s = sleeping42();
  const lat = [1000, 2000, 3000, 1500, 2500];
  let ts = 1000;
  for (const l of lat) {
    s.at(ts).cpu(1).wakeup({ tid: 42, targetCpu: 0 });
    s.at(ts + l)
      .cpu(0)
      .switch({ prev: 0, next: 42, prevState: "R" });
    s.at(ts + l + 100)
      .cpu(0)
      .switch({ prev: 42, next: 0, prevState: "S" });
    ts += 10_000;
  }
  const { report } = analyzeScript(s, { selection: pids(42), slo: { latency: 2000 }, worstN: 3 });
  const m = task(report, 42).metrics.latency;
  assert.ok(m?.slo);
  assert.equal(m.slo.bound, 2000);
  assert.equal(m.slo.violations, 2, "3000 and 2500; 2000 equals the bound and is no violation");
  assert.equal(m.slo.firstAt, 21_000 + 3000);
  assert.equal(m.slo.worstAt, 21_000 + 3000);
  assert.equal(m.count, 5);
  assert.equal(m.mean, 2000);
  assert.equal(m.min, 1000);
  assert.equal(m.p50, 2000);
  assert.equal(report.slo.latency, 2000);
  assert.equal(task(report, 42).metrics.response?.slo, undefined, "no bound, no slo object");
  const worst = task(report, 42).worstList?.latency;
  assert.deepEqual(
    worst?.map((w) => w.value),
    [3000, 2500, 2000],
  );
  assert.equal(worst?.[0].start, 21_000);
  assert.equal(worst?.[0].end, 24_000);
});

test("observer is told only about new maxima and first/worst violations", () => {
  const s = sleeping42();
  const lat = [1000, 500, 3000, 2500, 4000];
  let ts = 1000;
  for (const l of lat) {
    s.at(ts).cpu(1).wakeup({ tid: 42, prio: 19, targetCpu: 0 });
    s.at(ts + l)
      .cpu(0)
      .switch({ prev: 0, next: 42, prevState: "R", nextPrio: 19 });
    s.at(ts + l + 100)
      .cpu(0)
      .switch({ prev: 42, next: 0, prevState: "S", prevPrio: 19 });
    ts += 10_000;
  }
  const seen: { v: number; max: boolean; first: boolean; worst: boolean; cpus: readonly number[] }[] = [];
  analyzeScript(s, {
    selection: pids(42),
    slo: { latency: 2000 },
    observer: {
      onSample: (e) => {
        if (e.metric === "latency")
          seen.push({
            v: e.value,
            max: e.isNewMax,
            first: e.isFirstViolation,
            worst: e.isWorstViolation,
            cpus: e.cpus,
          });
        assert.equal(e.prio, 19);
        assert.equal(e.wakeCpu, 1);
      },
    },
  });
  assert.deepEqual(
    seen.map((x) => [x.v, x.max, x.first, x.worst]),
    [
      [1000, true, false, false],
      [3000, true, true, true],
      [4000, true, false, true],
    ],
  );
  assert.deepEqual(seen[0].cpus, [0, 1]);
});

test("timestamps in the report are absolute (tsBase + relative)", () => {
  const s = sleeping42();
  s.at(1000).cpu(1).wakeup({ tid: 42, targetCpu: 0 });
  s.at(3000).cpu(0).switch({ prev: 0, next: 42, prevState: "R" });
  const { analysis } = analyzeScript(s, { selection: pids(42) });
  // a base past 2^53 gives bigint timestamps
  const big = 2n ** 60n;
  const info = { ...SCRIPT_INFO(2), tsBase: big };
  const r = analysis.report(info, new Diagnostics(), { events: 1, firstTs: 0, lastTs: 3000 } as Pipeline);
  assert.equal(r.tasks[0].metrics.latency?.maxAt, big + 3000n);
  assert.equal(r.source.end, big + 3000n);
});

test("a CPU silent for seconds cuts only the activations woken onto it", () => {
  const s = new EventScript(2);
  s.at(50).cpu(0).switch({ prev: 0, next: 42, prevState: "R" });
  s.at(100).cpu(0).switch({ prev: 42, next: 0, prevState: "S" });
  // CPU 1 shows nothing for more than a second: the analysis stops waiting for it
  s.at(1.5e9).cpu(0).other();
  // measured: everything on CPU 0
  s.at(2e9).cpu(0).wakeup({ tid: 42, targetCpu: 0 });
  s.at(2e9 + 300)
    .cpu(0)
    .switch({ prev: 0, next: 42, prevState: "R" });
  s.at(2e9 + 400)
    .cpu(0)
    .switch({ prev: 42, next: 0, prevState: "S" });
  // woken towards CPU 1, which has no data: incomplete
  s.at(3e9).cpu(0).wakeup({ tid: 42, targetCpu: 1 });
  s.at(3e9 + 900)
    .cpu(0)
    .switch({ prev: 0, next: 42, prevState: "R" });
  s.at(3e9 + 950)
    .cpu(0)
    .switch({ prev: 42, next: 0, prevState: "S" });
  // open when CPU 1's data begins, but never involving it: measured
  s.at(4e9).cpu(0).wakeup({ tid: 42, targetCpu: 0 });
  s.at(4e9 + 100)
    .cpu(1)
    .other();
  s.at(4e9 + 700)
    .cpu(0)
    .switch({ prev: 0, next: 42, prevState: "R" });
  const { report } = analyzeScript(s, { selection: pids(42), validFromTs: undefined });
  const t = task(report, 42);
  assert.equal(t.metrics.latency?.count, 2);
  assert.equal(t.metrics.latency?.max, 700);
  assert.equal(t.counters.incomplete, 1);
  assert.equal(t.counters.cut?.cpuWithoutData, 1);
  assert.ok(report.diagnostics.find((d) => d.key === "cpu_data_late" && d.cpu === 1));
});

test("a tracked thread that exits keeps its row when its tid is reused by a new thread", () => {
  const s = new EventScript(2).name(42, "old");
  s.at(0).cpu(1).other();
  s.at(50).cpu(0).switch({ prev: 0, next: 42, prevState: "R" });
  s.at(100).cpu(0).switch({ prev: 42, next: 0, prevState: "S" });
  s.at(1000).cpu(1).wakeup({ tid: 42, targetCpu: 0 });
  s.at(1400).cpu(0).switch({ prev: 0, next: 42, prevState: "R" });
  s.at(1500).cpu(0).as(42).exit({ tid: 42 });
  s.at(1600).cpu(0).switch({ prev: 42, next: 0, prevState: "X" });
  // pid reuse: a new thread 42
  s.at(5000).cpu(1).as(7).fork({ parent: 7, child: 42, comm: "new" });
  s.at(5100).cpu(1).as(7).wakeupNew({ tid: 42, targetCpu: 0 });
  s.at(5700).cpu(0).switch({ prev: 0, next: 42, prevState: "R" });
  s.at(5800).cpu(0).switch({ prev: 42, next: 0, prevState: "S" });
  const { report } = analyzeScript(s, { selection: pids(42) });
  const rows = report.tasks.filter((t) => t.tid === 42);
  assert.deepEqual(
    rows.map((t) => [t.comm, t.metrics.latency?.max, t.metrics.response?.max]),
    [
      ["old", 400, 600],
      ["new", 600, 700],
    ],
  );
});

test("with a source-given start (live), a CPU whose first event comes late is not a gap", () => {
  const s = new EventScript(2);
  s.at(50).cpu(0).switch({ prev: 0, next: 42, prevState: "R" });
  s.at(100).cpu(0).switch({ prev: 42, next: 0, prevState: "S" });
  // woken towards CPU 1, which has shown no event yet: still measured
  s.at(1000).cpu(0).wakeup({ tid: 42, targetCpu: 1 });
  s.at(1700).cpu(1).switch({ prev: 0, next: 42, prevState: "R" });
  s.at(1800).cpu(1).switch({ prev: 42, next: 0, prevState: "S" });
  const { report } = analyzeScript(s, { selection: pids(42), validFromTs: 0 });
  const t = task(report, 42);
  assert.equal(t.metrics.latency?.max, 700);
  assert.equal(t.counters.incomplete, 0);
  assert.equal(
    report.diagnostics.find((d) => d.key === "cpu_data_late"),
    undefined,
  );
});
