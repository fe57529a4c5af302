// `rtscope admit`: does the workload still meet its bounds when a new task joins? One live
// capture in two phases with no gap: the selected workload alone for --baseline, then with
// the newcomer (launched, or a stopped pid that admit resumes) for --duration or until the
// newcomer exits. Two analyses read the one event stream; each counts only the samples that
// end in its phase (Analysis.countSamplesBetween), so an activation that straddles the
// switch is measured whole, in the phase where it ends. The verdict and the newcomer's share
// of each new worst case are analysis/admission.ts.

import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { admissionVerdict, type WindowsOf } from "../analysis/admission.ts";
import type { Analysis } from "../analysis/analyze.ts";
import { Pipeline } from "../analysis/analyzer.ts";
import { createAnalysis } from "../analysis/pipeline.ts";
import { softirqBehalf } from "../analysis/softirq-behalf.ts";
import type { CapturedWindow, WindowCapture } from "../analysis/worst-windows.ts";
import type { MetricKey, SloBounds } from "../model/report.ts";
import { describeSelection, emptySelection, type Selection, selectionIsEmpty } from "../model/selection.ts";
import { parseDuration } from "../model/units.ts";
import {
  type AdmitPhase,
  type AdmitResult,
  formatAdmitJson,
  formatAdmitJunit,
  formatAdmitText,
} from "../output/admit-report.ts";
import { writeOutputFile } from "../output/output-file.ts";
import { defaultDbPath, type RunInput, RunStore, StoreError } from "../store/run-store.ts";
import { CaptureSession } from "../tracefs/capture-session.ts";
import { procTaskInfo } from "../tracefs/proc-tasks.ts";
import { checkLaunchable } from "./launch-check.ts";
import {
  ANALYSIS_HELP,
  ANALYSIS_OPTIONS,
  HELP_OPTIONS,
  parseCommandLine,
  parseCount,
  parseFormat,
  parseSlo,
  parseWakeupEvent,
  parseWindowSettings,
  SELECTION_HELP,
  SELECTION_OPTIONS,
  SLO_HELP,
  SLO_OPTIONS,
  selectionFromValues,
  UsageError,
  WINDOW_HELP,
  WINDOW_OPTIONS,
} from "./options.ts";
import { LIVE_OPTIONS, parseLiveValues } from "./record.ts";
import { DB_HELP, DB_OPTIONS } from "./stored-runs.ts";

export const summary =
  "does the workload still meet its bounds when a new task joins? (exit 0 admitted, 3 rejected)";

const FORMATS = ["text", "json", "junit"] as const;

