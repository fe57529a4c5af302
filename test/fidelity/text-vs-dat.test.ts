// Acceptance: the text forms of a recording and its trace.dat agree. The kernel's `trace`
// file has µs timestamps: same counts, values within 1 µs. `trace-cmd report -t` has ns
// timestamps: the same numbers. Except timer latency: a text trace does not state its clock, so
// the timers' expiries are put on it by an estimated offset (SPEC §1): the text's timer values
// are below the trace.dat's (exact: clock mono) by at most the error bound the text's report
// states, and never above by more than the timestamp resolution.

import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import { METRIC_KEYS, type MetricSummary, type Report } from "../../src/model/report.ts";
import { analyzeFile, CASES, caseDir, type Engine, engineMissing, loadEngine } from "./ground-truth.ts";

const skip = engineMissing();
const ALL_TASKS = { tids: [], tgids: [], comms: [], rt: false, irqThreads: false, descendantsOf: [] };
const VALUE_KEYS = ["min", "mean", "max"] as const;
const PERCENTILE_KEYS = ["p50", "p90", "p99", "p999", "p9999"] as const;

/** Compares every task's counters and metrics; `tolNs` is the timestamp resolution of `text`. */
function compareReports(where: string, text: Report, dat: Report, tolNs: number): void {
  assert.equal(text.source.events, dat.source.events, `${where}: events`);
  assert.equal(dat.source.timerClock?.mode, "direct", `${where}: trace.dat clock mono`);
  assert.equal(text.source.timerClock?.mode, "estimated", `${where}: text clock not stated`);
  const timerBound = text.source.timerClock?.errorBound ?? 0;
  const textTasks = new Map(text.tasks.map((t) => [t.tid, t]));
  assert.deepEqual(
    text.tasks.map((t) => t.tid).sort((a, b) => a - b),
    dat.tasks.map((t) => t.tid).sort((a, b) => a - b),
    `${where}: tasks`,
  );
  for (const d of dat.tasks) {
    const tx = textTasks.get(d.tid)!;
    const w = `${where} tid ${d.tid} (${d.comm})`;
    const { runtime: dr, ...dCounts } = d.counters;
    const { runtime: tr, ...tCounts } = tx.counters;
    assert.deepEqual(tCounts, dCounts, `${w}: counters`);
    const switches = d.counters.voluntarySwitches + d.counters.involuntarySwitches + 1;
    assert.ok(Math.abs(tr - dr) <= switches * tolNs, `${w}: runtime text ${tr} vs dat ${dr}`);
    assert.equal(tx.prio, d.prio, `${w}: prio`);
    assert.deepEqual(Object.keys(tx.metrics).sort(), Object.keys(d.metrics).sort(), `${w}: metrics present`);
    for (const key of METRIC_KEYS) {
      const dm = d.metrics[key] as MetricSummary | undefined;
      const tm = tx.metrics[key] as MetricSummary | undefined;
      if (!dm || !tm) continue;
      assert.equal(tm.count, dm.count, `${w} ${key}: count`);
      assert.equal(tm.inferred, dm.inferred, `${w} ${key}: inferred`);
      const below = key === "timer" ? tolNs + timerBound : tolNs;
      for (const f of VALUE_KEYS)
        assert.ok(
          tm[f] - dm[f] <= tolNs && dm[f] - tm[f] <= below,
          `${w} ${key}.${f}: text ${tm[f]} vs dat ${dm[f]} (not within -${below}..+${tolNs} ns)`,
        );
      // HDR percentiles are bucket bounds (3 significant digits): one bucket more may separate them
      for (const f of PERCENTILE_KEYS)
        assert.ok(
          tm[f] - dm[f] <= tolNs + dm[f] / 1000 + 1 && dm[f] - tm[f] <= below + dm[f] / 1000 + 1,
          `${w} ${key}.${f}: text ${tm[f]} vs dat ${dm[f]}`,
        );
    }
  }
}

describe("text forms agree with trace.dat", { skip: skip || false }, () => {
  let engine: Engine;
  test.before(async () => {
    engine = await loadEngine();
  });
  for (const name of CASES) {
    test(`${name}: tracefs trace (µs) vs trace.v7.dat`, async () => {
      const dir = caseDir(name);
      const dat = await analyzeFile(engine, join(dir, "trace.v7.dat"), ALL_TASKS);
      const text = await analyzeFile(engine, join(dir, "trace.txt"), ALL_TASKS);
      assert.ok(dat.tasks.length > 0, "no task in the report");
      compareReports(`${name} trace.txt`, text, dat, 1000);
    });
    test(`${name}: trace-cmd report -t (ns) vs trace.v7.dat`, async () => {
      const dir = caseDir(name);
      const dat = await analyzeFile(engine, join(dir, "trace.v7.dat"), ALL_TASKS);
      const text = await analyzeFile(engine, join(dir, "report-t.txt"), ALL_TASKS);
      compareReports(`${name} report-t.txt`, text, dat, 1);
    });
  }
});
