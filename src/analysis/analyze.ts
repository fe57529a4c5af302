// The analysis engine's front door: wires the analyzers of one pipeline (IRQ lines, CPU
// coverage, activations over the task table), changes selection and SLOs at run time
// (live), and builds the Report (SPEC §1, §2).
//
// Decisions the SPEC left open (details in the files named):
// - policy: sched events carry the prio, not the policy: "RT" for prio < 100 unless /proc
//   (taskInfo) says FIFO/RR; -1 = "DEADLINE"; else "OTHER" (task-report.ts).
// - tgid: from taskInfo, initialTgids (rtscope's own trace.dat option), task_newtask clone
//   flags, the text TGID column or exec; else tid, and `--tgid` warns about the tasks it
//   could not place (task-table.ts, tgidDiagnostics below).
// - counters.wakeups counts wakeups that started an activation (not wakeups of running or
//   runnable threads); incomplete counts activations cut (counters.cut: by lost events, by a
//   CPU involved without data since the activation's start, by an unrecorded switch-out, by
//   a second wakeup before any switch-in) (activations.ts, cpu-coverage.ts). Activations
//   open at the end of the stream are not counted.
// - lost events cut every activation overlapping the gap, on every CPU (activations.ts).
// - non-threaded (and threaded) IRQ lines: hard-IRQ durations in Report.irqLines, collected
//   when the selection has --irq-threads or is empty (all tasks); task rows keep SPEC's schema.
// - timer: from the requested expiry (softexpires) to sys_exit of the sleep syscall when the
//   thread slept in one we saw, else to the switch-in (activations.ts).

import type { Histogram } from "hdr-histogram-js";
import pkg from "../../package.json" with { type: "json" };
import { Diagnostics } from "../model/diagnostics.ts";
import { EventKind } from "../model/event-kind.ts";
import {
  type IrqLineReport,
  METRIC_KEYS,
  type MetricKey,
  type Report,
  type SloBounds,
  type TaskReport,
  type TimerClockReport,
  unmeasuredMetrics,
} from "../model/report.ts";
import { describeSelection, type Selection, selectionIsEmpty } from "../model/selection.ts";
import type { SourceInfo, SymbolTable, TraceSource } from "../model/source.ts";
import { absoluteTs, formatDuration } from "../model/units.ts";
import { Activations } from "./activations.ts";
import type { Analyzer, Pipeline } from "./analyzer.ts";
import { CpuCoverage } from "./cpu-coverage.ts";
import { IrqLines } from "./irq-lines.ts";
import type { LiveAnalysis } from "./live-analysis.ts";
import { nothingMeasuredMessage } from "./nothing-measured.ts";
import type { DroppedWindow, SampleObserver, SampleSink, WorstWindowProvider } from "./sample-observer.ts";
import { SelectionMatcher } from "./selection-matcher.ts";
import { applyTaskInfo, type TaskInfoLookup } from "./task-info.ts";
import { buildTaskReport, causeFailures, compareTasks } from "./task-report.ts";
import { METRIC_COUNT, type TaskState } from "./task-state.ts";
import { type TaskListener, TaskTable } from "./task-table.ts";
import { TimerClock, TimerClockMode, UNSEEN_DELAY_ALLOWANCE } from "./timer-clock.ts";
import type { WindowSource } from "./window-source.ts";

