// Number formats of the dashboard. Tables give microseconds with one decimal (like `top`);
// charts and the timeline pick a unit that fits.

/** ns → "12.3" (µs, one decimal). @param {number} ns */
export function us(ns) {
  return (ns / 1000).toFixed(1);
}

/** ns → "850 ns", "12.3 µs", "4.56 ms", "1.23 s". @param {number} ns */
export function dur(ns) {
  const a = Math.abs(ns);
  if (a < 1e3) return `${Math.round(ns)} ns`;
  if (a < 1e6) return `${(ns / 1e3).toFixed(a < 1e4 ? 2 : 1)} µs`;
  if (a < 1e9) return `${(ns / 1e6).toFixed(a < 1e7 ? 2 : 1)} ms`;
  return `${(ns / 1e9).toFixed(2)} s`;
}

/** Bucket edge label: 1000 → "1µs", 2.5e6 → "2.5ms". @param {number} ns */
export function edge(ns) {
  if (ns < 1e3) return `${ns}ns`;
  if (ns < 1e6) return `${+(ns / 1e3).toPrecision(4)}µs`;
  if (ns < 1e9) return `${+(ns / 1e6).toPrecision(4)}ms`;
  return `${+(ns / 1e9).toPrecision(4)}s`;
}

/** The metrics, in the API's order, with what each measures. */
export const METRICS = /** @type {const} */ ([
  ["latency", "scheduling latency: wakeup → switch-in"],
  ["response", "response: wakeup → voluntary sleep"],
  ["relief", "relief: timer wakeup → next timer sleep"],
  ["timer", "timer latency: hrtimer expiry → running"],
  ["irq", "IRQ handling: hard IRQ → irq thread asleep"],
]);

/** A stable colour for a thread id (the timeline and the percentile lines). @param {number} tid */
export function colourOf(tid) {
  const PALETTE = [
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#b07aa1",
    "#edc948",
    "#76b7b2",
    "#ff9da7",
    "#9c755f",
    "#86bcb6",
    "#d4a6c8",
    "#8cd17d",
    "#a0cbe8",
  ];
  return PALETTE[((tid * 2654435761) >>> 0) % PALETTE.length];
}
