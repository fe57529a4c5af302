// Builds EventRecord streams from a readable script, for analysis tests:
//
//   const s = new EventScript(2);
//   s.at(1000).cpu(1).wakeup({ tid: 42, prio: 19 });
//   s.at(3000).cpu(1).switch({ prev: 0, next: 42 });
//
// The script keeps each CPU's current task from the switches it emits, so common_pid
// (currentTid) is right unless a test overrides it with `.as(tid)` (events in a task's
// context after an unrecorded switch). Times are relative ns.

import { Analysis, type AnalysisOptions, defaultAnalysisOptions } from "../../src/analysis/analyze.ts";
import { Pipeline } from "../../src/analysis/analyzer.ts";
import { Diagnostics } from "../../src/model/diagnostics.ts";
import { EventRecord } from "../../src/model/event.ts";
import { EventKind, taskStateFromLetters } from "../../src/model/event-kind.ts";
import type { Report } from "../../src/model/report.ts";
import { emptySelection, type Selection } from "../../src/model/selection.ts";
import type { SourceInfo, SymbolTable } from "../../src/model/source.ts";

/** Folded callback keys used by scripts. */
export const HRTIMER_WAKEUP = 0x1000;
export const TICK_FN = 0x2000;

export const SCRIPT_SYMBOLS: SymbolTable = {
  hrtimerWakeupKey: HRTIMER_WAKEUP,
  name: (k) => (k === HRTIMER_WAKEUP ? "hrtimer_wakeup" : k === TICK_FN ? "tick_nohz_handler" : ""),
};

type State = number | string;

export class EventScript {
  readonly records: EventRecord[] = [];
  readonly cpus: number;
  private ts = 0;
  private cpuNo = 0;
  private readonly current: number[];
  private override: number | null = null;
  private flagsNext = -1;
  private readonly comms = new Map<number, string>();

  constructor(cpus = 2) {
    this.cpus = cpus;
    this.current = new Array<number>(cpus).fill(0);
  }

  at(ts: number): this {
    this.ts = ts;
    return this;
  }
  cpu(c: number): this {
    this.cpuNo = c;
    return this;
  }
  /** common_pid of the next event */
  as(tid: number): this {
    this.override = tid;
    return this;
  }
  /** common_flags of the next event (0x08 hardirq, 0x10 softirq, 0 task context) */
  flags(f: number): this {
    this.flagsNext = f;
    return this;
  }
  /** Names a thread (used for comm fields). */
  name(tid: number, comm: string): this {
    this.comms.set(tid, comm);
    return this;
  }

  private push(kind: EventKind, fill: (r: EventRecord) => void): this {
    const r = new EventRecord();
    r.clear();
    r.kind = kind;
    r.cpu = this.cpuNo;
    r.ts = this.ts;
    r.currentTid = this.override ?? this.current[this.cpuNo];
    r.flags = this.flagsNext;
    this.override = null;
    this.flagsNext = -1;
    fill(r);
    this.records.push(r);
    return this;
  }

  private comm(tid: number): string {
    return this.comms.get(tid) ?? (tid === 0 ? `swapper/${this.cpuNo}` : `task-${tid}`);
  }

  /** An unrelated event (makes the CPU "have data"). */
  other(): this {
    return this.push(EventKind.Other, () => {});
  }

  wakeup(
    o: { tid: number; prio?: number; targetCpu?: number },
    kind: EventKind = EventKind.SchedWakeup,
  ): this {
    return this.push(kind, (r) => {
      r.tid = o.tid;
      r.prio = o.prio ?? 120;
      r.targetCpu = o.targetCpu ?? this.cpuNo;
      r.text[0] = this.comm(o.tid);
    });
  }
  waking(o: { tid: number; prio?: number; targetCpu?: number }): this {
    return this.wakeup(o, EventKind.SchedWaking);
  }
  wakeupNew(o: { tid: number; prio?: number; targetCpu?: number }): this {
    return this.wakeup(o, EventKind.SchedWakeupNew);
  }

  /** sched_switch; prevState "S" (default), "R", "D", ... or a number. */
  switch(o: { prev: number; next: number; prevState?: State; prevPrio?: number; nextPrio?: number }): this {
    const st = o.prevState ?? "S";
    const state = typeof st === "number" ? st : taskStateFromLetters(st);
    if (this.override === null) this.override = o.prev;
    this.push(EventKind.SchedSwitch, (r) => {
      r.prevTid = o.prev;
      r.prevPrio = o.prevPrio ?? 120;
      r.prevState = state;
      r.nextTid = o.next;
      r.nextPrio = o.nextPrio ?? 120;
      r.text[0] = this.comm(o.prev);
      r.text[1] = this.comm(o.next);
    });
    this.current[this.cpuNo] = o.next;
    return this;
  }