export interface AnalysisOptions {
  selection: Selection;
  /** bounds in ns by metric key */
  slo: SloBounds;
  /** which event starts an activation (default "wakeup"; sched_wakeup_new always does) */
  wakeupEvent: "wakeup" | "waking";
  /** 0 = none; else keep the N worst activations per metric (TaskReport.worstList) */
  worstN: number;
  symbols: SymbolTable;
  initialComms: ReadonlyMap<number, string>;
  /** thread → tgid known before the first event (saved_tgids) */
  initialTgids?: ReadonlyMap<number, number>;
  cpus: number;
  /** the trace clock ("mono", "local"...; "" = not stated): how timer expiries meet trace timestamps */
  traceClock: string;
  /** called on new max / first & worst SLO violation */
  observer?: SampleObserver;
  /**
   * where the observer's windows come from: its analyzer (a flight recorder) joins
   * `analyzers`, before the activations, so that a window's last event is held when its
   * sample is reported
   */
  windowSource?: WindowSource;
  /** told every sample and cut activation (--samples) */
  sink?: SampleSink;
  /** fills TaskReport.worst */
  windows?: WorstWindowProvider;
  /** live: /proc lookups, once per thread when first seen */
  taskInfo?: TaskInfoLookup;
  /** relative ts from which every CPU has data (SourceInfo.validFromTs; live: 0) */
  validFromTs?: number;
  /** the stream's tsBase, for snapshot() timestamps (report() takes it from SourceInfo) */
  tsBase?: bigint;
  /** an empty selection tracks every task (default true); a daemon that adds tasks later passes false */
  emptyMeansAll?: boolean;
  /** live daemon: told when a thread becomes tracked (to set its bounds) and when a tracked thread exits */
  tasks?: TaskListener;
  /** tell `observer` of every SLO violation as it happens (a live stream), not only first/worst */
  observeViolations?: boolean;
  /** exited tracked threads kept for the report (default MAX_EXITED); older ones are dropped and counted */
  maxExitedTasks?: number;
}

/** An absolute trace timestamp in seconds, for messages. */
function fmtTs(tsBase: bigint, rel: number): string {
  return `${(Number(tsBase + BigInt(Math.round(rel))) / 1e9).toFixed(6)} s`;
}

const NO_SYMBOLS: SymbolTable = { hrtimerWakeupKey: -1, name: () => "" };

export function defaultAnalysisOptions(selection: Selection): AnalysisOptions {
  return {
    selection,
    slo: {},
    wakeupEvent: "wakeup",
    worstN: 0,
    symbols: NO_SYMBOLS,
    initialComms: new Map(),
    cpus: 1,
    // the clock live capture sets; sources say theirs (sourceAnalysisOptions)
    traceClock: "mono",
  };
}

export class Analysis implements LiveAnalysis {
  /** Feed these from one loop (`new Pipeline(analysis.analyzers)` orders them). */
  readonly analyzers: Analyzer[];
  readonly table: TaskTable;
  readonly activations: Activations;
  readonly irqLines: IrqLines;
  readonly coverage: CpuCoverage;
  readonly timerClock: TimerClock;
  private readonly opts: AnalysisOptions;
  private readonly sloNs = new Float64Array(METRIC_COUNT).fill(Number.NaN);
  private selections: Selection[];
  private tsBase: bigint;

  constructor(opts: AnalysisOptions) {
    this.opts = opts;
    this.tsBase = opts.tsBase ?? 0n;
    this.selections = [opts.selection];
    for (let m = 0; m < METRIC_COUNT; m++) {
      const b = opts.slo[METRIC_KEYS[m]];
      if (b !== undefined) this.sloNs[m] = b;
    }
    const recorder = opts.windowSource?.analyzer;
    const matcher = new SelectionMatcher(opts.selection, opts.emptyMeansAll ?? true);
    this.table = new TaskTable(matcher, opts.cpus, opts.initialComms, opts.initialTgids, opts.taskInfo);
    if (opts.maxExitedTasks !== undefined) this.table.maxExited = opts.maxExitedTasks;
    this.coverage = new CpuCoverage(opts.cpus, opts.validFromTs);
    const sel = opts.selection;
    this.irqLines = new IrqLines(
      opts.cpus,
      sel.irqThreads || (selectionIsEmpty(sel) && opts.emptyMeansAll !== false),
    );
    this.timerClock = new TimerClock(opts.traceClock, opts.cpus);
    this.activations = new Activations(this.table, this.coverage, this.irqLines, {
      wakeupKind: opts.wakeupEvent === "waking" ? EventKind.SchedWaking : EventKind.SchedWakeup,
      hrtimerWakeupKey: opts.symbols.hrtimerWakeupKey,
      worstN: opts.worstN,
      slo: this.sloNs,
      timerClock: this.timerClock,
      observer: opts.observer,
      sink: opts.sink,
      tasks: opts.tasks,
      observeViolations: opts.observeViolations,
      after: recorder === undefined ? [] : [recorder],
    });
    if (opts.tasks !== undefined) this.table.addListener(opts.tasks);
    // a dropped thread has no row in the report: its windows (and their slots) would only
    // accumulate, one set per short-lived thread
    const windows = opts.windows;
    if (windows?.forgetTask !== undefined)
      this.table.addListener({ taskDropped: (t) => windows.forgetTask?.(t.tid) });
    this.analyzers =
      recorder === undefined
        ? [this.irqLines, this.activations]
        : [recorder, this.irqLines, this.activations];
  }