export const help = `Usage: rtscope admit [SELECTION] --slo ... [--baseline 30s] [--duration 30s] [--tolerance 10%]
                     [--strict] [--format text|json|junit] [-o FILE] [--db PATH|--no-store]
                     -- NEWCOMER ARGS
       rtscope admit [SELECTION] --slo ... --newcomer-pid PID [...]

Measures the selected workload (the tasks already running) for --baseline, then starts the
newcomer and measures the workload again for --duration (or until the newcomer exits), in
one live capture with no gap. Then the verdict, per workload thread and metric: baseline vs
with the newcomer (max, p99, violations), and for each worst case and SLO violation of the
second phase the share of its time the newcomer caused: its threads interfering, blocking or
moving the task, and softirqs raised in its context (or by such softirqs) that delayed the
task. Hard IRQs and threaded IRQ handlers are never counted as the newcomer's: the trace does
not tie a device's interrupt to the task whose I/O caused it. Needs root. While it runs, a
progress line on stderr (when it is a terminal, and not with -- NEWCOMER, which keeps the
terminal) gives the phase, the time left, samples and violations so far.

Rejected when a bound is violated with the newcomer, or when a metric got worse than the
baseline by more than the tolerance and the newcomer took part in its worst case. A metric
that got worse without the newcomer's part is reported as "worse, not because of the
newcomer" (the maxima of short phases vary on a busy machine) and rejects only with --strict.

${SELECTION_HELP}

The newcomer:
  -- NEWCOMER ARGS       launched after the baseline; it, its threads and its children are the
                         newcomer (not the workload). It keeps the terminal; admit ends it
                         (SIGTERM) after --duration, which is not a failure
  --newcomer-pid PID     a process started stopped by other means (kill -STOP, a service held
                         before start): admit resumes it with SIGCONT after the baseline and
                         leaves it running at the end

Phases and rules:
  --baseline TIME        the workload alone (default 30s)
  --duration TIME        with the newcomer (default 30s; shorter if the newcomer exits)
  --tolerance PCT        allowed worsening of max and p99 (default 10%, and always 1 us)
  --strict               reject regressions the newcomer took no part in too

${SLO_HELP}

Output:
  --format, -f F         text (default), json, junit
  -o, --output FILE      write the result to FILE (use it when the newcomer prints)

Stored runs:
  Both phases are stored as runs (origin admit), linked, with the verdict: rtscope runs show
  ID shows the link and the verdict, rtscope compare BASE NEW compares them. A database that
  cannot be written is a warning; the verdict stands.
  --no-store             do not store the phases
${DB_HELP}

Live capture:
  --buffer-size KB, --cpu LIST, --priority N, --no-syscalls   as for record

${WINDOW_HELP}

${ANALYSIS_HELP}

Examples:
  sudo rtscope admit --comm '^cyclictest$' --slo timer=200us --baseline 20s --duration 20s \\
       -- chrt -f 90 taskset -c 0 ./new-control-loop
  sudo rtscope admit --tgid 4026 --slo latency=50us,response=1ms --newcomer-pid 6860 -f json -o admit.json

Exit status: 0 admitted, 1 usage error, 2 runtime error (newcomer not found or not startable,
tracefs problem), 3 rejected, 4 not admitted for lack of evidence: no workload thread had a
sample with the newcomer, or a phase was cut short (Ctrl-C).
`;

const OPTIONS = {
  ...HELP_OPTIONS,
  ...SELECTION_OPTIONS,
  ...SLO_OPTIONS,
  ...ANALYSIS_OPTIONS,
  ...WINDOW_OPTIONS,
  "buffer-size": LIVE_OPTIONS["buffer-size"],
  cpu: LIVE_OPTIONS.cpu,
  priority: LIVE_OPTIONS.priority,
  "no-syscalls": LIVE_OPTIONS["no-syscalls"],
  format: { type: "string", short: "f" },
  output: { type: "string", short: "o" },
  baseline: { type: "string" },
  duration: { type: "string" },
  tolerance: { type: "string" },
  strict: { type: "boolean" },
  "newcomer-pid": { type: "string" },
  ...DB_OPTIONS,
  "no-store": { type: "boolean" },
} as const;

export interface AdmitOptions {
  selection: Selection;
  slo: SloBounds;
  format: (typeof FORMATS)[number];
  output?: string;
  baselineNs: number;
  durationNs: number;
  tolerance: number;
  strict: boolean;
  newcomerCommand: string[];
  newcomerPid?: number;
  wakeupEvent: "wakeup" | "waking";
  live: ReturnType<typeof parseLiveValues>;
  window: ReturnType<typeof parseWindowSettings>;
  /** the run database (--db or the default); undefined with --no-store */
  db?: string;
}

/** A phase's length: a duration ("20s", "500ms") or bare seconds. */
export function phaseLength(text: string | undefined, option: string): number {
  if (text === undefined) return 30e9;
  let ns: number;
  try {
    ns = /^\s*\d+(\.\d+)?\s*$/.test(text) ? Number(text) * 1e9 : parseDuration(text, option);
  } catch (e) {
    throw new UsageError((e as Error).message, "admit");
  }
  if (!(ns > 0)) throw new UsageError(`${option} must be positive`, "admit");
  return ns;
}

