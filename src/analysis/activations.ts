// The activation state machine (SPEC §1): per thread, wakeup → switch-in (latency) →
// voluntary sleep (response); timer wakeups (timer), control-loop cycles between timer
// sleeps (relief) and IRQ thread runs (irq). One analyzer, one switch over the event kind,
// per-CPU typed arrays; per event it touches at most two TaskStates found through a typed
// array and allocates nothing (samples allocate only when an observer must be told).
//
// Rules worth knowing:
// - A wakeup starts an activation only when the thread is known to sleep (seen switching
//   out with a sleeping state, or newly forked). A wakeup of a running, runnable or not yet
//   understood thread starts nothing.
// - Missing switches: when a thread is the current task (common_pid) of any event while
//   its wakeup is pending, its switch-in happened no later than that event: the latency is
//   closed there and flagged inferred. When a CPU's current task changes without a recorded
//   switch, the thread we believed running there lost its switch-out: its activation is cut.
// - Lost events (LostEvents records, any CPU) cut EVERY open activation, relief cycle and
//   timer measurement: a lost event on any CPU can be the migration or switch-in of any
//   runnable thread. Cut activations count in `incomplete` and never produce samples.
// - Activations starting before every CPU has data are cut too (cpu-coverage.ts).
// - Activations still open at the end of the stream produce nothing and are not counted.
// - timer: from the requested expiry (softexpires of the hrtimer_wakeup timer the thread
//   armed, the time cyclictest/stress-ng measure from; equal to `expires` for RT threads,
//   which get no slack) to the switch-in, or to sys_exit of clock_nanosleep/nanosleep when
//   the thread slept inside that syscall and syscall events are on. Parts: irq =
//   hrtimer_expire_entry.now − expiry (timer clock), thread = end − expire_entry ts (trace
//   clock); the sample is their sum. The wakeup is tied to the timer by two links, either
//   suffices: it happens on the expiring CPU inside expire_entry/exit of an hrtimer_wakeup
//   timer, or that timer's key is one the thread armed (a wakeup recorded later on another
//   CPU). Either way the expired timer must be the one the thread armed last (same key): the
//   expiry comes from its hrtimer_start.
//   A timer that expires before the thread got to sleep (wakeup of a running thread inside
//   clock_nanosleep) starts no activation but still gives a timer sample to the syscall exit.
// - irq: irq_handler_entry of the IRQ whose handler last completed before the irq/N thread's
//   wakeup (and after its previous sleep) → the thread's voluntary sleep. Parts: hardirq
//   (entry → exit), wakeup (exit → switch-in), handling (switch-in → sleep).

import { type EventRecord, StrSlot } from "../model/event.ts";
import { EVENT_KIND_COUNT, EventKind } from "../model/event-kind.ts";
import { METRIC_KEYS } from "../model/report.ts";
import type { Analyzer } from "./analyzer.ts";
import type { CpuCoverage } from "./cpu-coverage.ts";
import type { IrqLines } from "./irq-lines.ts";
import {
  FIRST_VIOLATION,
  HistogramBudget,
  MetricStats,
  NEW_MAX,
  VIOLATION,
  WORST_VIOLATION,
} from "./metric-stats.ts";
import type { SampleObserver } from "./sample-observer.ts";
import {
  M_IRQ,
  M_LATENCY,
  M_RELIEF,
  M_RESPONSE,
  M_TIMER,
  METRIC_COUNT,
  RunState,
  type TaskState,
} from "./task-state.ts";
import { COMM_REFRESH_NS, type TaskTable } from "./task-table.ts";

/** Number of additive parts per metric index. */
const PART_COUNTS = [0, 0, 0, 2, 3];
/** prev_state of a thread's last switch-out (TaskState.Dead | TaskState.Zombie) */
const DEAD_STATES = 0x10 | 0x20;
/** common_flags: hardirq | softirq context */
const IRQ_CONTEXT_FLAGS = 0x08 | 0x10;

export interface ActivationConfig {
  /** EventKind.SchedWakeup or EventKind.SchedWaking */
  wakeupKind: number;
  /** folded key of hrtimer_wakeup, -1 unknown */
  hrtimerWakeupKey: number;
  worstN: number;
  /** global SLO bounds by metric index, NaN = none */
  slo: Float64Array;
  observer?: SampleObserver;
  /** a tracked thread exited (sched_process_exit; live daemons mark their tasks exited) */
  onExit?: (t: TaskState) => void;
  /** tell the observer of every violation, not only the first and worst (a live stream) */
  observeViolations?: boolean;
}

