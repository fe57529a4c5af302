// The daemon's state (SPEC §2 "Daemon"): ONE live capture (the pipeline of record/top,
// with an empty selection that tracks nothing until a task is added) and the tasks added at
// run time, as the seed's sysfs files did (add_pid [trace], del_pid, set_slo_*_bound).
//
// A task is a pid and its start time (/proc/PID/stat field 22): a pid reused by a new
// process is a new task, never merged with the old one. It tracks a whole process (its
// threads, including threads created later) or one thread. When it exits (its
// sched_process_exit, or /proc no longer showing that pid with that start time) it is
// marked exited, its selection is withdrawn at once (so a new process with the same pid is
// not picked up) and a second later its final statistics are frozen; they stay readable
// until `del`. Exited tasks are kept up to MAX_EXITED, oldest dropped first.
//
// Bounds set per task apply to every thread of it, including threads tracked later;
// violations count from the change on. A task added with `trace` gets worst-case windows
// (the flight recorder runs for the whole capture; only traced threads' samples are copied).

import { readdirSync } from "node:fs";
import type { Histogram } from "hdr-histogram-js";
import type { LiveAnalysis } from "../analysis/live-analysis.ts";
import { markOwnTask } from "../analysis/own-interference.ts";
import type { SampleEvent, SampleObserver } from "../analysis/sample-observer.ts";
import type { TaskState } from "../analysis/task-state.ts";
import type { CapturedWindow, WindowRole } from "../analysis/worst-windows.ts";
import type { WindowSettings } from "../cli/options.ts";
import { finishLiveRun, type LiveRun, type LiveSettings, startLiveRun } from "../cli/record.ts";
import {
  METRIC_KEYS,
  type MetricKey,
  type Report,
  type TaskReport,
  type Timestamp,
} from "../model/report.ts";
import { emptySelection, type Selection } from "../model/selection.ts";
import { absoluteTs } from "../model/units.ts";
import { ownThreads, procIdentity, procTaskInfo } from "../tracefs/proc-tasks.ts";
import { TracefsWatch } from "./tracefs-watch.ts";

export type Scope = "thread" | "process";

/** An API-level refusal: the HTTP status and a message naming what was wrong. */
export class DaemonError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** Exited tasks kept for `show`/`del` (oldest dropped first). */
export const MAX_EXITED = 64;
/** Thread states one task keeps (a process that churns threads drops its oldest exited ones). */
export const MAX_THREADS_PER_TASK = 1024;
/** Thread ids remembered for thread groups (a process churning threads does not grow it without end). */
const MAX_SEEN_THREADS = 65536;
/** How long after an exit the final statistics are frozen (the last events are still being read). */
const FREEZE_DELAY_MS = 1000;

export interface TaskEntry {
  readonly pid: number;
  readonly startTime: number;
  readonly scope: Scope;
  readonly trace: boolean;
  /** process (or thread) name when added */
  readonly comm: string;
  readonly addedAt: number;
  readonly selection: Selection;
  /** bounds of this task, ns by metric */
  readonly slo: Partial<Record<MetricKey, number>>;
  readonly threads: TaskState[];
  droppedThreads: number;
  exited: boolean;
  exitedAt: number;
  /** when the final statistics are taken (ms), 0 = not yet due */
  freezeAt: number;
  /** final statistics of an exited task */
  final: ThreadStats[] | null;
}

/** One thread's statistics: its report object and its metrics' histograms (METRIC_KEYS order). */
export interface ThreadStats {
  report: TaskReport;
  histograms: (Histogram | undefined)[];
}

export interface ViolationEvent {
  pid: number;
  tid: number;
  comm: string;
  metric: MetricKey;
  value: number;
  bound: number;
  at: Timestamp;
}

export interface DaemonOptions {
  live: LiveSettings;
  wakeupEvent: "wakeup" | "waking";
  window?: Partial<WindowSettings>;
}

