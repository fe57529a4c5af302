// `rtscope record`: live capture from the running kernel, then the report (SPEC §2). Ends
// at --duration, Ctrl-C/SIGTERM/SIGHUP or the launched command's exit; on Ctrl-C the report
// is still written. The private tracefs instance is removed in every case.

import type { Analysis, AnalysisOptions } from "../analysis/analyze.ts";
import type { Pipeline } from "../analysis/analyzer.ts";
import { markOwnThreads } from "../analysis/own-interference.ts";
import { createAnalysisPipeline } from "../analysis/pipeline.ts";
import type { SampleObserver } from "../analysis/sample-observer.ts";
import type { WorstWindows } from "../analysis/worst-windows.ts";
import type { CommandStatus, Report, SloBounds } from "../model/report.ts";
import type { Selection } from "../model/selection.ts";
import { parseDuration } from "../model/units.ts";
import type { HdrLike, HistogramLookup } from "../output/hist-report.ts";
import { writeOutputFile } from "../output/output-file.ts";
import { SamplesCsvWriter } from "../output/samples-csv.ts";
import type { WindowRenderer } from "../output/text-report.ts";
import {
  defaultBufferSizeKb,
  type LiveSource,
  PLANNED_RATE_PER_CPU,
  STALL_COVER_S,
  stallCoverS,
} from "../sources/tracefs-live.ts";
import { defaultDbPath, type RunInput, RunStore, StoreError } from "../store/run-store.ts";
import { CaptureSession, DEFAULT_READER_PRIORITY } from "../tracefs/capture-session.ts";
import type { PlannedEvent } from "../tracefs/event-plan.ts";
import { ownThreads, procTaskInfo } from "../tracefs/proc-tasks.ts";
import type { StoredHistogramLookup } from "./analyze-trace.ts";
import { gateExit } from "./gate.ts";
import { checkLaunchable } from "./launch-check.ts";
import {
  ANALYSIS_HELP,
  ANALYSIS_OPTIONS,
  exitHelp,
  HELP_OPTIONS,
  HIST_OPTIONS,
  type HistSettings,
  METRICS_HELP,
  OUTPUT_OPTIONS,
  parseCommandLine,
  parseCount,
  parseFormat,
  parseHistSettings,
  parseSlo,
  parseWakeupEvent,
  parseWindowSettings,
  REPORT_FORMATS,
  type ReportFormat,
  SAMPLES_HELP,
  SELECTION_HELP,
  SELECTION_OPTIONS,
  SLO_HELP,
  SLO_OPTIONS,
  selectionFromValues,
  showsWindows,
  UsageError,
  WINDOW_HELP,
  WINDOW_OPTIONS,
  type WindowSettings,
} from "./options.ts";
import { DB_HELP, DB_OPTIONS } from "./stored-runs.ts";

export const summary = "trace live and report per-task latencies";

export const LIVE_HELP = `Live capture:
  --duration TIME        stop after TIME (30s, 500ms...); default: until Ctrl-C or the command exits
                         (on Ctrl-C a launched command gets SIGTERM and is traced until it has
                         exited, 2 s at most; a second Ctrl-C quits without a report)
  --buffer-size KB       per-CPU ring buffer in KiB (default: room for a ${STALL_COVER_S} s stall of the reader
                         at ${PLANNED_RATE_PER_CPU / 1000} k events/s per CPU, ${defaultBufferSizeKb(1, 1 << 30)} KiB, at most 1/64 of
                         the memory; the start-up line says how long a stall it covers)
  --cpu LIST             pin rtscope itself to these CPUs (housekeeping CPUs, e.g. 0 or 0-1)
  --priority N|normal    rtscope's reader (its main thread; V8's compiler threads stay at normal
                         priority) as SCHED_FIFO N, or at normal priority (default as root:
                         SCHED_FIFO ${DEFAULT_READER_PRIORITY}, so that no normal-priority load can starve the reader into
                         losing events, while every real RT task still preempts it; its own CPU
                         time then comes out of normal tasks first. Without --cpu it then stays
                         off isolcpus/nohz_full CPUs. At SCHED_FIFO rtscope restarts itself in
                         place with V8's GC on the reader's thread; windows mark its own
                         threads "(rtscope)")
  --no-syscalls          do not trace clock_nanosleep/nanosleep (timer metric ends at switch-in)
  -- CMD ARGS            launch CMD (it keeps your terminal) and track it, its threads and children;
                         how it ended is in the report and on stderr, and a command that exits
                         non-zero or is killed makes the run fail (exit status 5)
  --ignore-command-status  the launched command's failure does not change the exit status`;