  // --- run-time changes (live) ----------------------------------------------------------

  /** Widens the selection without losing the stats of threads already tracked. */
  addSelection(sel: Selection): void {
    this.selections.push(sel);
    for (const t of this.table.tasks)
      if (t?.removed && (sel.tids.includes(t.tid) || sel.tgids.includes(t.tgid))) t.removed = false;
    this.table.matcher.add(sel);
    this.table.redecideAll();
  }

  /**
   * Narrows the selection: threads it would select from now on are not (threads already
   * tracked stay until `stopTracking`).
   */
  removeSelection(sel: Selection): void {
    this.table.matcher.remove(sel);
    const same = (a: Selection, b: Selection) =>
      a.tids.join() === b.tids.join() && a.tgids.join() === b.tgids.join();
    const i = this.selections.findIndex((x) => x !== this.opts.selection && same(x, sel));
    if (i >= 0) this.selections.splice(i, 1);
  }

  /** Stops tracking a thread; returns its final statistics (the seed's del_pid). */
  removeTask(tid: number): TaskReport | undefined {
    const t = this.table.get(tid);
    if (t === undefined || !t.tracked) return undefined;
    return this.stopTracking(t);
  }

  /** Stops tracking this thread state (current or retired); returns its final statistics. */
  stopTracking(t: TaskState): TaskReport {
    const r = this.buildTask(t);
    this.table.untrack(t);
    return r;
  }

  /** A thread's state (tracked or not), if the stream showed it. */
  thread(tid: number): TaskState | undefined {
    return this.table.get(tid);
  }

  /** Places a thread in a thread group (/proc said so: a live source knows better than the trace). */
  setThreadGroup(t: TaskState, tgid: number): void {
    this.table.setTgid(t, tgid);
  }

  /** tid → tgid of the given threads whose group is known (not guessed). */
  knownTgids(tids: Iterable<number>): Map<number, number> {
    return this.table.knownTgids(tids);
  }

  /** The bound in force for a thread's metric (its own, else the global one; NaN = none). */
  boundOf(t: TaskState, metric: MetricKey): number {
    return this.activations.boundFor(t, METRIC_KEYS.indexOf(metric));
  }

  /**
   * Sets (or clears, with undefined) a bound: for every thread, or for one thread (overrides
   * the global bound). Violations are counted from the change on.
   */
  setSlo(metric: MetricKey, boundNs: number | undefined, tid?: number): void {
    const m = METRIC_KEYS.indexOf(metric);
    if (tid !== undefined) {
      const t = this.table.get(tid);
      if (t !== undefined) this.setTaskSlo(t, metric, boundNs);
      return;
    }
    this.sloNs[m] = boundNs === undefined ? Number.NaN : boundNs;
    if (boundNs === undefined) delete this.opts.slo[metric];
    else this.opts.slo[metric] = boundNs;
    for (const t of this.table.trackedTasks()) t.metrics[m]?.setBound(this.activations.boundFor(t, m));
  }

  /** A thread's own bound (undefined: back to the global one); counted from the change on. */
  setTaskSlo(t: TaskState, metric: MetricKey, boundNs: number | undefined): void {
    const m = METRIC_KEYS.indexOf(metric);
    t.sloOverride ??= new Float64Array(METRIC_COUNT).fill(Number.NaN);
    t.sloOverride[m] = boundNs === undefined ? Number.NaN : boundNs;
    t.metrics[m]?.setBound(this.activations.boundFor(t, m));
  }

