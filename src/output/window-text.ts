// Text rendering of one worst-case window: the cause breakdown (rtla timerlat
// auto-analysis style: one line per cause with µs and % of the metric) and the event
// listing with times relative to the wakeup (jerry_rt_module style), aligned columns:
// +µs, CPU, task, event, fields.

import {
  METRIC_TITLES,
  type MetricKey,
  type TaskReport,
  type Timestamp,
  type WorstWindow,
} from "../model/report.ts";
import { formatTsSeconds } from "./perfetto-text.ts";

const KIND_TITLES: Record<string, string> = {
  irq: "IRQ interference",
  softirq: "softirq interference",
  thread: "thread interference",
  blocking: "blocking",
  "idle-exit": "idle exit",
  migration: "migration",
  "fair-server": "fair server (SCHED_OTHER run ahead of RT)",
  unknown: "unknown",
  other: "other",
  running: "own run time",
  sleep: "sleep",
};

const PART_TITLES: Record<string, string> = {
  irq: "IRQ latency (expiry → timer IRQ handler)",
  thread: "thread latency (timer IRQ handler → end)",
  hardirq: "hard IRQ",
  wakeup: "IRQ thread wakeup latency",
  handling: "IRQ thread handling",
  latency: "scheduling latency (wakeup → switch-in)",
  running: "after switch-in",
};

/** Absolute trace timestamp as seconds with 9 decimals, like trace-cmd report -t. */
function sec(ts: Timestamp): string {
  return formatTsSeconds(BigInt(ts));
}

function us(ns: number): string {
  return (ns / 1000).toFixed(3);
}

function relUs(ns: number): string {
  const s = (Math.abs(ns) / 1000).toFixed(3);
  return ns < 0 ? `-${s}` : `+${s}`;
}

export interface WindowTextOptions {
  /** thread names for the task column (else `<tid>`); the window's own fields fill gaps */
  comms?: ReadonlyMap<number, string>;
  /** print the event listing (default true) */
  events?: boolean;
}

/** Breakdown lines only (for tables and summaries). */
export function formatCauseBreakdown(w: WorstWindow): string {
  const lines: string[] = [];
  const total = Number(w.end) - Number(w.start);
  const partNames = w.parts ? Object.keys(w.parts) : [];
  const split = partNames.length > 1;
  const labelOf = (c: WorstWindow["causes"][number]): string => {
    let who = c.name;
    const byThread = c.kind === "thread" || c.kind === "blocking" || c.kind === "fair-server";
    if (c.tid !== undefined && byThread) who = `${c.name}:${c.tid}`;
    if (c.rtscope) who += " (rtscope)";
    if (c.prio !== undefined && byThread) who += ` [prio ${c.prio}]`;
    if (c.kind === "irq" && c.irq !== undefined && !c.name.includes(`${c.irq}`)) who = `${c.irq}:${c.name}`;
    if (c.kind === "softirq" && c.vec !== undefined) who = `${c.vec}:${c.name}`;
    const title = KIND_TITLES[c.kind] ?? c.kind;
    return who && who !== title ? `${title}: ${who}` : title;
  };
  const labels = w.causes.map(labelOf);
  const width = Math.max(24, ...labels.map((l) => l.length)) + 2;
  let part: string | undefined;
  w.causes.forEach((c, i) => {
    if (split && c.part !== part) {
      part = c.part;
      const pt = part !== undefined ? (w.parts?.[part] ?? 0) : 0;
      const pp = total > 0 ? ((pt / total) * 100).toFixed(1) : "0.0";
      lines.push(`  ${PART_TITLES[part ?? ""] ?? part}: ${us(pt)} us (${pp} %)`);
    }
    const pct = (c.percent ?? (total > 0 ? (c.time / total) * 100 : 0)).toFixed(1);
    const indent = split ? "    " : "  ";
    lines.push(
      `${indent}${labels[i].padEnd(width, ".")} ${us(c.time).padStart(10)} us (${pct.padStart(5)} %)`,
    );
  });
  lines.push(`  ${"total".padEnd(width + (split ? 2 : 0), " ")} ${us(total).padStart(10)} us`);
  if (w.preemptions?.length) {
    lines.push("  preemptions inside the activation:");
    for (const p of w.preemptions)
      lines.push(
        `    at ${sec(p.ts)} on CPU ${p.cpu} by ${p.comm || "?"}:${p.tid}${p.rtscope ? " (rtscope)" : ""} [prio ${p.prio}] for ${us(p.time)} us`,
      );
  }
  return lines.join("\n");
}

