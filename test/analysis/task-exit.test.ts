// Exited threads (SPEC §4 robustness: "a tracked task exiting, pid reuse"): a thread that
// exits is marked with the time of its sched_process_exit, and a later thread that gets the
// same tid (no fork seen, as when the fork fell in a loss or before the trace) is a new
// entry with its own start, never merged into the dead one. Expected numbers come from the
// script's own timestamps.
import assert from "node:assert/strict";
import { test } from "node:test";
import { reportToJsonObject } from "../../src/output/json-report.ts";
import { formatTextReport } from "../../src/output/text-report.ts";
import { analyzeScript, EventScript, pids } from "./event-script.ts";

function script(): EventScript {
  const s = new EventScript(2);
  s.name(42, "worker");
  s.at(0).cpu(1).other();
  s.at(50).cpu(0).switch({ prev: 0, next: 42, prevState: "R" });
  s.at(100).cpu(0).switch({ prev: 42, next: 0, prevState: "S" });
  // first thread 42: two activations, latencies 2000 and 1000, then it exits
  s.at(1000).cpu(1).wakeup({ tid: 42, targetCpu: 0 });
  s.at(3000).cpu(0).switch({ prev: 0, next: 42, prevState: "R" });
  s.at(10_000).cpu(0).switch({ prev: 42, next: 0, prevState: "S" });
  s.at(20_000).cpu(1).wakeup({ tid: 42, targetCpu: 0 });
  s.at(21_000).cpu(0).switch({ prev: 0, next: 42, prevState: "R" });
  s.at(22_000).cpu(0).exit({ tid: 42 });
  s.at(23_000).cpu(0).switch({ prev: 42, next: 0, prevState: "X" });
  // a new thread with tid 42, its fork not in the trace: one activation, latency 500
  s.at(50_000).cpu(1).switch({ prev: 0, next: 42, prevState: "R" });
  s.at(51_000).cpu(1).switch({ prev: 42, next: 0, prevState: "S" });
  s.at(60_000).cpu(0).wakeup({ tid: 42, targetCpu: 1 });
  s.at(60_500).cpu(1).switch({ prev: 0, next: 42, prevState: "R" });
  s.at(70_000).cpu(1).switch({ prev: 42, next: 0, prevState: "S" });
  return s;
}

test("an exited thread is marked, and a later thread with its tid is a new entry", () => {
  const { report } = analyzeScript(script(), { selection: pids(42) });
  const entries = report.tasks.filter((t) => t.tid === 42);
  assert.equal(entries.length, 2, "two threads used tid 42 one after the other");
  const [dead, next] = [...entries].sort((a, b) => Number(a.start) - Number(b.start));
  assert.equal(dead.exited, 22_000);
  assert.equal(dead.counters.wakeups, 2);
  assert.equal(dead.metrics.latency?.count, 2);
  assert.equal(dead.metrics.latency?.max, 2000);
  assert.equal(next.exited, undefined);
  assert.equal(next.start, 50_000);
  assert.equal(next.counters.wakeups, 1);
  assert.equal(next.metrics.latency?.count, 1);
  assert.equal(next.metrics.latency?.max, 500);

  const json = reportToJsonObject(report) as { tasks: Record<string, unknown>[] };
  assert.deepEqual(
    json.tasks.filter((t) => t.tid === 42).map((t) => [t.start, t.exited]),
    [
      [dead.start, 22_000],
      [50_000, undefined],
    ].sort((a, b) => Number(a[0]) - Number(b[0])),
  );
  const text = formatTextReport(report, { width: 200 });
  assert.match(text, /worker \[42\] .*\(started 0\.000000, exited 0\.000022\)/);
  assert.match(text, /worker \[42\] .*\(started 0\.000050\)/);
});