  /**
   * Counts only samples that end in [fromTs, untilTs) (relative ns; the activations go on
   * outside it): two analyses of one stream split at one instant, as `admit` does.
   */
  countSamplesBetween(fromTs: number, untilTs: number): void {
    this.activations.countBetween(fromTs, untilTs);
  }

  /** Bounds in force (global). */
  slo(): SloBounds {
    return { ...this.opts.slo };
  }

  // --- results ------------------------------------------------------------------------------

  /** The report object of a thread state the caller holds (it may have exited or been retired). */
  reportOf(t: TaskState): TaskReport {
    return this.buildTask(t);
  }

  /** One thread's report object (absolute timestamps), or undefined when not tracked. */
  task(tid: number): TaskReport | undefined {
    const t = this.table.get(tid);
    return t?.tracked ? this.buildTask(t) : undefined;
  }

  /** The HDR histogram of a thread's metric (for storage and Prometheus), if it has samples. */
  histogram(tid: number, metric: MetricKey): Histogram | undefined {
    const t = this.table.get(tid);
    return t?.metrics[METRIC_KEYS.indexOf(metric)]?.histogram();
  }

  /** A thread's metric as a stored run keeps it (MetricStats.stored), if it has samples. */
  storedHistogram(tid: number, metric: MetricKey): Histogram | Float64Array | undefined {
    return this.table.get(tid)?.metrics[METRIC_KEYS.indexOf(metric)]?.stored();
  }

  /** Every tracked thread, report order. Summaries are cached per metric until a new sample. */
  snapshot(): TaskReport[] {
    return this.firstTasks(Number.POSITIVE_INFINITY).rows;
  }

  /**
   * The first `limit` tracked threads in report order, and how many are tracked: only the
   * rows shown are built (a top frame shows a screenful of thousands, and building a row
   * reads /proc and the thread's percentiles).
   */
  firstTasks(limit: number): { rows: TaskReport[]; total: number } {
    const tasks = this.table.trackedTasks();
    tasks.sort(compareTasks);
    const n = Math.min(limit, tasks.length);
    const rows: TaskReport[] = new Array(n);
    for (let i = 0; i < n; i++) rows[i] = this.buildTask(tasks[i]);
    return { rows, total: tasks.length };
  }

  irqLineReports(): IrqLineReport[] {
    const out: IrqLineReport[] = [];
    for (const l of this.irqLines.data().lines) {
      if (l === undefined || l.stats === null || l.stats.count === 0) continue;
      out.push({ irq: l.irq, name: l.name, hardirq: l.stats.summary(this.tsBase, "other") });
    }
    return out;
  }

  private buildTask(t: TaskState): TaskReport {
    // live: policy and base priority as they are now (a thread often sets them after it
    // was first seen), unless the thread is gone or its tid now names another thread
    // (an exited thread's /proc entry is gone or another thread's: not read, a failed open
    // per exited thread per top frame cost more than the rest of the frame)
    const info = Number.isNaN(t.exitTs) ? this.opts.taskInfo?.(t.tid) : undefined;
    if (info !== undefined && (info.comm === undefined || info.comm === t.comm)) applyTaskInfo(t, info);
    return buildTaskReport(t, this.tsBase, this.activations.data().migrateEventsSeen, this.opts.windows);
  }