  migrate(o: { tid: number; from: number; to: number; prio?: number }): this {
    return this.push(EventKind.SchedMigrateTask, (r) => {
      r.tid = o.tid;
      r.prio = o.prio ?? 120;
      r.origCpu = o.from;
      r.targetCpu = o.to;
      r.text[0] = this.comm(o.tid);
    });
  }
  fork(o: { parent: number; child: number; comm?: string }): this {
    if (o.comm !== undefined) this.comms.set(o.child, o.comm);
    return this.push(EventKind.SchedProcessFork, (r) => {
      r.tid = o.child;
      r.parentTid = o.parent;
      r.text[0] = this.comm(o.child);
      r.text[1] = this.comm(o.parent);
    });
  }
  /** task_newtask, written by the creating task (the CPU's current task) */
  newtask(o: { child: number; cloneFlags: number; comm?: string }): this {
    if (o.comm !== undefined) this.comms.set(o.child, o.comm);
    return this.push(EventKind.TaskNewtask, (r) => {
      r.tid = o.child;
      r.cloneFlags = o.cloneFlags;
      r.text[0] = this.comm(o.child);
    });
  }
  exec(o: { tid: number; file: string }): this {
    return this.push(EventKind.SchedProcessExec, (r) => {
      r.tid = o.tid;
      r.parentTid = o.tid;
      r.text[0] = o.file;
    });
  }
  exit(o: { tid: number }): this {
    return this.push(EventKind.SchedProcessExit, (r) => {
      r.tid = o.tid;
      r.text[0] = this.comm(o.tid);
    });
  }

  irqEntry(irq: number, name: string): this {
    return this.push(EventKind.IrqHandlerEntry, (r) => {
      r.irq = irq;
      r.text[2] = name;
    });
  }
  irqExit(irq: number, ret = 1): this {
    return this.push(EventKind.IrqHandlerExit, (r) => {
      r.irq = irq;
      r.irqRet = ret;
    });
  }

  softirqRaise(vec: number): this {
    return this.push(EventKind.SoftirqRaise, (r) => {
      r.vec = vec;
    });
  }
  softirqEntry(vec: number): this {
    return this.push(EventKind.SoftirqEntry, (r) => {
      r.vec = vec;
    });
  }
  softirqExit(vec: number): this {
    return this.push(EventKind.SoftirqExit, (r) => {
      r.vec = vec;
    });
  }

  hrtimerStart(o: { timer: number; fn?: number; expires: number; softExpires?: number }): this {
    return this.push(EventKind.HrtimerStart, (r) => {
      r.timerKey = o.timer;
      r.timerFn = o.fn ?? HRTIMER_WAKEUP;
      r.expires = o.expires;
      r.softExpires = o.softExpires ?? o.expires;
    });
  }
  hrtimerCancel(o: { timer: number }): this {
    return this.push(EventKind.HrtimerCancel, (r) => {
      r.timerKey = o.timer;
    });
  }
  expireEntry(o: { timer: number; fn?: number; now: number }): this {
    return this.push(EventKind.HrtimerExpireEntry, (r) => {
      r.timerKey = o.timer;
      r.timerFn = o.fn ?? HRTIMER_WAKEUP;
      r.now = o.now;
    });
  }
  expireExit(o: { timer: number }): this {
    return this.push(EventKind.HrtimerExpireExit, (r) => {
      r.timerKey = o.timer;
    });
  }
  sysEnterSleep(): this {
    return this.push(EventKind.SysEnterSleep, (r) => {
      r.sleepClock = 1;
    });
  }
  sysExitSleep(): this {
    return this.push(EventKind.SysExitSleep, (r) => {
      r.sysRet = 0;
    });
  }
  lost(count = -1): this {
    return this.push(EventKind.LostEvents, (r) => {
      r.lostCount = count;
      r.currentTid = 0;
    });
  }
}

export const SCRIPT_INFO = (cpus: number): SourceInfo => ({
  kind: "text",
  path: "script",
  clock: "mono",
  clockIsNs: true,
  cpus,
  kernel: "",
  tsBase: 0n,
  tsResolutionNs: 1,
  format: "event script",
});

/** Runs a script through a fresh Analysis; every CPU has data from ts 0 unless told otherwise. */
export function analyzeScript(
  s: EventScript,
  opts: Partial<AnalysisOptions> & { selection?: Selection } = {},
): { report: Report; analysis: Analysis } {
  const full: AnalysisOptions = {
    ...defaultAnalysisOptions(opts.selection ?? emptySelection()),
    symbols: SCRIPT_SYMBOLS,
    cpus: s.cpus,
    validFromTs: 0,
    ...opts,
  } as AnalysisOptions;
  const analysis = new Analysis(full);
  const pipeline = new Pipeline(analysis.analyzers);
  for (const r of s.records) pipeline.handle(r);
  pipeline.finish();
  return { report: analysis.report(SCRIPT_INFO(s.cpus), new Diagnostics(), pipeline), analysis };
}

export function pids(...tids: number[]): Selection {
  return { ...emptySelection(), tids };
}
