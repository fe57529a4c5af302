// The bound on exited tracked threads (task-table.ts `maxExited`, AnalysisOptions
// `maxExitedTasks`): a capture that tracks every thread of a machine running short-lived
// tasks keeps the newest N exited threads' rows and drops the older ones, counted in the
// `exited_tasks_dropped` diagnostic; living threads are never dropped. The expected rows
// (which thread, its start and its latency) come from the script's own timestamps.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Pipeline } from "../../src/analysis/analyzer.ts";
import { createAnalysis } from "../../src/analysis/pipeline.ts";
import { Diagnostics } from "../../src/model/diagnostics.ts";
import { emptySelection } from "../../src/model/selection.ts";
import { analyzeScript, EventScript, SCRIPT_INFO, SCRIPT_SYMBOLS } from "./event-script.ts";

/**
 * Short-lived "worker" threads one after the other on CPU 0, each: forked by tid 1, runs,
 * sleeps, is woken with a latency of `latency` ns, exits. Returns each thread's start ts.
 */
function lifetimes(s: EventScript, threads: { tid: number; latency: number }[], from: number): number[] {
  const starts: number[] = [];
  let t = from;
  for (const { tid, latency } of threads) {
    starts.push(t);
    s.at(t).cpu(1).fork({ parent: 1, child: tid, comm: "worker" });
    s.at(t + 100)
      .cpu(1)
      .wakeupNew({ tid, targetCpu: 0 });
    s.at(t + 200)
      .cpu(0)
      .switch({ prev: 0, next: tid, prevState: "R" });
    s.at(t + 300)
      .cpu(0)
      .switch({ prev: tid, next: 0, prevState: "S" });
    s.at(t + 1000)
      .cpu(1)
      .wakeup({ tid, targetCpu: 0 });
    s.at(t + 1000 + latency)
      .cpu(0)
      .switch({ prev: 0, next: tid, prevState: "R" });
    s.at(t + 5000)
      .cpu(0)
      .exit({ tid });
    s.at(t + 5100)
      .cpu(0)
      .switch({ prev: tid, next: 0, prevState: "X" });
    t += 10_000;
  }
  return starts;
}

test("only the newest maxExitedTasks exited threads keep their rows; the rest are counted", () => {
  const s = new EventScript(2);
  s.name(1, "init");
  s.at(0).cpu(1).switch({ prev: 0, next: 1, prevState: "R" });
  // tid 102 is used twice: the first 102 is retired when the second is forked, and is later
  // dropped from the retired rows (the other drops find their thread still under its tid)
  const threads = [
    { tid: 100, latency: 1100 },
    { tid: 101, latency: 1200 },
    { tid: 102, latency: 1300 },
    { tid: 102, latency: 1400 },
    { tid: 103, latency: 1500 },
    { tid: 104, latency: 1600 },
  ];
  const starts = lifetimes(s, threads, 1000);
  // a living worker (its wakeup_new latency 100 ns): never dropped
  s.at(100_000).cpu(1).fork({ parent: 1, child: 200, comm: "worker" });
  s.at(100_100).cpu(1).wakeupNew({ tid: 200, targetCpu: 0 });
  s.at(100_200).cpu(0).switch({ prev: 0, next: 200, prevState: "R" });
  const { report } = analyzeScript(s, { maxExitedTasks: 3 });
  const rows = report.tasks
    .filter((t) => t.comm === "worker")
    .map((t) => ({ tid: t.tid, start: Number(t.start), max: t.metrics.latency?.max }))
    .sort((a, b) => a.start - b.start);
  assert.deepEqual(rows, [
    { tid: 102, start: starts[3], max: 1400 },
    { tid: 103, start: starts[4], max: 1500 },
    { tid: 104, start: starts[5], max: 1600 },
    { tid: 200, start: 100_000, max: 100 },
  ]);
  const d = report.diagnostics.find((x) => x.key === "exited_tasks_dropped");
  assert.equal(d?.count, 3, "threads 100, 101 and the first 102 dropped");
});

test("below the bound every exited thread keeps its row and nothing is reported", () => {
  const s = new EventScript(2);
  const threads = [100, 101, 102, 103].map((tid, i) => ({ tid, latency: 1000 + 100 * i }));
  lifetimes(s, threads, 1000);
  const { report } = analyzeScript(s, {});
  assert.deepEqual(
    report.tasks
      .filter((t) => t.comm === "worker")
      .map((t) => [t.tid, t.metrics.latency?.max])
      .sort((a, b) => Number(a[0]) - Number(b[0])),
    [
      [100, 1000],
      [101, 1100],
      [102, 1200],
      [103, 1300],
    ],
  );
  assert.equal(
    report.diagnostics.find((x) => x.key === "exited_tasks_dropped"),
    undefined,
  );
});

test("a dropped thread's worst windows go with its row (record's windows stay bounded)", () => {
  const s = new EventScript(2);
  s.name(1, "init");
  s.at(0).cpu(1).switch({ prev: 0, next: 1, prevState: "R" });
  const threads = Array.from({ length: 20 }, (_, i) => ({ tid: 100 + i, latency: 1000 + 10 * i }));
  lifetimes(s, threads, 1000);
  const { analysis, capture } = createAnalysis({
    selection: emptySelection(),
    symbols: SCRIPT_SYMBOLS,
    cpus: s.cpus,
    validFromTs: 0,
    maxExitedTasks: 3,
    windows: { marginNs: 500 },
  });
  const pipeline = new Pipeline(analysis.analyzers);
  for (const r of s.records) pipeline.handle(r);
  pipeline.finish();
  const windows = capture?.windows;
  assert.ok(windows);
  // every worker measured a latency: one window each (its maximum); only the 3 kept remain
  const held = [...new Set(windows.all().map((w) => w.tid))].sort((a, b) => a - b);
  assert.deepEqual(held, [117, 118, 119]);
  assert.equal(windows.stats().windows, windows.all().length);
  for (const tid of [100, 116]) assert.equal(windows.worst(tid, "latency"), undefined);
  const report = analysis.report(SCRIPT_INFO(s.cpus), new Diagnostics(), pipeline);
  const rows = report.tasks.filter((t) => t.comm === "worker");
  assert.deepEqual(
    rows.map((t) => t.tid).sort((a, b) => a - b),
    [117, 118, 119],
  );
  for (const t of rows) assert.equal(windows.worst(t.tid, "latency")?.value, t.metrics.latency?.max);
  // nothing reported as dropped for memory: these windows left with their threads
  assert.deepEqual(windows.droppedWindows(), []);
});
