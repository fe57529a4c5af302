// The timeline of a worst-case window: one lane per CPU, the thread running on it as
// segments coloured by thread (from sched_switch; before a CPU's first switch, the current
// thread of its first event), hard IRQ and softirq handlers as marks above the segments, the
// task's wakeup and switch-in as vertical marks on the lanes of their CPUs, and beside it
// the window's cause breakdown. Everything is placed from the events' times: x = X0 +
// (ts - t0) / (t1 - t0) * (X1 - X0), with t0/t1 and X0/X1 on the <svg> as data attributes.

import { h, s, tip } from "./dom.js";
import { colourOf, dur } from "./format.js";

const W = 960;
const X0 = 86;
const X1 = W - 14;
const LANE_H = 34;
const LANE_GAP = 10;
const TOP = 30;
/** the tracked thread's segments stand out from the palette's softer colours */
const TRACKED_COLOUR = "#c0392b";

/**
 * @typedef {{ ts: number, rel: number, cpu: number, event: string, currentTid: number, fields: Record<string, any> }} WindowEvent
 * @typedef {{ kind: string, name: string, time: number, percent?: number, cpu?: number, tid?: number, prio?: number, part?: string, rtscope?: boolean }} Cause
 * @typedef {{ start: number, end: number, value: number, cpu: number, wakeCpu: number, wakeTs?: number,
 *   switchInTs?: number, truncated?: number, memoryOmitted?: number, incomplete?: boolean, reasons?: string[],
 *   parts?: Record<string, number>, causes: Cause[], events: WindowEvent[], waker?: any, migrations?: any[],
 *   preemptions?: any[] }} Window
 * @typedef {{ tid: number, comm: string, from: number, to: number }} Segment
 * @typedef {{ kind: "irq" | "softirq", name: string, from: number, to: number }} HandlerMark
 * @typedef {{ cpu: number, segments: Segment[], handlers: HandlerMark[], firstEvent: number | null }} Lane
 * @typedef {{ t0: number, t1: number, lanes: Lane[], wake: { ts: number, cpu: number } | null,
 *   switchIn: { ts: number, cpu: number } | null }} Layout
 */

/**
 * Lanes, segments and marks of a window between t0 and t1 (absolute ns; default: all its
 * events, the wakeup and the switch-in).
 * @param {Window} w
 * @param {number} cpus
 * @param {{ t0: number, t1: number }} [range]
 * @returns {Layout}
 */
export function layoutTimeline(w, cpus, range) {
  const events = [...w.events].sort((a, b) => a.ts - b.ts);
  let t0 = w.wakeTs ?? w.start;
  let t1 = w.switchInTs ?? w.end;
  for (const e of events) {
    t0 = Math.min(t0, e.ts);
    t1 = Math.max(t1, e.ts);
  }
  if (range !== undefined) ({ t0, t1 } = range);
  /** @type {Lane[]} */
  const lanes = [];
  const n = Math.max(cpus, 1 + Math.max(w.cpu, w.wakeCpu, ...events.map((e) => e.cpu)));
  for (let cpu = 0; cpu < n; cpu++) lanes.push({ cpu, segments: [], handlers: [], firstEvent: null });
  /** @type {({ tid: number, comm: string, from: number } | null)[]} */
  const running = lanes.map(() => null);
  /** @type {Map<string, number>[]} open handlers per CPU: "irq:N" / "softirq:V" → entry ts */
  const open = lanes.map(() => new Map());
  /** @type {Map<number, string>} */
  const names = new Map();
  for (const e of events) {
    if (e.event === "sched_switch") {
      names.set(e.fields.prev_pid, e.fields.prev_comm);
      names.set(e.fields.next_pid, e.fields.next_comm);
    }
  }
  const close = (/** @type {number} */ cpu, /** @type {number} */ at) => {
    const r = running[cpu];
    // a switch-in at the very end (a latency window ends there) is kept as a sliver
    if (r !== null && r.tid !== 0 && (at > r.from || at === t1)) lanes[cpu].segments.push({ ...r, to: at });
    running[cpu] = null;
  };
  for (const e of events) {
    const lane = lanes[e.cpu];
    lane.firstEvent ??= e.ts;
    if (e.event === "sched_switch") {
      close(e.cpu, e.ts);
      running[e.cpu] = { tid: e.fields.next_pid, comm: e.fields.next_comm, from: e.ts };
    } else if (running[e.cpu] === null || running[e.cpu]?.tid !== e.currentTid) {
      // the first event of a CPU (or one after a switch the trace missed) tells who runs
      close(e.cpu, e.ts);
      running[e.cpu] = { tid: e.currentTid, comm: names.get(e.currentTid) ?? "", from: e.ts };
    }
    const handler = handlerOf(e);
    if (handler !== null) {
      const map = open[e.cpu];
      if (handler.entry) map.set(handler.key, e.ts);
      else {
        const from = map.get(handler.key);
        map.delete(handler.key);
        lane.handlers.push({ kind: handler.kind, name: handler.name, from: from ?? e.ts, to: e.ts });
      }
    }
  }
  for (const lane of lanes) {
    close(lane.cpu, t1);
    for (const [key, from] of open[lane.cpu]) {
      const [kind, name] = key.split(":");
      lane.handlers.push({ kind: kind === "irq" ? "irq" : "softirq", name, from, to: from });
    }
  }
  return {
    t0,
    t1,
    lanes,
    wake: w.wakeTs === undefined ? null : { ts: w.wakeTs, cpu: w.wakeCpu },
    switchIn: w.switchInTs === undefined ? null : { ts: w.switchInTs, cpu: w.cpu },
  };
}

