// The text report: a header saying what was read, then per process and per thread a
// compact table with one row per metric (µs), the task's counters, its worst windows,
// and the diagnostics at the end. A dash where there is no data, as rtla prints.

import { type DiagnosticEntry, Diagnostics } from "../model/diagnostics.ts";
import {
  commandEndText,
  METRIC_KEYS,
  METRIC_TITLES,
  type MetricKey,
  type MetricSummary,
  type Report,
  type TaskReport,
  type TimerClockReport,
  type WorstWindow,
} from "../model/report.ts";
import {
  type Column,
  countCell,
  durationText,
  NO_DATA,
  renderTable,
  timestampText,
  usCell,
} from "./table.ts";
import { causeErrorText, wakeText } from "./window-text.ts";

/** Renders one worst window (the windows engineer's renderer, when present). */
export type WindowRenderer = (window: WorstWindow, task: TaskReport, metric: MetricKey) => string;

export interface TextReportOptions {
  /** terminal width; columns that do not fit are dropped (p90, inferred). Default 100. */
  width?: number;
  windowRenderer?: WindowRenderer;
  /** which worst windows to print: every one (default), only those of violated SLOs, none */
  windows?: WindowChoice;
}

export const WINDOW_CHOICES = ["all", "violations", "none"] as const;
export type WindowChoice = (typeof WINDOW_CHOICES)[number];

const SHORT_NAME: Record<MetricKey, string> = {
  latency: "latency",
  response: "response",
  relief: "relief",
  timer: "timer",
  irq: "irq",
};

export function formatTextReport(report: Report, opts: TextReportOptions = {}): string {
  const width = opts.width ?? 100;
  const out: string[] = [];
  // what goes wrong while rendering (a window renderer that throws) joins the report's own list
  const rendering = new Diagnostics();
  header(report, out);
  if (report.tasks.length === 0) {
    out.push("");
    out.push(
      `No tracked thread had any activity in this trace (selection: ${report.selection}). ` +
        "Check the selection (--pid, --tgid, --comm, --rt) against the threads in the trace.",
    );
  }
  for (const group of groupByProcess(report.tasks)) {
    out.push("");
    const leader = group.find((t) => t.tid === t.tgid) ?? group[0];
    out.push(
      group.length > 1 || leader.tgid !== leader.tid
        ? `process ${leader.comm} (pid ${leader.tgid}): ${group.length} thread${group.length > 1 ? "s" : ""}`
        : `process ${leader.comm} (pid ${leader.tgid})`,
    );
    for (const task of group) taskSection(report, task, width, opts, rendering, out);
  }
  irqLinesSection(report, out);
  diagnosticsSection([...report.diagnostics, ...rendering.list()], out);
  return `${out.join("\n")}\n`;
}

function header(r: Report, out: string[]): void {
  const s = r.source;
  out.push(`rtscope ${r.version} report: ${s.path}`);
  const fmt = s.format || s.kind;
  const clock = s.clock ? `clock ${s.clock}` : "clock unknown";
  out.push(`  source     ${fmt}, ${clock}, ${s.cpus} CPU${s.cpus === 1 ? "" : "s"}`);
  if (s.kernel) out.push(`  kernel     ${s.kernel}`);
  const lost = s.lostEvents < 0 ? "lost events: unknown number" : `${countCell(s.lostEvents)} lost`;
  let span = "";
  if (s.start !== undefined && s.end !== undefined) {
    const dur = Number(BigInt(s.end) - BigInt(s.start));
    span = `, ${durationText(dur)} (${timestampText(s.start)} .. ${timestampText(s.end)})`;
  }
  out.push(`  events     ${countCell(s.events)} (${lost})${span}`);
  const written = writtenText(s);
  if (written) out.push(`  written    ${written}`);
  const gap = r.diagnostics.find((d) => d.key === "live_capture_gap");
  if (gap) out.push(`  coverage   INCOMPLETE: ${gap.details[0] ?? gap.message} (see live_capture_gap)`);
  const tc = s.timerClock;
  if (tc !== undefined) out.push(`  timer      ${timerClockText(tc)}`);
  out.push(`  selection  ${r.selection}`);
  if (r.command)
    out.push(`  command    ${r.command.argv.join(" ")} (pid ${r.command.pid}): ${commandEndText(r.command)}`);
  const slo = METRIC_KEYS.filter((k) => r.slo[k] !== undefined).map(
    (k) => `${k} <= ${durationText(r.slo[k]!)}`,
  );
  out.push(`  SLO        ${slo.length ? slo.join(", ") : "none (--slo latency=50us,... to set bounds)"}`);
}

/**
 * Live: the kernel's count of events written, the share lost, per CPU, and rtscope's own
 * CPU time ("" for offline sources). Also the hist format's header.
 */