/** "10%" as 0.1. */
export function parseTolerance(text: string | undefined): number {
  if (text === undefined) return 0.1;
  const m = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(text);
  if (!m) throw new UsageError(`--tolerance expects a percentage like 10%, got '${text}'`, "admit");
  return Number(m[1]) / 100;
}

export function parseAdmitArgs(argv: string[]): AdmitOptions | "help" {
  const { values, rest } = parseCommandLine("admit", argv, OPTIONS, { positionals: false });
  if (values.help) return "help";
  const selection = selectionFromValues(values, "admit");
  if (selectionIsEmpty(selection))
    throw new UsageError("name the workload: --pid, --tgid, --comm, --rt or --irq-threads", "admit");
  if (values["no-store"] && values.db !== undefined)
    throw new UsageError("--no-store and --db contradict each other: give one", "admit");
  const newcomerPid =
    values["newcomer-pid"] === undefined
      ? undefined
      : parseCount(values["newcomer-pid"], "--newcomer-pid", 0, { min: 1, max: 4194304 }, "admit");
  if (argv.includes("--") && rest.length === 0)
    throw new UsageError("nothing after '--' (expected the newcomer's command)", "admit");
  if ((newcomerPid === undefined) === (rest.length === 0))
    throw new UsageError(
      "give the newcomer either as -- NEWCOMER ARGS or as --newcomer-pid PID (one of them)",
      "admit",
    );
  return {
    selection,
    slo: parseSlo(values.slo, "admit"),
    format: parseFormat(values.format, FORMATS, "text", "admit"),
    output: values.output,
    baselineNs: phaseLength(values.baseline, "--baseline"),
    durationNs: phaseLength(values.duration, "--duration"),
    tolerance: parseTolerance(values.tolerance),
    strict: values.strict === true,
    newcomerCommand: rest,
    newcomerPid,
    wakeupEvent: parseWakeupEvent(values["wakeup-event"], "admit"),
    live: parseLiveValues(values, "admit"),
    window: parseWindowSettings(values, "admit"),
    db: values["no-store"] ? undefined : (values.db ?? defaultDbPath()),
  };
}

/** /proc/PID/stat's state letter, or undefined when there is no such process. */
function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  } catch {
    return undefined;
  }
}

function onlineCpus(): string {
  try {
    return readFileSync("/sys/devices/system/cpu/online", "utf8").trim();
  } catch (e) {
    throw new NewcomerError(`the newcomer could not be placed: ${(e as Error).message}`);
  }
}

/** The newcomer cannot be found, started or resumed (exit 2; the API's 4xx). */
export class NewcomerError extends Error {}

/**
 * The newcomer: a command spawned before the capture but held (a shell waiting on a pipe,
 * as record launches its command) and released after the baseline, or a stopped process
 * resumed then. Spawning it early keeps its fork out of the baseline's window of interest
 * and keeps it from inheriting rtscope's own SCHED_FIFO priority and CPU list, which are set
 * when the capture starts.
 */
class Newcomer {
  pid = 0;
  status = "not started";
  child: ChildProcess | null = null;
  exited = false;
  private released = false;
  private onExit: () => void = () => {};

  readonly command: string[];
  readonly givenPid: number | undefined;
  private readonly embedded: boolean;

  /**
   * `embedded`: launched by the daemon, whose SCHED_FIFO priority and CPU list a child would
   * inherit (the CLI spawns it before placing itself): the shell resets both before it execs
   * the command, and the command gets no terminal (the daemon's stderr is its log).
   */
  constructor(command: string[], givenPid: number | undefined, embedded = false) {
    this.command = command;
    this.givenPid = givenPid;
    this.embedded = embedded;
  }

