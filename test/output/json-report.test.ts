import assert from "node:assert/strict";
import { test } from "node:test";
import { formatJsonReport, formatJsonReports, stringifyJson } from "../../src/output/json-report.ts";
import { BIG_TS, sampleReport } from "./sample-report.ts";

test("stringifyJson writes what JSON.stringify writes for plain values", () => {
  const v = { a: [1, 2, { b: 'x"y\n', c: null }], d: {}, e: [], f: true, g: -0.5, u: undefined };
  assert.equal(stringifyJson(v), JSON.stringify(v, null, 2));
});

test("bigint timestamps are JSON integers, exact past 2^53", () => {
  const text = formatJsonReport(sampleReport());
  assert.match(text, /"maxAt": 9007199254740997,/);
  assert.match(text, /"worstAt": 9007199254740997\n/);
  // parse back: the integer is there (as a double it rounds, as text it is exact)
  const slice = /"maxAt": (\d+)/.exec(text)![1];
  assert.equal(BigInt(slice), BIG_TS);
  assert.doesNotMatch(text, /"9007199254740997"/);
});

test("keys follow the SPEC §2 schema in order; absent metrics are absent", () => {
  const obj = JSON.parse(formatJsonReport(sampleReport()));
  assert.deepEqual(Object.keys(obj), [
    "tool",
    "version",
    "source",
    "slo",
    "selection",
    "tasks",
    "diagnostics",
  ]);
  assert.deepEqual(Object.keys(obj.source), [
    "kind",
    "path",
    "clock",
    "cpus",
    "kernel",
    "events",
    "lostEvents",
    "format",
    "start",
    "end",
  ]);
  const t = obj.tasks[0];
  assert.deepEqual(Object.keys(t), [
    "tid",
    "tgid",
    "comm",
    "policy",
    "prio",
    "kernelPrio",
    "counters",
    "metrics",
    "worst",
  ]);
  assert.deepEqual(Object.keys(t.counters), [
    "wakeups",
    "voluntarySwitches",
    "involuntarySwitches",
    "migrations",
    "runtime",
    "incomplete",
  ]);
  assert.deepEqual(Object.keys(t.metrics), ["latency", "timer"]);
  assert.deepEqual(Object.keys(t.metrics.latency), [
    "count",
    "min",
    "mean",
    "max",
    "maxAt",
    "p50",
    "p90",
    "p99",
    "p999",
    "p9999",
    "inferred",
    "slo",
  ]);
  assert.deepEqual(Object.keys(t.metrics.latency.slo), ["bound", "violations", "firstAt", "worstAt"]);
  assert.deepEqual(t.metrics.timer.irq, { max: 1234, worst: 1000 });
  assert.deepEqual(Object.keys(t.worst.latency), [
    "start",
    "end",
    "value",
    "cpu",
    "wakeCpu",
    "causes",
    "events",
  ]);
  assert.deepEqual(Object.keys(t.worst.latency.causes[1]), ["kind", "name", "tid", "prio", "time"]);
  // second task: no metric has samples → empty object, no min = INT64_MAX
  assert.deepEqual(obj.tasks[1].metrics, {});
  assert.equal(obj.tasks[1].worst, undefined);
});

test("times are integers: the mean is rounded, percents keep one decimal", () => {
  const obj = JSON.parse(formatJsonReport(sampleReport()));
  assert.equal(obj.tasks[0].metrics.latency.mean, 2400);
  assert.equal(obj.tasks[0].worst.latency.causes[0].percent, 65.7);
  assert.equal(obj.slo.latency, 50000);
  assert.equal(obj.diagnostics[1].count, -1);
});

test("several reports give an array", () => {
  const arr = JSON.parse(formatJsonReports([sampleReport(), sampleReport()]));
  assert.equal(arr.length, 2);
  assert.equal(arr[1].tool, "rtscope");
});

test("window events: one compact line each, parsing to what the indented form holds", () => {
  const r = sampleReport();
  const w = r.tasks[0].worst?.latency;
  assert.ok(w, "the sample report has a latency window");
  w.events.push({
    ts: 1000,
    rel: -5,
    cpu: 0,
    event: "sched_waking",
    currentTid: 0,
    fields: { comm: "cyclictest", pid: 42, prio: 19, target_cpu: 0 },
  });
  // names a thread could have; a rel that is unknown (no wakeup seen) is null, as JSON.stringify writes it
  w.events.push({
    ts: BIG_TS,
    rel: Number.NaN,
    cpu: 1,
    event: "sched_switch",
    currentTid: 7,
    fields: { prev_comm: 'a"b\\c', next_comm: '"events": "x"', prev_pid: 7, prev_state: "R+" },
  });
  const text = formatJsonReport(r);
  const lines = text.split("\n");
  const at = lines.findIndex((l) => l.endsWith('"events": ['));
  assert.ok(at > 0);
  const indent = lines[at].length - lines[at].trimStart().length;
  for (let i = 0; i < w.events.length; i++) {
    const line = lines[at + 1 + i];
    assert.equal(line.length - line.trimStart().length, indent + 2, "each event one level deeper");
    assert.deepEqual(Object.keys(JSON.parse(line.replace(/,$/, ""))), [
      "ts",
      "rel",
      "cpu",
      "event",
      "currentTid",
      "fields",
    ]);
  }
  assert.equal(lines[at + 1 + w.events.length], `${" ".repeat(indent)}]`);
  const parsed = JSON.parse(text).tasks[0].worst.latency.events;
  const expected = JSON.parse(JSON.stringify(w.events, (_k, v) => (typeof v === "bigint" ? Number(v) : v)));
  assert.deepEqual(parsed, expected);
  assert.match(text, /"ts":9007199254740997,"rel":null,/);
});

test("window events encoded from the captured columns equal those of the listed events", async () => {
  const { analyzeTrace } = await import("../../src/cli/analyze-trace.ts");
  const { emptySelection } = await import("../../src/model/selection.ts");
  const { fixturesDir } = await import("../helpers/paths.ts");
  const { join } = await import("node:path");
  const { report } = await analyzeTrace(join(fixturesDir, "trace-dat/cpu-load/trace.v7.dat"), {
    selection: emptySelection(),
    slo: { latency: 20_000 },
    worstN: 0,
    wakeupEvent: "wakeup",
  });
  const fromColumns = formatJsonReport(report);
  let listed = 0;
  for (const t of report.tasks) for (const w of Object.values(t.worst ?? {})) listed += w?.events.length ?? 0;
  assert.ok(listed > 1000, `${listed} events listed`);
  // reading `events` builds the listing; the writer then encodes it instead of the columns
  assert.equal(formatJsonReport(report), fromColumns);
});
