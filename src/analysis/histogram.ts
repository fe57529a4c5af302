// The HDR histograms of the metrics (hdr-histogram-js): 1 ns .. 10 s, 3 significant digits,
// packed or 32-bit buckets. Four things here are faster than the library's own calls and
// give exactly its results (test/analysis/histogram.test.ts):
//
// - Loading: the JS histogram classes are imported without the package index, which also
//   loads the WebAssembly build, pako, base64-js and the log writer.
// - Recording into 32-bit buckets (`record32`): the bucket index from Math.clz32 and a
//   typed-array increment, instead of recordValue's log2/pow chain.
// - Percentiles (`percentiles`): the summary's five in one walk of the buckets, on the
//   counts array itself when there is one; and, for a metric whose few samples are still
//   buffered (`percentilesOfSamples`), from the sorted samples without a histogram.
// - Walks of packed histograms (percentiles, Prometheus buckets, encoding, merging): those
//   rtscope fills (through `recordTracked`) keep a bit per touched bucket (`TouchedBuckets`),
//   and a walk asks the packed array for those only.
//
// The first two read and write the library's private fields (HdrInternals below), so the
// dependency is pinned to one exact version in package.json and nothing outside this file
// touches them; the tests compare every fast path with the library's own calls, so an
// upgrade that moves a field fails there, not as a wrong percentile. Why not our own
// histogram: the library's packed buckets keep thousands of mostly idle task metrics small,
// which neither a flat typed array nor a paged one can (bench/README.md, "Histograms").

import type { Histogram } from "hdr-histogram-js";
import { constructorFromBucketSize } from "hdr-histogram-js/dist/JsHistogramFactory.js";

/** Highest value the histograms track; larger samples are recorded as this (and counted). */
export const HIST_HIGHEST_NS = 10e9;
export const HIST_LOWEST_NS = 1;
export const HIST_DIGITS = 3;

/** The percentiles of a summary, ascending. */
export const SUMMARY_PERCENTILES: readonly number[] = [50, 90, 99, 99.9, 99.99];

/**
 * A new empty 1 ns..10 s, 3-digit histogram: packed buckets keep a histogram of a few values
 * small, 32-bit buckets record fast (bench/README.md, "Histograms"); MetricStats chooses.
 */
export function newHistogram(bucket: "packed" | 32 = "packed"): Histogram {
  const Ctor = constructorFromBucketSize(bucket) as unknown as new (
    lowest: number,
    highest: number,
    digits: number,
  ) => Histogram;
  const h = new Ctor(HIST_LOWEST_NS, HIST_HIGHEST_NS, HIST_DIGITS);
  h.autoResize = false;
  return h;
}

/** The library's fields that the fast paths read and write (JsHistogram / TypedArrayHistogram). */
interface HdrInternals {
  _counts?: unknown;
  _totalCount: number;
  maxValue: number;
  minNonZeroValue: number;
  unitMagnitude: number;
  subBucketHalfCountMagnitude: number;
  countsArrayLength: number;
  getCountAtIndex(i: number): number;
  valueFromIndex(i: number): number;
  highestEquivalentValue(v: number): number;
}

/** Bucket-index layout the fast paths assume: lowest 1 (unit magnitude 0), 3 digits (2 × 1024 sub-buckets). */
const SUB_HALF_MAGNITUDE = 10;
const SUB_HALF = 1 << SUB_HALF_MAGNITUDE;

/**
 * Which bucket indexes of a packed histogram may hold a count, a bit per index (3 KiB for the
 * 24,576 of a 1 ns..10 s histogram), kept by the code that fills it (MetricStats,
 * decodeHistogram, mergeHistograms). A packed array answers each index through its tree
 * (~200 ns), so a walk of all of them took 3.5-7 ms (percentiles, Prometheus buckets,
 * encoding, merging); with the bits, an untouched index costs a bit test. (A bit per block of
 * 8 indexes left 0.85-0.95 ms for 200 samples spread over 2 us-1 ms: the neighbours of each
 * touched index were asked too.) Trusted only while the histogram's total count is the one
 * noted with them: a write made elsewhere changes it, and the walk asks every index again.
 */