  /** The data problems the analysis found (the source's are merged in `report`). */
  diagnostics(): Diagnostics {
    const d = new Diagnostics();
    const a = this.activations.data();
    const seen = a.kindSeen;
    const waking = this.opts.wakeupEvent === "waking";
    const wakeKind = waking ? EventKind.SchedWaking : EventKind.SchedWakeup;
    if (seen[EventKind.SchedSwitch] && !seen[wakeKind])
      d.add(
        "no_wakeup_events",
        `no sched:${waking ? "sched_waking" : "sched_wakeup"}${!waking && seen[EventKind.SchedWaking] ? " (this trace has sched_waking: use --wakeup-event waking)" : ""}`,
      );
    if (seen[wakeKind] && !seen[EventKind.SchedSwitch]) d.add("no_switch_events", "");
    if (seen[EventKind.SchedSwitch] && !seen[EventKind.HrtimerStart] && !seen[EventKind.SysEnterSleep])
      d.add("no_timer_events", "");
    const missed = a.missedSwitches;
    for (let c = 0; c < missed.length; c++) if (missed[c] > 0) d.add("missed_switch", "", missed[c], c);
    if (a.inferredSwitchIns > 0) d.add("inferred_switch_in", "", a.inferredSwitchIns);
    if (a.cutByLoss > 0) d.add("activation_cut_by_loss", "", a.cutByLoss);
    if (a.cutByNoData > 0) d.add("activation_cut_cpu_without_data", "", a.cutByNoData);
    if (a.cutByMissedRun > 0) d.add("activation_cut_missed_run", "", a.cutByMissedRun);
    if (a.cutByMissedSwitch > 0) d.add("activation_cut_missed_switch", "", a.cutByMissedSwitch);
    if (a.timerEndMissing > 0) d.add("timer_end_missing", "", a.timerEndMissing);
    for (const c of this.coverage.silentCpus()) d.add("cpu_no_data", "", 1, c);
    for (const { cpu, from } of this.coverage.lateCpus())
      d.add("cpu_data_late", `its data begins at ${fmtTs(this.tsBase, from)}`, 1, cpu);
    this.tgidDiagnostics(d);
    const irq = this.irqLines.data();
    if (irq.unmatchedExits > 0) d.add("irq_exit_unmatched", "", irq.unmatchedExits);
    if (this.table.retiredDropped > 0) d.add("retired_tasks_dropped", "", this.table.retiredDropped);
    if (this.table.exitedDropped > 0) d.add("exited_tasks_dropped", "", this.table.exitedDropped);
    this.timerClockDiagnostics(d);
    const dropped = this.opts.windows?.droppedWindows?.() ?? [];
    for (const w of dropped) d.add("window_dropped", this.droppedDetail(w));
    let clamped = 0;
    for (const t of this.table.trackedTasks())
      for (const s of t.metrics) if (s !== null) clamped += s.clamped;
    if (clamped > 0) d.add("sample_clamped", "", clamped);
    return d;
  }

  /** How timer expiries were put on the trace clock, when it matters (SPEC §1 timer row). */
  timerClockReport(): TimerClockReport | undefined {
    const c = this.timerClock;
    const unavailable = c.mode === TimerClockMode.Unavailable;
    if (
      c.directSamples + c.estimatedSamples === 0 &&
      !(unavailable && this.activations.data().kindSeen[EventKind.HrtimerExpireEntry])
    )
      return undefined;
    return {
      mode: unavailable ? "unavailable" : c.estimatedSamples > 0 ? "estimated" : "direct",
      traceClock: c.traceClock,
      direct: c.directSamples,
      estimated: c.estimatedSamples,
      errorBound: c.estimatedSamples > 0 ? Math.round(c.errorSeen) + UNSEEN_DELAY_ALLOWANCE : 0,
    };
  }

  private timerClockDiagnostics(d: Diagnostics): void {
    const r = this.timerClockReport();
    if (r === undefined || r.mode === "direct") return;
    const clock = r.traceClock === "" ? "trace clock not stated" : `trace clock ${r.traceClock}`;
    if (r.mode === "unavailable") {
      d.add("timer_clock_unavailable", clock);
      return;
    }
    const timers = r.direct > 0 ? `, ${r.direct} MONOTONIC timer samples direct` : "";
    d.add("timer_clock_estimated", `${clock}${timers}; error bound ${r.errorBound} ns`, r.estimated);
  }

