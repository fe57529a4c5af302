// Everything the analysis keeps about one thread: identity and selection verdict, where it
// is in its activation, the timer/IRQ links of the current activation, counters and the
// metric statistics. One object per thread seen, created when it is first seen, mutated in
// place by the hot path (never allocated per event).

import { assertIdInRange } from "../model/id-limits.ts";
import { DOUBLE_ZERO } from "../model/units.ts";
import type { MetricStats } from "./metric-stats.ts";

/**
 * No timer (armedKey, wakeTimerKey): a timer key is a folded kernel address (>= 0); a double
 * sentinel keeps those fields double from the start (see DOUBLE_ZERO).
 */
export const NO_TIMER_KEY = -0.5;

/** What the analysis believes the thread is doing. */
export const RunState = {
  /** not seen switching yet: a wakeup now could be of a running task, so it starts nothing */
  Unknown: 0,
  /** switched out with a sleeping state (or newly forked): the next wakeup starts an activation */
  Sleeping: 1,
  /** woken, not yet seen running: latency pending */
  Woken: 2,
  Running: 3,
  /** preempted (switched out runnable) */
  Runnable: 4,
  /** switched out for the last time (X/Z): a later thread with this tid is a new one */
  Dead: 5,
} as const;
export type RunState = (typeof RunState)[keyof typeof RunState];

/** Metric indices into TaskState.metrics (same order as METRIC_KEYS). */
export const M_LATENCY = 0;
export const M_RESPONSE = 1;
export const M_RELIEF = 2;
export const M_TIMER = 3;
export const M_IRQ = 4;
export const METRIC_COUNT = 5;

export class TaskState {
  readonly tid: number;
  /** index in the task table (slot) */
  readonly slot: number;
  tgid: number;
  /** tgid from /proc, saved_tgids or exec; false = guessed (tgid = tid) */
  tgidKnown = false;
  comm = "";
  /** relative ts when comm was last read from an event (throttles re-reads) */
  commAt = Number.NEGATIVE_INFINITY;
  parentTid = -1;
  /** created by fork/task_newtask and not woken yet */
  newborn = false;
  /** latest kernel prio from events; NaN unknown (-1 is SCHED_DEADLINE's prio) */
  prio = Number.NaN;
  /** the highest priority (lowest kernel prio) the events showed; NaN unknown */
  minPrio = Number.NaN;
  /** policy from taskInfo ("FIFO", "RR", ...), "" = derive from prio */
  policy = "";
  /** base priority from taskInfo (live /proc): rt_priority and nice; NaN unknown */
  rtPriority = Number.NaN;
  nice = Number.NaN;
  /** seen with an RT prio at least once (for --rt) */
  everRt = false;
  /** N of an `irq/N-name` thread, else -1 */
  irqLine = -1;

  /** relative ts of its fork, or of the first event that showed it (with the tid, its identity) */
  startTs = Number.NaN;
  /** relative ts of its exit (sched_process_exit, else its last switch-out in X/Z); NaN while alive */
  exitTs = Number.NaN;

  tracked = false;
  /** stopped by removeTask: never re-selected automatically */
  removed = false;

  state: RunState = RunState.Unknown;
  /** CPU it last ran on / was placed on; -1 unknown */
  cpu = -1;
  /** relative ts of the last switch-in (runtime accounting); NaN when not running */
  lastInTs = Number.NaN;
  /** relative ts of the last sleeping switch-out */
  lastSleepTs = Number.NEGATIVE_INFINITY;

  // --- counters ---
  wakeups = 0;
  voluntary = 0;
  involuntary = 0;
  migrations = 0;
  /** CPU changes seen at switch-in (used when the trace has no sched_migrate_task) */
  cpuChanges = 0;
  runtime = DOUBLE_ZERO;
  /** activations cut (no samples): the sum of the reasons below */
  incomplete = 0;
  /** cut by lost events during the activation (any CPU) */
  cutLoss = 0;
  /** cut because a CPU it involved had no trace data yet */
  cutNoData = 0;
  /** cut because the CPU's current task changed without its switch-out */
  cutMissedSwitch = 0;
  /** cut because a second wakeup proved it ran and slept unseen */
  cutMissedRun = 0;

