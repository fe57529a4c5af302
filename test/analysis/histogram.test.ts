// The fast histogram paths give exactly hdr-histogram-js's own results: percentiles() and
// percentilesOfSamples() equal getValueAtPercentile, record32() leaves the histogram as
// recordValue() does (counts, total, min, max, encoding), and MetricStats' summary of a few
// buffered samples equals the one of a histogram holding them.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { build } from "hdr-histogram-js";
import {
  countsAtOrBelow,
  countsOf,
  HIST_HIGHEST_NS,
  mergeHistograms,
  newHistogram,
  percentiles,
  percentilesOfSamples,
  record32,
  recordTracked,
  SUMMARY_PERCENTILES,
  trackBuckets,
} from "../../src/analysis/histogram.ts";
import { HISTOGRAM_AT, HistogramBudget, MetricStats } from "../../src/analysis/metric-stats.ts";
import { encodeHistogram } from "../../src/store/histogram-codec.ts";
import { repoRoot } from "../helpers/paths.ts";

function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

/** Integers from 0 to 10 s, log-spread, with bucket edges and powers of two mixed in. */
function values(rnd: () => number, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = rnd();
    if (r < 0.05) out.push(2 ** Math.floor(rnd() * 34) - (rnd() < 0.5 ? 1 : 0));
    else if (r < 0.07) out.push(0);
    else if (r < 0.08) out.push(HIST_HIGHEST_NS);
    else out.push(Math.min(Math.floor(Math.exp(rnd() * 23)), HIST_HIGHEST_NS));
  }
  return out;
}

test("newHistogram builds what the package's build() builds", () => {
  for (const bucket of ["packed", 32] as const) {
    const a = newHistogram(bucket);
    const b = build({
      lowestDiscernibleValue: 1,
      highestTrackableValue: HIST_HIGHEST_NS,
      numberOfSignificantValueDigits: 3,
      bitBucketSize: bucket,
      autoResize: false,
    });
    assert.equal(a.constructor, b.constructor);
    const length = (h: object) => (h as { countsArrayLength: number }).countsArrayLength;
    assert.equal(length(a), length(b));
    assert.equal(a.autoResize, false);
  }
  assert.ok(countsOf(newHistogram(32)) instanceof Uint32Array);
  assert.equal(countsOf(newHistogram("packed")), null);
});

test("record32 leaves a 32-bit histogram exactly as recordValue does", () => {
  const rnd = lcg(7);
  for (let t = 0; t < 20; t++) {
    const vs = values(rnd, 1 + Math.floor(rnd() * 20000));
    const fast = newHistogram(32);
    const slow = newHistogram(32);
    const counts = countsOf(fast) as Uint32Array;
    for (const v of vs) {
      record32(fast, counts, v);
      slow.recordValue(v);
    }
    assert.equal(fast.totalCount, slow.totalCount);
    assert.equal(fast.maxValue, slow.maxValue);
    assert.equal(fast.minNonZeroValue, slow.minNonZeroValue);
    assert.deepEqual(counts, countsOf(slow));
    // the package index adds the encoder to every histogram class
    const encoded = (h: object) =>
      (h as { encodeIntoCompressedBase64(): string }).encodeIntoCompressedBase64();
    assert.equal(encoded(fast), encoded(slow));
  }
});

test("percentiles() equals getValueAtPercentile for each summary percentile", () => {
  const rnd = lcg(12345);
  for (let t = 0; t < 100; t++) {
    const h = newHistogram(t % 4 ? 32 : "packed");
    const n = 1 + Math.floor(rnd() * (t < 40 ? 20 : 5000));
    for (const v of values(rnd, n)) h.recordValue(v);
    assert.deepEqual(
      percentiles(h),
      SUMMARY_PERCENTILES.map((p) => h.getValueAtPercentile(p)),
      `histogram ${t} (${n} values)`,
    );
  }
  assert.deepEqual(percentiles(newHistogram(32)), [0, 0, 0, 0, 0]);
});

test("percentilesOfSamples() equals the percentiles of a histogram of the samples", () => {
  const rnd = lcg(99);
  for (let t = 0; t < 150; t++) {
    const vs = values(rnd, 1 + Math.floor(rnd() * 100));
    const h = newHistogram(32);
    for (const v of vs) h.recordValue(v);
    assert.deepEqual(
      percentilesOfSamples(Float64Array.from(vs)),
      SUMMARY_PERCENTILES.map((p) => h.getValueAtPercentile(p)),
      `samples ${vs.join(",")}`,
    );
  }
});

test("MetricStats: summary before and after the histogram is built equals the histogram's percentiles", () => {
  const rnd = lcg(3);
  for (const n of [1, 2, 5, HISTOGRAM_AT - 1, HISTOGRAM_AT, HISTOGRAM_AT + 1, 1000]) {
    const m = new MetricStats(0, 0, Number.NaN);
    const h = newHistogram(32);
    for (const v of values(rnd, n)) {
      m.add(v, 0, 0, 0, false);
      h.recordValue(v);
    }
    const s = m.summary(0n, "other");
    const q = SUMMARY_PERCENTILES.map((p) => Math.min(h.getValueAtPercentile(p), s.max));
    assert.deepEqual([s.p50, s.p90, s.p99, s.p999, s.p9999], q, `${n} samples`);
    assert.equal(m.histogram().totalCount, n);
  }
});

