// The activation state machine (SPEC §1): per thread, wakeup → switch-in (latency) →
// voluntary sleep (response); timer wakeups (timer), control-loop cycles between timer
// sleeps (relief) and IRQ thread runs (irq). One analyzer, one switch over the event kind,
// per-CPU typed arrays; per event it touches at most two TaskStates found through a typed
// array and allocates nothing (samples allocate only when an observer must be told).
//
// Rules worth knowing:
// - A wakeup starts an activation only when the thread is known to sleep (seen switching
//   out with a sleeping state, or newly forked). A wakeup of a running or runnable thread
//   starts nothing. A thread not seen switching yet (its first appearance in the trace) gets
//   a tentative activation when every CPU had data at the wakeup: it counts if the thread's
//   next sign of life is its switch-in (a running thread would first show as the current
//   task or switch out), else it is dropped without a trace.
// - A second wakeup while the first is pending proves the thread ran and slept unseen (the
//   kernel writes sched_waking/sched_wakeup only for a task in a sleeping state): cut.
// - Missing switches: when a thread is the current task (common_pid) of any event while
//   its wakeup is pending, its switch-in happened no later than that event: the latency is
//   closed there and flagged inferred. When a CPU's current task changes without a recorded
//   switch, the thread we believed running there lost its switch-out: its activation is cut.
// - Validity is per activation (cpu-coverage.ts): lost events on any CPU cut every
//   activation, relief cycle, timer measurement and IRQ-thread run overlapping the gap
//   (the record comes at the gap's start; activations starting before its end are cut as
//   well); an activation involving a CPU that had no data since its start is cut. Cut
//   activations count in `incomplete` (per reason) and never produce samples.
// - Activations still open at the end of the stream produce nothing and are not counted.
// - timer: from the requested expiry (softexpires of the hrtimer_wakeup timer the thread
//   armed, the time cyclictest/stress-ng measure from; equal to `expires` for RT threads,
//   which get no slack) to the switch-in, or to sys_exit of clock_nanosleep/nanosleep when
//   the thread slept inside that syscall and syscall events are on. The sample is end − expiry
//   on the trace clock: the expiry is in the timer's clock base, put on the trace clock by
//   TimerClock (0 for MONOTONIC timers on a mono trace clock, else an offset estimated from the
//   events; timer-clock.ts). Parts: irq = expiry → this timer's hrtimer_expire_entry, thread =
//   expire_entry → end; they add up to the sample. The wakeup is tied to the timer by two links, either
//   suffices: it happens on the expiring CPU inside expire_entry/exit of an hrtimer_wakeup
//   timer, or that timer's key is one the thread armed (a wakeup recorded later on another
//   CPU). Either way the expired timer must be the one the thread armed last (same key): the
//   expiry comes from its hrtimer_start.
//   A timer that expires before the thread got to sleep (wakeup of a running thread inside
//   clock_nanosleep) starts no activation but still gives a timer sample to the syscall exit.
// - irq: one sample per run of an irq/N thread, from the irq_handler_entry of the hard IRQ
//   that woke it to its sleep in S (irq_wait_for_interrupt: waiting for the next
//   interrupt). D sleeps inside the handler (rtlock waits on PREEMPT_RT, bus transfers) stay
//   inside; the thread's latency/response activations still end and start at them. The IRQ
//   is the one whose handler wrote the thread's sched_waking/sched_wakeup (the handler's
//   context, on the IRQ's CPU, also when the wakeup itself is queued to another CPU), else
//   the line's handler that completed last before the wakeup and after the previous sleep.
//   Hard IRQs of the line arriving while a run is in progress are served by that run (the
//   thread loops without sleeping): they give no sample of their own, the run's sample is
//   the delay of the oldest IRQ it served (the worst), and they are counted (`irqCoalesced`).
//   Parts: hardirq (entry → exit), wakeup (exit → first switch-in), handling (→ the sleep).

