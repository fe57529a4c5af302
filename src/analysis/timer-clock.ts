// Puts an hrtimer's expiry on the trace clock (SPEC §1, timer row). `expires`/`softexpires` of
// hrtimer_start and `now` of hrtimer_expire_entry are times of the timer's own clock base
// (CLOCK_MONOTONIC for clock_nanosleep's default, REALTIME, BOOTTIME or TAI otherwise); the
// sample's end is a trace timestamp. They subtract directly only when both are one clock.
//
// - Trace clock `mono` and a MONOTONIC timer: offset 0. A timer is taken as MONOTONIC when its
//   expire_entry timestamp is 0..100 ms after its `now` (the interrupt reads `now` before it
//   runs the callbacks; a REALTIME or TAI `now` is decades away, BOOTTIME by the time suspended).
// - Anything else (another trace clock, a clock not stated by the file, another clock base):
//   the offset is estimated from the events. Every hrtimer_expire_entry gives d = ts − now, which
//   is the offset plus the delay from the interrupt reading `now` to this callback (≥ 0). Per CPU
//   and clock base (bases are told apart by d: they differ by far more than any delay), the
//   lower envelope of d over the current and previous 1 s windows estimates the offset; it is
//   high by the smallest such delay in those windows (0.2–0.9 µs on the mono-clock fixtures,
//   where it can be measured), so estimated samples are low by about that much, never high.
//   The reported error bound is the largest of: how far an estimate a sample used was above
//   its window's final envelope (early in a window fewer expiries were seen), and how far the
//   envelope moved from one window to the next (delay variation, drift between the clocks);
//   plus UNSEEN_DELAY_ALLOWANCE for the smallest delay itself, which no event shows.
// - `counter` counts events and `x86-tsc` counts cycles: no time to subtract, no timer sample.
//
// Per event: a few typed-array reads and writes, no allocation.

/** How a timer expiry is put on the trace clock. */
export const TimerClockMode = {
  /** trace clock mono: MONOTONIC expiries subtract directly */
  Direct: 0,
  /** offsets estimated from hrtimer_expire_entry (ts − now) */
  Estimated: 1,
  /** the trace clock is no time (counter, x86-tsc): no timer samples */
  Unavailable: 2,
} as const;

/** A MONOTONIC timer's callback on a mono trace clock runs within this long of `now`. */
const MONO_DELAY_MAX = 100_000_000;
/** Envelope window (ns of trace time). */
const WINDOW = 1_000_000_000;
/** Clock bases tracked per CPU (MONOTONIC, REALTIME, BOOTTIME, TAI). */
const SLOTS = 4;

/**
 * The part of an estimate's error no event shows: the smallest interrupt → callback delay of a
 * window (0.2-0.9 µs on the mono-clock fixtures, where it can be measured).
 */
export const UNSEEN_DELAY_ALLOWANCE = 1000;

/** Trace clocks whose timestamps are not nanoseconds of any clock. */
const NOT_TIME = new Set(["counter", "x86-tsc"]);

export class TimerClock {
  /** the trace clock's name ("" when the source does not state it) */
  readonly traceClock: string;
  readonly mode: number;
  /** timer samples put on the trace clock directly / by an estimated offset */
  directSamples = 0;
  estimatedSamples = 0;
  /** what the events show of the estimates' error (ns); the reported bound adds UNSEEN_DELAY_ALLOWANCE */
  errorSeen = 0;

  private ncpu: number;
  /** per CPU × slot: a d of the slot's base (for matching), window start, this and last window's min d */
  private ref: Float64Array;
  private winStart: Float64Array;
  private curMin: Float64Array;
  private prevMin: Float64Array;
  private lastUse: Float64Array;
  /** the largest offset a sample used in the current window */
  private usedMax: Float64Array;
  /** 1 when a sample used the slot's offset: only those slots' errors are reported */
  private slotUsed: Uint8Array;
  /** the slot of the last offsetAt, -1 when direct or unavailable */
  slot = -1;

  constructor(traceClock: string, cpus: number) {
    this.traceClock = traceClock;
    this.mode = NOT_TIME.has(traceClock)
      ? TimerClockMode.Unavailable
      : traceClock === "mono"
        ? TimerClockMode.Direct
        : TimerClockMode.Estimated;
    this.ncpu = Math.max(1, cpus);
    const n = this.ncpu * SLOTS;
    this.ref = new Float64Array(n).fill(Number.NaN);
    this.winStart = new Float64Array(n);
    this.curMin = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
    this.prevMin = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
    this.lastUse = new Float64Array(n);
    this.usedMax = new Float64Array(n).fill(Number.NEGATIVE_INFINITY);
    this.slotUsed = new Uint8Array(n);
  }