/** Why open activations were cut. */
const CUT_LOSS = 0;
const CUT_LATE_CPU = 1;

export class Activations implements Analyzer {
  private readonly table: TaskTable;
  private readonly coverage: CpuCoverage;
  private readonly irqLines: IrqLines;
  readonly cfg: ActivationConfig;
  /** the sample flags that reach the observer */
  private readonly observed: number;
  private readonly watchNames: boolean;

  // per CPU
  private ncpu: number;
  /** tid of the task running on each CPU, -1 unknown */
  private cpuCurTid: Int32Array;
  private cpuCurTask: (TaskState | null)[];
  private cpuInExpire: Uint8Array;
  private cpuExpireKey: Float64Array;
  private cpuExpireFn: Float64Array;
  private cpuExpireNow: Float64Array;
  private cpuExpireTs: Float64Array;

  /** memory for fast (32-bit) histograms of busy metrics */
  readonly histogramBudget = new HistogramBudget();
  /** hrtimer_wakeup timers armed by tracked threads, by timer key (second link of timer wakeups) */
  private readonly armedTimers = new Map<number, TaskState>();

  // diagnostics counters
  /** current task changed without a recorded sched_switch, per CPU */
  missedSwitches: Float64Array;
  inferredSwitchIns = 0;
  cutByLoss = 0;
  cutBeforeData = 0;
  cutByLateCpu = 0;
  cutByMissedSwitch = 0;
  timerEndMissing = 0;
  lostKnown = 0;
  lostUnknown = 0;
  lostRecords = 0;
  migrateEventsSeen = false;
  /**
   * Samples count only when they end inside [countFromTs, countUntilTs) (relative ns). The
   * state machines run on outside the span, so an activation that begins before it and ends
   * inside is measured whole: `admit` feeds one stream to a baseline analysis and a
   * with-newcomer analysis split at the newcomer's start, with no gap between them.
   */
  countFromTs = Number.NEGATIVE_INFINITY;
  countUntilTs = Number.POSITIVE_INFINITY;
  /** which event kinds the stream carried at all (for "record with X enabled" diagnostics) */
  readonly kindSeen = new Uint8Array(EVENT_KIND_COUNT);

  constructor(table: TaskTable, coverage: CpuCoverage, irqLines: IrqLines, cfg: ActivationConfig) {
    this.table = table;
    this.coverage = coverage;
    this.irqLines = irqLines;
    this.cfg = cfg;
    this.observed = NEW_MAX | FIRST_VIOLATION | WORST_VIOLATION | (cfg.observeViolations ? VIOLATION : 0);
    this.watchNames = table.matcher.usesNames;
    const n = Math.max(1, table.cpus);
    this.ncpu = n;
    this.cpuCurTid = new Int32Array(n).fill(-1);
    this.cpuCurTask = new Array<TaskState | null>(n).fill(null);
    this.cpuInExpire = new Uint8Array(n);
    this.cpuExpireKey = new Float64Array(n);
    this.cpuExpireFn = new Float64Array(n);
    this.cpuExpireNow = new Float64Array(n);
    this.cpuExpireTs = new Float64Array(n);
    this.missedSwitches = new Float64Array(n);
    // a thread that becomes tracked re-reads its name soon and gets its SLO bounds
    table.onTracked = (t) => {
      if (t.commAt === Number.POSITIVE_INFINITY) t.commAt = Number.NEGATIVE_INFINITY;
    };
  }