import { type EventRecord, StrSlot } from "../model/event.ts";
import { EVENT_KIND_COUNT, EventKind } from "../model/event-kind.ts";
import { assertIdInRange } from "../model/id-limits.ts";
import { METRIC_KEYS } from "../model/report.ts";
import { DOUBLE_ZERO } from "../model/units.ts";
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
import type { CutReason, SampleObserver, SampleSink } from "./sample-observer.ts";
import {
  M_IRQ,
  M_LATENCY,
  M_RELIEF,
  M_RESPONSE,
  M_TIMER,
  METRIC_COUNT,
  NO_TIMER_KEY,
  RunState,
  type TaskState,
} from "./task-state.ts";
import { COMM_REFRESH_NS, type TaskListener, type TaskTable } from "./task-table.ts";
import type { TimerClock } from "./timer-clock.ts";

/** Number of additive parts per metric index. */
const PART_COUNTS = [0, 0, 0, 2, 3];
/** prev_state of a thread's last switch-out (TaskState.Dead | TaskState.Zombie) */
const DEAD_STATES = 0x10 | 0x20;
/** common_flags: hardirq | softirq context */
const IRQ_CONTEXT_FLAGS = 0x08 | 0x10;
/** clone flag: the new task is a thread of its creator's group */
const CLONE_THREAD = 0x10000;

export interface ActivationConfig {
  /** EventKind.SchedWakeup or EventKind.SchedWaking */
  wakeupKind: number;
  /** folded key of hrtimer_wakeup, -1 unknown */
  hrtimerWakeupKey: number;
  worstN: number;
  /** global SLO bounds by metric index, NaN = none */
  slo: Float64Array;
  /** puts hrtimer expiries on the trace clock */
  timerClock: TimerClock;
  observer?: SampleObserver;
  /** told every sample and every cut activation (--samples) */
  sink?: SampleSink;
  /** told when a tracked thread exits (sched_process_exit; live daemons mark their tasks exited) */
  tasks?: TaskListener;
  /**
   * analyzers whose state must include an event before a sample ending at it is reported:
   * the observer's window source (its flight recorder)
   */
  after?: readonly Analyzer[];
  /** tell the observer of every violation, not only the first and worst (a live stream) */
  observeViolations?: boolean;
}

/** Why an activation was cut. */
const CUT_LOSS = 0;
const CUT_NO_DATA = 1;
const CUT_MISSED_SWITCH = 2;
const CUT_MISSED_RUN = 3;
/** The cut reasons by code, as the samples file names them. */
const CUT_REASONS: readonly CutReason[] = ["loss", "cpu-without-data", "missed-switch", "missed-run"];
/** prev_state bits: S (waiting for the next interrupt, for an IRQ thread) and D */
const STATE_S = 0x1;
const STATE_D = 0x2;

/** The counters the diagnostics are made from (Activations' own fields, read-only). */
export interface ActivationCounters {
  /** current task changed without a recorded sched_switch, per CPU */
  readonly missedSwitches: Float64Array;
  readonly inferredSwitchIns: number;
  readonly cutByLoss: number;
  readonly cutByNoData: number;
  readonly cutByMissedSwitch: number;
  readonly cutByMissedRun: number;
  readonly timerEndMissing: number;
  readonly lostKnown: number;
  readonly lostUnknown: number;
  readonly lostRecords: number;
  readonly migrateEventsSeen: boolean;
  /** which event kinds the stream carried at all */
  readonly kindSeen: Uint8Array;
  readonly groupSources: { readonly newtask: number; readonly exec: number; readonly column: number };
  /** tasks forked with no thread-group data: child tid → the creator's group */
  readonly forkedUngrouped: ReadonlyMap<number, number>;
}

export class Activations implements Analyzer<ActivationCounters>, TaskListener {
  readonly name = "activations";
  readonly dependsOn: readonly Analyzer[];
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
  /** TimerClock offset of the expiring timer's base */
  private cpuExpireOffset: Float64Array;
  private cpuExpireSlot: Int32Array;
  private cpuExpireTs: Float64Array;