export class TouchedBuckets {
  readonly bits: Uint32Array;
  /** the histogram's totalCount when the bits were last brought up to date */
  total = 0;
  constructor(indexes: number) {
    this.bits = new Uint32Array((indexes + 31) >>> 5);
  }
  mark(index: number): void {
    this.bits[index >>> 5] |= 1 << (index & 31);
  }
}

const trackedBuckets = new WeakMap<Histogram, TouchedBuckets>();

/** Starts keeping the touched indexes of `h`, a packed histogram that only rtscope writes to. */
export function trackBuckets(h: Histogram): TouchedBuckets {
  const b = new TouchedBuckets((h as unknown as HdrInternals).countsArrayLength);
  b.total = h.totalCount;
  trackedBuckets.set(h, b);
  return b;
}

/** `h.recordValueWithCount(v, count)` for a tracked histogram (v an integer 0..HIST_HIGHEST_NS). */
export function recordTracked(h: Histogram, touched: TouchedBuckets, v: number, count = 1): void {
  if (count === 1) h.recordValue(v);
  else h.recordValueWithCount(v, count);
  touched.mark(countsIndex(v));
  touched.total = h.totalCount;
}

/**
 * Reads a histogram's bucket counts by index, the fastest way it allows: 32-bit counts in
 * place, a tracked packed histogram's untouched indexes as zeros, else the library's call.
 */
export class BucketReader {
  readonly length: number;
  private readonly x: HdrInternals;
  private readonly counts: Uint32Array | null;
  private readonly bits: Uint32Array | null;
  constructor(h: Histogram) {
    this.x = h as unknown as HdrInternals;
    this.counts = countsOf(h);
    this.length = this.x.countsArrayLength;
    const b = this.counts === null ? trackedBuckets.get(h) : undefined;
    this.bits = b !== undefined && b.total === h.totalCount ? b.bits : null;
  }
  at(i: number): number {
    if (this.counts !== null) return this.counts[i];
    if (this.bits !== null && (this.bits[i >>> 5] & (1 << (i & 31))) === 0) return 0;
    return this.x.getCountAtIndex(i);
  }
  /** The first index >= i (and below `end`) whose count may be nonzero; `end` when none. */
  next(i: number, end = this.length): number {
    const n = end;
    const bits = this.bits;
    if (bits === null) {
      while (i < n && this.at(i) === 0) i++;
      return i;
    }
    while (i < n) {
      const w = bits[i >>> 5] >>> (i & 31);
      if (w === 0) i = (i | 31) + 1;
      else return Math.min(i + 31 - Math.clz32(w & -w), n);
    }
    return n;
  }
}

/**
 * One histogram holding every count of `hists` (same layout): what `merged.add(h)` for each
 * gives for percentiles and encoding, reading each through a BucketReader (the library's add
 * asks a packed histogram for all of its indexes).
 */
export function mergeHistograms(hists: readonly Histogram[]): Histogram {
  const merged = newHistogram("packed");
  const touched = trackBuckets(merged);
  const x = merged as unknown as HdrInternals;
  for (const h of hists) {
    const r = new BucketReader(h);
    for (let i = r.next(0); i < r.length; i = r.next(i + 1)) {
      const c = r.at(i);
      if (c !== 0) recordTracked(merged, touched, x.valueFromIndex(i), c);
    }
  }
  return merged;
}

/**
 * The 32-bit counts of `h` if the fast recording path applies to it (a 32-bit histogram with
 * the layout above), else null.
 */
export function countsOf(h: Histogram): Uint32Array | null {
  const x = h as unknown as HdrInternals;
  return x._counts instanceof Uint32Array &&
    x.unitMagnitude === 0 &&
    x.subBucketHalfCountMagnitude === SUB_HALF_MAGNITUDE
    ? x._counts
    : null;
}

/**
 * h.recordValue(v) for a 32-bit histogram whose counts are `counts` (countsOf(h)), `v` an
 * integer in 0..HIST_HIGHEST_NS. Values of 2^32 ns and more take the library's path.
 */
export function record32(h: Histogram, counts: Uint32Array, v: number): void {
  if (v >= 4294967296) {
    h.recordValue(v);
    return;
  }
  counts[index32(v)]++;
  const x = h as unknown as HdrInternals;
  if (v > x.maxValue) x.maxValue = v;
  if (v < x.minNonZeroValue && v !== 0) x.minNonZeroValue = v;
  x._totalCount++;
}