  handle(rec: EventRecord): void {
    const cpu = rec.cpu;
    const ts = rec.ts;
    if (cpu >= this.ncpu) this.grow(cpu + 1);
    const cov = this.coverage;
    if (cov.waiting || cov.seen[cpu] === 0) {
      if (cov.note(cpu, ts)) this.cutAll(CUT_LATE_CPU);
    }
    const kind = rec.kind;
    this.kindSeen[kind] = 1;
    if (kind === EventKind.LostEvents) {
      this.onLost(rec);
      return;
    }
    if (rec.currentTid !== this.cpuCurTid[cpu]) this.currentChanged(cpu, rec.currentTid, ts);

    switch (kind) {
      case EventKind.SchedSwitch:
        this.onSwitch(rec, cpu, ts);
        break;
      case EventKind.SchedWakeup:
      case EventKind.SchedWakeupNew:
      case EventKind.SchedWaking:
        this.onWakeup(rec, cpu, ts, kind);
        break;
      case EventKind.HrtimerStart: {
        const t = this.cpuCurTask[cpu];
        if (t?.tracked) this.onTimerStart(t, rec);
        break;
      }
      case EventKind.HrtimerCancel: {
        const t = this.cpuCurTask[cpu];
        if (
          t?.tracked &&
          rec.timerKey === t.armedKey &&
          (rec.flags < 0 || (rec.flags & IRQ_CONTEXT_FLAGS) === 0)
        )
          t.armedSinceSleep = false;
        break;
      }
      case EventKind.HrtimerExpireEntry:
        this.cpuInExpire[cpu] = 1;
        this.cpuExpireKey[cpu] = rec.timerKey;
        this.cpuExpireFn[cpu] = rec.timerFn;
        this.cpuExpireNow[cpu] = rec.now;
        this.cpuExpireTs[cpu] = ts;
        if (this.armedTimers.size !== 0 && rec.timerFn === this.cfg.hrtimerWakeupKey)
          this.onOwnTimerExpiry(rec, ts);
        break;
      case EventKind.HrtimerExpireExit:
        this.cpuInExpire[cpu] = 0;
        break;
      case EventKind.SysEnterSleep: {
        const t = this.cpuCurTask[cpu];
        if (t?.tracked) t.inSleepSyscall = true;
        break;
      }
      case EventKind.SysExitSleep: {
        const t = this.cpuCurTask[cpu];
        if (t?.tracked) this.onSleepSyscallExit(t, cpu, ts);
        break;
      }
      case EventKind.SchedMigrateTask:
        this.onMigrate(rec);
        break;
      case EventKind.SchedProcessFork: {
        const child = this.table.create(rec.tid, rec.parentTid);
        this.table.setComm(child, rec.str(StrSlot.Comm), ts);
        this.afterName(child);
        break;
      }
      case EventKind.SchedProcessExit: {
        const t = this.table.get(rec.tid);
        if (t?.tracked && this.cfg.onExit !== undefined) this.cfg.onExit(t);
        break;
      }
      case EventKind.SchedProcessExec: {
        const t = this.table.getOrCreate(rec.tid);
        const file = rec.str(StrSlot.Comm);
        // the kernel names the task after the file's base name, truncated to 15 bytes
        const base = file.slice(file.lastIndexOf("/") + 1).slice(0, 15);
        this.table.setComm(t, base, ts);
        this.table.setTgid(t, t.tid); // an exec'd task leads its thread group
        break;
      }
      default:
        break;
    }
  }

  finish(_endTs: number): void {}

  // --- names -------------------------------------------------------------------------

  /** Reads the thread's name from the event at most every COMM_REFRESH_NS (renames). */
  private refreshName(t: TaskState, rec: EventRecord, slot: StrSlot, ts: number): void {
    if (ts - t.commAt > COMM_REFRESH_NS) {
      this.table.setComm(t, rec.str(slot), ts);
      this.afterName(t);
    }
  }

  /** Untracked threads are re-read only when the selection depends on names. */
  private afterName(t: TaskState): void {
    if (!t.tracked && !this.watchNames) t.commAt = Number.POSITIVE_INFINITY;
  }

  // --- who runs where ----------------------------------------------------------------