export class Daemon {
  readonly run: LiveRun;
  readonly startedAt = Date.now();
  readonly watch: TracefsWatch;
  /** resolves with the run's report once the capture has ended */
  readonly finished: Promise<Report>;
  /** every violation as it happens (the event stream) */
  onViolation: ((v: ViolationEvent) => void) | null = null;
  private readonly entries: TaskEntry[] = [];
  private readonly ownerOf = new Map<TaskState, TaskEntry>();
  private readonly traced = new Set<TaskState>();
  private readonly exitedThreads = new WeakSet<TaskState>();
  /** tid → tgid of the tracked processes' threads, as /proc listed them (bounded) */
  private readonly seenThreads = new Map<number, number>();

  private constructor(o: DaemonOptions) {
    this.run = startLiveRun({
      selection: emptySelection(),
      slo: {},
      worstN: 0,
      wakeupEvent: o.wakeupEvent,
      live: o.live,
      command: [],
      window: o.window,
      analysis: {
        // a thread gone before its fork event is read (the reader lags under load) has no
        // /proc entry: the tgid the daemon saw it under, once a second, stands in
        taskInfo: (tid) => procTaskInfo(tid) ?? this.threadGroupOf(tid),
        emptyMeansAll: false,
        observeViolations: true,
        tasks: { taskTracked: (t) => this.onTracked(t), taskExited: (t) => this.onExit(t) },
      },
      observer: (windows) => this.observer(windows),
    });
    this.watch = new TracefsWatch(this.run.session.source);
    this.finished = finishLiveRun(this.run);
  }

  /** Opens the instance and starts the capture (tracking nothing yet). */
  static start(o: DaemonOptions): Daemon {
    return new Daemon(o);
  }

  /** what the daemon may change and read while events flow */
  get analysis(): LiveAnalysis {
    return this.run.analysis;
  }

  /** Ends the capture (the same as SIGTERM); `finished` resolves with the report. */
  stop(): void {
    this.run.session.stop("requested");
  }

  // --- the seed's control files --------------------------------------------------------

  /** add_pid [trace]: tracks a process (default for a process id) or one thread. */
  add(pid: number, opts: { trace?: boolean; scope?: Scope }): TaskEntry {
    const id = procIdentity(pid);
    if (id === undefined) throw new DaemonError(404, `pid ${pid}: no such process or thread`);
    const isProcess = id.tgid === pid;
    const scope = opts.scope ?? (isProcess ? "process" : "thread");
    if (scope === "process" && !isProcess)
      throw new DaemonError(
        400,
        `pid ${pid} is a thread of process ${id.tgid}: add ${id.tgid}, or this thread with scope "thread"`,
      );
    for (const e of this.entries) {
      if (e.exited) continue;
      if (e.pid === pid) throw new DaemonError(409, `pid ${pid} is already tracked (${e.scope})`);
      if (e.scope === "process" && e.pid === id.tgid)
        throw new DaemonError(409, `thread ${pid} is already tracked as part of process ${id.tgid}`);
      if (scope === "process" && e.scope === "thread" && procIdentity(e.pid)?.tgid === pid)
        throw new DaemonError(409, `thread ${e.pid} of process ${pid} is tracked alone: delete it first`);
    }
    const selection = emptySelection();
    if (scope === "process") selection.tgids.push(pid);
    else selection.tids.push(pid);
    const e: TaskEntry = {
      pid,
      startTime: id.startTime,
      scope,
      trace: opts.trace === true,
      comm: id.comm,
      addedAt: Date.now(),
      selection,
      slo: {},
      threads: [],
      droppedThreads: 0,
      exited: false,
      exitedAt: 0,
      freezeAt: 0,
      final: null,
    };
    this.entries.push(e);
    this.analysis.addSelection(selection);
    if (scope === "process") this.learnThreads(e);
    return e;
  }

  /** del_pid: stops tracking; returns the final statistics (and worst windows). */
  del(pid: number): { entry: TaskEntry; threads: ThreadStats[] } {
    const e = this.entry(pid);
    const threads = this.threadStats(e);
    if (!e.exited) this.analysis.removeSelection(e.selection);
    for (const t of e.threads) this.forget(t);
    this.entries.splice(this.entries.indexOf(e), 1);
    return { entry: e, threads };
  }