/**
 * @param {WindowEvent} e
 * @returns {{ kind: "irq" | "softirq", key: string, name: string, entry: boolean } | null}
 */
function handlerOf(e) {
  switch (e.event) {
    case "irq_handler_entry":
    case "irq_handler_exit": {
      const irq = e.fields.irq;
      return {
        kind: "irq",
        key: `irq:${irq}`,
        name: `IRQ ${irq}${e.fields.name ? ` ${e.fields.name}` : ""}`,
        entry: e.event === "irq_handler_entry",
      };
    }
    case "softirq_entry":
    case "softirq_exit": {
      // the listing names the vector (its `action` field, as trace-cmd prints it); "" past the known ones
      const action = e.fields.action || String(e.fields.vec);
      return {
        kind: "softirq",
        key: `softirq:${action}`,
        name: `softirq ${action}`,
        entry: e.event === "softirq_entry",
      };
    }
    default:
      return null;
  }
}

/**
 * The timeline as SVG.
 * @param {Layout} l
 * @param {number} tid the tracked thread
 * @returns {SVGElement}
 */
export function timelineSvg(l, tid) {
  const height = TOP + l.lanes.length * (LANE_H + LANE_GAP) + 24;
  const span = Math.max(1, l.t1 - l.t0);
  const x = (/** @type {number} */ ts) => X0 + ((ts - l.t0) / span) * (X1 - X0);
  const clampX = (/** @type {number} */ ts) => Math.min(X1, Math.max(X0, x(ts)));
  const laneY = (/** @type {number} */ cpu) => TOP + cpu * (LANE_H + LANE_GAP);
  const svg = s("svg", {
    viewBox: `0 0 ${W} ${height}`,
    class: "timeline",
    role: "img",
    "data-t0": l.t0,
    "data-t1": l.t1,
    "data-x0": X0,
    "data-x1": X1,
  });
  const origin = l.wake?.ts ?? l.t0;
  for (const t of ticks(l.t0 - origin, l.t1 - origin)) {
    const tx = x(origin + t);
    svg.append(
      s("line", { x1: tx, x2: tx, y1: TOP - 6, y2: height - 24, class: "grid" }),
      s("text", { x: tx, y: TOP - 10, class: "tick", "text-anchor": "middle" }, [
        t === 0 ? "0" : `${t > 0 ? "+" : ""}${dur(t)}`,
      ]),
    );
  }
  for (const lane of l.lanes) {
    const y = laneY(lane.cpu);
    const g = s("g", { class: "lane", "data-cpu": lane.cpu });
    g.append(
      s("rect", { x: X0, y, width: X1 - X0, height: LANE_H, class: "lane-bg", "data-cpu": lane.cpu }),
      s("text", { x: X0 - 8, y: y + LANE_H / 2 + 4, class: "lane-label", "text-anchor": "end" }, [
        `CPU ${lane.cpu}`,
      ]),
    );
    if (lane.firstEvent === null)
      g.append(
        s("text", { x: X0 + 6, y: y + LANE_H / 2 + 4, class: "lane-note" }, ["no events in this window"]),
      );
    else if (lane.firstEvent > l.t0)
      g.append(
        s("rect", { x: X0, y, width: clampX(lane.firstEvent) - X0, height: LANE_H, class: "unknown" }, [
          tip(`CPU ${lane.cpu}: no event before ${dur(lane.firstEvent - origin)}`),
        ]),
      );
    for (const seg of lane.segments) {
      if (seg.to < l.t0 || seg.from > l.t1) continue;
      const x1 = clampX(seg.from);
      const ours = seg.tid === tid;
      g.append(
        s(
          "rect",
          {
            x: x1,
            y: y + 8,
            width: Math.max(0.6, clampX(seg.to) - x1),
            height: LANE_H - 8,
            fill: ours ? TRACKED_COLOUR : colourOf(seg.tid),
            class: ours ? "segment tracked" : "segment",
            "data-tid": seg.tid,
            "data-from": seg.from,
            "data-to": seg.to,
          },
          [
            tip(
              `${seg.comm || "?"} (${seg.tid}) ${dur(seg.from - origin)} … ${dur(seg.to - origin)}: ${dur(seg.to - seg.from)}`,
            ),
          ],
        ),
      );
    }
    for (const m of lane.handlers) {
      if (m.to < l.t0 || m.from > l.t1) continue;
      const x1 = clampX(m.from);
      g.append(
        s(
          "rect",
          { x: x1, y: y + 1, width: Math.max(1.5, clampX(m.to) - x1), height: 6, class: `handler ${m.kind}` },
          [tip(`${m.name}: ${dur(m.to - m.from)}`)],
        ),
      );
    }
    svg.append(g);
  }
  if (l.wake !== null && l.switchIn !== null && l.wake.cpu === l.switchIn.cpu) {
    const y = laneY(l.switchIn.cpu);
    svg.append(
      s("rect", {
        x: clampX(l.wake.ts),
        y: y - 3,
        width: Math.max(0, clampX(l.switchIn.ts) - clampX(l.wake.ts)),
        height: 3,
        class: "latency-band",
      }),
    );
  }
  for (const [mark, label] of /** @type {const} */ ([
    [l.wake, "wakeup"],
    [l.switchIn, "switch-in"],
  ])) {
    if (mark === null || mark.ts < l.t0 || mark.ts > l.t1) continue;
    const mx = x(mark.ts);
    const y = laneY(mark.cpu);
    svg.append(
      s(
        "line",
        {
          x1: mx,
          x2: mx,
          y1: y - 4,
          y2: y + LANE_H + 4,
          class: `mark ${label}`,
          "data-ts": mark.ts,
          "data-cpu": mark.cpu,
        },
        [tip(`${label} on CPU ${mark.cpu} at ${dur(mark.ts - origin)}`)],
      ),
      s(
        "text",
        {
          // labels point away from each other, and inwards at the right edge
          x: mx + (label === "wakeup" || mx > X1 - 70 ? -3 : 3),
          y: y + LANE_H + 14,
          class: `mark-label ${label}`,
          "text-anchor": label === "wakeup" || mx > X1 - 70 ? "end" : "start",
        },
        [label],
      ),
    );
  }
  return svg;
}

