// The one-walk percentiles agree with hdr-histogram-js's own getValueAtPercentile.
import assert from "node:assert/strict";
import { test } from "node:test";
import { newHistogram, percentiles, SUMMARY_PERCENTILES } from "../../src/analysis/metric-stats.ts";

test("percentiles() equals getValueAtPercentile for each summary percentile", () => {
  let seed = 12345;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  for (let t = 0; t < 200; t++) {
    const h = newHistogram(t % 2 ? 32 : "packed");
    const n = 1 + Math.floor(rnd() * (t < 40 ? 20 : 5000));
    for (let i = 0; i < n; i++) h.recordValue(Math.floor(Math.exp(rnd() * 22)) + 1);
    assert.deepEqual(
      percentiles(h),
      SUMMARY_PERCENTILES.map((p) => h.getValueAtPercentile(p)),
      `histogram ${t} (${n} values)`,
    );
  }
});