  /** The CPU's current task is not the one we believed: a switch was not recorded. */
  private currentChanged(cpu: number, tid: number, ts: number): void {
    if (this.cpuCurTid[cpu] !== -1) this.missedSwitches[cpu]++;
    const prev = this.cpuCurTask[cpu];
    if (prev !== null && prev.tid !== tid && prev.state === RunState.Running && prev.cpu === cpu) {
      // its switch-out was not recorded: we cannot tell whether it slept
      prev.state = RunState.Unknown;
      prev.lastInTs = Number.NaN;
      if (prev.tracked && prev.active && !prev.cut) {
        this.cut(prev);
        this.cutByMissedSwitch++;
      }
    }
    this.cpuCurTid[cpu] = tid;
    if (tid <= 0) {
      this.cpuCurTask[cpu] = null;
      return;
    }
    const t = this.table.getOrCreate(tid);
    this.cpuCurTask[cpu] = t;
    if (t.state === RunState.Woken && t.tracked && t.active) this.closeLatency(t, cpu, ts, true);
    if (t.state !== RunState.Running || t.cpu !== cpu) {
      if (t.cpu >= 0 && t.cpu !== cpu) t.cpuChanges++;
      t.state = RunState.Running;
      t.cpu = cpu;
      t.lastInTs = ts;
      if (t.active) t.touchCpu(cpu);
    }
  }

  private onSwitch(rec: EventRecord, cpu: number, ts: number): void {
    const prevTid = rec.prevTid;
    if (prevTid > 0) {
      const p = this.table.getOrCreate(prevTid);
      this.refreshName(p, rec, StrSlot.Comm, ts);
      if (p.prio !== rec.prevPrio) this.table.setPrio(p, rec.prevPrio);
      if (p.tracked) this.switchOut(p, ts, rec.prevState);
      else if ((rec.prevState & DEAD_STATES) !== 0) this.table.release(p);
      else p.state = rec.prevState === 0 ? RunState.Runnable : RunState.Sleeping;
    }
    const nextTid = rec.nextTid;
    this.cpuCurTid[cpu] = nextTid;
    if (nextTid > 0) {
      const n = this.table.getOrCreate(nextTid);
      this.refreshName(n, rec, StrSlot.Comm2, ts);
      if (n.prio !== rec.nextPrio) this.table.setPrio(n, rec.nextPrio);
      this.cpuCurTask[cpu] = n;
      if (n.tracked) this.switchIn(n, cpu, ts);
      else {
        n.state = RunState.Running;
        n.cpu = cpu;
      }
    } else {
      this.cpuCurTask[cpu] = null;
    }
  }

  private switchIn(t: TaskState, cpu: number, ts: number): void {
    if (t.state === RunState.Woken && t.active) this.closeLatency(t, cpu, ts, false);
    if (t.cpu >= 0 && t.cpu !== cpu) t.cpuChanges++;
    t.state = RunState.Running;
    t.cpu = cpu;
    t.lastInTs = ts;
    if (t.active) t.touchCpu(cpu);
  }

  private closeLatency(t: TaskState, cpu: number, ts: number, inferred: boolean): void {
    t.inTs = ts;
    t.inferredIn = inferred;
    if (inferred) this.inferredSwitchIns++;
    if (t.cut) return;
    this.sample(t, M_LATENCY, ts - t.wakeTs, t.wakeTs, ts, cpu, inferred, 0, 0, 0);
    if (!Number.isNaN(t.timerEntryTs) && !t.timerToSyscallExit) this.closeTimer(t, cpu, ts, inferred);
  }

  private switchOut(t: TaskState, ts: number, prevState: number): void {
    if (t.state === RunState.Running && !Number.isNaN(t.lastInTs)) t.runtime += ts - t.lastInTs;
    t.lastInTs = Number.NaN;
    if (prevState === 0) {
      t.involuntary++;
      t.state = RunState.Runnable;
      return;
    }
    t.voluntary++;
    t.state = RunState.Sleeping;
    const cpu = t.cpu;
    if (t.active) {
      t.active = false;
      if (!t.cut) {
        const inferred = t.inferredIn;
        this.sample(t, M_RESPONSE, ts - t.wakeTs, t.wakeTs, ts, cpu, false, 0, 0, 0);
        if (!Number.isNaN(t.irqEntryTs) && !Number.isNaN(t.inTs)) {
          const hard = t.irqExitTs - t.irqEntryTs;
          const wake = t.inTs - t.irqExitTs;
          const handling = ts - t.inTs;
          this.sample(t, M_IRQ, ts - t.irqEntryTs, t.irqEntryTs, ts, cpu, inferred, hard, wake, handling);
        }
        if (!Number.isNaN(t.timerEntryTs)) this.timerEndMissing++;
      }
    }
    t.timerEntryTs = Number.NaN;
    t.irqEntryTs = Number.NaN;
    const timerSleep = t.armedSinceSleep || t.inSleepSyscall;
    if (timerSleep) {
      if (!Number.isNaN(t.reliefStart))
        this.sample(t, M_RELIEF, ts - t.reliefStart, t.reliefStart, ts, cpu, false, 0, 0, 0);
      t.reliefStart = Number.NaN;
    }
    t.lastSleepTimer = timerSleep;
    t.lastSleepSyscall = t.inSleepSyscall;
    t.armedSinceSleep = false;
    t.lastSleepTs = ts;
  }