export function writtenText(s: Report["source"]): string {
  if (s.written === undefined) return "";
  const pct = (lost: number, of: number) => (of > 0 ? `${((100 * lost) / of).toFixed(2)} %` : "-");
  const lost = Math.max(0, s.lostEvents);
  const perCpu = (s.perCpu ?? [])
    .map((c) => `CPU ${c.cpu} ${countCell(c.lost)} of ${countCell(c.written)} (${pct(c.lost, c.written)})`)
    .join(", ");
  const own = s.ownCpu === undefined ? "" : `; rtscope CPU ${s.ownCpu.toFixed(2)} s`;
  return `${countCell(s.written)} events by the kernel, ${countCell(lost)} lost (${pct(lost, s.written)})${perCpu ? `: ${perCpu}` : ""}${own}`;
}

/** How the timer metric's expiries met the trace clock (SPEC §1 timer row). */
function timerClockText(tc: TimerClockReport): string {
  const clock = tc.traceClock ? `trace clock ${tc.traceClock}` : "trace clock not stated";
  if (tc.mode === "unavailable") return `no timer latency: ${clock} is no time base`;
  if (tc.mode === "direct") return `expiry → end on one clock (${clock}, CLOCK_MONOTONIC timers)`;
  const direct = tc.direct > 0 ? `, ${countCell(tc.direct)} direct` : "";
  return `expiry put on the ${clock} by an offset estimated from hrtimer_expire_entry (${countCell(tc.estimated)} samples${direct}): may be low by up to ${usCell(tc.errorBound)} us`;
}

/** Threads grouped under their process, processes and threads in tid order. */
function groupByProcess(tasks: readonly TaskReport[]): TaskReport[][] {
  const groups = new Map<number, TaskReport[]>();
  for (const t of tasks) {
    const key = t.tgid > 0 ? t.tgid : t.tid;
    const g = groups.get(key);
    if (g) g.push(t);
    else groups.set(key, [t]);
  }
  return [...groups.entries()].sort((a, b) => a[0] - b[0]).map(([, g]) => g.sort((a, b) => a.tid - b.tid));
}

function policyText(t: TaskReport): string {
  const boost =
    t.boostedKernelPrio !== undefined
      ? `, seen at kernel prio ${t.boostedKernelPrio} (PI boost or a policy change)`
      : "";
  switch (t.policy) {
    case "":
      return "policy unknown";
    case "FIFO":
    case "RR":
      return `SCHED_${t.policy} rtprio ${t.prio}${boost}`;
    case "RT":
      // offline traces show an RT prio but not whether FIFO or RR
      return `SCHED_FIFO/RR rtprio ${t.prio}${boost}`;
    case "DEADLINE":
      return "SCHED_DEADLINE";
    case "normal":
      return `normal (SCHED_OTHER/BATCH/IDLE) nice ${t.prio}${boost}`;
    default:
      return `SCHED_${t.policy} nice ${t.prio}${boost}`;
  }
}

interface MetricColumn {
  header: string;
  /** lower drops first when the table is too wide; 0 never drops */
  dropOrder: number;
  cell: (m: MetricSummary | undefined, key: MetricKey) => string;
}

const METRIC_COLUMNS: MetricColumn[] = [
  { header: "metric (us)", dropOrder: 0, cell: (_m, k) => SHORT_NAME[k] },
  { header: "count", dropOrder: 0, cell: (m) => (m ? countCell(m.count) : "0") },
  { header: "min", dropOrder: 0, cell: (m) => usCell(m?.min) },
  { header: "p50", dropOrder: 0, cell: (m) => usCell(m?.p50) },
  { header: "p90", dropOrder: 2, cell: (m) => usCell(m?.p90) },
  { header: "p99", dropOrder: 0, cell: (m) => usCell(m?.p99) },
  { header: "p99.9", dropOrder: 3, cell: (m) => usCell(m?.p999) },
  { header: "max", dropOrder: 0, cell: (m) => usCell(m?.max) },
  { header: "inferred", dropOrder: 1, cell: (m) => (m ? countCell(m.inferred) : NO_DATA) },
  { header: "SLO", dropOrder: 0, cell: (m) => (m?.slo ? usCell(m.slo.bound) : NO_DATA) },
  {
    header: "over SLO",
    dropOrder: 0,
    cell: (m) => (m?.slo ? (m.slo.violations > 0 ? `${countCell(m.slo.violations)} !` : "0") : NO_DATA),
  },
];

