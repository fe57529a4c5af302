// Statistics of one metric of one task: exact count/min/max/mean and time of the max, an HDR
// histogram for percentiles (1 ns .. 10 s, 3 significant digits), the SLO verdict and the N
// worst activations. `add` runs once per sample (per activation, not per event) and
// allocates nothing once the histogram exists.

import type { Histogram } from "hdr-histogram-js";
import type { MetricSummary, SloResult, Timestamp } from "../model/report.ts";
import { absoluteTs, DOUBLE_ZERO } from "../model/units.ts";
import {
  countsOf,
  HIST_HIGHEST_NS,
  newHistogram,
  percentiles,
  percentilesOfSamples,
  record32,
  recordTracked,
  type TouchedBuckets,
  trackBuckets,
} from "./histogram.ts";

/** Flags returned by `add`: what is worth explaining (SampleObserver). */
export const NEW_MAX = 1;
export const FIRST_VIOLATION = 2;
export const WORST_VIOLATION = 4;
/** any violation (only observers that asked for every violation are told: a live stream) */
export const VIOLATION = 8;

/**
 * Samples buffered before the histogram is built (and its bucket size chosen). Packed
 * buckets are small for a few values but slow to record into; 32-bit buckets are fast but
 * take 100 KB each (bench/README.md, "Histograms"). So the first HISTOGRAM_AT samples wait here (a metric with fewer never gets a histogram:
 * its percentiles come from the samples); a metric that gets that many is busy and gets
 * 32-bit buckets while the per-analysis budget lasts, else packed ones.
 */
export const HISTOGRAM_AT = 64;
/** Bytes of a 1 ns..10 s, 3-digit histogram with 32-bit buckets. */
export const HIST32_BYTES = 103_424;

/** Memory for 32-bit histograms, shared by the metrics of one analysis. */
export class HistogramBudget {
  remainingBytes: number;
  constructor(bytes = 32 * 1024 * 1024) {
    this.remainingBytes = bytes;
  }
}

/** The N worst samples, kept sorted worst first in parallel typed arrays. */
export class WorstList {
  readonly capacity: number;
  size = 0;
  readonly values: Float64Array;
  readonly starts: Float64Array;
  readonly ends: Float64Array;
  readonly cpus: Int32Array;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.values = new Float64Array(capacity);
    this.starts = new Float64Array(capacity);
    this.ends = new Float64Array(capacity);
    this.cpus = new Int32Array(capacity);
  }

  offer(value: number, start: number, end: number, cpu: number): void {
    if (this.size === this.capacity && value <= this.values[this.size - 1]) return;
    let i = this.size < this.capacity ? this.size++ : this.size - 1;
    while (i > 0 && this.values[i - 1] < value) {
      this.values[i] = this.values[i - 1];
      this.starts[i] = this.starts[i - 1];
      this.ends[i] = this.ends[i - 1];
      this.cpus[i] = this.cpus[i - 1];
      i--;
    }
    this.values[i] = value;
    this.starts[i] = start;
    this.ends[i] = end;
    this.cpus[i] = cpu;
  }
}

/** Maxima of the additive parts of a metric (timer: irq, thread; irq: hardirq, wakeup, handling). */
export class PartMaxima {
  readonly max: Float64Array;
  /** each part's value in the sample that set the metric's max: they sum to the max */
  readonly atMax: Float64Array;
  constructor(n: number) {
    this.max = new Float64Array(n).fill(Number.NEGATIVE_INFINITY);
    this.atMax = new Float64Array(n);
  }
}

export class MetricStats {
  count = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;
  sum = DOUBLE_ZERO;
  /** relative ts of the end of the max sample, and its start */
  maxAt = DOUBLE_ZERO;
  maxStart = DOUBLE_ZERO;
  inferred = 0;
  /** samples above HIST_HIGHEST_NS (histogram clamped) or below 0 (recorded as 0) */
  clamped = 0;
  /** null until HISTOGRAM_AT samples: they wait in `pending` */
  private hist: Histogram | null = null;
  /** the histogram's 32-bit counts when it has them (fast recording), else null */
  private counts: Uint32Array | null = null;
  /** a packed histogram's touched bucket indexes (walks skip the rest: histogram.ts) */
  private touched: TouchedBuckets | null = null;
  private pending: Float64Array | null = new Float64Array(HISTOGRAM_AT);
  private readonly budget: HistogramBudget | null;

