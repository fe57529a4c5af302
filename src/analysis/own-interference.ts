// The observer's own share of a worst case. A live capture runs beside the threads it measures:
// its reader (SCHED_FIFO 1 by default), V8's and libuv's threads. A lower-priority thread of
// rtscope in a non-preemptible kernel section (any syscall under preempt=none or voluntary) can
// block an RT thread, and at SCHED_FIFO 1 it takes the CPU from every normal thread. A window
// that blames `MainThread:4242` for a latency should say that this thread is rtscope itself, and
// the report should say loudly that the measurement moved what it measured.

import { Diagnostics } from "../model/diagnostics.ts";
import type { MetricKey, Report, TaskReport, WorstWindow } from "../model/report.ts";

/**
 * Flags the causes and preemptions of the report's windows that are rtscope's own threads
 * (`own`: their tids), and adds an `own_interference` diagnostic when any window has one.
 */
export function markOwnThreads(report: Report, own: ReadonlySet<number>): void {
  if (own.size === 0) return;
  let windows = 0;
  let worst = 0;
  let worstAt = "";
  for (const t of report.tasks) {
    if (!t.worst) continue;
    for (const [metric, w] of Object.entries(t.worst) as [MetricKey, WorstWindow][]) {
      const time = markWindow(w, own);
      if (time === 0) continue;
      windows++;
      if (time > worst) {
        worst = time;
        worstAt = `${t.comm}:${t.tid} ${metric} at ${(Number(w.start) / 1e9).toFixed(6)}`;
      }
    }
  }
  if (windows === 0) return;
  const d = new Diagnostics();
  d.add(
    "own_interference",
    `${windows} worst-case window${windows === 1 ? "" : "s"}; at most ${(worst / 1000).toFixed(1)} us of rtscope's threads in one (${worstAt})`,
    windows,
  );
  report.diagnostics.push(...d.list());
}

/** Flags the own-thread causes of a task's windows (a daemon's task view). */
export function markOwnTask(t: TaskReport, own: ReadonlySet<number>): TaskReport {
  if (t.worst) for (const w of Object.values(t.worst)) if (w) markWindow(w, own);
  return t;
}

/** Flags one window's own-thread causes and preemptions (a daemon's window on request). */
export function markOwnWindow(w: WorstWindow, own: ReadonlySet<number>): WorstWindow {
  markWindow(w, own);
  return w;
}

/** Flags one window's own-thread causes and preemptions; returns their time, ns. */
function markWindow(w: WorstWindow, own: ReadonlySet<number>): number {
  let time = 0;
  for (const c of w.causes) {
    const byThread = c.kind === "thread" || c.kind === "blocking" || c.kind === "fair-server";
    if (!byThread || c.tid === undefined || !own.has(c.tid)) continue;
    c.rtscope = true;
    time += c.time;
  }
  // a preemption's time is in the causes already (as thread interference or blocking)
  if (w.preemptions) for (const p of w.preemptions) if (own.has(p.tid)) p.rtscope = true;
  return time;
}
