// Own log-linear histogram or hdr-histogram-js (issue #13 item 5)? Both with rtscope's
// layout: 1 ns .. 10 s, 3 significant digits (2 × 1024 sub-buckets per power of two).
//
//   node --expose-gc bench/histogram-choice.ts [samples=5000000]
//
// - record: ns per recorded sample, CPU time, best of 3 after a warm-up, over samples drawn
//   log-uniformly from 1 us to 10 ms (integers, precomputed):
//   hdr packed recordValue, hdr 32-bit with record32 (what MetricStats does), an own flat
//   Uint32Array (the same index arithmetic as record32, no library), an own paged one (a
//   Uint32Array(256) page allocated per touched run of sub-buckets);
// - memory: bytes per histogram holding 10 samples of one metric (3-100 us), measured as heap
//   + array buffers over 2,000 of them (after gc), i.e. what an idle task metric costs.

import type { Histogram } from "hdr-histogram-js";
import { countsOf, newHistogram, record32 } from "../src/analysis/histogram.ts";

const N = Number(process.argv[2] ?? 5_000_000);
const SUB_HALF_MAGNITUDE = 10;
const SUB_HALF = 1 << SUB_HALF_MAGNITUDE;
/** counts array length of a 1 ns..10 s, 3-digit layout (= hdr's countsArrayLength) */
const LENGTH = (newHistogram(32) as unknown as { countsArrayLength: number }).countsArrayLength;

function index(v: number): number {
  let bucket = 31 - Math.clz32(v) - SUB_HALF_MAGNITUDE;
  if (bucket < 0) bucket = 0;
  return ((bucket + 1) << SUB_HALF_MAGNITUDE) + (v >>> bucket) - SUB_HALF;
}

/** The smallest own histogram: a flat typed array (what 32-bit buckets are in hdr). */
class FlatHistogram {
  readonly counts = new Uint32Array(LENGTH);
  total = 0;
  max = 0;
  record(v: number): void {
    this.counts[index(v)]++;
    this.total++;
    if (v > this.max) this.max = v;
  }
}

const PAGE = 256;
/** Own, sparse: pages of 256 counters allocated when first touched. */
class PagedHistogram {
  readonly pages: (Uint32Array | undefined)[] = new Array(Math.ceil(LENGTH / PAGE));
  total = 0;
  max = 0;
  record(v: number): void {
    const i = index(v);
    const p = i >>> 8;
    let page = this.pages[p];
    if (page === undefined) {
      page = new Uint32Array(PAGE);
      this.pages[p] = page;
    }
    page[i & (PAGE - 1)]++;
    this.total++;
    if (v > this.max) this.max = v;
  }
}

function samples(n: number, lo: number, hi: number): Float64Array {
  const out = new Float64Array(n);
  let x = 12345;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    out[i] = Math.round(lo * (hi / lo) ** (x / 0x7fffffff));
  }
  return out;
}

function cpuNs(f: () => void): number {
  const t0 = process.cpuUsage();
  f();
  const t = process.cpuUsage(t0);
  return (t.user + t.system) * 1000;
}

function best(f: () => void): number {
  f();
  let b = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i++) b = Math.min(b, cpuNs(f));
  return b;
}

const values = samples(N, 1000, 10_000_000);
const recorders: [string, () => void][] = [
  [
    "hdr packed, recordValue",
    () => {
      const h = newHistogram("packed");
      for (let i = 0; i < N; i++) h.recordValue(values[i]);
    },
  ],
  [
    "hdr 32-bit, record32",
    () => {
      const h = newHistogram(32);
      const c = countsOf(h) as Uint32Array;
      for (let i = 0; i < N; i++) record32(h, c, values[i]);
    },
  ],
  [
    "own flat Uint32Array",
    () => {
      const h = new FlatHistogram();
      for (let i = 0; i < N; i++) h.record(values[i]);
    },
  ],
  [
    "own paged (256-counter pages)",
    () => {
      const h = new PagedHistogram();
      for (let i = 0; i < N; i++) h.record(values[i]);
    },
  ],
];

const gc = (globalThis as { gc?: () => void }).gc;
function bytesEach(make: () => unknown): number {
  const K = 2000;
  const few = samples(10, 3000, 100_000);
  gc?.();
  const before = process.memoryUsage();
  const keep: unknown[] = [];
  for (let k = 0; k < K; k++) keep.push(make());
  for (const h of keep)
    for (const v of few) {
      if (h instanceof FlatHistogram || h instanceof PagedHistogram) h.record(v);
      else (h as Histogram).recordValue(v);
    }
  gc?.();
  const after = process.memoryUsage();
  const used = after.heapUsed - before.heapUsed + (after.arrayBuffers - before.arrayBuffers);
  if (keep.length !== K) throw new Error("unreachable");
  return used / K;
}

console.log(
  `${N.toLocaleString("en")} samples, 1 us..10 ms; counts array ${LENGTH} entries${gc ? "" : " (run with --expose-gc for the memory figures)"}`,
);
const makers: (() => unknown)[] = [
  () => newHistogram("packed"),
  () => newHistogram(32),
  () => new FlatHistogram(),
  () => new PagedHistogram(),
];
// memory first, each measured alone after two collections, before the timing runs' garbage
const memory = makers.map((m) => {
  gc?.();
  gc?.();
  return bytesEach(m);
});
console.log("histogram                        ns/sample   bytes, 10 samples");
recorders.forEach(([name, f], i) => {
  const ns = best(f) / N;
  console.log(
    `${name.padEnd(32)} ${ns.toFixed(2).padStart(9)}   ${Math.round(memory[i]).toLocaleString("en").padStart(17)}`,
  );
});