/** The count getValueAtPercentile looks for (same rounding as the library). */
function targetCount(p: number, total: number): number {
  const fp = (Math.min(p, 100) / 100) * total;
  return Math.max(Math.ceil(fp - 2 ** (Math.floor(Math.log2(fp)) - 52)), 1);
}

/**
 * The percentiles `ps` (ascending) of `h` in one walk of the buckets, each exactly what
 * getValueAtPercentile returns: five separate calls walk a 1 ns..10 s histogram five times.
 */
export function percentiles(h: Histogram, ps: readonly number[] = SUMMARY_PERCENTILES): number[] {
  const out = new Array<number>(ps.length).fill(0);
  const total = h.totalCount;
  if (total === 0) return out;
  const targets = ps.map((p) => targetCount(p, total));
  const x = h as unknown as HdrInternals;
  const r = new BucketReader(h);
  const n = r.length;
  let k = 0;
  let sum = 0;
  let target = targets[0];
  for (let i = r.next(0); i < n; i = r.next(i + 1)) {
    const c = r.at(i);
    if (c === 0) continue;
    sum += c;
    if (sum < target) continue;
    const v = x.highestEquivalentValue(x.valueFromIndex(i));
    while (k < ps.length && sum >= targets[k]) out[k++] = v;
    if (k === ps.length) break;
    target = targets[k];
  }
  return out;
}

/** A histogram only used for its value arithmetic (bucket bounds). */
let indexer: Histogram | null = null;

/**
 * The counts-array index of value `v` (an integer 0..HIST_HIGHEST_NS) in a histogram of
 * newHistogram's layout: record32's arithmetic below 2^32, the library's above.
 */
export function countsIndex(v: number): number {
  if (v < 4294967296) return index32(v);
  indexer ??= newHistogram("packed");
  return (indexer as unknown as { countsArrayIndex(v: number): number }).countsArrayIndex(v);
}

/** countsIndex of an integer below 2^32: getBucketIndex max(floor(log2 v) - 10, 0), then v / 2^bucket. */
function index32(v: number): number {
  let bucket = 31 - Math.clz32(v) - SUB_HALF_MAGNITUDE;
  if (bucket < 0) bucket = 0;
  return ((bucket + 1) << SUB_HALF_MAGNITUDE) + (v >>> bucket) - SUB_HALF;
}

/**
 * What percentiles() would return for a histogram holding `samples` (integers in
 * 0..HIST_HIGHEST_NS, in any order; the array is sorted in place), without building one.
 */
export function percentilesOfSamples(
  samples: Float64Array,
  ps: readonly number[] = SUMMARY_PERCENTILES,
): number[] {
  const out = new Array<number>(ps.length).fill(0);
  const n = samples.length;
  if (n === 0) return out;
  samples.sort();
  indexer ??= newHistogram("packed");
  const x = indexer as unknown as HdrInternals;
  for (let k = 0; k < ps.length; k++) out[k] = x.highestEquivalentValue(samples[targetCount(ps[k], n) - 1]);
  return out;
}

/**
 * How many recorded values are at most each of `edges` (ascending, ns): Prometheus's
 * cumulative `le` buckets, in one walk. A bucket of the histogram counts below an edge when
 * its lowest value is, so a count is exact up to the histogram's resolution (3 digits: a
 * value within 0.1 % above an edge may be counted at or below it).
 */
export function countsAtOrBelow(h: Histogram, edges: readonly number[]): number[] {
  const out = new Array<number>(edges.length).fill(0);
  if (h.totalCount === 0 || edges.length === 0) return out;
  const x = h as unknown as HdrInternals;
  const r = new BucketReader(h);
  const n = r.length;
  let k = 0;
  let sum = 0;
  for (let i = r.next(0); i < n; i = r.next(i + 1)) {
    const c = r.at(i);
    if (c === 0) continue;
    const low = x.valueFromIndex(i);
    while (k < edges.length && low > edges[k]) out[k++] = sum;
    if (k === edges.length) return out;
    sum += c;
  }
  while (k < edges.length) out[k++] = sum;
  return out;
}