  /**
   * `--tgid`: which tasks the trace could place in a thread group and which it could not
   * (sched_process_fork alone does not tell a thread from a process): never a silent guess.
   */
  private tgidDiagnostics(d: Diagnostics): void {
    const wanted = new Set<number>();
    for (const s of this.selections) for (const p of s.tgids) wanted.add(p);
    if (wanted.size === 0) return;
    const { groupSources: g, forkedUngrouped } = this.activations.data();
    for (const p of wanted) {
      // created by a task of the group: a thread of it or a child process, the trace cannot say
      const unplaced: number[] = [];
      for (const [tid, creatorGroup] of forkedUngrouped) {
        const t = this.table.get(tid);
        if (creatorGroup === p && !(t?.tracked ?? false) && !(t?.tgidKnown ?? false)) unplaced.push(tid);
      }
      if (unplaced.length > 0) {
        const list = unplaced.slice(0, 20).join(", ") + (unplaced.length > 20 ? ", ..." : "");
        d.add(
          "tgid_unplaced",
          `--tgid ${p}: ${unplaced.length} task(s) created by process ${p} (${list}) were NOT selected`,
          unplaced.length,
        );
      } else if (
        g.newtask === 0 &&
        g.column === 0 &&
        this.opts.initialTgids === undefined &&
        !this.opts.taskInfo
      ) {
        let known = 0;
        for (const t of this.table.trackedTasks()) if (t.tgid === p && t.tgidKnown) known++;
        d.add("tgid_no_group_data", `--tgid ${p}: ${known} task(s) placed in the group (from exec)`);
      }
    }
  }

  /** "cyclictest:28861 latency (max, 2.947 ms)": which window was dropped */
  private droppedDetail(w: DroppedWindow): string {
    const comm = this.table.get(w.tid)?.comm || "?";
    return `${comm}:${w.tid} ${w.metric} (${w.roles.join(", ")}, ${formatDuration(w.value)})`;
  }

  /** Names of the threads the stream showed, tracked or not (one entry per thread). */
  private *threadNames(): Iterable<string> {
    for (const t of this.table.tasks) if (t !== null) yield t.comm;
    for (const t of this.table.retired) yield t.comm;
    yield* this.table.releasedNames;
  }

  /** Lost events seen in the stream; -1 when some loss had no count. */
  lostEvents(): number {
    const a = this.activations.data();
    return a.lostUnknown > 0 ? -1 : a.lostKnown;
  }

  report(info: SourceInfo, sourceDiagnostics: Diagnostics, pipeline: Pipeline): Report {
    this.tsBase = info.tsBase;
    const diags = new Diagnostics();
    diags.merge(sourceDiagnostics);
    diags.merge(this.diagnostics());
    const lost =
      this.activations.data().lostRecords > 0 ? this.lostEvents() : sourceDiagnostics.total("lost_events");
    const report: Report = {
      tool: "rtscope",
      version: pkg.version,
      source: {
        kind: info.kind,
        path: info.path,
        clock: info.clock,
        cpus: info.cpus,
        kernel: info.kernel,
        events: pipeline.events,
        lostEvents: lost,
        format: info.format,
      },
      slo: this.slo(),
      selection: this.selections.map(describeSelection).join(" + "),
      tasks: this.snapshot(),
      diagnostics: [],
    };
    causeFailures(report.tasks, diags);
    const unmeasured = unmeasuredMetrics(report);
    if (unmeasured.length > 0)
      diags.add(
        "nothing_measured",
        nothingMeasuredMessage(unmeasured, this.selections, this.threadNames(), report.tasks.length),
      );
    report.diagnostics = diags.list();
    if (pipeline.events > 0) {
      report.source.start = absoluteTs(info.tsBase, pipeline.firstTs);
      report.source.end = absoluteTs(info.tsBase, pipeline.lastTs);
    }
    const timerClock = this.timerClockReport();
    if (timerClock !== undefined) report.source.timerClock = timerClock;
    const lines = this.irqLineReports();
    if (lines.length > 0) report.irqLines = lines;
    return report;
  }
}

/** What the analysis takes from the source itself: symbols, names, CPUs, clock base. */
export function sourceAnalysisOptions(
  source: Pick<TraceSource, "info" | "symbols" | "initialComms" | "initialTgids">,
): Pick<
  AnalysisOptions,
  "symbols" | "initialComms" | "initialTgids" | "cpus" | "validFromTs" | "tsBase" | "traceClock"
> {
  return {
    traceClock: source.info.clock,
    symbols: source.symbols,
    initialComms: source.initialComms,
    initialTgids: source.initialTgids,
    cpus: source.info.cpus,
    validFromTs: source.info.validFromTs,
    tsBase: source.info.tsBase,
  };
}
