// Time units: absolute trace timestamps for output, durations parsed from and formatted for
// people. Inside the analysis every time is a number of nanoseconds relative to the stream's
// `tsBase`.

// the last base absoluteTs saw, as a number, and whether that number is exact
let lastBase = 0n;
let lastBaseNum = 0;
let lastBaseSafe = true;

/**
 * Initial value of a number field that will hold values beyond 2^31: nanosecond timestamps
 * and sums, folded kernel addresses. -0 equals 0 wherever rtscope reads it (arithmetic,
 * comparisons, JSON and text output), but it is not a small integer, so V8 gives the field a
 * double representation from the start. A field started at 0 changes representation when its
 * value first passes 2^31 (2.1 s into a trace): that deprecates the hidden class of every object
 * of its class and deoptimizes the code built on it, mid-run (seen with --trace-generalization
 * and --trace-deopt on the bench traces).
 */
export const DOUBLE_ZERO = -0;

/**
 * An absolute trace timestamp for output: `tsBase + rel`. Trace clocks pass 2^53 ns after
 * 104 days of uptime, so the hot path works on numbers relative to a per-stream base
 * and only output converts back. Returns a number when exact, else a bigint.
 */
export function absoluteTs(tsBase: bigint, rel: number): number | bigint {
  // fast path, no BigInt: a base that is a safe integer plus an integer offset is exact
  // in doubles while the sum stays safe (window listings call this per event)
  if (tsBase !== lastBase) {
    lastBase = tsBase;
    lastBaseNum = Number(tsBase);
    lastBaseSafe = Number.isSafeInteger(lastBaseNum) && BigInt(lastBaseNum) === tsBase;
  }
  if (lastBaseSafe) {
    const n = lastBaseNum + Math.round(rel);
    if (Number.isSafeInteger(n)) return n;
  }
  const abs = tsBase + BigInt(Math.round(rel));
  return abs <= BigInt(Number.MAX_SAFE_INTEGER) && abs >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(abs) : abs;
}

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9 };

/** Parses "50us", "2ms", "1.5s", "1200" (ns) into nanoseconds; throws a readable error. */
export function parseDuration(text: string, what = "duration"): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s)?\s*$/.exec(text);
  if (!m)
    throw new RangeError(
      `invalid ${what} '${text}': expected a number with a unit (ns, us, ms, s), e.g. 50us`,
    );
  const v = Number(m[1]) * UNIT_NS[m[2] ?? "ns"];
  return Math.round(v);
}

/** Formats nanoseconds for people: 812 ns, 20.9 us, 1.25 ms, 2.000 s. */
export function formatDuration(v: number): string {
  const a = Math.abs(v);
  if (a < 1e3) return `${Math.round(v)} ns`;
  if (a < 1e6) return `${(v / 1e3).toFixed(a < 1e4 ? 2 : 1)} us`;
  if (a < 1e9) return `${(v / 1e6).toFixed(a < 1e7 ? 3 : 2)} ms`;
  return `${(v / 1e9).toFixed(3)} s`;
}