  /** SLO bound in ns, NaN = none */
  boundNs = Number.NaN;
  violations = 0;
  firstViolationAt = Number.NaN;
  worstViolation = Number.NEGATIVE_INFINITY;
  worstViolationAt = Number.NaN;

  readonly worst: WorstList | null;
  readonly parts: PartMaxima | null;

  /** summary cache for snapshots: valid while count and bound are unchanged */
  private cachedCount = -1;
  private cachedBound = Number.NaN;
  private cachedBase = 0n;
  private cached: MetricSummary | null = null;

  constructor(worstN: number, partCount: number, boundNs: number, budget: HistogramBudget | null = null) {
    this.budget = budget;
    this.worst = worstN > 0 ? new WorstList(worstN) : null;
    this.parts = partCount > 0 ? new PartMaxima(partCount) : null;
    this.boundNs = boundNs;
  }

  /**
   * Records a sample ending at `end` (relative ns). Returns NEW_MAX / FIRST_VIOLATION /
   * WORST_VIOLATION / VIOLATION flags. A violation is a sample strictly greater than the bound.
   */
  add(value: number, start: number, end: number, cpu: number, inferred: boolean): number {
    let flags = 0;
    this.count++;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) {
      this.max = value;
      this.maxAt = end;
      this.maxStart = start;
      flags |= NEW_MAX;
    }
    if (inferred) this.inferred++;
    let h = Math.round(value);
    if (h > HIST_HIGHEST_NS) {
      h = HIST_HIGHEST_NS;
      this.clamped++;
    } else if (h < 0) {
      h = 0;
      this.clamped++;
    }
    if (this.counts !== null) record32(this.hist as Histogram, this.counts, h);
    else if (this.hist !== null) recordTracked(this.hist, this.touched as TouchedBuckets, h);
    else this.buffer(h);
    if (value > this.boundNs) {
      flags |= VIOLATION;
      this.violations++;
      if (this.violations === 1) {
        this.firstViolationAt = end;
        flags |= FIRST_VIOLATION;
      }
      if (value > this.worstViolation) {
        this.worstViolation = value;
        this.worstViolationAt = end;
        flags |= WORST_VIOLATION;
      }
    }
    if (this.worst !== null) this.worst.offer(value, start, end, cpu);
    return flags;
  }

  private buffer(v: number): void {
    const p = this.pending as Float64Array;
    p[this.count - 1] = v;
    if (this.count < HISTOGRAM_AT) return;
    // a busy metric: 32-bit buckets (fast to record into) while the budget lasts
    const b = this.budget;
    let bucket: "packed" | 32 = "packed";
    if (b !== null && b.remainingBytes >= HIST32_BYTES) {
      b.remainingBytes -= HIST32_BYTES;
      bucket = 32;
    }
    const hist = newHistogram(bucket);
    const counts = countsOf(hist);
    if (counts !== null) {
      const p = this.pending as Float64Array;
      for (let i = 0; i < this.count; i++) record32(hist, counts, p[i]);
    } else this.touched = this.fill(hist);
    this.hist = hist;
    this.counts = counts;
    this.pending = null;
  }

  /** Records the buffered samples into `h` (packed), tracking its touched buckets. */
  private fill(h: Histogram): TouchedBuckets {
    const p = this.pending as Float64Array;
    const touched = trackBuckets(h);
    for (let i = 0; i < this.count; i++) recordTracked(h, touched, p[i]);
    return touched;
  }

  /** The histogram of the samples so far (a small packed copy while they are buffered). */
  histogram(): Histogram {
    if (this.hist !== null) return this.hist;
    const copy = newHistogram("packed");
    this.fill(copy);
    return copy;
  }

  /**
   * What a stored run keeps of the distribution: the histogram, or while the samples are
   * still buffered, a copy of them (the store encodes those directly: store/histogram-codec.ts).
   */
  stored(): Histogram | Float64Array {
    return this.hist ?? (this.pending as Float64Array).slice(0, this.count);
  }

  /** Records the additive parts of the sample just added (call right after `add`). */
  addParts(flags: number, a: number, b: number, c = 0): void {
    const p = this.parts;
    if (p === null) return;
    const n = p.max.length;
    if (a > p.max[0]) p.max[0] = a;
    if (n > 1 && b > p.max[1]) p.max[1] = b;
    if (n > 2 && c > p.max[2]) p.max[2] = c;
    if (flags & NEW_MAX) {
      p.atMax[0] = a;
      if (n > 1) p.atMax[1] = b;
      if (n > 2) p.atMax[2] = c;
    }
  }

  /** Changes the bound; violations are counted from now on against the new bound. */
  setBound(boundNs: number): void {
    if (boundNs === this.boundNs || (Number.isNaN(boundNs) && Number.isNaN(this.boundNs))) return;
    this.boundNs = boundNs;
    this.violations = 0;
    this.firstViolationAt = Number.NaN;
    this.worstViolation = Number.NEGATIVE_INFINITY;
    this.worstViolationAt = Number.NaN;
  }

  /** The JSON summary (absolute timestamps); cached until the next sample. */
  summary(tsBase: bigint, kind: "timer" | "irq" | "other"): MetricSummary {
    const boundSame =
      this.cachedBound === this.boundNs || (Number.isNaN(this.cachedBound) && Number.isNaN(this.boundNs));
    if (this.cached !== null && this.cachedCount === this.count && boundSame && this.cachedBase === tsBase)
      return this.cached;
    // few samples: percentiles from the samples themselves (no histogram built)
    const q =
      this.hist === null
        ? percentilesOfSamples((this.pending as Float64Array).slice(0, this.count))
        : percentiles(this.hist);
    const top = Math.round(this.max);
    const s: MetricSummary = {
      count: this.count,
      min: Math.round(this.min),
      mean: Math.round(this.sum / this.count),
      max: Math.round(this.max),
      maxAt: absoluteTs(tsBase, this.maxAt),
      // HDR percentiles are bucket upper bounds: never report one above the exact max
      p50: Math.min(q[0], top),
      p90: Math.min(q[1], top),
      p99: Math.min(q[2], top),
      p999: Math.min(q[3], top),
      p9999: Math.min(q[4], top),
      inferred: this.inferred,
    };
    if (!Number.isNaN(this.boundNs)) s.slo = this.sloResult(tsBase);
    const p = this.parts;
    if (p !== null && kind === "timer") {
      s.irq = { max: Math.round(p.max[0]), worst: Math.round(p.atMax[0]) };
      s.thread = { max: Math.round(p.max[1]), worst: Math.round(p.atMax[1]) };
    } else if (p !== null && kind === "irq") {
      s.hardirq = { max: Math.round(p.max[0]), worst: Math.round(p.atMax[0]) };
      s.wakeup = { max: Math.round(p.max[1]), worst: Math.round(p.atMax[1]) };
      s.handling = { max: Math.round(p.max[2]), worst: Math.round(p.atMax[2]) };
    }
    this.cached = s;
    this.cachedCount = this.count;
    this.cachedBound = this.boundNs;
    this.cachedBase = tsBase;
    return s;
  }

  private sloResult(tsBase: bigint): SloResult {
    const at = (rel: number): Timestamp | null => (Number.isNaN(rel) ? null : absoluteTs(tsBase, rel));
    return {
      bound: this.boundNs,
      violations: this.violations,
      firstAt: at(this.firstViolationAt),
      worstAt: at(this.worstViolationAt),
    };
  }
}
