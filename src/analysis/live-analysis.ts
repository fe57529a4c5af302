// What a running analysis lets its controller (the daemon, admit) do while events flow: the
// selection, the tasks and their SLO bounds change between two events, and results are read
// at any time without stopping the stream (the source hands events over in batches on the
// one JavaScript thread, so a read between batches sees a consistent state).

import type { Histogram } from "hdr-histogram-js";
import type { MetricKey, SloBounds, TaskReport } from "../model/report.ts";
import type { Selection } from "../model/selection.ts";
import type { TaskState } from "./task-state.ts";

export interface LiveAnalysis {
  // --- changes -----------------------------------------------------------------------------
  /** Widens the selection without losing the stats of threads already tracked. */
  addSelection(sel: Selection): void;
  /** Narrows the selection (threads already tracked stay until `stopTracking`). */
  removeSelection(sel: Selection): void;
  /** Stops tracking a thread; returns its final statistics. */
  stopTracking(t: TaskState): TaskReport;
  /** A global bound (or one thread's, with `tid`); undefined clears it. Counted from now on. */
  setSlo(metric: MetricKey, boundNs: number | undefined, tid?: number): void;
  /** A thread's own bound (undefined: back to the global one). */
  setTaskSlo(t: TaskState, metric: MetricKey, boundNs: number | undefined): void;
  /** Places a thread in a thread group (/proc knows better than the trace). */
  setThreadGroup(t: TaskState, tgid: number): void;
  /** Counts only samples ending in [fromTs, untilTs) (relative ns; `admit` splits one stream). */
  countSamplesBetween(fromTs: number, untilTs: number): void;

  // --- reads (any time) ----------------------------------------------------------------------
  /** A thread's state, tracked or not, if the stream showed it. */
  thread(tid: number): TaskState | undefined;
  /** The bound in force for a thread's metric (NaN = none). */
  boundOf(t: TaskState, metric: MetricKey): number;
  /** Global bounds in force. */
  slo(): SloBounds;
  /** The report object of a thread state the caller holds (it may have exited). */
  reportOf(t: TaskState): TaskReport;
  /** Every tracked thread, report order. */
  snapshot(): TaskReport[];
  /** The first `limit` tracked threads in report order (only those built), and how many are tracked. */
  firstTasks(limit: number): { rows: TaskReport[]; total: number };
  /** The HDR histogram of a thread's metric, if it has samples. */
  histogram(tid: number, metric: MetricKey): Histogram | undefined;
}
