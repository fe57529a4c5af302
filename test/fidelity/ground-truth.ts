// Ground truth for the fidelity tests, from outside rtscope's analysis: cyclictest's own
// per-cycle output (test/fixtures/trace-dat/<case>/cyclictest.txt, case.json) and a small
// independent scan of the raw event stream (only the source's decoding is shared).

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { EventRecord } from "../../src/model/event.ts";
import { EventKind } from "../../src/model/event-kind.ts";
import type { Report, TaskReport } from "../../src/model/report.ts";
import type { Selection } from "../../src/model/selection.ts";
import type { EventSink, TraceSource } from "../../src/model/source.ts";
import { fixturesDir, repoRoot } from "../helpers/paths.ts";

export const CASES = ["idle", "cpu-load", "hackbench", "fifo-hog"] as const;
export type CaseName = (typeof CASES)[number];

export interface CyclictestThread {
  /** cyclictest's thread index (the first column of -v output) */
  thread: number;
  tid: number;
  cpu: number;
  /** per-cycle latencies in ns, cycle 0 first */
  latencies: number[];
}

export interface FixtureCase {
  name: CaseName;
  dir: string;
  intervalNs: number;
  threads: CyclictestThread[];
}

export function caseDir(name: string): string {
  return join(fixturesDir, "trace-dat", name);
}

/** Reads case.json and cyclictest.txt ("thread: cycle: latency(ns)" lines of -v -N). */
export function loadCase(name: CaseName): FixtureCase {
  const dir = caseDir(name);
  const meta = JSON.parse(readFileSync(join(dir, "case.json"), "utf8")) as {
    intervalUs: number;
    threads: { thread: number; tid: number; cpu: number }[];
  };
  const byThread = new Map<number, number[]>();
  for (const line of readFileSync(join(dir, "cyclictest.txt"), "utf8").split("\n")) {
    // a latency of 8 digits leaves no space after the colon ("0:      33:16116620")
    const m = /^\s*(\d+):\s*(\d+):\s*(\d+)\s*$/.exec(line);
    if (!m) continue;
    const th = Number(m[1]);
    const cycle = Number(m[2]);
    let list = byThread.get(th);
    if (!list) {
      list = [];
      byThread.set(th, list);
    }
    if (cycle !== list.length)
      throw new Error(`${dir}/cyclictest.txt: thread ${th} cycle ${cycle} out of order`);
    list.push(Number(m[3]));
  }
  const threads = meta.threads.map((t) => ({ ...t, latencies: byThread.get(t.thread) ?? [] }));
  if (threads.length === 0) throw new Error(`${dir}/case.json: no cyclictest threads`);
  return { name, dir, intervalNs: meta.intervalUs * 1000, threads };
}

export function selectionOfTids(tids: number[]): Selection {
  return { tids, tgids: [], comms: [], rt: false, irqThreads: false, descendantsOf: [] };
}

// --- the engine, loaded when present (the tests skip with a reason until it is) -------------

export interface Engine {
  openSource(path: string): Promise<TraceSource>;
  analyzeSource(
    source: TraceSource,
    opts: { selection: Selection; slo: Record<string, number>; worstN?: number },
  ): Promise<Report>;
}

const OPEN_SOURCE = join(repoRoot, "src/sources/open-source.ts");
const TRACE_DAT = join(repoRoot, "src/sources/trace-dat.ts");
const FTRACE_TEXT = join(repoRoot, "src/sources/ftrace-text.ts");
const ANALYZE = join(repoRoot, "src/analysis/pipeline.ts");

/** Why the engine cannot be loaded, or "" when it can. */
export function engineMissing(): string {
  const readers = existsSync(OPEN_SOURCE) ? [OPEN_SOURCE] : [TRACE_DAT, FTRACE_TEXT];
  const missing = [...readers, ANALYZE].filter((p) => !existsSync(p));
  return missing.length
    ? `engine not there yet: ${missing.map((p) => p.slice(repoRoot.length + 1)).join(", ")}`
    : "";
}