  // --- wakeups -------------------------------------------------------------------------

  private onWakeup(rec: EventRecord, cpu: number, ts: number, kind: number): void {
    const tid = rec.tid;
    if (tid <= 0) return;
    const t = this.table.getOrCreate(tid);
    this.refreshName(t, rec, StrSlot.Comm, ts);
    if (t.prio !== rec.prio) this.table.setPrio(t, rec.prio);
    if (!t.tracked) {
      if (t.state === RunState.Sleeping) t.state = RunState.Woken;
      return;
    }
    // tie the wakeup to the hrtimer expiring on this CPU (waking and wakeup both, the
    // wakeup may come later on another CPU when the kernel queues it remotely)
    if (this.cpuInExpire[cpu] !== 0) {
      const key = this.cfg.hrtimerWakeupKey;
      if (key < 0 || this.cpuExpireFn[cpu] === key) {
        t.wakeTimerKey = this.cpuExpireKey[cpu];
        t.wakeTimerEntryTs = this.cpuExpireTs[cpu];
        t.wakeTimerNow = this.cpuExpireNow[cpu];
      }
    }
    if (kind !== this.cfg.wakeupKind && kind !== EventKind.SchedWakeupNew) return;
    if (t.state !== RunState.Sleeping) {
      this.timerWithoutSleep(t, rec, cpu, ts);
      return;
    }
    this.startActivation(t, rec, cpu, ts);
  }

  /**
   * The thread's own timer expired before it got to sleep (it armed the timer inside
   * clock_nanosleep and was still running or preempted): the wakeup starts no activation,
   * but cyclictest still counts that cycle, from the expiry to the syscall's return.
   */
  private timerWithoutSleep(t: TaskState, rec: EventRecord, cpu: number, ts: number): void {
    if (
      t.inSleepSyscall &&
      this.coverage.valid &&
      t.wakeTimerKey !== -1 &&
      t.wakeTimerKey === t.armedKey &&
      !Number.isNaN(t.armedSoftExpires) &&
      Number.isNaN(t.timerEntryTs)
    ) {
      t.timerExpires = t.armedSoftExpires;
      t.timerEntryTs = t.wakeTimerEntryTs;
      t.timerNow = t.wakeTimerNow;
      t.timerToSyscallExit = true;
      // what an observer is told about this sample; an activation in progress (the thread
      // runs inside one) keeps its own wakeup, which its response is measured from
      if (!t.active) {
        t.epoch++;
        t.touchCpu(cpu);
        t.wakeTs = ts;
        t.wakeCpu = cpu;
        t.wakePrio = rec.prio;
        t.inTs = Number.NaN;
      }
    }
    t.wakeTimerKey = -1;
  }