  /** memory for fast (32-bit) histograms of busy metrics */
  readonly histogramBudget = new HistogramBudget();
  /** hrtimer_wakeup timers armed by tracked threads, by timer key (second link of timer wakeups) */
  private readonly armedTimers = new Map<number, TaskState>();
  /** IRQ-thread runs whose hard IRQ's exit is still to come */
  private readonly irqExitPending: TaskState[] = [];

  // diagnostics counters
  /** current task changed without a recorded sched_switch, per CPU */
  missedSwitches: Float64Array;
  inferredSwitchIns = 0;
  cutByLoss = 0;
  cutByNoData = 0;
  cutByMissedSwitch = 0;
  cutByMissedRun = 0;
  /** tentative first activations dropped: the thread was running */
  tentativeDropped = 0;
  /** thread groups seen: from task_newtask clone flags, exec, the text TGID column */
  readonly groupSources = { newtask: 0, exec: 0, column: 0, forkOnly: 0 };
  /**
   * Tasks forked with no thread-group data (thread or process? the trace does not say), by
   * child tid → the creator's group (bounded; for the `--tgid` diagnostic)
   */
  readonly forkedUngrouped = new Map<number, number>();
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
  private countFromTs = Number.NEGATIVE_INFINITY;
  private countUntilTs = Number.POSITIVE_INFINITY;
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
    this.cpuExpireOffset = new Float64Array(n);
    this.cpuExpireSlot = new Int32Array(n);
    this.cpuExpireTs = new Float64Array(n);
    this.missedSwitches = new Float64Array(n);
    this.dependsOn = [irqLines, ...(cfg.after ?? [])];
    table.addListener(this);
  }

  /** A thread that becomes tracked re-reads its name soon. */
  taskTracked(t: TaskState): void {
    if (t.commAt === Number.POSITIVE_INFINITY) t.commAt = Number.NEGATIVE_INFINITY;
  }

  data(): ActivationCounters {
    return this;
  }

  /**
   * Samples count only when they end inside [fromTs, untilTs) (see countFromTs); the state
   * machines run on outside it.
   */
  countBetween(fromTs: number, untilTs: number): void {
    this.countFromTs = fromTs;
    this.countUntilTs = untilTs;
  }

  /** timestamp of the event being handled (where a cut activation ends) */
  private eventTs = DOUBLE_ZERO;

  handle(rec: EventRecord): void {
    const cpu = rec.cpu;
    this.table.now = rec.ts;
    const ts = rec.ts;
    this.eventTs = ts;
    if (cpu >= this.ncpu) this.grow(cpu + 1);
    const cov = this.coverage;
    const firstOnCpu = cpu >= cov.seen.length || cov.seen[cpu] === 0;
    if (firstOnCpu) cov.note(cpu, ts);
    const kind = rec.kind;
    this.kindSeen[kind] = 1;
    if (kind === EventKind.LostEvents) {
      this.onLost(rec, firstOnCpu);
      return;
    }
    if (rec.currentTid !== this.cpuCurTid[cpu]) this.currentChanged(cpu, rec.currentTid, ts);
    if (rec.currentTgid > 0) this.groupFromColumn(cpu, rec.currentTid, rec.currentTgid);

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
      case EventKind.HrtimerExpireEntry: {
        // every expiry feeds the clock estimate, not only the tracked threads' timers
        const clock = this.cfg.timerClock;
        const offset = clock.offsetAt(cpu, ts, rec.now);
        this.cpuInExpire[cpu] = 1;
        this.cpuExpireKey[cpu] = rec.timerKey;
        this.cpuExpireFn[cpu] = rec.timerFn;
        this.cpuExpireOffset[cpu] = offset;
        this.cpuExpireSlot[cpu] = clock.slot;
        this.cpuExpireTs[cpu] = ts;
        if (this.armedTimers.size !== 0 && rec.timerFn === this.cfg.hrtimerWakeupKey)
          this.onOwnTimerExpiry(rec, ts, offset, clock.slot);
        break;
      }
      case EventKind.HrtimerExpireExit:
        this.cpuInExpire[cpu] = 0;
        break;
      case EventKind.IrqHandlerEntry: {
        const th = this.irqLines.line(rec.irq)?.thread;
        // a hard IRQ while the line's thread is still handling: that run serves it
        if (th != null && !Number.isNaN(th.irqEntryTs) && th.irqLastLinked !== ts) {
          th.irqCoalesced++;
          th.irqLastLinked = ts;
        }
        break;
      }
      case EventKind.IrqHandlerExit:
        if (this.irqExitPending.length !== 0) this.onIrqExit(rec, cpu, ts);
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
        const child = this.table.forked(rec.tid, rec.parentTid);
        this.table.setComm(child, rec.str(StrSlot.Comm), ts);
        this.afterName(child);
        if (!child.tgidKnown) {
          this.groupSources.forkOnly++;
          const parent = this.table.get(rec.parentTid);
          if (this.forkedUngrouped.size < 65536)
            this.forkedUngrouped.set(child.tid, parent?.tgid ?? rec.parentTid);
        }
        break;
      }
      case EventKind.TaskNewtask: {
        // written by the creating task (common_pid) before sched_process_fork
        const child = this.table.create(rec.tid, rec.currentTid);
        const parent = rec.currentTid > 0 ? this.table.get(rec.currentTid) : undefined;
        this.groupSources.newtask++;
        if ((rec.cloneFlags & CLONE_THREAD) === 0) this.table.setTgid(child, child.tid);
        else if (parent?.tgidKnown) this.table.setTgid(child, parent.tgid);
        else if (rec.currentTgid > 0) this.table.setTgid(child, rec.currentTgid);
        else this.table.setThreadOf(child, rec.currentTid);
        this.table.setComm(child, rec.str(StrSlot.Comm), ts);
        this.afterName(child);
        break;
      }
      case EventKind.SchedProcessExit: {
        // the thread still runs until its last switch-out (X/Z), which makes it Dead
        const t = this.table.get(rec.tid);
        if (t === undefined) break;
        if (Number.isNaN(t.exitTs)) t.exitTs = ts;
        // a daemon marks its task exited (its statistics stay until it is removed)
        if (t.tracked) this.cfg.tasks?.taskExited?.(t);
        break;
      }
      case EventKind.SchedProcessExec: {
        const t = this.table.getOrCreate(rec.tid);
        const file = rec.str(StrSlot.Comm);
        // the kernel names the task after the file's base name, truncated to 15 bytes
        const base = file.slice(file.lastIndexOf("/") + 1).slice(0, 15);
        this.table.setComm(t, base, ts);
        this.table.setTgid(t, t.tid); // an exec'd task leads its thread group
        this.groupSources.exec++;
        this.forkedUngrouped.delete(t.tid);
        break;
      }
      default:
        break;
    }
  }

  finish(_endTs: number): void {
    this.cfg.timerClock.finish();
  }

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
  /** The text TGID column (record-tgid) names the current task's thread group. */
  private groupFromColumn(cpu: number, tid: number, tgid: number): void {
    const t = this.cpuCurTask[cpu];
    if (t === null || t.tgidKnown || t.tid !== tid) return;
    this.groupSources.column++;
    this.table.setTgid(t, tgid);
  }

  private currentChanged(cpu: number, tid: number, ts: number): void {
    if (this.cpuCurTid[cpu] !== -1) this.missedSwitches[cpu]++;
    const prev = this.cpuCurTask[cpu];
    if (prev !== null && prev.tid !== tid && prev.state === RunState.Running && prev.cpu === cpu) {
      // its switch-out was not recorded: we cannot tell whether it slept
      prev.state = RunState.Unknown;
      prev.lastInTs = Number.NaN;
      if (prev.tracked && prev.active && !prev.cut) this.cut(prev, CUT_MISSED_SWITCH);
      // an IRQ-thread run cannot be told to have ended in S or D
      prev.irqEntryTs = Number.NaN;
    }
    this.cpuCurTid[cpu] = tid;
    if (tid <= 0) {
      this.cpuCurTask[cpu] = null;
      return;
    }
    const t = this.table.getOrCreate(tid);
    this.cpuCurTask[cpu] = t;
    if (t.state === RunState.Woken && t.tracked && t.active) {
      if (t.tentative) this.dropTentative(t);
      else this.closeLatency(t, cpu, ts, true);
    }
    if (!Number.isNaN(t.irqEntryTs) && Number.isNaN(t.irqInTs)) {
      t.irqInTs = ts;
      t.irqInferred = true;
    }
    if (t.state !== RunState.Running || t.cpu !== cpu) {
      if (t.cpu >= 0 && t.cpu !== cpu) t.cpuChanges++;
      t.state = RunState.Running;
      t.cpu = cpu;
      t.lastInTs = ts;
      if (t.active) this.involve(t, cpu);
    }
  }

  /**
   * A tentative first activation whose thread showed up running without a switch-in: it
   * may have been running all along (a wakeup of a running task), so nothing is measured.
   */
  private dropTentative(t: TaskState): void {
    t.tentative = false;
    t.active = false;
    t.wakeups--;
    t.reliefStart = Number.NaN;
    t.timerEntryTs = Number.NaN;
    t.irqEntryTs = Number.NaN;
    this.tentativeDropped++;
  }

  private onSwitch(rec: EventRecord, cpu: number, ts: number): void {
    const prevTid = rec.prevTid;
    if (prevTid > 0) {
      const p = this.table.getOrCreate(prevTid);
      this.refreshName(p, rec, StrSlot.Comm, ts);
      if (p.prio !== rec.prevPrio) this.table.setPrio(p, rec.prevPrio);
      if (p.tracked) {
        this.switchOut(p, ts, rec.prevState);
        if ((rec.prevState & DEAD_STATES) !== 0) {
          p.state = RunState.Dead;
          if (Number.isNaN(p.exitTs)) p.exitTs = ts;
          this.table.died(p);
        }
      } else if ((rec.prevState & DEAD_STATES) !== 0) this.table.release(p);
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
    if (t.active) this.involve(t, cpu);
    if (!Number.isNaN(t.irqEntryTs) && Number.isNaN(t.irqInTs)) {
      t.irqInTs = ts;
      t.irqInferred = false;
    }
    t.tentative = false;
    if (t.state === RunState.Woken && t.active) this.closeLatency(t, cpu, ts, false);
    if (t.cpu >= 0 && t.cpu !== cpu) t.cpuChanges++;
    t.state = RunState.Running;
    t.cpu = cpu;
    t.lastInTs = ts;
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
    const cut = t.cut;
    if (t.active) {
      t.active = false;
      if (!cut) {
        this.sample(t, M_RESPONSE, ts - t.wakeTs, t.wakeTs, ts, cpu, false, 0, 0, 0);
        if (!Number.isNaN(t.timerEntryTs)) this.timerEndMissing++;
      }
    }
    t.timerEntryTs = Number.NaN;
    // an IRQ thread's run ends when it waits for its next interrupt (S); D stays inside
    if (!Number.isNaN(t.irqEntryTs) && ((prevState & STATE_D) === 0 || (prevState & STATE_S) !== 0)) {
      if ((prevState & STATE_S) !== 0 && !cut && !Number.isNaN(t.irqInTs) && !Number.isNaN(t.irqExitTs)) {
        const hard = t.irqExitTs - t.irqEntryTs;
        const wake = t.irqInTs - t.irqExitTs;
        const handling = ts - t.irqInTs;
        this.sample(t, M_IRQ, ts - t.irqEntryTs, t.irqEntryTs, ts, cpu, t.irqInferred, hard, wake, handling);
      }
      t.irqEntryTs = Number.NaN;
    }
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
        t.wakeTimerOffset = this.cpuExpireOffset[cpu];
        t.wakeTimerSlot = this.cpuExpireSlot[cpu];
      }
    }
    if (t.irqLine >= 0) this.linkIrq(t, cpu);
    if (kind !== this.cfg.wakeupKind && kind !== EventKind.SchedWakeupNew) return;
    if (t.state === RunState.Woken && t.active && !t.cut && kind !== EventKind.SchedWakeupNew)
      this.cut(t, CUT_MISSED_RUN);
    if (t.state === RunState.Unknown && !this.runningNow(t) && this.coverage.allCovered(ts)) {
      this.startActivation(t, rec, cpu, ts);
      t.tentative = true;
      return;
    }
    if (t.state !== RunState.Sleeping) {
      this.timerWithoutSleep(t, rec, cpu, ts);
      return;
    }
    this.startActivation(t, rec, cpu, ts);
  }

  /** Whether `t` is the current task of the CPU it was last seen on. */
  private runningNow(t: TaskState): boolean {
    return t.cpu >= 0 && t.cpu < this.ncpu && this.cpuCurTask[t.cpu] === t;
  }

  /**
   * A wakeup of an IRQ thread written inside its line's hard handler (sched_waking is, on the
   * IRQ's CPU, even when sched_wakeup comes later on another CPU): that IRQ starts a run,
   * or is served by the run in progress.
   */
  private linkIrq(t: TaskState, cpu: number): void {
    const lines = this.irqLines;
    if (lines.inIrq(cpu) !== t.irqLine) return;
    const entry = lines.inIrqEntryTs(cpu);
    const line = lines.line(t.irqLine);
    if (line !== undefined) line.thread = t;
    if (!Number.isNaN(t.irqEntryTs)) {
      if (entry !== t.irqEntryTs && entry !== t.irqLastLinked) {
        t.irqCoalesced++;
        t.irqLastLinked = entry;
      }
      return;
    }
    // a run starts only for a thread known to wait (or, at its first appearance, one that
    // could not be running unseen: the same rule as a tentative activation)
    if (
      t.state !== RunState.Sleeping &&
      !(t.state === RunState.Unknown && !this.runningNow(t) && this.coverage.allCovered(entry))
    )
      return;
    t.irqEntryTs = entry;
    t.irqLastLinked = entry;
    t.irqExitTs = Number.NaN;
    t.irqCpu = cpu;
    t.irqInTs = Number.NaN;
    this.irqExitPending.push(t);
    if (t.active) this.involve(t, cpu);
  }

  /** The exit of a hard IRQ that started a run. */
  private onIrqExit(rec: EventRecord, cpu: number, ts: number): void {
    const list = this.irqExitPending;
    for (let i = list.length - 1; i >= 0; i--) {
      const t = list[i];
      if (t.irqCpu !== cpu) continue;
      if (t.irqLine === rec.irq && Number.isNaN(t.irqExitTs)) t.irqExitTs = ts;
      list[i] = list[list.length - 1];
      list.pop();
    }
  }

  /**
   * The thread's own timer expired before it got to sleep (it armed the timer inside
   * clock_nanosleep and was still running or preempted): the wakeup starts no activation,
   * but cyclictest still counts that cycle, from the expiry to the syscall's return.
   */
  private timerWithoutSleep(t: TaskState, rec: EventRecord, cpu: number, ts: number): void {
    if (
      t.inSleepSyscall &&
      ts >= this.coverage.lossUntil &&
      t.wakeTimerKey !== NO_TIMER_KEY &&
      t.wakeTimerKey === t.armedKey &&
      !Number.isNaN(t.armedSoftExpires) &&
      !Number.isNaN(t.wakeTimerOffset) &&
      Number.isNaN(t.timerEntryTs)
    ) {
      t.timerExpiry = this.expiryOnTraceClock(t);
      t.timerEntryTs = t.wakeTimerEntryTs;
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
    t.wakeTimerKey = NO_TIMER_KEY;
  }

  private startActivation(t: TaskState, rec: EventRecord, cpu: number, ts: number): void {
    t.newborn = false;
    t.wakeups++;
    t.active = true;
    t.cut = false;
    t.tentative = false;
    t.epoch++;
    t.wakeTs = ts;
    t.wakeCpu = cpu;
    t.wakePrio = rec.prio;
    t.inTs = Number.NaN;
    t.inferredIn = false;
    t.state = RunState.Woken;
    // events lost on any CPU until after this wakeup: the start itself is in doubt
    if (ts < this.coverage.lossUntil) this.cut(t, CUT_LOSS);
    this.involve(t, cpu);
    const target = rec.targetCpu;
    if (target >= 0) this.involve(t, target);
    // relief: a wakeup that ends a timer sleep starts a cycle
    if (t.lastSleepTimer && !t.cut) t.reliefStart = ts;
    // timer: woken by the expiry of the hrtimer_wakeup timer it armed
    t.timerEntryTs = Number.NaN;
    if (
      !t.cut &&
      t.wakeTimerKey !== NO_TIMER_KEY &&
      t.wakeTimerKey === t.armedKey &&
      t.wakeTimerEntryTs >= t.lastSleepTs &&
      !Number.isNaN(t.armedSoftExpires) &&
      !Number.isNaN(t.wakeTimerOffset)
    ) {
      t.timerExpiry = this.expiryOnTraceClock(t);
      t.timerEntryTs = t.wakeTimerEntryTs;
      t.timerToSyscallExit = t.lastSleepSyscall;
    }
    t.wakeTimerKey = NO_TIMER_KEY;
    // irq thread: a run continues across D sleeps; else the IRQ whose handler woke it
    // (linkIrq), else the handler of its line that completed last, after its previous sleep
    if (t.irqLine >= 0) {
      if (Number.isNaN(t.irqEntryTs)) {
        const l = this.irqLines.line(t.irqLine);
        if (l !== undefined && l.lastExitTs >= t.lastSleepTs && l.lastExitTs <= ts) {
          l.thread = t;
          t.irqEntryTs = l.lastEntryTs;
          t.irqLastLinked = l.lastEntryTs;
          t.irqExitTs = l.lastExitTs;
          t.irqCpu = l.lastCpu;
          t.irqInTs = Number.NaN;
        }
      }
      if (!Number.isNaN(t.irqEntryTs)) {
        if (t.irqCpu >= 0) this.involve(t, t.irqCpu);
        if (t.cut) t.irqEntryTs = Number.NaN;
      }
    }
  }

  /**
   * Marks `cpu` as involved in the current activation; an activation involving a CPU whose
   * data does not cover it since its start is cut (the thread may have run there unseen).
   */
  private involve(t: TaskState, cpu: number): void {
    t.touchCpu(cpu);
    if (!t.cut && !this.coverage.covered(cpu, t.wakeTs)) this.cut(t, CUT_NO_DATA);
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
  private onOwnTimerExpiry(rec: EventRecord, ts: number, offset: number, slot: number): void {
    const t = this.armedTimers.get(rec.timerKey);
    if (t === undefined) return;
    this.armedTimers.delete(rec.timerKey);
    if (t.armedKey !== rec.timerKey || !t.tracked) return;
    t.wakeTimerKey = rec.timerKey;
    t.wakeTimerEntryTs = ts;
    t.wakeTimerOffset = offset;
    t.wakeTimerSlot = slot;
  }

  /** The requested expiry of the timer that woke `t`, on the trace clock (counted by the clock). */
  private expiryOnTraceClock(t: TaskState): number {
    this.cfg.timerClock.used(t.wakeTimerSlot, t.wakeTimerOffset);
    return t.armedSoftExpires + t.wakeTimerOffset;
  }

  private onSleepSyscallExit(t: TaskState, cpu: number, ts: number): void {
    t.inSleepSyscall = false;
    // a cut clears timerEntryTs; with no activation the timer expired before the thread slept
    if (!Number.isNaN(t.timerEntryTs) && t.timerToSyscallExit) this.closeTimer(t, cpu, ts, false);
  }

  private closeTimer(t: TaskState, cpu: number, ts: number, inferred: boolean): void {
    const start = t.timerExpiry;
    const irqPart = t.timerEntryTs - start;
    const threadPart = ts - t.timerEntryTs;
    this.sample(t, M_TIMER, ts - start, start, ts, cpu, inferred, irqPart, threadPart, 0);
    t.timerEntryTs = Number.NaN;
  }

  // --- migrations, losses ------------------------------------------------------------------

  private onMigrate(rec: EventRecord): void {
    const t = this.table.get(rec.tid);
    if (t === undefined || !t.tracked) return;
    this.migrateEventsSeen = true;
    t.migrations++;
    const dest = rec.targetCpu;
    if (t.active && dest >= 0) this.involve(t, dest);
    if (t.state !== RunState.Running && dest >= 0) t.cpu = dest;
  }

  private onLost(rec: EventRecord, firstOnCpu: boolean): void {
    this.lostRecords++;
    if (rec.lostCount < 0) this.lostUnknown++;
    else this.lostKnown += rec.lostCount;
    // a loss before anything of this CPU was read only says where its data begins
    if (firstOnCpu && rec.lostUntil <= rec.ts) return;
    this.cutAll();
    this.coverage.lossGap(rec.lostUntil);
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

  /** Ends the current activation of `t` without samples (counted as incomplete, by reason). */
  private cut(t: TaskState, why: number): void {
    if (!t.cut) {
      t.incomplete++;
      this.cfg.sink?.cut(t.tid, t.tgid, t.comm, t.wakeTs, this.eventTs, CUT_REASONS[why]);
      switch (why) {
        case CUT_LOSS:
          t.cutLoss++;
          this.cutByLoss++;
          break;
        case CUT_NO_DATA:
          t.cutNoData++;
          this.cutByNoData++;
          break;
        case CUT_MISSED_SWITCH:
          t.cutMissedSwitch++;
          this.cutByMissedSwitch++;
          break;
        default:
          t.cutMissedRun++;
          this.cutByMissedRun++;
      }
    }
    t.cut = true;
    t.reliefStart = Number.NaN;
    t.timerEntryTs = Number.NaN;
    t.irqEntryTs = Number.NaN;
    // a sleep syscall whose exit was lost must not make every later sleep a timer sleep
    t.inSleepSyscall = false;
  }

  /** Lost events: everything open is cut, and timer arming state is forgotten. */
  private cutAll(): void {
    const tasks = this.table.tasks;
    for (let i = 0; i < tasks.length; i++) {
      const t = tasks[i];
      if (t === null || !t.tracked) continue;
      if (t.active && !t.cut) this.cut(t, CUT_LOSS);
      // a relief cycle spans sleeps, a timer may run without activation, an IRQ-thread run
      // spans D sleeps: cut them anyway
      t.reliefStart = Number.NaN;
      t.timerEntryTs = Number.NaN;
      t.irqEntryTs = Number.NaN;
      // the lost events may have re-armed or fired its timer: the expiry we hold is stale
      t.armedKey = NO_TIMER_KEY;
      t.armedSoftExpires = Number.NaN;
      t.wakeTimerKey = NO_TIMER_KEY;
    }
    this.armedTimers.clear();
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
    const sink = this.cfg.sink;
    if (sink !== undefined)
      sink.sample(t.tid, t.tgid, t.comm, METRIC_KEYS[m], start, end, value, a, b, c, inferred);
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
    assertIdInRange("CPU", n - 1);
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
    this.cpuExpireOffset = f64(this.cpuExpireOffset);
    this.cpuExpireSlot = i32(this.cpuExpireSlot, 0);
    this.cpuExpireTs = f64(this.cpuExpireTs);
    this.missedSwitches = f64(this.missedSwitches);
    this.ncpu = n;
  }
}

export { METRIC_COUNT };