  /** set_slo_*_bound: a bound for every thread of the task (undefined clears it). */
  setSlo(pid: number, metric: MetricKey, boundNs: number | undefined): TaskEntry {
    const e = this.entry(pid);
    if (e.exited) throw new DaemonError(409, `pid ${pid} has exited: its statistics are final`);
    if (boundNs === undefined) delete e.slo[metric];
    else e.slo[metric] = boundNs;
    for (const t of e.threads) if (t.tracked) this.analysis.setTaskSlo(t, metric, boundNs);
    return e;
  }

  /** The task a pid names: the live one, else the most recently exited one. */
  entry(pid: number): TaskEntry {
    let found: TaskEntry | undefined;
    for (const e of this.entries) {
      if (e.pid !== pid) continue;
      if (!e.exited) return e;
      if (found === undefined || e.exitedAt > found.exitedAt) found = e;
    }
    if (found === undefined) throw new DaemonError(404, `pid ${pid} is not tracked (rtscope ctl list)`);
    return found;
  }

  list(): readonly TaskEntry[] {
    return this.entries;
  }

  /** A task's threads' statistics: final when it has exited, else current. */
  threadStats(e: TaskEntry): ThreadStats[] {
    if (e.final !== null) return e.final;
    const own = new Set(ownThreads());
    return e.threads.map((t) => ({
      report: markOwnTask(this.analysis.reportOf(t), own),
      histograms: t.metrics.map((s) => (s !== null && s.count > 0 ? s.histogram() : undefined)),
    }));
  }

  /** The bound in force for a thread and metric (NaN = none). */
  boundOf(t: TaskState, metric: MetricKey): number {
    return this.analysis.boundOf(t, metric);
  }

  /** The worst window of a traced task's metric across its threads (by role). */
  worst(
    pid: number,
    metric: MetricKey,
    role: WindowRole,
  ): { window: CapturedWindow; tid: number; comm: string } {
    const e = this.entry(pid);
    if (!e.trace)
      throw new DaemonError(
        404,
        `pid ${pid} was added without trace: no worst-case windows (add it with trace)`,
      );
    const windows = this.run.windows;
    let best: { window: CapturedWindow; tid: number; comm: string } | undefined;
    for (const t of e.threads) {
      const w = windows?.captured(t.tid, metric, role);
      if (w === undefined || (best !== undefined && w.sample.value <= best.window.sample.value)) continue;
      best = { window: w, tid: t.tid, comm: t.comm };
    }
    if (best === undefined)
      throw new DaemonError(
        404,
        `pid ${pid}: no ${metric} window yet (${role}; a window needs samples of it${role === "max" ? "" : " over its bound"})`,
      );
    return best;
  }

  /**
   * The run as the store keeps it: the capture's report with the tasks the daemon tracks
   * at the end (live ones as they are, exited ones frozen; deleted ones were handed over at
   * `del`), and their histograms.
   */
  runReport(report: Report): {
    report: Report;
    histogram: (t: TaskReport, index: number, m: MetricKey) => Histogram | undefined;
  } {
    const threads = this.entries.flatMap((e) => this.threadStats(e));
    const selection = this.entries
      .map((e) => `${e.scope === "process" ? "--tgid" : "--pid"} ${e.pid}`)
      .join(" ");
    return {
      report: { ...report, selection: selection || "no tasks", tasks: threads.map((t) => t.report) },
      histogram: (_t, index, m) => threads[index]?.histograms[METRIC_KEYS.indexOf(m)],
    };
  }

  // --- once a second ----------------------------------------------------------------------

  /** Exits /proc shows (an exit event may be lost), freezing, threads, the tracefs check. */
  tick(now = Date.now()): void {
    for (const e of this.entries) {
      if (!e.exited && e.scope === "process") this.learnThreads(e);
      if (!e.exited) {
        const id = procIdentity(e.pid);
        if (id === undefined || id.startTime !== e.startTime) {
          for (const t of e.threads) this.exitedThreads.add(t);
          this.markExited(e, now);
        }
      } else if (e.final === null && now >= e.freezeAt) this.freeze(e);
    }
    this.dropOldExited();
    this.watch.check();
  }