  private startActivation(t: TaskState, rec: EventRecord, cpu: number, ts: number): void {
    t.wakeups++;
    t.active = true;
    t.cut = false;
    t.epoch++;
    t.touchCpu(cpu);
    const target = rec.targetCpu;
    if (target >= 0) t.touchCpu(target);
    t.wakeTs = ts;
    t.wakeCpu = cpu;
    t.wakePrio = rec.prio;
    t.inTs = Number.NaN;
    t.inferredIn = false;
    t.state = RunState.Woken;
    const cov = this.coverage;
    if (!cov.valid) {
      this.cutBeforeData++;
      this.cut(t);
    } else if (target >= 0 && !cov.covers(target)) {
      this.cutByLateCpu++;
      this.cut(t);
    }
    // relief: a wakeup that ends a timer sleep starts a cycle
    if (t.lastSleepTimer && !t.cut) t.reliefStart = ts;
    // timer: woken by the expiry of the hrtimer_wakeup timer it armed
    t.timerEntryTs = Number.NaN;
    if (
      !t.cut &&
      t.wakeTimerKey !== -1 &&
      t.wakeTimerKey === t.armedKey &&
      t.wakeTimerEntryTs >= t.lastSleepTs &&
      !Number.isNaN(t.armedSoftExpires)
    ) {
      t.timerExpires = t.armedSoftExpires;
      t.timerEntryTs = t.wakeTimerEntryTs;
      t.timerNow = t.wakeTimerNow;
      t.timerToSyscallExit = t.lastSleepSyscall;
    }
    t.wakeTimerKey = -1;
    // irq thread: the handler of its line that completed last, after its previous sleep
    t.irqEntryTs = Number.NaN;
    if (t.irqLine >= 0 && !t.cut) {
      const l = this.irqLines.line(t.irqLine);
      if (l !== undefined && l.lastExitTs >= t.lastSleepTs && l.lastExitTs <= ts) {
        t.irqEntryTs = l.lastEntryTs;
        t.irqExitTs = l.lastExitTs;
      }
    }
  }

  // --- timers ----------------------------------------------------------------------------

  private onTimerStart(t: TaskState, rec: EventRecord): void {
    // timers started from IRQ context (tick, ...) are not the task's own
    if (rec.flags >= 0 && (rec.flags & IRQ_CONTEXT_FLAGS) !== 0) return;
    const key = this.cfg.hrtimerWakeupKey;
    const soft = rec.softExpires !== 0 ? rec.softExpires : rec.expires;
    if (key >= 0) {
      if (rec.timerFn !== key) return;
      t.armedSinceSleep = true;
      // keys are stack addresses, reused: entries are overwritten or removed at expiry; the
      // bound only guards against timers that never expire in the trace
      if (this.armedTimers.size >= 65536) this.armedTimers.clear();
      this.armedTimers.set(rec.timerKey, t);
    }
    // callback unknown: remember the timer for the timer metric, but it proves no timer sleep
    t.armedKey = rec.timerKey;
    t.armedSoftExpires = soft;
  }

  /**
   * An hrtimer_wakeup timer a tracked thread armed expires: the thread's wakeup that follows
   * (wherever it is recorded) is a timer wakeup even when it is not inside this expiry.
   */
  private onOwnTimerExpiry(rec: EventRecord, ts: number): void {
    const t = this.armedTimers.get(rec.timerKey);
    if (t === undefined) return;
    this.armedTimers.delete(rec.timerKey);
    if (t.armedKey !== rec.timerKey || !t.tracked) return;
    t.wakeTimerKey = rec.timerKey;
    t.wakeTimerEntryTs = ts;
    t.wakeTimerNow = rec.now;
  }

  private onSleepSyscallExit(t: TaskState, cpu: number, ts: number): void {
    t.inSleepSyscall = false;
    // a cut clears timerEntryTs; with no activation the timer expired before the thread slept
    if (!Number.isNaN(t.timerEntryTs) && t.timerToSyscallExit) this.closeTimer(t, cpu, ts, false);
  }

  private closeTimer(t: TaskState, cpu: number, ts: number, inferred: boolean): void {
    const irqPart = t.timerNow - t.timerExpires;
    const threadPart = ts - t.timerEntryTs;
    const start = t.timerEntryTs - irqPart;
    this.sample(t, M_TIMER, irqPart + threadPart, start, ts, cpu, inferred, irqPart, threadPart, 0);
    t.timerEntryTs = Number.NaN;
  }

  // --- migrations, losses ------------------------------------------------------------------

  private onMigrate(rec: EventRecord): void {
    const t = this.table.get(rec.tid);
    if (t === undefined || !t.tracked) return;
    this.migrateEventsSeen = true;
    t.migrations++;
    const dest = rec.targetCpu;
    if (t.active && dest >= 0) {
      t.touchCpu(dest);
      if (!t.cut && this.coverage.valid && !this.coverage.covers(dest)) {
        this.cutByLateCpu++;
        this.cut(t);
      }
    }
    if (t.state !== RunState.Running && dest >= 0) t.cpu = dest;
  }