function taskSection(
  r: Report,
  t: TaskReport,
  width: number,
  opts: TextReportOptions,
  rendering: Diagnostics,
  out: string[],
): void {
  out.push("");
  const reused = r.tasks.some((o) => o !== t && o.tid === t.tid);
  const life = [
    reused && t.start !== undefined ? `started ${timestampText(t.start)}` : "",
    t.exited !== undefined ? `exited ${timestampText(t.exited)}` : "",
  ].filter((x) => x !== "");
  out.push(
    `  ${t.comm || "<unknown>"} [${t.tid}]  ${policyText(t)}${life.length ? `  (${life.join(", ")})` : ""}`,
  );
  // Metrics with samples, plus those with a bound (a bound with no sample is worth seeing).
  const keys = METRIC_KEYS.filter((k) => t.metrics[k] !== undefined || r.slo[k] !== undefined);
  if (keys.length === 0) {
    out.push("    no samples (the thread never completed an activation in this trace)");
  } else {
    let cols = METRIC_COLUMNS;
    let lines = table(cols, t, keys);
    // Drop optional columns until the table fits the terminal.
    for (let drop = 1; drop <= 3 && lines.some((l) => l.length > width); drop++) {
      cols = cols.filter((c) => c.dropOrder === 0 || c.dropOrder > drop);
      lines = table(cols, t, keys);
    }
    out.push(...lines);
    for (const k of keys) {
      const m = t.metrics[k];
      if (!m) continue;
      const notes = metricNotes(k, m);
      if (notes) out.push(`    ${SHORT_NAME[k]}: ${notes}`);
    }
  }
  const c = t.counters;
  out.push(
    `    wakeups ${countCell(c.wakeups)}, switches ${countCell(c.voluntarySwitches)} voluntary / ${countCell(c.involuntarySwitches)} involuntary, ` +
      `migrations ${countCell(c.migrations)}, run time ${durationText(c.runtime)}` +
      (c.incomplete > 0 ? `, ${countCell(c.incomplete)} activations cut (${cutReasons(c)})` : "") +
      (c.irqCoalesced ? `, ${countCell(c.irqCoalesced)} hard IRQs served by a run in progress` : ""),
  );
  worstSection(t, opts, rendering, out);
}

/** "3 by lost events, 1 CPU without data", the non-zero reasons of a task's cut activations. */
function cutReasons(c: TaskReport["counters"]): string {
  const k = c.cut;
  if (k === undefined) return "by lost events";
  const parts: string[] = [];
  if (k.lostEvents > 0) parts.push(`${countCell(k.lostEvents)} by lost events`);
  if (k.cpuWithoutData > 0) parts.push(`${countCell(k.cpuWithoutData)} CPU without data`);
  if (k.missedSwitch > 0) parts.push(`${countCell(k.missedSwitch)} switch-out not recorded`);
  if (k.missedRun > 0) parts.push(`${countCell(k.missedRun)} ran unseen`);
  return parts.join(", ");
}

function table(cols: MetricColumn[], t: TaskReport, keys: MetricKey[]): string[] {
  const columns: Column[] = cols.map((c, i) => ({ header: c.header, align: i === 0 ? "left" : "right" }));
  const rows = keys.map((k) => cols.map((c) => c.cell(t.metrics[k], k)));
  return renderTable(columns, rows, 4);
}

/** One line of detail: where the max happened, the split of timer/irq maxima, SLO first/worst. */
function metricNotes(k: MetricKey, m: MetricSummary): string {
  const parts: string[] = [`max ${usCell(m.max)} us at ${timestampText(m.maxAt)}`];
  if (m.irq || m.thread)
    parts.push(
      `split: IRQ latency max ${usCell(m.irq?.max)} us, thread latency max ${usCell(m.thread?.max)} us`,
    );
  if (m.hardirq || m.wakeup || m.handling)
    parts.push(
      `split: hard IRQ max ${usCell(m.hardirq?.max)} us, thread wakeup max ${usCell(m.wakeup?.max)} us, handling max ${usCell(m.handling?.max)} us`,
    );
  if (m.slo && m.slo.violations > 0) {
    const first = m.slo.firstAt !== null ? ` first at ${timestampText(m.slo.firstAt)}` : "";
    parts.push(`${countCell(m.slo.violations)} over ${durationText(m.slo.bound)}${first}`);
  }
  void k;
  return parts.join("; ");
}