test("hdr-histogram-js is pinned to the exact version whose private fields the fast paths use", () => {
  // an upgrade must be a deliberate change of this pin, re-run against the tests above
  const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8"));
  assert.match(pkg.dependencies["hdr-histogram-js"], /^\d+\.\d+\.\d+$/);
  const installed = JSON.parse(
    readFileSync(join(repoRoot, "node_modules/hdr-histogram-js/package.json"), "utf8"),
  );
  assert.equal(installed.version, pkg.dependencies["hdr-histogram-js"]);
});

test("countsAtOrBelow: Prometheus's cumulative buckets, exact but for values within 0.1 % above an edge", () => {
  const rnd = lcg(7);
  const vs = values(rnd, 20_000);
  // edges: the serve defaults, a bound of 37 us, values equal to samples, 0 and the top
  const edges = [0, 1e3, 2.5e3, 37e3, 50e3, 1e6, vs[5], vs[17], 1e9, HIST_HIGHEST_NS].sort((a, b) => a - b);
  const uniq = [...new Set(edges)];
  for (const bucket of ["packed", 32] as const) {
    const h = newHistogram(bucket);
    for (const v of vs) h.recordValue(v);
    const got = countsAtOrBelow(h, uniq);
    for (let i = 0; i < uniq.length; i++) {
      const e = uniq[i];
      // counted from the raw samples: at or below, and the ones HDR cannot tell from the edge
      const exact = vs.filter((v) => v <= e).length;
      const close = vs.filter((v) => v > e && v <= e * 1.001 + 1).length;
      assert.ok(
        got[i] >= exact && got[i] <= exact + close,
        `${bucket} le=${e}: ${got[i]} vs ${exact} (+${close})`,
      );
    }
    assert.deepEqual(
      countsAtOrBelow(newHistogram(bucket), uniq),
      uniq.map(() => 0),
    );
  }
});

test("tracked packed histograms: walks skip untouched buckets and give the library's answers", () => {
  const rnd = lcg(4242);
  const edges = [0, 1e3, 2.5e3, 37e3, 1e6, 1e9, HIST_HIGHEST_NS];
  for (let t = 0; t < 30; t++) {
    const vs = values(rnd, 1 + Math.floor(rnd() * (t < 10 ? 30 : 3000)));
    const plain = newHistogram("packed");
    const tracked = newHistogram("packed");
    const touched = trackBuckets(tracked);
    for (const v of vs) {
      plain.recordValue(v);
      recordTracked(tracked, touched, v);
    }
    if (t % 3 === 0) {
      // a write made outside: the bits no longer match the total, every index is read again
      tracked.recordValue(vs[0] + 12_345);
      plain.recordValue(vs[0] + 12_345);
    }
    const what = `histogram ${t} (${vs.length} values)`;
    assert.deepEqual(
      percentiles(tracked),
      SUMMARY_PERCENTILES.map((p) => plain.getValueAtPercentile(p)),
      what,
    );
    assert.deepEqual(countsAtOrBelow(tracked, edges), countsAtOrBelow(plain, edges), what);
    assert.deepEqual(encodeHistogram(tracked), encodeHistogram(plain), what);
  }
  // the tracked walk asks the packed array only for the touched indexes
  const h = newHistogram("packed");
  const b = trackBuckets(h);
  for (const v of [1500, 2600, 2601, 90_000, 4_000_000]) recordTracked(h, b, v);
  const x = h as unknown as { getCountAtIndex(i: number): number; countsArrayLength: number };
  const get = x.getCountAtIndex.bind(h);
  let asked = 0;
  x.getCountAtIndex = (i: number) => {
    asked++;
    return get(i);
  };
  assert.deepEqual(countsAtOrBelow(h, [HIST_HIGHEST_NS]), [5]);
  assert.ok(asked <= 5, `${asked} of ${x.countsArrayLength} indexes asked`);
  // MetricStats past its 32-bit budget: packed and tracked; its copy of buffered samples too
  const s = new MetricStats(0, 0, Number.NaN, new HistogramBudget(0));
  const few = new MetricStats(0, 0, Number.NaN);
  const vs = values(rnd, 500);
  for (const v of vs) s.add(v, 0, 1, 0, false);
  for (const v of vs.slice(0, 20)) few.add(v, 0, 1, 0, false);
  for (const [stats, n] of [
    [s, vs.length],
    [few, 20],
  ] as const) {
    const h = stats.histogram();
    assert.equal(countsOf(h), null);
    const ref = newHistogram(32);
    for (const v of vs.slice(0, n)) ref.recordValue(Math.min(v, HIST_HIGHEST_NS));
    assert.deepEqual(percentiles(h), percentiles(ref));
    assert.deepEqual(encodeHistogram(h), encodeHistogram(ref));
  }
});

test("mergeHistograms gives what the library's add() gives", () => {
  const rnd = lcg(99);
  const parts = [newHistogram("packed"), newHistogram(32), newHistogram("packed")];
  const touched = trackBuckets(parts[2]);
  for (const v of values(rnd, 800)) parts[0].recordValue(v);
  for (const v of values(rnd, 3000)) parts[1].recordValue(v);
  for (const v of values(rnd, 50)) recordTracked(parts[2], touched, v);
  const byLib = newHistogram("packed");
  for (const h of parts) byLib.add(h);
  const merged = mergeHistograms(parts);
  assert.equal(merged.totalCount, byLib.totalCount);
  assert.deepEqual(
    percentiles(merged),
    SUMMARY_PERCENTILES.map((p) => byLib.getValueAtPercentile(p)),
  );
  assert.deepEqual(encodeHistogram(merged), encodeHistogram(byLib));
});