  private onLost(rec: EventRecord): void {
    this.lostRecords++;
    if (rec.lostCount < 0) this.lostUnknown++;
    else this.lostKnown += rec.lostCount;
    this.cutAll(CUT_LOSS);
    // the CPU's current task may have switched unseen: re-learn it from the next event
    const cpu = rec.cpu;
    const cur = this.cpuCurTask[cpu];
    if (cur !== null && cur.cpu === cpu && cur.state === RunState.Running) {
      cur.state = RunState.Unknown;
      cur.lastInTs = Number.NaN;
    }
    this.cpuCurTid[cpu] = -1;
    this.cpuCurTask[cpu] = null;
    this.cpuInExpire[cpu] = 0;
  }

  /** Ends the current activation of `t` without samples (counted as incomplete). */
  private cut(t: TaskState): void {
    if (!t.cut) t.incomplete++;
    t.cut = true;
    t.reliefStart = Number.NaN;
    t.timerEntryTs = Number.NaN;
    t.irqEntryTs = Number.NaN;
    // a sleep syscall whose exit was lost must not make every later sleep a timer sleep
    t.inSleepSyscall = false;
  }

  private cutAll(why: number): void {
    const tasks = this.table.tasks;
    for (let i = 0; i < tasks.length; i++) {
      const t = tasks[i];
      if (t === null || !t.tracked) continue;
      if (t.active && !t.cut) {
        if (why === CUT_LOSS) this.cutByLoss++;
        else this.cutByLateCpu++;
        this.cut(t);
      }
      // a relief cycle spans sleeps, a timer may run without activation: cut them anyway
      t.reliefStart = Number.NaN;
      t.timerEntryTs = Number.NaN;
    }
  }

  // --- samples -------------------------------------------------------------------------------

  /** Global or per-task bound for a metric (NaN = none). */
  boundFor(t: TaskState, m: number): number {
    const o = t.sloOverride;
    if (o !== null && !Number.isNaN(o[m])) return o[m];
    return this.cfg.slo[m];
  }

  private sample(
    t: TaskState,
    m: number,
    value: number,
    start: number,
    end: number,
    runCpu: number,
    inferred: boolean,
    a: number,
    b: number,
    c: number,
  ): void {
    if (end < this.countFromTs || end >= this.countUntilTs) return;
    let s = t.metrics[m];
    if (s === null) {
      s = new MetricStats(this.cfg.worstN, PART_COUNTS[m], this.boundFor(t, m), this.histogramBudget);
      t.metrics[m] = s;
    }
    const flags = s.add(value, start, end, runCpu, inferred);
    if (PART_COUNTS[m] !== 0) s.addParts(flags, a, b, c);
    const obs = this.cfg.observer;
    if ((flags & this.observed) !== 0 && obs !== undefined) {
      obs.onSample({
        tid: t.tid,
        metric: METRIC_KEYS[m],
        value,
        start,
        end,
        wakeTs: t.wakeTs,
        wakeCpu: t.wakeCpu,
        runCpu,
        cpus: t.activationCpus(),
        prio: t.wakePrio,
        switchInTs: t.inTs,
        inferred,
        isNewMax: (flags & NEW_MAX) !== 0,
        isFirstViolation: (flags & FIRST_VIOLATION) !== 0,
        isWorstViolation: (flags & WORST_VIOLATION) !== 0,
        isViolation: (flags & VIOLATION) !== 0,
      });
    }
  }

  private grow(n: number): void {
    const i32 = (a: Int32Array, fill: number) => {
      const g = new Int32Array(n).fill(fill);
      g.set(a);
      return g;
    };
    const f64 = (a: Float64Array) => {
      const g = new Float64Array(n);
      g.set(a);
      return g;
    };
    this.cpuCurTid = i32(this.cpuCurTid, -1);
    while (this.cpuCurTask.length < n) this.cpuCurTask.push(null);
    const ie = new Uint8Array(n);
    ie.set(this.cpuInExpire);
    this.cpuInExpire = ie;
    this.cpuExpireKey = f64(this.cpuExpireKey);
    this.cpuExpireFn = f64(this.cpuExpireFn);
    this.cpuExpireNow = f64(this.cpuExpireNow);
    this.cpuExpireTs = f64(this.cpuExpireTs);
    this.missedSwitches = f64(this.missedSwitches);
    this.ncpu = n;
  }
}

export { METRIC_COUNT };