type Opener = (path: string) => Promise<TraceSource>;

/**
 * openSource from src/sources/open-source.ts; until that lands, the two readers by file
 * name (.dat → trace.dat, else ftrace text), so the fidelity checks run as early as possible.
 */
export async function loadEngine(): Promise<Engine> {
  const a = (await import(pathToFileURL(ANALYZE).href)) as Pick<Engine, "analyzeSource">;
  if (existsSync(OPEN_SOURCE)) {
    const s = (await import(pathToFileURL(OPEN_SOURCE).href)) as Pick<Engine, "openSource">;
    return { openSource: s.openSource, analyzeSource: a.analyzeSource };
  }
  const dat = (await import(pathToFileURL(TRACE_DAT).href)) as { openTraceDat: Opener };
  const text = (await import(pathToFileURL(FTRACE_TEXT).href)) as { openFtraceText: Opener };
  return {
    openSource: (path) => (path.endsWith(".dat") ? dat.openTraceDat(path) : text.openFtraceText(path)),
    analyzeSource: a.analyzeSource,
  };
}

// The files are read-only: one analysis / scan per file and arguments per test process.
const reportCache = new Map<string, Promise<Report>>();
const scanCache = new Map<string, Promise<GroundTruthScan>>();

/** Opens `path`, analyses it, closes it (memoized: callers must not modify the report). */
export function analyzeFile(engine: Engine, path: string, selection: Selection, worstN = 0): Promise<Report> {
  const key = JSON.stringify([path, selection, worstN], (_k, v) => (v instanceof RegExp ? v.source : v));
  let p = reportCache.get(key);
  if (!p) {
    p = analyzeOnce(engine, path, selection, worstN);
    reportCache.set(key, p);
  }
  return p;
}

async function analyzeOnce(
  engine: Engine,
  path: string,
  selection: Selection,
  worstN: number,
): Promise<Report> {
  const source = await engine.openSource(path);
  try {
    return await engine.analyzeSource(source, { selection, slo: {}, worstN });
  } finally {
    source.close();
  }
}

export function taskOf(report: Report, tid: number): TaskReport {
  const t = report.tasks.find((x) => x.tid === tid);
  if (!t) throw new Error(`report has no task ${tid} (tasks: ${report.tasks.map((x) => x.tid).join(", ")})`);
  return t;
}

// --- independent scan of the raw events -------------------------------------------------------

/** Scheduling latency sample: wakeup → switch-in (or the first event the task ran, inferred). */
export interface LatencySample {
  wakeTs: number;
  endTs: number;
  value: number;
  inferred: boolean;
}

/**
 * Timer sample of one clock_nanosleep cycle: expiry of the hrtimer the task armed in the
 * syscall → its sys_exit, on one clock (SPEC §1): sys_exit ts − expires. Valid for the
 * fixtures this is used on: trace clock mono, CLOCK_MONOTONIC timers.
 */
export interface TimerSample {
  expires: number;
  entryTs: number;
  exitTs: number;
  value: number;
}

const UNKNOWN = 0;
const RUNNING = 1;
const RUNNABLE = 2;
const SLEEPING = 3;

class TaskScan {
  state = UNKNOWN;
  pendingWake = Number.NaN;
  readonly latency: LatencySample[] = [];
  // timer
  inSleep = false;
  timerKey = -1;
  expires = Number.NaN;
  entryTs = Number.NaN;
  readonly timer: TimerSample[] = [];

  closeLatency(ts: number, inferred: boolean): void {
    this.latency.push({ wakeTs: this.pendingWake, endTs: ts, value: ts - this.pendingWake, inferred });
    this.pendingWake = Number.NaN;
    this.state = RUNNING;
  }
}

/**
 * Follows the given threads through the stream (SPEC §1 rules, written again here from the
 * spec, not from src/analysis): a sched_wakeup (or wakeup_new) of a sleeping task starts an
 * activation; the switch-in ends it; a task seen running (common_pid of any event) while its
 * wakeup is pending ends it there, inferred.
 */
