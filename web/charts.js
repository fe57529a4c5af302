// Per-metric charts of a task: the histogram (samples per bucket, the API's bucket edges,
// log count scale so that the tail shows) and the percentiles of each thread (log time
// scale), each with the SLO bound drawn when one is set.

import { s, tip } from "./dom.js";
import { colourOf, dur, edge } from "./format.js";

const W = 440;
const H = 170;
const PAD = { left: 44, right: 10, top: 12, bottom: 34 };

/**
 * @typedef {{ le: number[], counts: number[], count: number }} HistogramView
 * @typedef {{ tid: number, comm: string, values: Record<string, number> }} ThreadPercentiles
 */

/**
 * The threads' histograms of one metric, summed (a task's threads share the edges: the
 * default ones and the task's bound).
 * @param {HistogramView[]} views
 * @returns {{ le: number[], buckets: number[], count: number } | null}
 */
export function sumHistograms(views) {
  if (views.length === 0) return null;
  const le = views[0].le;
  const buckets = new Array(le.length + 1).fill(0);
  let count = 0;
  for (const v of views) {
    if (v.le.length !== le.length || v.le.some((x, i) => x !== le[i])) continue;
    let below = 0;
    for (let i = 0; i < le.length; i++) {
      buckets[i] += v.counts[i] - below;
      below = v.counts[i];
    }
    buckets[le.length] += v.count - below;
    count += v.count;
  }
  return { le, buckets, count };
}

/**
 * @param {{ le: number[], buckets: number[], count: number }} hist
 * @param {number | undefined} bound
 * @returns {SVGElement}
 */
export function histogramChart(hist, bound) {
  const { le, buckets } = hist;
  const n = buckets.length;
  const iw = W - PAD.left - PAD.right;
  const ih = H - PAD.top - PAD.bottom;
  const bw = iw / n;
  const top = Math.max(1, ...buckets);
  const y = (/** @type {number} */ c) => PAD.top + ih - (Math.log10(1 + c) / Math.log10(1 + top)) * ih;
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart histogram", role: "img" });
  svg.append(
    s("line", { x1: PAD.left, x2: W - PAD.right, y1: PAD.top + ih, y2: PAD.top + ih, class: "axis" }),
  );
  for (const c of [1, 10, 100, 1000, 10000, 100000, 1000000]) {
    if (c > top) break;
    svg.append(
      s("line", { x1: PAD.left, x2: W - PAD.right, y1: y(c), y2: y(c), class: "grid" }),
      s("text", { x: PAD.left - 4, y: y(c) + 3, class: "tick", "text-anchor": "end" }, [
        c >= 1000 ? `${c / 1000}k` : String(c),
      ]),
    );
  }
  for (let i = 0; i < n; i++) {
    const lo = i === 0 ? 0 : le[i - 1];
    const range = i < le.length ? `${edge(lo)}–${edge(le[i])}` : `> ${edge(le[le.length - 1])}`;
    const x = PAD.left + i * bw;
    if (buckets[i] > 0)
      svg.append(
        s(
          "rect",
          { x: x + 1, y: y(buckets[i]), width: bw - 2, height: PAD.top + ih - y(buckets[i]), class: "bar" },
          [tip(`${range}: ${buckets[i]} samples`)],
        ),
      );
    if (i < le.length && i % 3 === 2)
      svg.append(
        s("text", { x: x + bw, y: H - PAD.bottom + 12, class: "tick", "text-anchor": "middle" }, [
          edge(le[i]),
        ]),
      );
  }
  if (bound !== undefined) {
    const i = le.indexOf(bound);
    if (i >= 0) {
      const x = PAD.left + (i + 1) * bw;
      svg.append(
        s("line", { x1: x, x2: x, y1: PAD.top, y2: PAD.top + ih, class: "bound" }, [
          tip(`SLO bound ${dur(bound)}`),
        ]),
        s("text", { x: x + 3, y: PAD.top + 8, class: "bound-label" }, [`SLO ${edge(bound)}`]),
      );
    }
  }
  svg.append(
    s("text", { x: PAD.left + iw / 2, y: H - 4, class: "axis-label", "text-anchor": "middle" }, [
      "bucket upper edge",
    ]),
  );
  return svg;
}

export const PERCENTILES = /** @type {const} */ ([
  ["p50", "p50"],
  ["p90", "p90"],
  ["p99", "p99"],
  ["p999", "p99.9"],
  ["p9999", "p99.99"],
  ["max", "max"],
]);

/**
 * @param {ThreadPercentiles[]} threads
 * @param {number | undefined} bound
 * @returns {SVGElement}
 */
export function percentileChart(threads, bound) {
  const iw = W - PAD.left - PAD.right;
  const ih = H - PAD.top - PAD.bottom;
  const all = threads.flatMap((t) => PERCENTILES.map(([k]) => t.values[k])).filter((v) => v > 0);
  if (bound !== undefined) all.push(bound);
  const lo = 10 ** Math.floor(Math.log10(Math.max(1, Math.min(...all))));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(lo * 10, ...all)));
  const y = (/** @type {number} */ v) =>
    PAD.top + ih - ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * ih;
  const x = (/** @type {number} */ i) => PAD.left + (i + 0.5) * (iw / PERCENTILES.length);
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart percentiles", role: "img" });
  for (let d = lo; d <= hi; d *= 10)
    svg.append(
      s("line", { x1: PAD.left, x2: W - PAD.right, y1: y(d), y2: y(d), class: "grid" }),
      s("text", { x: PAD.left - 4, y: y(d) + 3, class: "tick", "text-anchor": "end" }, [edge(d)]),
    );
  PERCENTILES.forEach(([, label], i) => {
    svg.append(
      s("text", { x: x(i), y: H - PAD.bottom + 12, class: "tick", "text-anchor": "middle" }, [label]),
    );
  });
  if (bound !== undefined)
    svg.append(
      s("line", { x1: PAD.left, x2: W - PAD.right, y1: y(bound), y2: y(bound), class: "bound" }, [
        tip(`SLO bound ${dur(bound)}`),
      ]),
      s("text", { x: W - PAD.right - 2, y: y(bound) - 3, class: "bound-label", "text-anchor": "end" }, [
        `SLO ${edge(bound)}`,
      ]),
    );
  for (const t of threads) {
    const pts = PERCENTILES.map(([k], i) => `${x(i).toFixed(1)},${y(t.values[k]).toFixed(1)}`).join(" ");
    const colour = colourOf(t.tid);
    svg.append(s("polyline", { points: pts, class: "series", stroke: colour }));
    PERCENTILES.forEach(([k, label], i) => {
      svg.append(
        s("circle", { cx: x(i), cy: y(t.values[k]), r: 3, fill: colour }, [
          tip(`${t.comm} (${t.tid}) ${label}: ${dur(t.values[k])}`),
        ]),
      );
    });
  }
  return svg;
}