export const help = `Usage: rtscope record [SELECTION] [--duration 30s] [--slo ...] [--format text|json|junit|hist]
                      [-o FILE] [--buffer-size KB] [--cpu LIST] [--margin T] [--window-memory SIZE]
                      [--db PATH | --no-store] [-- CMD ARGS]

Traces the running kernel through a private tracefs instance (instances/rtscope-<pid>) and
reports, per process and thread, the metrics below. Needs root. Lost events are counted and
shown in every format; activations they cut are counted as incomplete, never as samples.

${SELECTION_HELP}

${SLO_HELP}

Output:
  --format, -f F         text (default), json, junit, hist
  -o, --output FILE      write the report to FILE (use it when the command prints to the terminal)
  --worst N              also list the N worst samples of each metric
${SAMPLES_HELP}
  --bucket SIZE, --entries N, --with-zeros   hist format settings

${LIVE_HELP}

${WINDOW_HELP}

Run database (rtscope runs, rtscope compare):
  --no-store             do not store the run
${DB_HELP}
                         Each run is stored there with its histograms and worst-case windows.
                         A database that cannot be written (full or read-only disk) is
                         reported on stderr after the report; the report and exit status stand.

${ANALYSIS_HELP}

${METRICS_HELP}

Examples:
  sudo rtscope record --comm cyclictest --duration 30s --slo timer=100us
  sudo rtscope record -o report.txt -- cyclictest -m -t2 -p80 -i1000 -l10000
  sudo rtscope record --rt --format json -o run.json --cpu 0
  sudo rtscope record --comm cyclictest --duration 10s --samples samples.csv
  sudo rtscope record --comm myloop --duration 1m; sudo rtscope runs   # then: rtscope compare ID ID

${exitHelp(true)}
`;

export const LIVE_OPTIONS = {
  duration: { type: "string" },
  "buffer-size": { type: "string" },
  cpu: { type: "string" },
  priority: { type: "string" },
  "no-syscalls": { type: "boolean" },
  "ignore-command-status": { type: "boolean" },
} as const;

const OPTIONS = {
  ...HELP_OPTIONS,
  ...SELECTION_OPTIONS,
  ...SLO_OPTIONS,
  ...ANALYSIS_OPTIONS,
  ...OUTPUT_OPTIONS,
  ...HIST_OPTIONS,
  ...LIVE_OPTIONS,
  ...WINDOW_OPTIONS,
  ...DB_OPTIONS,
  "save-trace": { type: "string" },
  "no-store": { type: "boolean" },
} as const;

export interface LiveValues {
  duration?: string;
  "buffer-size"?: string;
  cpu?: string;
  priority?: string;
  "no-syscalls"?: boolean;
  "ignore-command-status"?: boolean;
}

export interface LiveSettings {
  durationNs?: number;
  /** undefined: sized for this machine (defaultBufferSizeHere) */
  bufferSizeKb?: number;
  cpuList?: string;
  /** undefined: the default placement (SCHED_FIFO DEFAULT_READER_PRIORITY as root) */
  priority?: number | "normal";
  syscalls: boolean;
  /** --ignore-command-status */
  ignoreCommandStatus?: boolean;
}

