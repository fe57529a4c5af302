// MetricStats: exact min/max/mean, HDR percentiles within 3 significant digits of the
// exact order statistics, clamping above 10 s, SLO bookkeeping, the N worst list.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  FIRST_VIOLATION,
  HistogramBudget,
  MetricStats,
  NEW_MAX,
  VIOLATION,
  WORST_VIOLATION,
} from "../../src/analysis/metric-stats.ts";

test("percentiles are within 0.1 % of the exact order statistics", () => {
  const s = new MetricStats(0, 0, Number.NaN);
  const budget = new HistogramBudget();
  const fast = new MetricStats(0, 0, Number.NaN, budget);
  const values: number[] = [];
  // a deterministic skewed distribution: most values 2..40 us, a tail to 3 ms
  let x = 12345;
  for (let i = 0; i < 20_000; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    const v = i % 250 === 0 ? 100_000 + (x % 2_900_000) : 2000 + (x % 38_000);
    values.push(v);
    s.add(v, i * 1000, i * 1000 + v, 0, false);
    fast.add(v, i * 1000, i * 1000 + v, 0, false);
  }
  assert.ok(
    budget.remainingBytes < new HistogramBudget().remainingBytes,
    "32-bit buckets taken from the budget",
  );
  assert.deepEqual(fast.summary(0n, "other"), s.summary(0n, "other"), "packed and 32-bit buckets agree");
  values.sort((a, b) => a - b);
  // rank as HdrHistogram defines it (q% of the count, rounded; the float product may be off by an ulp)
  const exact = (q: number) => values[Math.max(1, Math.floor((q / 100) * values.length + 0.5)) - 1];
  const sum = s.summary(0n, "other");
  assert.equal(sum.count, 20_000);
  assert.equal(sum.min, values[0]);
  assert.equal(sum.max, values[values.length - 1]);
  assert.equal(sum.mean, Math.round(values.reduce((a, b) => a + b, 0) / values.length));
  for (const [q, got] of [
    [50, sum.p50],
    [90, sum.p90],
    [99, sum.p99],
    [99.9, sum.p999],
    [99.99, sum.p9999],
  ] as const) {
    const want = exact(q);
    assert.ok(Math.abs(got - want) <= want * 0.001 + 1, `p${q}: ${got} vs exact ${want}`);
  }
});

test("samples above 10 s are clamped in the histogram and counted; the max stays exact", () => {
  const s = new MetricStats(0, 0, Number.NaN);
  s.add(5000, 0, 5000, 0, false);
  s.add(25e9, 0, 25e9, 0, false);
  const sum = s.summary(0n, "other");
  assert.equal(sum.max, 25e9);
  assert.equal(s.clamped, 1);
  assert.ok(sum.p9999 <= 25e9);
  assert.ok(sum.p9999 >= 9.99e9);
});

test("flags: new max, first and worst violation, every violation (strictly greater than the bound)", () => {
  const s = new MetricStats(0, 0, 100);
  assert.equal(s.add(50, 0, 1, 0, false), NEW_MAX);
  assert.equal(s.add(100, 0, 2, 0, false), NEW_MAX, "equal to the bound: no violation");
  assert.equal(s.add(150, 0, 3, 0, false), NEW_MAX | FIRST_VIOLATION | WORST_VIOLATION | VIOLATION);
  assert.equal(s.add(120, 0, 4, 0, false), VIOLATION);
  assert.equal(s.add(200, 0, 5, 0, false), NEW_MAX | WORST_VIOLATION | VIOLATION);
  assert.equal(s.violations, 3);
  const slo = s.summary(1000n, "other").slo;
  assert.deepEqual(slo, { bound: 100, violations: 3, firstAt: 1003, worstAt: 1005 });
  s.setBound(180);
  assert.equal(s.violations, 0, "a new bound counts from now on");
  assert.equal(s.add(190, 0, 6, 0, false), FIRST_VIOLATION | WORST_VIOLATION | VIOLATION);
});

test("worst list keeps the N largest, worst first", () => {
  const s = new MetricStats(3, 0, Number.NaN);
  for (const [i, v] of [5, 9, 1, 7, 9, 3, 8].entries()) s.add(v, i, i + v, i % 2, false);
  const w = s.worst;
  assert.ok(w);
  assert.deepEqual([...w.values.subarray(0, w.size)], [9, 9, 8]);
  assert.deepEqual([...w.starts.subarray(0, w.size)], [1, 4, 6]);
});