/**
 * Tick positions (ns relative to the wakeup) at a 1-2-5 step giving about 8 ticks.
 * @param {number} from
 * @param {number} to
 */
function ticks(from, to) {
  const raw = Math.max(1, (to - from) / 8);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((v) => v >= raw) ?? 10 * mag;
  const out = [];
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) out.push(t);
  return out;
}

/**
 * The threads on the timeline with their colours, the tracked one first.
 * @param {Layout} l
 * @param {number} tid
 */
export function legend(l, tid) {
  /** @type {Map<number, { comm: string, time: number }>} */
  const seen = new Map();
  for (const lane of l.lanes)
    for (const seg of lane.segments) {
      const e = seen.get(seg.tid) ?? { comm: seg.comm, time: 0 };
      e.time += Math.min(seg.to, l.t1) - Math.max(seg.from, l.t0);
      seen.set(seg.tid, e);
    }
  const rows = [...seen]
    .filter(([, e]) => e.time > 0)
    .sort((a, b) => (a[0] === tid ? -1 : b[0] === tid ? 1 : b[1].time - a[1].time));
  return h("ul", { class: "legend" }, [
    ...rows
      .slice(0, 14)
      .map(([t, e]) =>
        h("li", {}, [
          swatch(t === tid ? TRACKED_COLOUR : colourOf(t)),
          `${e.comm || "?"} (${t})${t === tid ? " — the task" : ""}`,
        ]),
      ),
    h("li", {}, [swatch("", "handler irq"), "hard IRQ"]),
    h("li", {}, [swatch("", "handler softirq"), "softirq"]),
    rows.length > 14 ? h("li", {}, [`… ${rows.length - 14} more threads`]) : null,
  ]);
}