  /**
   * Before the capture: a given pid must exist and be stopped (else the baseline would
   * include it); a command must be runnable, and is spawned held.
   */
  prepare(): void {
    if (this.givenPid !== undefined) {
      const state = processState(this.givenPid);
      if (state === undefined) throw new NewcomerError(`--newcomer-pid ${this.givenPid}: no such process`);
      if (state !== "T" && state !== "t")
        throw new NewcomerError(
          `--newcomer-pid ${this.givenPid} is running (state ${state}): start it stopped (kill -STOP ${this.givenPid}) so that the baseline is measured without it`,
        );
      this.pid = this.givenPid;
      return;
    }
    try {
      checkLaunchable(this.command[0]);
    } catch (e) {
      throw new NewcomerError(`the newcomer could not be started: ${(e as Error).message}`);
    }
    // on EOF (admit ended before the baseline did) the shell exits without running it
    const reset = this.embedded
      ? 'chrt -o -p 0 $$ >/dev/null && taskset -a -p -c "$RTSCOPE_CPUS" $$ >/dev/null || exit 126; '
      : "";
    const child = spawn(
      "/bin/sh",
      ["-c", `read -r _ <&3 || exit 127; exec 3<&-; ${reset}exec "$@"`, "rtscope-newcomer", ...this.command],
      {
        stdio: this.embedded
          ? ["ignore", "ignore", "ignore", "pipe"]
          : ["inherit", "inherit", "inherit", "pipe"],
        env: this.embedded ? { ...process.env, RTSCOPE_CPUS: onlineCpus() } : process.env,
      },
    );
    this.child = child;
    (child.stdio[3] as NodeJS.ReadWriteStream | null)?.on("error", () => {});
    child.on("error", (e) => {
      this.status = `could not be started: ${e.message}`;
      this.exited = true;
      this.onExit();
    });
    child.on("exit", (code, signal) => {
      this.exited = true;
      if (!this.released) this.status = "not started (admit ended in the baseline)";
      else if (this.status === "running, ended by admit (SIGTERM)" && signal === "SIGTERM") {
        // ours: not a failure
      } else this.status = signal ? `killed by ${signal}` : `exited with status ${code}`;
      this.onExit();
    });
    this.pid = child.pid ?? 0;
    this.status = "held until the baseline ends";
  }

  start(onExit: () => void): void {
    this.onExit = onExit;
    this.released = true;
    if (this.givenPid !== undefined) {
      process.kill(this.givenPid, "SIGCONT");
      this.status = "resumed (SIGCONT), left running";
      return;
    }
    if (this.child === null || this.exited) return;
    this.status = "running";
    (this.child.stdio[3] as NodeJS.WritableStream | null)?.end("go\n");
  }