export class GroundTruthScan implements EventSink {
  readonly tasks = new Map<number, TaskScan>();
  private readonly byTid: (TaskScan | undefined)[] = [];
  events = 0;
  private base = 0;
  private readonly hrtimerWakeupKey: number;

  constructor(source: TraceSource, tids: number[]) {
    this.base = Number(source.info.tsBase);
    this.hrtimerWakeupKey = source.symbols.hrtimerWakeupKey;
    for (const tid of tids) {
      const t = new TaskScan();
      this.tasks.set(tid, t);
      this.byTid[tid] = t;
    }
  }

  handle(rec: EventRecord): void {
    this.events++;
    const ts = this.base + rec.ts;
    const k = rec.kind;
    if (k === EventKind.SchedSwitch) {
      const next = this.byTid[rec.nextTid];
      if (next !== undefined) {
        if (!Number.isNaN(next.pendingWake)) next.closeLatency(ts, false);
        next.state = RUNNING;
      }
    } else if (k === EventKind.SchedWakeup || k === EventKind.SchedWakeupNew) {
      const t = this.byTid[rec.tid];
      if (t !== undefined && (t.state === SLEEPING || k === EventKind.SchedWakeupNew)) {
        if (Number.isNaN(t.pendingWake)) t.pendingWake = ts;
        t.state = RUNNABLE;
      }
    } else if (k === EventKind.HrtimerExpireEntry) {
      for (const t of this.tasks.values()) {
        if (t.timerKey !== -1 && t.timerKey === rec.timerKey && Number.isNaN(t.entryTs)) {
          t.entryTs = ts;
        }
      }
    }
    // The current task is running: ends a pending wakeup (inferred: its switch-in was not seen).
    const cur = this.byTid[rec.currentTid];
    if (cur !== undefined) {
      if (!Number.isNaN(cur.pendingWake) && !(k === EventKind.SchedSwitch && rec.nextTid === rec.currentTid))
        cur.closeLatency(ts, true);
      if (cur.state === UNKNOWN) cur.state = RUNNING;
      if (k === EventKind.SysEnterSleep) {
        cur.inSleep = true;
        cur.timerKey = -1;
        cur.expires = Number.NaN;
        cur.entryTs = Number.NaN;
      } else if (k === EventKind.HrtimerStart && cur.inSleep) {
        if (this.hrtimerWakeupKey < 0 || rec.timerFn === this.hrtimerWakeupKey) {
          cur.timerKey = rec.timerKey;
          cur.expires = this.base + (rec.softExpires !== 0 ? rec.softExpires : rec.expires);
          cur.entryTs = Number.NaN;
        }
      } else if (k === EventKind.SysExitSleep) {
        if (cur.inSleep && !Number.isNaN(cur.entryTs) && !Number.isNaN(cur.expires)) {
          const value = ts - cur.expires;
          cur.timer.push({ expires: cur.expires, entryTs: cur.entryTs, exitTs: ts, value });
        }
        cur.inSleep = false;
        cur.timerKey = -1;
      } else if (k === EventKind.SchedSwitch && rec.prevTid === rec.currentTid) {
        cur.state = rec.prevState === 0 ? RUNNABLE : SLEEPING;
      }
    }
  }
}

/** Runs the independent scan over a freshly opened source (memoized). */
export function scanFile(engine: Engine, path: string, tids: number[]): Promise<GroundTruthScan> {
  const key = JSON.stringify([path, tids]);
  let p = scanCache.get(key);
  if (!p) {
    p = scanOnce(engine, path, tids);
    scanCache.set(key, p);
  }
  return p;
}

async function scanOnce(engine: Engine, path: string, tids: number[]): Promise<GroundTruthScan> {
  const source = await engine.openSource(path);
  try {
    const scan = new GroundTruthScan(source, tids);
    await source.run(scan);
    return scan;
  } finally {
    source.close();
  }
}

export function summarize(values: number[]): { count: number; min: number; max: number } {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { count: values.length, min, max };
}