  /**
   * Notes the threads /proc lists for a tracked process, and hands the analysis the group
   * of threads it met without knowing it (their /proc entry was gone when it read it).
   */
  private learnThreads(e: TaskEntry): void {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${e.pid}/task`);
    } catch {
      return;
    }
    if (this.seenThreads.size > MAX_SEEN_THREADS) this.seenThreads.clear();
    for (const name of tids) {
      const tid = Number(name);
      this.seenThreads.set(tid, e.pid);
      const t = this.analysis.thread(tid);
      // /proc is authoritative for a live thread: a state made from a lost fork event, or
      // left by an earlier thread with this tid, may carry another group
      if (t !== undefined && t.tgid !== e.pid && !t.tracked) this.analysis.setThreadGroup(t, e.pid);
    }
  }

  private threadGroupOf(tid: number): { tgid: number } | undefined {
    const tgid = this.seenThreads.get(tid);
    return tgid === undefined ? undefined : { tgid };
  }

  private markExited(e: TaskEntry, now = Date.now()): void {
    if (e.exited) return;
    e.exited = true;
    e.exitedAt = now;
    e.freezeAt = now + FREEZE_DELAY_MS;
    // from now on a new task with this pid is not the one the user added
    this.analysis.removeSelection(e.selection);
  }

  private freeze(e: TaskEntry): void {
    e.final = this.threadStats(e);
    // exited threads' states are no longer needed: their ids may be reused
    for (const t of e.threads) if (this.exitedThreads.has(t)) this.forget(t);
  }

  private forget(t: TaskState): void {
    if (t.tracked) this.analysis.stopTracking(t);
    this.ownerOf.delete(t);
    this.traced.delete(t);
  }

  private dropOldExited(): void {
    let exited = 0;
    for (const e of this.entries) if (e.exited) exited++;
    while (exited > MAX_EXITED) {
      let oldest = -1;
      for (let i = 0; i < this.entries.length; i++) {
        const e = this.entries[i];
        if (e.exited && (oldest < 0 || e.exitedAt < this.entries[oldest].exitedAt)) oldest = i;
      }
      const [e] = this.entries.splice(oldest, 1);
      for (const t of e.threads) this.forget(t);
      exited--;
    }
  }

  // --- analysis hooks (called from the pipeline) ------------------------------------------

  private onTracked(t: TaskState): void {
    // a thread that has exited belongs to the task it was part of, never to a new task
    // that reuses its process id (re-adding a pid re-selects the states of its tgid)
    if (this.exitedThreads.has(t)) {
      this.analysis.stopTracking(t);
      return;
    }
    let owner: TaskEntry | undefined;
    for (const e of this.entries) {
      if (e.exited) continue;
      if ((e.scope === "process" && e.pid === t.tgid) || (e.scope === "thread" && e.pid === t.tid)) {
        owner = e;
        break;
      }
    }
    if (owner === undefined) return;
    this.ownerOf.set(t, owner);
    if (!owner.threads.includes(t)) owner.threads.push(t);
    if (owner.threads.length > MAX_THREADS_PER_TASK) {
      const i = owner.threads.findIndex((x) => this.exitedThreads.has(x));
      if (i >= 0) {
        this.forget(owner.threads[i]);
        owner.threads.splice(i, 1);
        owner.droppedThreads++;
      }
    }
    for (const key of METRIC_KEYS) {
      const b = owner.slo[key];
      if (b !== undefined) this.analysis.setTaskSlo(t, key, b);
    }
    if (owner.trace) this.traced.add(t);
  }

  private onExit(t: TaskState): void {
    this.exitedThreads.add(t);
    const e = this.ownerOf.get(t);
    if (e !== undefined && (e.scope === "thread" || t.tid === e.pid)) this.markExited(e);
  }

  /** Windows only for traced threads; every violation to the stream. */
  private observer(windows: SampleObserver | undefined): SampleObserver {
    return {
      onSample: (s: SampleEvent) => {
        const t = this.analysis.thread(s.tid);
        if (t === undefined) return;
        if (windows !== undefined && this.traced.has(t)) windows.onSample(s);
        if (s.isViolation && this.onViolation !== null) {
          this.onViolation({
            pid: this.ownerOf.get(t)?.pid ?? t.tgid,
            tid: t.tid,
            comm: t.comm,
            metric: s.metric,
            value: Math.round(s.value),
            bound: this.boundOf(t, s.metric),
            at: absoluteTs(this.run.session.source.info.tsBase, s.end),
          });
        }
      },
    };
  }
}