export function parseLiveValues(v: LiveValues, command: string): LiveSettings {
  let durationNs: number | undefined;
  if (v.duration !== undefined) {
    try {
      durationNs = parseDuration(v.duration, "--duration");
    } catch (e) {
      throw new UsageError((e as Error).message, command);
    }
    // a bare number is seconds here, as in perf/rtla (-d 30)
    if (/^\s*\d+(\.\d+)?\s*$/.test(v.duration)) durationNs = Number(v.duration) * 1e9;
    if (durationNs <= 0) throw new UsageError("--duration must be positive", command);
  }
  const bufferSizeKb =
    v["buffer-size"] === undefined
      ? undefined
      : parseCount(v["buffer-size"], "--buffer-size", 0, { min: 4, max: 4 * 1024 * 1024 }, command);
  if (v.cpu !== undefined && !/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(v.cpu))
    throw new UsageError(`--cpu expects a CPU list like 0 or 0-1,3, got '${v.cpu}'`, command);
  const priority =
    v.priority === undefined || v.priority === "normal"
      ? v.priority
      : parseCount(v.priority, "--priority", 1, { min: 1, max: 99 }, command);
  return {
    durationNs,
    bufferSizeKb,
    cpuList: v.cpu,
    priority,
    syscalls: v["no-syscalls"] !== true,
    ignoreCommandStatus: v["ignore-command-status"] === true,
  };
}

export interface RecordOptions {
  selection: Selection;
  slo: SloBounds;
  format: ReportFormat;
  output?: string;
  worstN: number;
  /** --samples: CSV of every sample */
  samples?: string;
  wakeupEvent: "wakeup" | "waking";
  hist: HistSettings;
  live: LiveSettings;
  command: string[];
  /** --margin, --window-memory */
  window: WindowSettings;
  /** the run database (--db or the default); undefined with --no-store */
  db?: string;
}

export function parseRecordArgs(argv: string[], command = "record"): RecordOptions | "help" {
  const { values, positionals, rest } = parseCommandLine(command, argv, OPTIONS, { positionals: false });
  if (values.help) return "help";
  if (positionals.length)
    throw new UsageError(`unexpected argument '${positionals[0]}' (a command goes after --)`, command);
  if (values["save-trace"] !== undefined)
    throw new UsageError(
      "--save-trace is not available in this build; use trace-cmd record alongside",
      command,
    );
  if (values["no-store"] && values.db !== undefined)
    throw new UsageError("--no-store and --db contradict each other: give one", command);
  if (argv.includes("--") && rest.length === 0)
    throw new UsageError("nothing after '--' (expected a command to launch)", command);
  return {
    selection: selectionFromValues(values, command),
    slo: parseSlo(values.slo, command),
    format: parseFormat(values.format, REPORT_FORMATS, "text", command),
    output: values.output,
    worstN: parseCount(values.worst, "--worst", 0, { min: 0, max: 10_000 }, command),
    samples: values.samples,
    wakeupEvent: parseWakeupEvent(values["wakeup-event"], command),
    hist: parseHistSettings(values, command),
    live: parseLiveValues(values, command),
    command: rest,
    window: parseWindowSettings(values, command),
    db: values["no-store"] ? undefined : (values.db ?? defaultDbPath()),
  };
}

// ------------------------------------------------------------ live analysis

/** One live capture feeding one analysis pipeline (shared by record, top and hist). */
export interface LiveRun {
  session: CaptureSession;
  analysis: Analysis;
  pipeline: Pipeline;
  /** undefined when the run captures no worst-case windows */
  windows: WorstWindows | undefined;
  /** --samples writer, closed by finishLiveRun */
  samples?: SamplesCsvWriter;
  /** rtscope's own threads at the start (their tids): marked where windows blame them */
  ownThreads: number[];
}

export interface LiveRunOptions {
  selection: Selection;
  slo: SloBounds;
  worstN: number;
  wakeupEvent: "wakeup" | "waking";
  live: LiveSettings;
  command: string[];
  /** --samples: CSV file of every sample */
  samples?: string;
  /** events to enable instead of the plan (benchmarks) */
  events?: PlannedEvent[];
  /** --margin / --window-memory (defaults: 100 µs, 64 MiB) */
  window?: Partial<WindowSettings>;
  /**
   * capture worst-case windows (default true); off where nothing shows them (top, hist,
   * junit): the flight recorder is then not run at all (~60 of ~150 ns per event of the
   * analysis in bench/analysis-speed.ts)
   */
  windows?: boolean;
  /** a daemon's analysis hooks (its empty selection tracks nothing; tasks come and go) */
  analysis?: Pick<AnalysisOptions, "emptyMeansAll" | "tasks" | "observeViolations" | "taskInfo">;
  /** the observer the analysis calls, given the window capture's (a daemon filters and taps it) */
  observer?: (windows: SampleObserver | undefined) => SampleObserver | undefined;
}