/** A colour sample (SVG: the page allows no inline styles). @param {string} fill @param {string} [cls] */
function swatch(fill, cls) {
  return s("svg", { class: "swatch", viewBox: "0 0 12 12", width: 12, height: 12 }, [
    s("rect", { width: 12, height: 12, fill: fill || undefined, class: cls }),
  ]);
}

/**
 * The window's cause breakdown (time and share of the metric), its parts, who woke the task.
 * @param {Window} w
 * @param {string} metric
 */
export function causesPanel(w, metric) {
  const rows = w.causes.map((c) =>
    h("tr", { class: `cause ${c.kind}` }, [
      h("td", {}, [h("span", { class: `kind ${c.kind}` }, [c.kind])]),
      h("td", {}, [
        c.name,
        c.tid !== undefined && c.tid > 0 ? ` (${c.tid})` : "",
        c.rtscope ? h("span", { class: "warn", title: "a thread of rtscope itself" }, [" rtscope"]) : "",
      ]),
      h("td", { class: "num" }, [c.cpu === undefined ? "" : String(c.cpu)]),
      h("td", { class: "num" }, [dur(c.time)]),
      h("td", { class: "num" }, [c.percent === undefined ? "" : `${c.percent.toFixed(1)} %`]),
    ]),
  );
  const facts = [
    h("li", {}, [`${metric} ${dur(w.value)}`, w.reasons?.length ? ` (${w.reasons.join(", ")})` : ""]),
    ...Object.entries(w.parts ?? {}).map(([k, v]) => h("li", {}, [`${k}: ${dur(v)}`])),
    w.waker
      ? h("li", {}, [
          `woken by ${w.waker.comm} (${w.waker.tid})${w.waker.context ? ` in ${w.waker.context}` : ""} on CPU ${w.wakeCpu}, onto CPU ${w.waker.ontoCpu}`,
        ])
      : null,
    h("li", {}, [`ran on CPU ${w.cpu}`]),
    w.migrations?.length ? h("li", {}, [`${w.migrations.length} migration(s) before it ran`]) : null,
    w.truncated
      ? h("li", { class: "warn" }, [`${w.truncated} events of this window were left out (size bound)`])
      : null,
    w.memoryOmitted
      ? h("li", { class: "warn" }, [`${w.memoryOmitted} events left out (--window-memory)`])
      : null,
    w.incomplete ? h("li", { class: "warn" }, ["cut by lost events"]) : null,
  ];
  return h("div", { class: "causes" }, [
    h("ul", { class: "facts" }, facts),
    h("table", {}, [
      h("thead", {}, [
        h(
          "tr",
          {},
          ["cause", "who", "CPU", "time", "share"].map((t) => h("th", {}, [t])),
        ),
      ]),
      h("tbody", {}, rows),
    ]),
    w.preemptions?.length
      ? h("p", {}, [`preempted ${w.preemptions.length} time(s) inside the activation`])
      : null,
  ]);
}