  // --- the current activation ---
  active = false;
  /** activation cut by lost events / missing data: it ends without samples */
  cut = false;
  /**
   * The thread's first activation in the trace (its state was unknown: a wakeup is also
   * written for a running or runnable thread): it counts only once its switch-in shows it
   * was not running; seen running first, it is dropped.
   */
  tentative = false;
  wakeTs = DOUBLE_ZERO;
  wakeCpu = -1;
  wakePrio = 0;
  /** switch-in that ended the latency, NaN while pending */
  inTs = Number.NaN;
  inferredIn = false;
  /** activation id; cpuEpoch[cpu] === epoch marks the CPUs involved */
  epoch = 0;
  cpuEpoch: Uint32Array;

  // --- timer sleeps and timer wakeups ---
  /** armed an hrtimer_wakeup timer since the last sleep, not cancelled */
  armedSinceSleep = false;
  armedKey = NO_TIMER_KEY;
  armedSoftExpires = Number.NaN;
  /** inside clock_nanosleep/nanosleep (syscall events on) */
  inSleepSyscall = false;
  /** the last sleep was a timer sleep */
  lastSleepTimer = false;
  /** the last sleep was entered through a sleep syscall we saw (timer metric ends at its exit) */
  lastSleepSyscall = false;
  /** woken inside the expiry of an hrtimer_wakeup timer: the timer's key, expire_entry ts, and
   *  what puts that timer's expiry on the trace clock (TimerClock.offsetAt) */
  wakeTimerKey = NO_TIMER_KEY;
  wakeTimerEntryTs = Number.NaN;
  wakeTimerOffset = Number.NaN;
  /** TimerClock slot of that offset (-1 = direct) */
  wakeTimerSlot = -1;
  /** timer sample in progress: expiry on the trace clock (softexpires + offset) and expire_entry ts; NaN = none */
  timerExpiry = Number.NaN;
  timerEntryTs = Number.NaN;
  /** the timer sample ends at sys_exit of the sleep syscall rather than at switch-in */
  timerToSyscallExit = false;

  // --- relief cycle: start at the wakeup that ended a timer sleep; NaN = none ---
  reliefStart = Number.NaN;

  // --- irq thread run: from the hard IRQ that woke it to its sleep in S; NaN = none ---
  /** irq_handler_entry / exit of the IRQ that started the run */
  irqEntryTs = Number.NaN;
  irqExitTs = Number.NaN;
  /** CPU of that hard IRQ (-1 unknown) */
  irqCpu = -1;
  /** first switch-in after that IRQ, and whether it was inferred */
  irqInTs = Number.NaN;
  irqInferred = false;
  /** entry ts of the last hard IRQ linked to a wakeup (waking and wakeup of one IRQ count once) */
  irqLastLinked = Number.NaN;
  /** hard IRQs of its line that arrived while a run was in progress (served by that run) */
  irqCoalesced = 0;

  /** metric statistics, created at the first sample of each metric */
  readonly metrics: (MetricStats | null)[] = [null, null, null, null, null];
  /** per-task SLO overrides (live `ctl slo`); NaN = use the global bound */
  sloOverride: Float64Array | null = null;

  constructor(tid: number, slot: number, cpus: number) {
    this.tid = tid;
    this.slot = slot;
    this.tgid = tid;
    this.cpuEpoch = new Uint32Array(cpus);
    // stored twice so that V8 tracks the field as mutable from the start: left "const" until the
    // first thread a selection tracks, that change deoptimised the compiled event path mid-run
    // (as TraceDatWindows' copyByTs)
    this.tracked = true;
    this.tracked = false;
  }

  /** Marks `cpu` as involved in the current activation. */
  touchCpu(cpu: number): void {
    if (cpu < 0) return;
    if (cpu >= this.cpuEpoch.length) {
      assertIdInRange("CPU", cpu);
      const grown = new Uint32Array(Math.max(cpu + 1, this.cpuEpoch.length * 2));
      grown.set(this.cpuEpoch);
      this.cpuEpoch = grown;
    }
    this.cpuEpoch[cpu] = this.epoch;
  }

  /** CPUs involved in the current activation (allocates: for observers only). */
  activationCpus(): number[] {
    const out: number[] = [];
    for (let c = 0; c < this.cpuEpoch.length; c++) if (this.cpuEpoch[c] === this.epoch) out.push(c);
    return out;
  }
}