/**
 * Opens the instance, starts tracing, launches the command (its pid joins the selection),
 * then builds the analysis: the selection must be complete before the matcher is made.
 */
export function startLiveRun(o: LiveRunOptions): LiveRun {
  // a command that cannot be executed: say so before any capture (no report on the launcher)
  if (o.command.length > 0) checkLaunchable(o.command[0]);
  const session = CaptureSession.start({
    selection: o.selection,
    wakeupEvent: o.wakeupEvent,
    syscalls: o.live.syscalls,
    bufferSizeKb: o.live.bufferSizeKb,
    durationNs: o.live.durationNs,
    command: o.command,
    cpuList: o.live.cpuList,
    priority: o.live.priority,
    events: o.events,
  });
  let samples: SamplesCsvWriter | undefined;
  try {
    const src = session.source;
    startupNotice(session);
    if (o.samples !== undefined) samples = new SamplesCsvWriter(o.samples, src.info.tsBase);
    const { analysis, pipeline, capture } = createAnalysisPipeline({
      selection: o.selection,
      slo: o.slo,
      worstN: o.worstN,
      wakeupEvent: o.wakeupEvent,
      source: src,
      // live: every CPU's data starts when tracing starts
      validFromTs: 0,
      taskInfo: procTaskInfo,
      windows: o.windows !== false && { ...o.window },
      observer: o.observer,
      sink: samples,
      ...o.analysis,
    });
    // rtscope's threads now (V8's and libuv's start with the process); finishLiveRun adds
    // those that came later
    return { session, analysis, pipeline, windows: capture?.windows, samples, ownThreads: ownThreads() };
  } catch (e) {
    samples?.close();
    session.close();
    throw e;
  }
}

/** One line on stderr: how rtscope reads, and how long a stall its buffer covers. */
function startupNotice(session: CaptureSession): void {
  const src = session.source;
  const prio = session.priority === null ? "normal priority" : `SCHED_FIFO ${session.priority}`;
  const cover = stallCoverS(src.bufferSizeKb);
  const lines = [
    ...session.notes,
    `reading ${src.info.cpus} CPUs at ${prio} (--priority); per-CPU buffer ${src.bufferSizeKb} KiB: covers a reader stall of ${cover >= 1 ? cover.toFixed(1) : cover.toFixed(2)} s at ${PLANNED_RATE_PER_CPU / 1000} k events/s per CPU (--buffer-size)`,
  ];
  for (const l of lines) process.stderr.write(`rtscope: ${l}\n`);
}

/** Reads until an end condition, then builds the report; always removes the instance. */
export async function finishLiveRun(r: LiveRun, onTick?: () => void): Promise<Report> {
  const src = r.session.source;
  try {
    const running = src.run(r.pipeline, {
      signal: r.session.signal,
      onProgress: onTick ? () => onTick() : undefined,
    });
    // run() turned tracing on synchronously: now release the command and start the clock
    r.session.begin();
    await running;
    r.pipeline.finish();
    await r.session.waitChild();
    const report = r.analysis.report(src.info, src.diagnostics, r.pipeline);
    // the source reconciles page flags with the kernel's counters: its count is the better one
    report.source.lostEvents = Math.max(report.source.lostEvents, src.lostEvents);
    const command = commandStatusOf(r.session);
    if (command) report.command = command;
    const perCpu = src.cpuAccounts();
    report.source.written = perCpu.reduce((n, c) => n + c.written, 0);
    const cpu = process.cpuUsage();
    report.source.ownCpu = Math.round((cpu.user + cpu.system) / 1e3) / 1e3;
    report.source.perCpu = perCpu;
    markOwnThreads(report, new Set([...r.ownThreads, ...ownThreads()]));
    return report;
  } finally {
    r.samples?.close();
    r.session.close();
  }
}