/** The event listing, relative to the wakeup. */
export function formatWindowEvents(w: WorstWindow, comms?: ReadonlyMap<number, string>): string {
  const names = new Map<number, string>(comms ?? []);
  for (const e of w.events) {
    const f = e.fields;
    if (typeof f.prev_pid === "number" && f.prev_comm) names.set(f.prev_pid, String(f.prev_comm));
    if (typeof f.next_pid === "number" && f.next_comm) names.set(f.next_pid, String(f.next_comm));
    if (typeof f.pid === "number" && f.comm) names.set(f.pid, String(f.comm));
  }
  names.set(0, "<idle>");
  const rows = w.events.map((e) => [
    relUs(e.rel),
    `[${String(e.cpu).padStart(3, "0")}]`,
    `${names.get(e.currentTid) ?? "<...>"}-${e.currentTid}`,
    e.event,
    Object.entries(e.fields)
      .map(([k, v]) => `${k}=${v}`)
      .join(" "),
  ]);
  const head = ["+us", "CPU", "task", "event", "fields"];
  const widths = [0, 1, 2, 3].map((c) => Math.max(head[c].length, ...rows.map((r) => r[c].length)));
  const fmt = (r: string[]) =>
    `  ${r[0].padStart(widths[0])}  ${r[1].padEnd(widths[1])}  ${r[2].padStart(widths[2])}  ${r[3].padEnd(widths[3])}  ${r[4]}`.trimEnd();
  return [fmt(head), ...rows.map(fmt)].join("\n");
}

/**
 * Where the wakeup came from and went: "woken by X on CPU a, onto CPU b, ran on CPU c" (the
 * waker from sched_waking, the CPU from target_cpu), then the moves after the wakeup.
 */
export function wakeText(w: WorstWindow): string {
  const k = w.waker;
  if (!k) return w.wakeCpu === w.cpu ? `CPU ${w.cpu}` : `woken on CPU ${w.wakeCpu}, ran on CPU ${w.cpu}`;
  const task = `${k.comm || "?"}:${k.tid}`;
  const who = k.context ? `${k.context} (in ${task})` : task;
  const onto = k.ontoCpu >= 0 ? `onto CPU ${k.ontoCpu}` : "onto an unknown CPU";
  const placed = k.placedFrom !== undefined ? ` (placed from CPU ${k.placedFrom})` : "";
  const moves = (w.migrations ?? []).map((m) => `, moved CPU ${m.from} → CPU ${m.to}`).join("");
  const note = k.event === "sched_wakeup" ? " (no sched_waking: the waker is sched_wakeup's context)" : "";
  return `woken by ${who} on CPU ${w.wakeCpu}, ${onto}${placed}${moves}, ran on CPU ${w.cpu}${note}`;
}

/** One worst window as text: header, cause breakdown, event listing. */
/** In place of the causes of a window the cause analysis failed on. */
export function causeErrorText(error: string): string {
  return `  causes not analysed (${error}): see cause_analysis_failed in the diagnostics`;
}

export function formatWorstWindow(
  w: WorstWindow,
  task: Pick<TaskReport, "tid" | "comm">,
  metric: MetricKey,
  opts: WindowTextOptions = {},
): string {
  const out: string[] = [];
  const where = wakeText(w);
  out.push(
    `${task.comm || "?"}:${task.tid} ${METRIC_TITLES[metric]}: ${us(w.value)} us, ${where}, from ${sec(w.start)} to ${sec(w.end)}${incompleteNote(w)}`,
  );
  if (w.reasons?.length) out.push(`  captured as: ${w.reasons.join(", ")}`);
  if (w.truncated)
    out.push(
      `  ${w.truncated} events of this long window left out of the listing (kept: the newest of the margin and scheduling latency, then the task's and its CPU's switches and IRQs, first and last)`,
    );
  if (w.memoryOmitted)
    out.push(
      `  ${w.memoryOmitted} oldest events of this window not captured (memory bound: raise --window-memory); the causes are those of the events kept`,
    );
  out.push(w.causeError === undefined ? formatCauseBreakdown(w) : causeErrorText(w.causeError));
  if (opts.events !== false && w.events.length) {
    out.push(`  events (${w.events.length}, us relative to the wakeup at ${sec(w.wakeTs ?? w.start)}):`);
    out.push(formatWindowEvents(w, opts.comms));
  }
  return out.join("\n");
}

/** Why a window is incomplete, for its title line. */
function incompleteNote(w: { incomplete?: boolean; forgotten?: boolean }): string {
  if (!w.incomplete) return "";
  return w.forgotten
    ? " (INCOMPLETE: its start is older than the flight recorder holds; no event was lost)"
    : " (INCOMPLETE: events lost in the window)";
}