  /**
   * An hrtimer_expire_entry on `cpu` at trace time `ts` with the timer base's `now`: returns
   * what to add to that timer's expiry (same base) to get trace time, NaN when there is none.
   */
  offsetAt(cpu: number, ts: number, now: number): number {
    const d = ts - now;
    this.slot = -1;
    if (this.mode === TimerClockMode.Direct && d >= 0 && d < MONO_DELAY_MAX) return 0;
    if (this.mode === TimerClockMode.Unavailable) return Number.NaN;
    if (cpu >= this.ncpu) this.grow(cpu + 1);
    const i = this.slotOf(cpu, d, ts);
    if (ts - this.winStart[i] >= WINDOW) {
      const last = this.closeWindow(i);
      this.prevMin[i] = ts - this.winStart[i] < 2 * WINDOW ? last : Number.POSITIVE_INFINITY;
      this.curMin[i] = Number.POSITIVE_INFINITY;
      this.usedMax[i] = Number.NEGATIVE_INFINITY;
      this.winStart[i] = ts;
    }
    if (d < this.curMin[i]) this.curMin[i] = d;
    this.lastUse[i] = ts;
    this.slot = i;
    return Math.min(this.curMin[i], this.prevMin[i]);
  }

  /** End of the stream: the open windows' hindsight goes into the error bound. */
  finish(): void {
    for (let i = 0; i < this.ref.length; i++) if (!Number.isNaN(this.ref[i])) this.closeWindow(i);
  }

  /**
   * A window of slot i ends: the estimates it handed out were high by at most their distance
   * to the window's final envelope, and the envelope moved from the previous window's by its
   * drift and delay variation. Returns the window's minimum.
   */
  private closeWindow(i: number): number {
    const last = this.curMin[i];
    if (!Number.isFinite(last) || this.slotUsed[i] === 0) return last;
    const best = Math.min(last, this.prevMin[i]);
    let err = this.usedMax[i] - best;
    if (Number.isFinite(this.prevMin[i])) err = Math.max(err, Math.abs(last - this.prevMin[i]));
    if (err > this.errorSeen) this.errorSeen = err;
    return last;
  }

  /** A sample puts its expiry on the trace clock with `offset` of `slot` (offsetAt and its slot). */
  used(slot: number, offset: number): void {
    if (slot < 0) {
      this.directSamples++;
      return;
    }
    this.estimatedSamples++;
    this.slotUsed[slot] = 1;
    if (offset > this.usedMax[slot]) this.usedMax[slot] = offset;
  }

  /** The slot of the clock base whose d is near `d` on this CPU (the least recently used one is reused). */
  private slotOf(cpu: number, d: number, ts: number): number {
    const base = cpu * SLOTS;
    let oldest = base;
    for (let i = base; i < base + SLOTS; i++) {
      const r = this.ref[i];
      if (Number.isNaN(r)) {
        this.ref[i] = d;
        this.winStart[i] = ts;
        return i;
      }
      if (Math.abs(d - r) < MONO_DELAY_MAX) {
        this.ref[i] = d; // follows drift between the clocks
        return i;
      }
      if (this.lastUse[i] < this.lastUse[oldest]) oldest = i;
    }
    this.ref[oldest] = d;
    this.winStart[oldest] = ts;
    this.curMin[oldest] = Number.POSITIVE_INFINITY;
    this.prevMin[oldest] = Number.POSITIVE_INFINITY;
    this.usedMax[oldest] = Number.NEGATIVE_INFINITY;
    this.slotUsed[oldest] = 0;
    return oldest;
  }

  private grow(n: number): void {
    const f = (a: Float64Array, fill: number) => {
      const g = new Float64Array(n * SLOTS).fill(fill);
      g.set(a);
      return g;
    };
    this.ref = f(this.ref, Number.NaN);
    this.winStart = f(this.winStart, 0);
    this.curMin = f(this.curMin, Number.POSITIVE_INFINITY);
    this.prevMin = f(this.prevMin, Number.POSITIVE_INFINITY);
    this.lastUse = f(this.lastUse, 0);
    this.usedMax = f(this.usedMax, Number.NEGATIVE_INFINITY);
    const u = new Uint8Array(n * SLOTS);
    u.set(this.slotUsed);
    this.slotUsed = u;
    this.ncpu = n;
  }
}
