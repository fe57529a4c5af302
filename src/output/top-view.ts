// The frame of `rtscope top` (like rtla timerlat top): a header with the capture's health
// (events/s, lost events, rtscope's own CPU use) and one row per tracked thread with, per
// shown metric, count, cur/min/avg/p99/max in microseconds, and SLO violations. Columns have
// fixed widths so that values change in place from one frame to the next (no jumping
// columns); a dash where there is no data. Pure: the command owns the terminal.

import type { MetricKey, TaskReport } from "../model/report.ts";
import { NO_DATA, usCell } from "./table.ts";

export interface TopHeader {
  title: string;
  eventsPerSec: number;
  lostEvents: number;
  cpuPercent: number;
  elapsedSec: number;
  /** events the kernel wrote so far (0: not known yet) */
  written?: number;
  /** what stops the capture now ("" when recording): shown at once, above the table */
  captureProblem?: string;
  /** stretches not covered so far (tracing switched off from outside...) */
  captureGaps?: number;
  /** threads tracked, when `tasks` holds only the first of them (default: tasks.length) */
  threads?: number;
}

/** What the previous frame saw of a thread's metric, to give "cur" (mean of the last interval). */
export interface TopMemory {
  counts: Map<string, { count: number; sum: number }>;
}

export function newTopMemory(): TopMemory {
  return { counts: new Map() };
}

const CELL = 8;
const COUNT_CELL = 8;

function cell(text: string, width = CELL): string {
  return text.length >= width ? text.slice(0, width) : text.padStart(width);
}

function rate(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return n.toFixed(0);
}

function clock(sec: number): string {
  const s = Math.floor(sec);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

/**
 * Renders one frame as lines (no escape codes). `memory` is updated with this frame's
 * counts; "cur" is the mean of the samples since the previous frame ("-" if none).
 */
export function renderTopFrame(
  header: TopHeader,
  tasks: readonly TaskReport[],
  metrics: readonly MetricKey[],
  memory: TopMemory,
  width = 160,
  maxRows = 1000,
): string[] {
  const lines: string[] = [];
  const threads = Math.max(header.threads ?? 0, tasks.length);
  lines.push(`${header.title}   elapsed ${clock(header.elapsedSec)}`);
  let lost = header.lostEvents < 0 ? "unknown" : String(header.lostEvents);
  if (header.written && header.lostEvents >= 0)
    lost += ` of ${header.written} written (${((100 * header.lostEvents) / header.written).toFixed(2)} %)`;
  lines.push(
    `events ${rate(header.eventsPerSec)}/s   lost events ${lost}   rtscope CPU ${header.cpuPercent.toFixed(1)} %   threads ${threads}   (q or Ctrl-C to quit)`,
  );
  if (header.captureProblem)
    lines.push(`!! NOT RECORDING: ${header.captureProblem} (the figures below stop here)`);
  else if (header.captureGaps)
    lines.push(
      `!! ${header.captureGaps} stretch${header.captureGaps > 1 ? "es" : ""} not covered (changed from outside); the figures miss them`,
    );
  else lines.push("");
  const lead = `${"TID".padStart(8)} ${"COMM".padEnd(16)}`;
  let groups = " ".repeat(lead.length);
  let heads = lead;
  for (const m of metrics) {
    const title = ` ${m} (us) `;
    const span = COUNT_CELL + 5 * CELL;
    const left = Math.max(0, Math.floor((span - title.length) / 2));
    groups += ` |${"-".repeat(left)}${title}${"-".repeat(Math.max(0, span - left - title.length))}`;
    heads += ` |${cell("count", COUNT_CELL)}${cell("cur")}${cell("min")}${cell("avg")}${cell("p99")}${cell("max")}`;
  }
  groups += " |";
  heads += ` |${cell("over", 6)}`;
  lines.push(groups, heads);
  const seen = new Set<string>();
  let shown = 0;
  for (const t of tasks) {
    if (shown >= maxRows) break;
    shown++;
    let row = `${String(t.tid).padStart(8)} ${t.comm.slice(0, 16).padEnd(16)}`;
    let over = 0;
    for (const m of metrics) {
      const s = t.metrics[m];
      const key = `${t.tid}/${m}`;
      seen.add(key);
      if (!s) {
        row += ` |${cell(NO_DATA, COUNT_CELL)}${cell(NO_DATA)}${cell(NO_DATA)}${cell(NO_DATA)}${cell(NO_DATA)}${cell(NO_DATA)}`;
        continue;
      }
      const sum = s.mean * s.count;
      const prev = memory.counts.get(key);
      const dn = s.count - (prev?.count ?? 0);
      const cur = dn > 0 ? (sum - (prev?.sum ?? 0)) / dn : Number.NaN;
      memory.counts.set(key, { count: s.count, sum });
      row += ` |${cell(String(s.count), COUNT_CELL)}${cell(usCell(cur))}${cell(usCell(s.min))}${cell(usCell(s.mean))}${cell(usCell(s.p99))}${cell(usCell(s.max))}`;
    }
    for (const s of Object.values(t.metrics)) over += s?.slo?.violations ?? 0;
    row += ` |${cell(String(over), 6)}`;
    lines.push(row);
  }
  if (threads > shown) lines.push(`  ... ${threads - shown} more threads (enlarge the terminal)`);
  if (threads === 0) lines.push("  (no tracked thread has run yet)");
  for (const k of memory.counts.keys()) if (!seen.has(k)) memory.counts.delete(k);
  return lines.map((l) => (l.length > width ? l.slice(0, width) : l));
}
