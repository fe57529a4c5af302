import assert from "node:assert/strict";
import { test } from "node:test";
import { build } from "hdr-histogram-js";
import type { MetricKey } from "../../src/model/report.ts";
import { bucketize, formatHistReport, type HdrLike } from "../../src/output/hist-report.ts";
import { sampleReport } from "./sample-report.ts";

function hdr(values: number[]): HdrLike {
  const h = build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 10e9,
    numberOfSignificantValueDigits: 3,
    bitBucketSize: "packed",
    useWebAssembly: false,
  });
  for (const v of values) h.recordValue(v);
  return h as unknown as HdrLike;
}

test("bucketize: integer division by the bucket size, the rest counts as over", () => {
  const b = bucketize(hdr([0, 999, 1000, 1999, 2500, 255_999, 256_000, 5_000_000]), 1000, 256);
  assert.equal(b.counts[0], 2);
  assert.equal(b.counts[1], 2);
  assert.equal(b.counts[2], 1);
  assert.equal(b.counts[255], 1);
  assert.equal(b.over, 2);
  assert.equal(b.total, 8);
});

test("rtla timerlat hist layout: header, Index row, bucket rows, summary rows", () => {
  const r = sampleReport();
  // latency samples: 3 at 0.8-0.9 us, 2 at 2.x us, one at 60.9 us; timer: one at 30 us, one over
  const lat = hdr([812, 850, 900, 2100, 2999, 60912]);
  const tmr = hdr([30000, 1961500]);
  const m = r.tasks[0].metrics;
  Object.assign(m.latency!, { count: 6, min: 812, mean: 11429, max: 60912 });
  Object.assign(m.timer!, { count: 2, min: 30000, mean: 995750, max: 1961500 });
  const lookup = (tid: number, k: MetricKey) =>
    tid === 4028 ? (k === "latency" ? lat : k === "timer" ? tmr : undefined) : undefined;
  const text = formatHistReport(r, lookup, { bucketNs: 1000, entries: 64 });
  const lines = text.trimEnd().split("\n");
  assert.equal(lines[0], "# rtscope histogram (rtla timerlat hist layout)");
  assert.equal(lines[1], "# Time unit is microseconds (us)");
  assert.equal(lines[2], "# Duration: 0 00:00:00");
  assert.ok(lines.includes("# lat-4028: cyclictest[4028] scheduling latency (wakeup → running)"));
  const idx = lines.indexOf("Index  lat-4028  tmr-4028");
  assert.ok(idx > 0, text);
  // rows as rtla prints them: "%-6d" then "%9d " per column (trailing space trimmed)
  assert.deepEqual(lines.slice(idx + 1), [
    "0             3         0",
    "2             2         0",
    "30            0         1",
    "60            1         0",
    "over:         0         1",
    "count:        6         2",
    "min:          0        30",
    "avg:         11       995",
    "max:         60      1961",
  ]);
});

test("--with-zeros prints every bucket; ns unit when the bucket is not whole µs", () => {
  const r = sampleReport();
  r.tasks[0].metrics = { latency: r.tasks[0].metrics.latency };
  const text = formatHistReport(r, () => hdr([100, 350]), { bucketNs: 250, entries: 4, withZeros: true });
  assert.match(text, /# Time unit is nanoseconds \(ns\)/);
  assert.match(text, /\n0 {13}1\n250 {11}1\n500 {11}0\n750 {11}0\nover: {9}0\n/);
});