  /** End of phase 2: a launched newcomer is ended (SIGTERM); a given one is left alone. */
  async end(): Promise<void> {
    const child = this.child;
    if (child === null || this.exited) return;
    if (!this.released) {
      // never released: closing the gate ends the waiting shell
      (child.stdio[3] as NodeJS.WritableStream | null)?.end();
    } else {
      this.status = "running, ended by admit (SIGTERM)";
      child.kill("SIGTERM");
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        child.kill("SIGKILL");
        resolve();
      }, 2000);
      t.unref();
      child.once("exit", () => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}

/**
 * Phase 2's captured windows of a task's metric (max, then first and worst violation, each
 * window once), each with its softirq time done on the newcomer's behalf.
 */
function windowsOf(capture: WindowCapture | undefined, newcomer: ReadonlySet<number>): WindowsOf {
  const inGroup = (tid: number) => newcomer.has(tid);
  return (tid: number, metric: MetricKey) => {
    if (capture === undefined) return [];
    const w = capture.windows;
    const out: ReturnType<WindowsOf> = [];
    const seen = new Set<CapturedWindow>();
    for (const role of ["max", "first-violation", "worst-violation"] as const) {
      const c = w.captured(tid, metric, role);
      if (c === undefined || seen.has(c)) continue;
      seen.add(c);
      out.push({
        role,
        window: w.render(c),
        softirq: softirqBehalf(c.events, c.sample.start, c.sample.end, inGroup),
      });
    }
    return out;
  };
}

/** Whether a thread of the with-newcomer analysis belongs to the newcomer (its fork tree). */
function newcomerThreads(analysis: Analysis, pid: number, tids: readonly number[]): number[] {
  const out: number[] = [];
  for (const tid of tids) {
    let t = analysis.thread(tid);
    for (let depth = 0; t !== undefined && depth < 64; depth++) {
      if (t.tid === pid || t.tgid === pid) {
        out.push(tid);
        break;
      }
      t = t.parentTid > 0 ? analysis.thread(t.parentTid) : undefined;
    }
  }
  return out;
}

function progressLine(phase: string, leftNs: number, baseline: Analysis, withNewcomer: Analysis): string {
  let samples = 0;
  let violations = 0;
  for (const a of [baseline, withNewcomer])
    for (const t of a.snapshot())
      for (const m of Object.values(t.metrics)) {
        samples += m.count;
        violations += m.slo?.violations ?? 0;
      }
  return `\radmit: ${phase}, ${(leftNs / 1e9).toFixed(0)} s left, ${samples} samples, ${violations} violations\x1b[K`;
}

/** Where admit runs: the CLI (default), or inside the daemon (POST /api/admit). */
export interface AdmitHost {
  /** inside the daemon: its own tracefs instance beside the daemon's, no signal handling or placement */
  embedded?: boolean;
  /** ends the admission early (the daemon stopping, the client gone): a partial verdict */
  signal?: AbortSignal;
  /** the progress line on stderr */
  progress?: boolean;
}

/** What admit found, and each phase as a run for the store. */
export interface AdmitOutcome {
  result: AdmitResult;
  exit: number;
  phases: { baseline: RunInput; withNewcomer: RunInput };
}

export async function admit(o: AdmitOptions, host: AdmitHost = {}): Promise<AdmitOutcome> {
  const newcomer = new Newcomer(o.newcomerCommand, o.newcomerPid, host.embedded === true);
  newcomer.prepare();
  // The capture must see the newcomer's events too: it is rtscope's child (launched) or the
  // given process, so widen the event plan accordingly (no pid-only in-kernel filter).
  const captureSel: Selection = {
    ...o.selection,
    descendantsOf: [process.pid],
    tgids: o.newcomerPid !== undefined ? [...o.selection.tgids, o.newcomerPid] : o.selection.tgids,
  };
  let session: CaptureSession;
  try {
    session = CaptureSession.start({
      selection: captureSel,
      wakeupEvent: o.wakeupEvent,
      syscalls: o.live.syscalls,
      // who raised each softirq: the newcomer's share of softirq time
      softirqRaise: true,
      bufferSizeKb: o.live.bufferSizeKb,
      cpuList: o.live.cpuList,
      priority: o.live.priority,
      embedded: host.embedded,
      instanceSuffix: host.embedded ? "admit" : undefined,
    });
  } catch (e) {
    await newcomer.end();
    throw e;
  }
  const abort = () => session.stop("requested");
  host.signal?.addEventListener("abort", abort);
  const src = session.source;
  const tty = host.progress === true;
  let progress: NodeJS.Timeout | null = null;
  let phaseTimer: NodeJS.Timeout | null = null;
  try {
    // two analyses of one stream, each with its own windows, fed by one loop
    const phases = [0, 1].map(() =>
      createAnalysis({
        selection: { ...o.selection, descendantsOf: [] },
        slo: o.slo,
        wakeupEvent: o.wakeupEvent,
        source: src,
        validFromTs: 0,
        taskInfo: procTaskInfo,
        windows: { ...o.window },
      }),
    );
    const analyses = phases.map((p) => p.analysis);
    const [baseline, withNewcomer] = analyses;
    // phase 2 counts nothing until the newcomer starts
    withNewcomer.countSamplesBetween(Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY);
    const pipeline = new Pipeline([...baseline.analyzers, ...withNewcomer.analyzers]);
    const base: AdmitPhase = { plannedNs: o.baselineNs, actualNs: 0, ended: "interrupted" };
    const second: AdmitPhase = { plannedNs: o.durationNs, actualNs: 0, ended: "not-started" };
    let t0 = 0n;
    let t1 = 0n;
    // wall clock of the phases' starts, for the stored runs
    let wall0 = 0;
    let wall1 = 0;
    let phase2 = false;
    const startPhase2 = () => {
      phaseTimer = null;
      if (session.stopReason !== null) return; // Ctrl-C in the baseline: no newcomer
      t1 = process.hrtime.bigint();
      wall1 = Date.now();
      base.actualNs = Number(t1 - t0);
      base.ended = "planned";
      const splitTs = src.nowTs();
      baseline.countSamplesBetween(Number.NEGATIVE_INFINITY, splitTs);
      withNewcomer.countSamplesBetween(splitTs, Number.POSITIVE_INFINITY);
      phase2 = true;
      second.ended = "interrupted";
      try {
        newcomer.start(() => {
          // only an exit while the capture runs ends phase 2 (admit's own SIGTERM at the end does not)
          if (session.stopReason !== null) return;
          second.ended = "newcomer-exit";
          session.stop("command-exit");
        });
      } catch (e) {
        newcomer.status = `could not be resumed: ${(e as Error).message}`;
        session.stop("command-exit");
        return;
      }
      if (newcomer.pid > 0)
        withNewcomer.addSelection({
          ...emptySelection(),
          tgids: [newcomer.pid],
          descendantsOf: [newcomer.pid],
        });
      phaseTimer = setTimeout(
        () => {
          if (session.stopReason !== null) return;
          second.ended = "planned";
          session.stop("duration");
        },
        Math.max(1, Math.round(o.durationNs / 1e6)),
      );
    };
    const running = src.run(pipeline, { signal: session.signal });
    session.begin();
    t0 = process.hrtime.bigint();
    wall0 = Date.now();
    phaseTimer = setTimeout(startPhase2, Math.max(1, Math.round(o.baselineNs / 1e6)));
    if (tty)
      progress = setInterval(() => {
        const now = process.hrtime.bigint();
        const left = phase2 ? o.durationNs - Number(now - t1) : o.baselineNs - Number(now - t0);
        process.stderr.write(
          progressLine(phase2 ? "with the newcomer" : "baseline", Math.max(0, left), baseline, withNewcomer),
        );
      }, 1000);
    await running;
    if (phaseTimer) clearTimeout(phaseTimer);
    phaseTimer = null;
    const tEnd = process.hrtime.bigint();
    const wallEnd = Date.now();
    if (phase2) second.actualNs = Number(tEnd - t1);
    else base.actualNs = Number(tEnd - t0);
    pipeline.finish();
    await newcomer.end();
    const reports = [baseline, withNewcomer].map((a) => {
      const r = a.report(src.info, src.diagnostics, pipeline);
      r.source.lostEvents = Math.max(r.source.lostEvents, src.lostEvents);
      return r;
    });
    const [baselineReport, withNewcomerReport] = reports;
    const newcomerTids =
      newcomer.pid > 0
        ? newcomerThreads(
            withNewcomer,
            newcomer.pid,
            withNewcomerReport.tasks.map((t) => t.tid),
          )
        : [];
    const newcomerSet = new Set(newcomerTids);
    const verdict = admissionVerdict(
      baselineReport.tasks,
      withNewcomerReport.tasks,
      newcomerSet,
      o.slo,
      windowsOf(phases[1].capture, newcomerSet),
      { tolerance: o.tolerance, minDeltaNs: 1000, strict: o.strict },
    );
    // the newcomer exiting ends phase 2 as planned; Ctrl-C does not
    const complete =
      base.ended === "planned" && (second.ended === "planned" || second.ended === "newcomer-exit");
    const result: AdmitResult = {
      verdict,
      complete,
      baseline: base,
      withNewcomer: second,
      newcomer: {
        command: o.newcomerCommand,
        pid: newcomer.pid,
        status: newcomer.status,
        tids: newcomerTids,
      },
      selection: describeSelection(o.selection),
      slo: o.slo,
      tolerance: o.tolerance,
      strict: o.strict,
      baselineReport,
      withNewcomerReport,
      runs: null,
    };
    // fail closed: only a complete, measured, unrejected run admits
    const exit = /could not be/.test(newcomer.status)
      ? 2
      : verdict.rejected
        ? 3
        : !verdict.measured || !complete
          ? 4
          : 0;
    const command = o.newcomerCommand.length > 0 ? o.newcomerCommand : undefined;
    const phaseRun = (i: number, startedAt: number, endedAt: number): RunInput => ({
      report: reports[i],
      meta: { origin: "admit", startedAt, endedAt, command },
      histogram: (t, _index, m) => analyses[i].storedHistogram(t.tid, m),
    });
    return {
      result,
      exit,
      phases: {
        baseline: phaseRun(0, wall0, phase2 ? wall1 : wallEnd),
        withNewcomer: phaseRun(1, phase2 ? wall1 : wallEnd, wallEnd),
      },
    };
  } finally {
    host.signal?.removeEventListener("abort", abort);
    if (progress) {
      clearInterval(progress);
      process.stderr.write("\r\x1b[K");
    }
    if (phaseTimer) clearTimeout(phaseTimer);
    session.close();
  }
}

/**
 * Stores both phases as runs (origin admit), linked, with the verdict and the result (which
 * then names the two runs). A StoreError leaves the database as it was and the result
 * saying why it was not stored.
 */
export function storeAdmission(
  store: RunStore,
  outcome: AdmitOutcome,
): { baseline: number; withNewcomer: number } {
  const r = outcome.result;
  try {
    return store.saveAdmission(outcome.phases.baseline, outcome.phases.withNewcomer, {
      verdict: outcome.exit === 0 ? "admitted" : outcome.exit === 3 ? "rejected" : "not-admitted",
      result: (ids) => {
        r.runs = ids;
        return { json: formatAdmitJson(r), text: formatAdmitText(r) };
      },
    });
  } catch (e) {
    r.runs = null;
    if (e instanceof StoreError) r.storeWarning = e.message;
    throw e;
  }
}

export async function run(argv: string[]): Promise<number> {
  const o = parseAdmitArgs(argv);
  if (o === "help") {
    process.stdout.write(help);
    return 0;
  }
  let outcome: AdmitOutcome;
  try {
    // not with a launched newcomer: it keeps the terminal, and the line would garble its output
    outcome = await admit(o, { progress: process.stderr.isTTY && o.newcomerCommand.length === 0 });
  } catch (e) {
    if (e instanceof NewcomerError) {
      process.stderr.write(`rtscope admit: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const { result, exit } = outcome;
  if (o.db !== undefined) {
    let store: RunStore | undefined;
    try {
      store = RunStore.open(o.db);
      const ids = storeAdmission(store, outcome);
      process.stderr.write(
        `rtscope admit: stored as runs ${ids.baseline} (baseline) and ${ids.withNewcomer} (with the newcomer) in ${store.path} (rtscope compare ${ids.baseline} ${ids.withNewcomer})\n`,
      );
    } catch (e) {
      if (!(e instanceof StoreError)) throw e;
      process.stderr.write(`rtscope admit: warning: the admission was not stored: ${e.message}\n`);
    } finally {
      store?.close();
    }
  }
  const text =
    o.format === "json"
      ? formatAdmitJson(result)
      : o.format === "junit"
        ? formatAdmitJunit(result)
        : formatAdmitText(result);
  if (o.output !== undefined) writeOutputFile(o.output, text);
  else process.stdout.write(text);
  if (exit === 2) process.stderr.write(`rtscope admit: the newcomer ${result.newcomer.status}\n`);
  if (!result.complete)
    process.stderr.write("rtscope admit: a phase was cut short; the verdict is partial, not admitted\n");
  else if (exit === 4)
    process.stderr.write(
      `rtscope admit: nothing was measured: no thread of the workload (${result.selection}) had a sample with the newcomer\n`,
    );
  return exit;
}
