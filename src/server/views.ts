// What the API returns for a tracked task: a summary row (GET /api/tasks, the event
// stream), and the full view (GET /api/tasks/:pid, DELETE): the JSON report's task object
// for each of its threads, its bounds, and each metric's histogram as cumulative counts at
// the bucket edges Prometheus gets (SLO bounds included). Worst windows appear with their
// causes; their events come from /api/tasks/:pid/worst/:metric.

import { countsAtOrBelow } from "../analysis/histogram.ts";
import { METRIC_KEYS, type MetricKey, type TaskReport, type WorstWindow } from "../model/report.ts";
import type { Daemon, TaskEntry, ThreadStats } from "./daemon.ts";

/** Histogram bucket edges (ns) every series has: 1 µs to 1 s, 1-2.5-5 steps. */
export const DEFAULT_EDGES_NS: readonly number[] = [
  1e3, 2.5e3, 5e3, 10e3, 25e3, 50e3, 100e3, 250e3, 500e3, 1e6, 2.5e6, 5e6, 10e6, 25e6, 50e6, 100e6, 250e6,
  1e9,
];

/** The default edges and the bounds in force, ascending, without duplicates. */
export function bucketEdges(bounds: Iterable<number>): number[] {
  const set = new Set<number>(DEFAULT_EDGES_NS);
  for (const b of bounds) if (Number.isFinite(b) && b > 0) set.add(b);
  return [...set].sort((a, b) => a - b);
}

export interface MetricRow {
  count: number;
  max: number;
  /** the highest p99 of its threads */
  p99: number;
  violations: number;
  bound?: number;
}

export interface TaskSummary {
  pid: number;
  startTime: number;
  scope: string;
  comm: string;
  trace: boolean;
  exited: boolean;
  addedAt: string;
  exitedAt?: string;
  threads: number;
  /** activations of its threads cut by lost events (never samples) */
  incomplete: number;
  slo: Partial<Record<MetricKey, number>>;
  metrics: Partial<Record<MetricKey, MetricRow>>;
}

export function taskSummary(e: TaskEntry, threads: readonly ThreadStats[]): TaskSummary {
  const metrics: Partial<Record<MetricKey, MetricRow>> = {};
  for (const key of METRIC_KEYS) {
    let row: MetricRow | undefined;
    for (const { report } of threads) {
      const m = report.metrics[key];
      if (m === undefined) continue;
      row ??= { count: 0, max: 0, p99: 0, violations: 0 };
      row.count += m.count;
      row.max = Math.max(row.max, m.max);
      row.p99 = Math.max(row.p99, m.p99);
      row.violations += m.slo?.violations ?? 0;
    }
    const bound = e.slo[key];
    if (bound !== undefined) {
      row ??= { count: 0, max: 0, p99: 0, violations: 0 };
      row.bound = bound;
    }
    if (row !== undefined) metrics[key] = row;
  }
  const out: TaskSummary = {
    pid: e.pid,
    startTime: e.startTime,
    scope: e.scope,
    comm: processName(e, threads),
    trace: e.trace,
    exited: e.exited,
    addedAt: new Date(e.addedAt).toISOString(),
    threads: threads.length,
    incomplete: threads.reduce((n, th) => n + th.report.counters.incomplete, 0),
    slo: { ...e.slo },
    metrics,
  };
  if (e.exited) out.exitedAt = new Date(e.exitedAt).toISOString();
  return out;
}

/** The task's name now: its leader thread's (an exec renames it), else the name when added. */
export function processName(e: TaskEntry, threads: readonly ThreadStats[]): string {
  for (const th of threads) if (th.report.tid === e.pid && th.report.comm !== "") return th.report.comm;
  return e.comm;
}

export interface HistogramView {
  /** bucket upper edges, ns */
  le: number[];
  /** samples at or below each edge (cumulative), then the total */
  counts: number[];
  count: number;
}

/** What `ctl` needs to print a task as a report: the capture it comes from. */
export interface CaptureInfo {
  cpus: number;
  kernel: string;
  clock: string;
  events: number;
  lostEvents: number;
}

export interface TaskDetail extends TaskSummary {
  capture: CaptureInfo;
  tasks: TaskReport[];
  histograms: Record<number, Partial<Record<MetricKey, HistogramView>>>;
  droppedThreads?: number;
}

export function taskDetail(d: Daemon, e: TaskEntry): TaskDetail {
  const threads = d.threadStats(e);
  const histograms: TaskDetail["histograms"] = {};
  for (const th of threads) {
    const per: Partial<Record<MetricKey, HistogramView>> = {};
    METRIC_KEYS.forEach((key, m) => {
      const h = th.histograms[m];
      if (h === undefined) return;
      const bound = th.report.metrics[key]?.slo?.bound;
      const le = bucketEdges(bound === undefined ? [] : [bound]);
      per[key] = { le, counts: countsAtOrBelow(h, le), count: h.totalCount };
    });
    histograms[th.report.tid] = per;
  }
  const src = d.run.session.source;
  const stats = src.stats();
  const out: TaskDetail = {
    ...taskSummary(e, threads),
    capture: {
      cpus: src.info.cpus,
      kernel: src.info.kernel,
      clock: src.info.clock,
      events: stats.events,
      lostEvents: stats.lostEvents,
    },
    tasks: threads.map((th) => withoutWindowEvents(th.report)),
    histograms,
  };
  if (e.droppedThreads > 0) out.droppedThreads = e.droppedThreads;
  return out;
}

/** The task object with its worst windows' causes but not their event listings. */
export function withoutWindowEvents(r: TaskReport): TaskReport {
  if (r.worst === undefined) return r;
  const worst: Partial<Record<MetricKey, WorstWindow>> = {};
  for (const [k, w] of Object.entries(r.worst) as [MetricKey, WorstWindow][]) {
    // copied key by key: reading `events` would build the listing
    const copy: Record<string, unknown> = {};
    for (const key of Object.keys(w))
      if (key !== "events") copy[key] = (w as unknown as Record<string, unknown>)[key];
    copy.events = [];
    worst[k] = copy as unknown as WorstWindow;
  }
  return { ...r, worst };
}