/** How the launched command ended (undefined without one). */
export function commandStatusOf(s: CaptureSession): CommandStatus | undefined {
  const child = s.child;
  if (!child || child.pid === undefined) return undefined;
  const running = s.childExit === null;
  const signal = running ? null : s.childSignal;
  return {
    argv: s.command,
    pid: child.pid,
    ended: running ? "running" : signal ? "killed" : "exited",
    exitCode: running || signal ? null : s.childExit,
    signal,
    stoppedByUser: s.stopReason === "signal" || s.stopReason === "requested",
  };
}

/** Histograms of the analysis for the hist format. */
export function histogramLookup(analysis: Analysis): HistogramLookup {
  return (tid, metric) => analysis.histogram(tid, metric) as HdrLike | undefined;
}

/** A status line on stderr while recording (only on a terminal, and not when a command owns it). */
export function liveStatusLine(source: LiveSource): () => void {
  if (!process.stderr.isTTY) return () => {};
  const t = setInterval(() => {
    const s = source.stats();
    process.stderr.write(
      `\rrecording ${s.elapsedSec.toFixed(0)}s: ${(s.eventsPerSec / 1000).toFixed(1)} k events/s, ${s.events} events, lost ${s.lostEvents}, rtscope CPU ${s.cpuPercent.toFixed(1)}%\x1b[K`,
    );
  }, 1000);
  return () => {
    clearInterval(t);
    process.stderr.write("\r\x1b[K");
  };
}

/** Runs a whole capture and returns the report and histograms. */
export async function captureAndAnalyze(o: RecordOptions): Promise<{
  report: Report;
  histograms: HistogramLookup;
  histogram: StoredHistogramLookup;
}> {
  // record's text report explains every worst case (there is no --windows here)
  const r = startLiveRun({ ...o, windows: showsWindows({ format: o.format, windows: "all", slo: o.slo }) });
  const stopStatus = o.command.length === 0 ? liveStatusLine(r.session.source) : () => {};
  try {
    const report = await finishLiveRun(r);
    const histogram: StoredHistogramLookup = (tid, metric) => r.analysis.storedHistogram(tid, metric);
    return { report, histograms: histogramLookup(r.analysis), histogram };
  } finally {
    stopStatus();
  }
}

/**
 * Stores the run once the report is written (the database's I/O stays out of the capture's
 * start); a database that cannot be written (full or read-only disk...) is said on stderr
 * and changes nothing else.
 */
function storeRun(db: string, input: RunInput): void {
  let store: RunStore | undefined;
  try {
    store = RunStore.open(db);
    const id = store.saveRun(input);
    process.stderr.write(`rtscope: stored as run ${id} in ${store.path} (rtscope runs show ${id})\n`);
  } catch (e) {
    if (!(e instanceof StoreError)) throw e;
    process.stderr.write(`rtscope: the run was not stored: ${e.message}\n`);
  } finally {
    store?.close();
  }
}

export async function run(argv: string[]): Promise<number> {
  const o = parseRecordArgs(argv);
  if (o === "help") {
    process.stdout.write(help);
    return 0;
  }
  const startedAt = Date.now();
  const { report, histograms, histogram } = await captureAndAnalyze(o);
  const endedAt = Date.now();
  const { renderReports } = await import("./report.ts");
  const width = o.output === undefined && process.stdout.isTTY ? process.stdout.columns : undefined;
  let windowRenderer: WindowRenderer | undefined;
  if (o.format === "text") {
    const { loadWindowRenderer } = await import("./analyze-trace.ts");
    windowRenderer = await loadWindowRenderer();
  }
  const text = renderReports([{ report, histograms }], o, { width: width ?? 100, windowRenderer });
  if (o.output !== undefined) writeOutputFile(o.output, text);
  else process.stdout.write(text);
  if (o.db !== undefined) {
    const command = o.command.length > 0 ? o.command : undefined;
    storeRun(o.db, {
      report,
      meta: { origin: "record", startedAt, endedAt, command },
      histogram: (t, _i, m) => histogram(t.tid, m),
    });
  }
  return gateExit([report], { command: report.command, ignoreCommandStatus: o.live.ignoreCommandStatus });
}