function worstSection(t: TaskReport, opts: TextReportOptions, rendering: Diagnostics, out: string[]): void {
  for (const k of METRIC_KEYS) {
    const list = t.worstList?.[k];
    if (list && list.length > 0) {
      out.push(`    worst ${list.length} ${SHORT_NAME[k]} samples:`);
      const rows = list.map((w, i) => [
        String(i + 1),
        usCell(w.value),
        timestampText(w.start),
        timestampText(w.end),
        String(w.cpu),
      ]);
      out.push(
        ...renderTable(
          [
            { header: "#", align: "right" },
            { header: "us", align: "right" },
            { header: "start", align: "right" },
            { header: "end", align: "right" },
            { header: "cpu", align: "right" },
          ],
          rows,
          6,
        ),
      );
    }
  }
  const choice = opts.windows ?? "all";
  if ((!t.worst && !t.notCaptured) || choice === "none") return;
  for (const k of METRIC_KEYS) {
    if (choice === "violations" && !((t.metrics[k]?.slo?.violations ?? 0) > 0)) continue;
    const w = t.worst?.[k];
    const why = t.notCaptured?.[k];
    if (!w && why !== undefined) {
      out.push("");
      out.push(`    ${t.comm || "?"}:${t.tid} ${METRIC_TITLES[k]}: worst-case window not captured (${why})`);
      continue;
    }
    if (!w) continue;
    out.push("");
    if (opts.windowRenderer) {
      // one window that cannot be rendered must not sink the report: the brief list stands in
      // for it, and the failure is reported
      let text: string | undefined;
      try {
        text = opts.windowRenderer(w, t, k);
      } catch (e) {
        const why = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
        rendering.add("window_render_failed", `${t.comm || "?"}:${t.tid} ${k}: ${why}`);
      }
      if (text !== undefined) {
        out.push(
          ...text
            .replace(/\n+$/, "")
            .split("\n")
            .map((l) => (l ? `    ${l}` : l)),
        );
        continue;
      }
    }
    out.push(...briefWindow(w, k));
  }
}

/** The causes of a worst window, when no full window renderer is available. */
function briefWindow(w: WorstWindow, k: MetricKey): string[] {
  const where = wakeText(w);
  const lines = [
    `    worst ${METRIC_TITLES[k]}: ${usCell(w.value)} us at ${timestampText(w.start)}, ${where}${w.incomplete ? (w.forgotten ? " (window cut: older than the flight recorder holds)" : " (window cut by lost events)") : ""}`,
  ];
  if (w.causeError !== undefined) {
    lines.push(`    ${causeErrorText(w.causeError)}`);
    return lines;
  }
  if (w.causes.length === 0) {
    lines.push("      no cause recorded");
    return lines;
  }
  const rows = w.causes.map((c) => [
    c.kind,
    c.name + (c.tid ? ` [${c.tid}]` : ""),
    usCell(c.time),
    c.percent !== undefined
      ? `${c.percent.toFixed(1)}%`
      : w.value > 0
        ? `${((c.time / w.value) * 100).toFixed(1)}%`
        : NO_DATA,
  ]);
  lines.push(
    ...renderTable(
      [
        { header: "cause", align: "left" },
        { header: "who", align: "left" },
        { header: "us", align: "right" },
        { header: "share", align: "right" },
      ],
      rows,
      6,
    ),
  );
  return lines;
}

function irqLinesSection(r: Report, out: string[]): void {
  const lines = r.irqLines;
  if (!lines || lines.length === 0) return;
  out.push("");
  out.push("hard IRQ handler duration per IRQ line (irq_handler_entry -> exit):");
  const rows = [...lines]
    .sort((a, b) => a.irq - b.irq)
    .map((l) => [
      String(l.irq),
      l.name,
      countCell(l.hardirq.count),
      usCell(l.hardirq.min),
      usCell(l.hardirq.p50),
      usCell(l.hardirq.p99),
      usCell(l.hardirq.max),
    ]);
  out.push(
    ...renderTable(
      [
        { header: "irq", align: "right" },
        { header: "name", align: "left" },
        { header: "count", align: "right" },
        { header: "min", align: "right" },
        { header: "p50", align: "right" },
        { header: "p99", align: "right" },
        { header: "max (us)", align: "right" },
      ],
      rows,
    ),
  );
}

function diagnosticsSection(diagnostics: readonly DiagnosticEntry[], out: string[]): void {
  if (diagnostics.length === 0) return;
  out.push("");
  out.push("diagnostics:");
  // keys are ASCII identifiers: compared by code unit, since the first localeCompare of a
  // process loads ICU's collator (tens of ms of a report's run, and the order then follows the locale)
  const sorted = [...diagnostics].sort(
    (a, b) =>
      rank(a.severity) - rank(b.severity) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0) || a.cpu - b.cpu,
  );
  for (const d of sorted) {
    const cpu = d.cpu >= 0 ? ` CPU ${d.cpu}` : "";
    const count = d.count < 0 ? "count unknown" : `x${countCell(d.count)}`;
    out.push(`  [${d.severity}] ${d.key}${cpu} (${count}): ${d.message}`);
    if (d.details.length > 0) out.push(`      ${d.details.join("; ")}`);
    if (d.remedy) out.push(`      what to do: ${d.remedy}`);
  }
}

function rank(s: string): number {
  return s === "error" ? 0 : s === "data-loss" ? 1 : s === "warning" ? 2 : 3;
}
