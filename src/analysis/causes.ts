// Cause analysis of one worst window: where did the time of the metric go? A pure
// function over the window's events (after rtla's timerlat auto-analysis, which breaks a
// timerlat worst case into additive parts; this is our own state machine for any metric
// of any task). The metric's span [start, end) is cut at every event into elementary
// intervals and each interval is given to exactly one cause, so the parts always SUM to
// end - start:
//
// - before the task is woken (timer: expiry → hrtimer_expire_entry is the IRQ part; irq:
//   irq_handler_entry → exit is the hard-IRQ part);
// - while the task is runnable but not running, the context of the CPU whose queue it is
//   on: hard IRQ (per line), softirq (per vector), the idle task (idle exit), a thread of
//   higher priority (thread interference), a SCHED_OTHER thread the fair server ran ahead
//   of the RT task (fair server), a thread of equal/lower priority (blocking: it kept the
//   CPU, non-preemptible kernel or preemption/IRQs off), or nothing known (unknown: no
//   event tells that CPU's state). The queue is the one the wakeup put the task on
//   (target_cpu; a sched_migrate_task before sched_wakeup is that placement, not a move)
//   until a sched_migrate_task after the wakeup moves it (RT push/pull, load balancing):
//   from then on the destination's context counts, and only a pull (the destination CPU
//   moving the task itself, in its scheduler) is migration. The state of a CPU at the
//   wakeup comes from its events before it; one whose last event is older than the
//   window's margin is taken as known only when its next event agrees (same task);
//   otherwise it is unknown until that event, never guessed;
// - while the task runs (response/relief/irq handling): its own run time, minus the IRQs
//   and softirqs that hit it; when preempted, the preempting context; when asleep inside a
//   relief cycle (non-timer sleep), sleep.

import type { EventColumns } from "../model/event-columns.ts";
import { EventKind, SOFTIRQ_NAMES } from "../model/event-kind.ts";
import type { Cause, CauseKind, MetricKey } from "../model/report.ts";
import { DOUBLE_ZERO } from "../model/units.ts";
import { NO_VALUE, TidValues } from "./tid-values.ts";

export interface CauseInput {
  /** the window's events, merged in time order (relative ns) */
  events: EventColumns;
  metric: MetricKey;
  tid: number;
  /** the task's kernel prio (lower = more important) */
  prio: number;
  /** metric span, relative ns */
  start: number;
  end: number;
  wakeTs: number;
  wakeCpu: number;
  runCpu: number;
  /** the switch-in ending the scheduling-latency part, NaN if unknown */
  switchInTs: number;
  /**
   * where the window starts (relative ns, the wakeup minus the margin): a CPU whose last
   * event is older has no known state unless its next event agrees. Absent: every event counts.
   */
  fromTs?: number;
  comm(tid: number): string;
  irqName(irq: number): string;
}

export interface Preemption {
  /** when the task was switched out (relative ns) */
  ts: number;
  cpu: number;
  /** who took the CPU */
  tid: number;
  comm: string;
  prio: number;
  /** how long until the task ran again (clipped to the metric's end) */
  time: number;
}

/** Who woke the task and where it went (relative ns); see WakeInfo in the report model. */
export interface WakeSummary {
  /** "sched_waking" | "sched_wakeup_new" | "sched_wakeup": the event naming the waker */
  event: string;
  wakerTid: number;
  wakerCpu: number;
  /** IRQ, softirq or hrtimer callback the waker ran in ("" for task context) */
  context: string;
  /** target_cpu of the wakeup (-1 when no sched_wakeup of the task is in the window) */
  ontoCpu: number;
  /** the CPU select_task_rq moved it from at the wakeup, -1 when not moved */
  placedFrom: number;
  migrations: { ts: number; from: number; to: number; by: number }[];
}

export interface CauseBreakdown {
  /** additive parts; `time`s sum to end - start */
  causes: Cause[];
  /** absent when the task's wakeup event is not in the window */
  wake?: WakeSummary;
  /** response/relief/irq: switch-outs of the running task while still runnable */
  preemptions: Preemption[];
  /** metric-specific split: timer {irq, thread}; irq {hardirq, wakeup, handling}; others {latency, running...} */
  parts: Record<string, number>;
  total: number;
  /** the analysis failed on this window (then there are no causes): what it threw */
  error?: string;
}

const HARDIRQ_UNKNOWN = -2;

// How a new cause is named (sweepCauses: `name`).
const NAME_IRQ = 1;
const NAME_SOFTIRQ = 2;
const NAME_RUNNING = 3;
const NAME_OTHER = 4;
const NAME_IDLE = 5;
const NAME_THREAD = 6;
const NAME_TIMER_IRQ = 7;
const NAME_HARD_IRQ = 8;
const NAME_WAKING_HANDLER = 9;
const NAME_MIGRATION = 10;
const NAME_RETURN = 11;
const NAME_SLEEP = 12;
const NAME_FAIR_SERVER = 13;
const NAME_UNKNOWN = 14;
const NAME_WAKEUP_PATH = 15;

// Cause kinds and metric parts as small integers: `add` runs for every elementary interval
// of every window, and a cause is found again by a number made of part, kind and key (a
// string key built per interval cost ~200 ns, the largest item of the sweep).
const KIND_NAMES: readonly CauseKind[] = [
  "unknown",
  "irq",
  "softirq",
  "running",
  "other",
  "idle-exit",
  "fair-server",
  "thread",
  "blocking",
  "migration",
  "sleep",
];
const K_UNKNOWN = 0;
const K_IRQ = 1;
const K_SOFTIRQ = 2;
const K_RUNNING = 3;
const K_OTHER = 4;
const K_IDLE_EXIT = 5;
const K_FAIR_SERVER = 6;
const K_THREAD = 7;
const K_BLOCKING = 8;
const K_MIGRATION = 9;
const K_SLEEP = 10;

const PART_NAMES = ["irq", "thread", "hardirq", "handling", "wakeup", "running", "latency"] as const;
const P_IRQ = 0;
const P_THREAD = 1;
const P_HARDIRQ = 2;
const P_HANDLING = 3;
const P_WAKEUP = 4;
const P_RUNNING = 5;
const P_LATENCY = 6;

// Keys of a cause within its part and kind: a number (tid, IRQ line, vector, CPU) is stored
// as itself + NUM_KEY (numbers are >= -2); the fixed keys below it; a CPU pair above 2^33.
const KEY_NONE = 0;
const KEY_TIMER = 1;
const KEY_HANDLER = 2;
const KEY_WAKEUP = 3;
const KEY_RETURN = 4;
const NUM_KEY = 8;
const PAIR_KEY = 2 ** 33;

// common_flags bits (include/linux/trace_events.h)
const FLAG_HARDIRQ = 0x08;
const FLAG_SOFTIRQ = 0x10;
/** kernel prio of the first SCHED_OTHER level: below it RT and deadline */
const FAIR_PRIO = 100;

// Task states of the sweep.
const PRE = 0;
const WAITING = 1;
const RUNNING = 2;
const SLEEPING = 3;

/**
 * Breaks the metric of one window into additive causes. Never throws: a window the analysis
 * fails on (a bug) gets no causes and the failure in `error`, which the report turns into a
 * cause_analysis_failed diagnostic, so that one window cannot sink the whole report.
 */
export function analyzeCauses(inp: CauseInput): CauseBreakdown {
  try {
    return sweepCauses(inp);
  } catch (e) {
    const error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    return { causes: [], preemptions: [], parts: {}, total: inp.end - inp.start, error };
  }
}

function sweepCauses(inp: CauseInput): CauseBreakdown {
  const ev = inp.events;
  // The input's fields are read once, and each pass over the events is a function of its
  // own, so that V8 keeps each loop optimized across windows: loads from an input object
  // whose shape varies, or a loop without type feedback in a function already optimized
  // for an earlier one, deoptimize it.
  const { start, end, tid, wakeTs, wakeCpu, metric } = inp;
  const prioOf = prioTable(ev);
  const wake = wakeEventsOf(ev, tid, wakeTs, Number.isNaN(inp.switchInTs) ? end : inp.switchInTs);
  const wakerCpu = wake.waker >= 0 ? ev.cpu[wake.waker] : wakeCpu;
  const unknownUntil = staleCpus(ev, inp.fromTs ?? Number.NEGATIVE_INFINITY, tid);
  // timer: the IRQ part ends at the hrtimer_expire_entry that woke the task
  let irqPartEnd = start;
  let timerCpu = wakerCpu;
  if (metric === "timer") {
    const at = timerExpiryEntry(ev, wakeTs, wakerCpu);
    if (at >= 0) {
      irqPartEnd = ev.ts[at];
      timerCpu = ev.cpu[at];
    } else irqPartEnd = wakeTs;
    irqPartEnd = clamp(irqPartEnd, start, end);
  }
  // irq: the hard-IRQ part ends at the matching irq_handler_exit
  let hardPartEnd = start;
  let irqLine = -1;
  if (metric === "irq") {
    const hard = hardIrqPart(ev, start);
    irqLine = hard.line;
    hardPartEnd = clamp(Math.max(hard.end, start), start, end);
  }

  return new CauseSweep(inp, {
    prioOf,
    wake,
    wakerCpu,
    unknownUntil,
    irqPartEnd,
    timerCpu,
    hardPartEnd,
    irqLine,
  }).run();
}

/**
 * tid → first prio the window shows (switch and wakeup events carry it): a thread's prio for
 * the time before the sweep has seen it (later, the sweep's own prioNow holds the prio as of
 * then; a thread may change its policy meanwhile, as a new cyclictest thread does).
 */
function prioTable(ev: EventColumns): TidValues {
  const prioOf = PRIO_FIRST;
  prioOf.clear();
  for (let i = 0; i < ev.length; i++) {
    const k = ev.kind[i];
    if (k === EventKind.SchedSwitch) {
      if (!prioOf.has(ev.a[i])) prioOf.set(ev.a[i], ev.b[i]);
      if (!prioOf.has(ev.d[i])) prioOf.set(ev.d[i], ev.e[i]);
    } else if (k === EventKind.SchedWakeup || k === EventKind.SchedWaking || k === EventKind.SchedWakeupNew) {
      if (!prioOf.has(ev.a[i])) prioOf.set(ev.a[i], ev.b[i]);
    }
  }
  return prioOf;
}

// The priority tables of the sweep, reused from window to window (a sweep runs to its end
// before the next one starts): thousands of lookups per window of a few dozen threads.
const PRIO_FIRST = new TidValues();
const PRIO_NOW = new TidValues();

/** The events of the task's wakeup (indexes into the window, -1 when absent). */
interface WakeEvents {
  /** the activation's own event (at wakeTs) */
  at: number;
  /** sched_wakeup / sched_wakeup_new: the task is on a run queue from here */
  queue: number;
  /** the event whose context is the waker: sched_waking, else `queue`, else `at` */
  waker: number;
  /** CPU the task was queued on (target_cpu), -1 unknown */
  onto: number;
  /** the CPU the wakeup's placement moved it from, -1 when not moved */
  placedFrom: number;
}

function isWakeKind(k: number): boolean {
  return k === EventKind.SchedWakeup || k === EventKind.SchedWaking || k === EventKind.SchedWakeupNew;
}

/**
 * Finds the task's wakeup in the window. In the kernel, try_to_wake_up() writes sched_waking
 * in the waker's context, then select_task_rq() may pick another CPU (set_task_cpu() writes
 * sched_migrate_task), then the task is queued: sched_wakeup is written by the waker, or, when
 * the wakeup is queued to a remote CPU, on that CPU from its IPI (common_pid whatever ran
 * there, often the idle task). wake_up_new_task() places a new task with no migrate event and
 * writes sched_wakeup_new in the parent's context. Any of these may be the activation's event.
 */
function wakeEventsOf(ev: EventColumns, tid: number, wakeTs: number, limitTs: number): WakeEvents {
  // the result is made once at the end: a field of it first changed late in a run (a placement
  // move is rare) deoptimised the compiled cause analysis ("dependent field type constness changed")
  let at = -1;
  let queue = -1;
  let waker = -1;
  let placedFrom = -1;
  for (let i = 0; i < ev.length; i++) {
    if (ev.ts[i] > wakeTs) break;
    if (ev.ts[i] === wakeTs && ev.a[i] === tid && isWakeKind(ev.kind[i])) {
      at = i;
      break;
    }
  }
  if (at < 0) return { at, queue, waker, onto: -1, placedFrom };
  if (ev.kind[at] !== EventKind.SchedWaking) queue = at;
  else {
    for (let j = at + 1; j < ev.length && ev.ts[j] <= limitTs; j++) {
      const k = ev.kind[j];
      if (k === EventKind.SchedSwitch && ev.d[j] === tid) break;
      if ((k === EventKind.SchedWakeup || k === EventKind.SchedWakeupNew) && ev.a[j] === tid) {
        queue = j;
        break;
      }
    }
  }
  // back from the queueing (or the activation's event) to the task's last switch: the
  // waker's sched_waking and the placement's sched_migrate_task (a sleeping task moves only there)
  const from = queue >= 0 ? queue : at;
  let dest = -1;
  for (let j = from - 1; j >= 0; j--) {
    const k = ev.kind[j];
    if (k === EventKind.SchedSwitch) {
      if (ev.a[j] === tid || ev.d[j] === tid) break;
    } else if (k === EventKind.SchedWaking) {
      if (ev.a[j] === tid && waker < 0) waker = j;
    } else if (k === EventKind.SchedMigrateTask) {
      if (ev.a[j] !== tid) continue;
      placedFrom = ev.d[j];
      if (dest < 0) dest = ev.c[j];
    } else if ((k === EventKind.SchedWakeup || k === EventKind.SchedWakeupNew) && ev.a[j] === tid) break;
  }
  if (ev.kind[at] === EventKind.SchedWaking) waker = at;
  if (waker < 0) waker = from;
  const onto = queue >= 0 ? ev.c[queue] : dest;
  if (placedFrom === onto) placedFrom = -1;
  return { at, queue, waker, onto, placedFrom };
}

/**
 * CPUs whose state at the window's start is not known: those whose last event before the
 * margin (`fromTs`) is not confirmed by their next event, which must show the same task
 * current (or, after the idle task, the tracked task itself: some kernels never record the
 * switch out of idle). cpu → ts of that next event (+Infinity when there is none).
 */
function staleCpus(ev: EventColumns, fromTs: number, tid: number): Map<number, number> {
  const out = new Map<number, number>();
  if (fromTs === Number.NEGATIVE_INFINITY) return out;
  const last = new Map<number, number>();
  const next = new Map<number, number>();
  for (let i = 0; i < ev.length; i++) {
    const c = ev.cpu[i];
    if (ev.ts[i] < fromTs) last.set(c, i);
    else if (!next.has(c)) next.set(c, i);
  }
  for (const [c, l] of last) {
    const f = next.get(c);
    if (f === undefined) out.set(c, Number.POSITIVE_INFINITY);
    else if (!confirms(ev, l, f, tid)) out.set(c, ev.ts[f]);
  }
  return out;
}

function confirms(ev: EventColumns, l: number, f: number, tid: number): boolean {
  if (ev.kind[l] === EventKind.LostEvents || ev.kind[f] === EventKind.LostEvents) return false;
  const after = ev.kind[l] === EventKind.SchedSwitch ? ev.d[l] : ev.currentTid[l];
  const before = ev.kind[f] === EventKind.SchedSwitch ? ev.a[f] : ev.currentTid[f];
  return before === after || (after === 0 && before === tid);
}

/**
 * The hrtimer_expire_entry on the waking CPU at or before the wakeup (the metrics engine
 * puts the timer's IRQ/thread split there, so the IRQ part here equals its `timer.irq`
 * part exactly); -1 when not in the window.
 */
function timerExpiryEntry(ev: EventColumns, wakeTs: number, wakeCpu: number): number {
  for (let i = ev.length - 1; i >= 0; i--) {
    if (ev.ts[i] > wakeTs) continue;
    if (ev.kind[i] === EventKind.HrtimerExpireEntry && ev.cpu[i] === wakeCpu) return i;
  }
  return -1;
}

/**
 * irq metric: the IRQ line whose irq_handler_entry starts it (-1 unknown) and the matching
 * irq_handler_exit that ends the hard-IRQ part (`start` when not in the window).
 */
function hardIrqPart(ev: EventColumns, start: number): { end: number; line: number } {
  let line = -1;
  for (let i = 0; i < ev.length; i++) {
    if (ev.ts[i] < start) continue;
    if (ev.kind[i] === EventKind.IrqHandlerEntry && line < 0 && ev.ts[i] === start) line = ev.a[i];
    if (ev.kind[i] === EventKind.IrqHandlerExit && (line < 0 || ev.a[i] === line))
      return { end: ev.ts[i], line };
  }
  return { end: start, line };
}

/** The window's landmarks (sweepCauses' first passes). */
interface SweepSetup {
  /** tid → first prio the window shows (NO_VALUE: none) */
  prioOf: TidValues;
  wake: WakeEvents;
  /** the waker's CPU (the activation's wakeup CPU when the window does not show it) */
  wakerCpu: number;
  /** CPUs whose state is unknown until a ts (staleCpus) */
  unknownUntil: Map<number, number>;
  irqPartEnd: number;
  timerCpu: number;
  hardPartEnd: number;
  irqLine: number;
}

/**
 * The sweep over one window's events that gives each elementary interval to a cause. A class
 * rather than closures inside sweepCauses: new closures per window made every call site
 * inside the sweep polymorphic ("wrong call target" deoptimizations on each window).
 */
class CauseSweep {
  private readonly inp: CauseInput;
  private readonly ev: EventColumns;
  private readonly n: number;
  private readonly start: number;
  private readonly end: number;
  private readonly tid: number;
  private readonly total: number;
  // copied from the input (not read through it in the loops: see sweepCauses)
  private readonly wakeTs: number;
  private readonly runCpu: number;
  private readonly switchInTs: number;
  private readonly metric: MetricKey;
  private readonly prioOf: TidValues;
  private readonly wake: WakeEvents;
  private readonly wakerCpu: number;
  private readonly unknownUntil: Map<number, number>;
  private readonly irqPartEnd: number;
  private readonly timerCpu: number;
  private readonly hardPartEnd: number;
  private readonly irqLine: number;
  /** the wakeup was queued to the target CPU from there (IPI): that CPU's context delays it */
  private readonly queuedRemotely: boolean;

  // per CPU, from the events so far: current tid (absent: unknown), hard IRQ line (-1
  // none), softirq vector (-1 none), inside an hrtimer callback, the SCHED_OTHER task the
  // fair server runs there (-1 none), and the end of an unknown span once looked up
  // (typed arrays indexed by CPU, -1 or NaN for none: these are read and written at every
  // event; CPUs outside [0, ncpu) are never written and read as none)
  private readonly ncpu: number;
  private readonly curTid: Int32Array;
  private readonly hardirq: Int32Array;
  private readonly softirq: Int32Array;
  private readonly inTimer: Uint8Array;
  private readonly fairRun: Int32Array;
  private readonly unknownEnd: Float64Array;
  /** tid → prio as of the events so far (NO_VALUE: not seen yet) */
  private readonly prioNow: TidValues;

  /** causes by part, kind and key (see add); an unknown span's key is a string */
  private readonly causes = new Map<number | string, Cause>();
  /** time per part (PART_NAMES), and the parts in the order first seen */
  private readonly partTime = new Float64Array(PART_NAMES.length);
  private readonly partOrder: number[] = [];
  private readonly preemptions: Preemption[] = [];
  private readonly migrations: WakeSummary["migrations"] = [];
  private wakerContext = "";
  private open: Preemption | null = null;
  private state: number;
  private waitCpu: number;
  private taskCpu: number;
  private switchedIn = false;
  /** the task is on a run queue (from its sched_wakeup; from the start when that is not in the window) */
  private queued: boolean;
  /** the CPU that pulled the task onto its queue, until that CPU's next event (-1 none) */
  private pullCpu = -1;
  private pullFrom = -1;
  /** index of the event being processed */
  private i = 0;
  /** the task's own prio can change inside the window (PI boosting, sched_setscheduler) */
  private taskPrio: number;
  // A new cause is named once, when first seen: `add` takes a NAME_* code and reads the
  // details from these fields, set by the caller.
  private nCpu = 0;
  private nIrq = 0;
  private nTid = 0;
  private nPrio: number | undefined = undefined;
  private nIdle = false;
  private nFrom = DOUBLE_ZERO;
  private nUntil = DOUBLE_ZERO;

  constructor(inp: CauseInput, s: SweepSetup) {
    this.inp = inp;
    this.ev = inp.events;
    this.n = inp.events.length;
    this.start = inp.start;
    this.end = inp.end;
    this.tid = inp.tid;
    this.total = Math.max(0, inp.end - inp.start);
    this.wakeTs = inp.wakeTs;
    this.runCpu = inp.runCpu;
    this.switchInTs = inp.switchInTs;
    this.metric = inp.metric;
    this.prioOf = s.prioOf;
    this.prioNow = PRIO_NOW;
    PRIO_NOW.clear();
    this.wake = s.wake;
    this.wakerCpu = s.wakerCpu;
    this.unknownUntil = s.unknownUntil;
    this.irqPartEnd = s.irqPartEnd;
    this.timerCpu = s.timerCpu;
    this.hardPartEnd = s.hardPartEnd;
    this.irqLine = s.irqLine;
    const q = s.wake.queue;
    const ev = inp.events;
    this.queuedRemotely = q >= 0 && ev.cpu[q] === ev.c[q] && ev.cpu[q] !== ev.cpu[s.wake.waker];
    this.queued = q < 0;
    this.state = inp.metric === "timer" || inp.metric === "irq" ? PRE : WAITING;
    this.waitCpu = s.wake.onto >= 0 ? s.wake.onto : inp.runCpu;
    this.taskCpu = inp.runCpu;
    this.taskPrio = inp.prio;
    // stored twice: mutable to V8 from the start (a pull is rare, and its first one deoptimised
    // the compiled sweep: "dependent field type constness changed")
    this.pullFrom = 0;
    this.pullFrom = -1;
    let ncpu = Math.max(inp.runCpu, inp.wakeCpu, s.wakerCpu, s.timerCpu, s.wake.onto, 0) + 1;
    for (let i = 0; i < this.n; i++) if (ev.cpu[i] >= ncpu) ncpu = ev.cpu[i] + 1;
    this.ncpu = ncpu;
    this.curTid = new Int32Array(ncpu).fill(-1);
    this.hardirq = new Int32Array(ncpu).fill(-1);
    this.softirq = new Int32Array(ncpu).fill(-1);
    this.inTimer = new Uint8Array(ncpu);
    this.fairRun = new Int32Array(ncpu).fill(-1);
    this.unknownEnd = new Float64Array(ncpu).fill(Number.NaN);
  }

  /** The tid current on `cpu` (-1 unknown). */
  private currentOn(cpu: number): number {
    return cpu >= 0 && cpu < this.ncpu ? this.curTid[cpu] : -1;
  }

  /** The hard IRQ line or softirq vector running on `cpu` (-1 none). */
  private irqOn(cpu: number): number {
    return cpu >= 0 && cpu < this.ncpu ? this.hardirq[cpu] : -1;
  }

  private softirqOn(cpu: number): number {
    return cpu >= 0 && cpu < this.ncpu ? this.softirq[cpu] : -1;
  }

  private nameCause(c: Cause, code: number): void {
    switch (code) {
      case NAME_IRQ:
        c.name =
          this.nIrq === HARDIRQ_UNKNOWN ? "unknown IRQ" : this.inp.irqName(this.nIrq) || `irq ${this.nIrq}`;
        if (this.nIrq >= 0) c.irq = this.nIrq;
        c.cpu = this.nCpu;
        return;
      case NAME_SOFTIRQ:
        c.name = SOFTIRQ_NAMES[this.nIrq] ?? `softirq ${this.nIrq}`;
        c.vec = this.nIrq;
        c.cpu = this.nCpu;
        return;
      case NAME_RUNNING:
        c.name = "own run time";
        c.tid = this.tid;
        c.cpu = this.nCpu;
        return;
      case NAME_OTHER:
        c.name = "scheduler / unexplained";
        return;
      case NAME_IDLE:
        c.name = "idle exit";
        c.cpu = this.nCpu;
        return;
      case NAME_THREAD:
      case NAME_FAIR_SERVER:
        c.name = this.inp.comm(this.nTid) || `<${this.nTid}>`;
        c.tid = this.nTid;
        if (this.nPrio !== undefined) c.prio = this.nPrio;
        c.cpu = this.nCpu;
        return;
      case NAME_TIMER_IRQ:
        c.name = this.nIdle ? "timer IRQ latency (exit from idle)" : "timer IRQ latency";
        c.cpu = this.nCpu;
        return;
      case NAME_HARD_IRQ:
        c.name = `hard IRQ ${this.nIrq >= 0 ? this.inp.irqName(this.nIrq) || `irq ${this.nIrq}` : ""}`.trim();
        if (this.nIrq >= 0) c.irq = this.nIrq;
        c.cpu = this.nCpu;
        return;
      case NAME_WAKING_HANDLER:
        c.name = this.metric === "timer" ? "timer handler (wakeup)" : "IRQ handler (wakeup)";
        c.cpu = this.nCpu;
        return;
      case NAME_MIGRATION:
        c.name = `CPU ${this.nFrom} → CPU ${this.nCpu}`;
        c.cpu = this.nCpu;
        return;
      case NAME_RETURN:
        c.name = "return to user space";
        c.cpu = this.nCpu;
        return;
      case NAME_UNKNOWN: {
        const u = this.nUntil;
        c.name = `CPU ${this.nCpu}: no event tells what ran, until ${
          Number.isFinite(u) ? `+${((u - this.wakeTs) / 1000).toFixed(3)} us` : "the end"
        }`;
        c.cpu = this.nCpu;
        if (Number.isFinite(u)) c.until = u;
        return;
      }
      case NAME_WAKEUP_PATH:
        c.name = "wakeup path (waker queueing the task)";
        c.cpu = this.nCpu;
        return;
      default:
        c.name = "sleep (non-timer)";
        c.tid = this.tid;
    }
  }

  /**
   * Adds `dur` to the cause (`part`, `kind`, `key`); `key` is a KEY_* constant, a number +
   * NUM_KEY, a CPU pair + PAIR_KEY, or a string (an unknown span). One number per cause:
   * key * 256 + part * 16 + kind.
   */
  private add(kind: number, key: number | string, part: number, dur: number, code: number): void {
    if (dur <= 0) return;
    // dur > 0 here: a part's time is 0 until its first interval
    if (this.partTime[part] === 0) this.partOrder.push(part);
    this.partTime[part] += dur;
    const id = typeof key === "number" ? key * 256 + part * 16 + kind : `${part}/${kind}/${key}`;
    let c = this.causes.get(id);
    if (c === undefined) {
      c = { kind: KIND_NAMES[kind], name: "", time: DOUBLE_ZERO };
      this.nameCause(c, code);
      c.part = PART_NAMES[part];
      this.causes.set(id, c);
    }
    c.time += dur;
  }

  /** ts of the next event on `cpu` from the one being processed (+Infinity: none). */
  private nextOn(cpu: number): number {
    const ev = this.ev;
    for (let j = this.i; j < this.n; j++) if (ev.cpu[j] === cpu) return ev.ts[j];
    return Number.POSITIVE_INFINITY;
  }

  /** the context of `cpu` over [a, a + dur), as a cause */
  private attributeCpu(cpu: number, a: number, dur: number, part: number, runningSelf: boolean): void {
    this.nCpu = cpu;
    const inRange = cpu >= 0 && cpu < this.ncpu;
    if (!runningSelf) {
      const stale = this.unknownUntil.get(cpu);
      if (this.currentOn(cpu) === -1 || (stale !== undefined && a < stale)) {
        let u = inRange ? this.unknownEnd[cpu] : Number.NaN;
        if (Number.isNaN(u)) {
          u = stale !== undefined && a < stale ? stale : this.nextOn(cpu);
          if (inRange) this.unknownEnd[cpu] = u;
        }
        this.nUntil = u;
        this.add(K_UNKNOWN, `${cpu}/${u}`, part, dur, NAME_UNKNOWN);
        return;
      }
    }
    const hi = this.irqOn(cpu);
    if (hi !== -1) {
      this.nIrq = hi;
      this.add(K_IRQ, hi + NUM_KEY, part, dur, NAME_IRQ);
      return;
    }
    const si = this.softirqOn(cpu);
    if (si !== -1) {
      this.nIrq = si;
      this.add(K_SOFTIRQ, si + NUM_KEY, part, dur, NAME_SOFTIRQ);
      return;
    }
    if (runningSelf) {
      this.add(K_RUNNING, KEY_NONE, part, dur, NAME_RUNNING);
      return;
    }
    const cur = this.currentOn(cpu);
    if (cur === -1 || cur === this.tid) {
      this.add(K_OTHER, KEY_NONE, part, dur, NAME_OTHER);
      return;
    }
    if (cur === 0) {
      this.add(K_IDLE_EXIT, cpu + NUM_KEY, part, dur, NAME_IDLE);
      return;
    }
    let p = this.prioNow.get(cur);
    if (p === NO_VALUE) p = this.prioOf.get(cur);
    this.nTid = cur;
    this.nPrio = p === NO_VALUE ? undefined : p;
    if (this.taskPrio < FAIR_PRIO && inRange && this.fairRun[cpu] === cur) {
      this.add(K_FAIR_SERVER, cur + NUM_KEY, part, dur, NAME_FAIR_SERVER);
      return;
    }
    this.add(
      p !== NO_VALUE && p < this.taskPrio ? K_THREAD : K_BLOCKING,
      cur + NUM_KEY,
      part,
      dur,
      NAME_THREAD,
    );
  }

  private partOf(t0: number): number {
    if (this.metric === "timer") return t0 < this.irqPartEnd ? P_IRQ : P_THREAD;
    if (this.metric === "irq")
      return t0 < this.hardPartEnd ? P_HARDIRQ : this.switchedIn ? P_HANDLING : P_WAKEUP;
    return this.switchedIn ? P_RUNNING : P_LATENCY;
  }

  private attribute(t0: number, t1: number): void {
    const a = Math.max(t0, this.start);
    const b = Math.min(t1, this.end);
    if (b <= a) return;
    const dur = b - a;
    if (this.open) this.open.time += dur;
    const part = this.partOf(a);
    if (this.metric === "timer" && a < this.irqPartEnd) {
      this.nIdle = this.currentOn(this.timerCpu) === 0;
      this.nCpu = this.timerCpu;
      this.add(this.nIdle ? K_IDLE_EXIT : K_IRQ, KEY_TIMER, part, dur, NAME_TIMER_IRQ);
      return;
    }
    if (this.metric === "irq" && a < this.hardPartEnd) {
      this.nIrq = this.irqLine;
      this.nCpu = this.wakerCpu;
      this.add(K_IRQ, this.irqLine + NUM_KEY, part, dur, NAME_HARD_IRQ);
      return;
    }
    switch (this.state) {
      case PRE:
        // between the IRQ part and the wakeup: the handler that wakes the task
        this.nCpu = this.wakerCpu;
        this.add(K_IRQ, KEY_HANDLER, part, dur, NAME_WAKING_HANDLER);
        return;
      case WAITING:
        if (!this.queued) {
          // woken (sched_waking) but not queued yet: a wakeup queued to a remote CPU waits
          // for that CPU to take its IPI; otherwise the waker is still in try_to_wake_up()
          if (this.queuedRemotely) this.attributeCpu(this.wake.onto, a, dur, part, false);
          else {
            this.nCpu = this.wakerCpu;
            this.add(K_OTHER, KEY_WAKEUP, part, dur, NAME_WAKEUP_PATH);
          }
          return;
        }
        if (this.pullCpu >= 0) {
          this.nCpu = this.pullCpu;
          this.nFrom = this.pullFrom;
          this.add(
            K_MIGRATION,
            PAIR_KEY + (this.pullFrom + 1) * 2 ** 17 + (this.pullCpu + 1),
            part,
            dur,
            NAME_MIGRATION,
          );
          return;
        }
        this.attributeCpu(this.waitCpu, a, dur, part, false);
        return;
      case RUNNING:
        if (this.metric === "timer") {
          // switch-in → return to user space (sys_exit_clock_nanosleep)
          this.nCpu = this.taskCpu;
          this.add(K_OTHER, KEY_RETURN, part, dur, NAME_RETURN);
          return;
        }
        this.attributeCpu(this.taskCpu, a, dur, part, true);
        return;
      default:
        this.add(K_SLEEP, KEY_NONE, part, dur, NAME_SLEEP);
    }
  }

  private switchIn(cpu: number): void {
    this.state = RUNNING;
    this.taskCpu = cpu;
    this.switchedIn = true;
    this.queued = true;
    this.pullCpu = -1;
    this.open = null;
  }

  /** The waker's context when it wrote the event: hrtimer callback, IRQ line, softirq, or task. */
  private contextOf(i: number): string {
    const cpu = this.ev.cpu[i];
    if (cpu < this.ncpu && this.inTimer[cpu] !== 0) return "hrtimer callback";
    const hi = this.irqOn(cpu);
    if (hi >= 0) return `IRQ ${hi} ${this.inp.irqName(hi)}`.trim();
    const si = this.softirqOn(cpu);
    if (si >= 0) return `softirq ${SOFTIRQ_NAMES[si] ?? si}`;
    const f = this.ev.flags[i];
    if (f >= 0 && (f & FLAG_HARDIRQ) !== 0) return "hard IRQ";
    if (f >= 0 && (f & FLAG_SOFTIRQ) !== 0) return "softirq";
    return "";
  }

  /** A fair task switched in on `cpu` while an RT task was runnable there: the fair server runs it. */
  private noteFairServer(i: number, cpu: number, ts: number): void {
    const ev = this.ev;
    const next = ev.d[i];
    let served = false;
    if (next !== 0 && next !== this.tid && ev.e[i] >= FAIR_PRIO) {
      // an RT or deadline task preempted by a SCHED_OTHER one (the kernel's fair server, or
      // RT throttling before Linux 6.12), or a SCHED_OTHER task picked while this RT task
      // waited on that queue
      const prevRtPreempted = ev.a[i] !== 0 && ev.b[i] < FAIR_PRIO && ev.c[i] === 0;
      const overQueuedTask =
        this.taskPrio < FAIR_PRIO &&
        this.state === WAITING &&
        this.queued &&
        this.pullCpu < 0 &&
        this.waitCpu === cpu &&
        ts >= this.wakeTs;
      served = prevRtPreempted || overQueuedTask;
    }
    this.fairRun[cpu] = served ? next : -1;
  }

  run(): CauseBreakdown {
    let t = this.start;
    let wokeStarted = this.state === WAITING;
    const ev = this.ev;
    for (let i = 0; i < this.n; i++) {
      this.i = i;
      const ts = ev.ts[i];
      if (ts > this.end) break;
      // boundaries that are not events: the wakeup instant and the sampled switch-in
      if (!wokeStarted && ts >= this.wakeTs) {
        this.attribute(t, this.wakeTs);
        t = Math.max(t, this.wakeTs);
        wokeStarted = true;
        if (this.state === PRE) this.state = WAITING;
      }
      if (!this.switchedIn && !Number.isNaN(this.switchInTs) && ts > this.switchInTs) {
        this.attribute(t, this.switchInTs);
        t = Math.max(t, this.switchInTs);
        this.switchIn(this.runCpu);
      }
      this.attribute(t, ts);
      if (ts > t) t = ts;

      const cpu = ev.cpu[i];
      const k = ev.kind[i];
      this.unknownEnd[cpu] = Number.NaN;
      if (this.pullCpu === cpu) this.pullCpu = -1;
      if (i === this.wake.waker) this.wakerContext = this.contextOf(i);
      switch (k) {
        case EventKind.SchedSwitch: {
          const prev = ev.a[i];
          const next = ev.d[i];
          this.noteFairServer(i, cpu, ts);
          this.curTid[cpu] = next;
          this.prioNow.set(prev, ev.b[i]);
          this.prioNow.set(next, ev.e[i]);
          if (prev === this.tid) this.taskPrio = ev.b[i];
          else if (next === this.tid) this.taskPrio = ev.e[i];
          if (ts < this.start) break;
          if (prev === this.tid && this.state === RUNNING) {
            if (ev.c[i] === 0) {
              this.state = WAITING;
              this.waitCpu = cpu;
              if (ts < this.end) {
                this.open = { ts, cpu, tid: next, comm: this.inp.comm(next), prio: ev.e[i], time: 0 };
                this.preemptions.push(this.open);
              }
            } else {
              this.state = SLEEPING;
            }
          } else if (next === this.tid && this.state !== RUNNING && ts >= this.wakeTs) {
            this.switchIn(cpu);
          }
          break;
        }
        case EventKind.SchedWaking:
          this.prioNow.set(ev.a[i], ev.b[i]);
          break;
        case EventKind.SchedWakeup:
        case EventKind.SchedWakeupNew:
          this.prioNow.set(ev.a[i], ev.b[i]);
          if (i === this.wake.queue) {
            this.queued = true;
            this.waitCpu = this.wake.onto;
          }
          if (ev.a[i] === this.tid && this.state === SLEEPING && ts >= this.wakeTs) {
            this.state = WAITING;
            this.waitCpu = ev.c[i] >= 0 ? ev.c[i] : cpu;
          }
          break;
        case EventKind.SchedMigrateTask:
          // a move of the queued task (after its wakeup placed it): from here it waits on the
          // destination; a pull, written by the destination CPU itself, is the migration
          if (ev.a[i] === this.tid && this.state === WAITING && this.queued && ts >= this.start) {
            const dest = ev.c[i];
            this.migrations.push({ ts, from: ev.d[i], to: dest, by: cpu });
            this.waitCpu = dest;
            if (cpu === dest) {
              this.pullCpu = dest;
              this.pullFrom = ev.d[i];
            }
          }
          break;
        case EventKind.IrqHandlerEntry:
          this.hardirq[cpu] = ev.a[i];
          break;
        case EventKind.IrqHandlerExit:
          this.hardirq[cpu] = -1;
          break;
        case EventKind.SoftirqEntry:
          this.softirq[cpu] = ev.a[i];
          break;
        case EventKind.SoftirqExit:
          this.softirq[cpu] = -1;
          break;
        case EventKind.HrtimerExpireEntry:
          this.inTimer[cpu] = 1;
          break;
        case EventKind.HrtimerExpireExit:
          this.inTimer[cpu] = 0;
          break;
        case EventKind.LostEvents:
          // what happened on this CPU meanwhile is gone: unknown until its next event
          this.curTid[cpu] = -1;
          this.hardirq[cpu] = -1;
          this.softirq[cpu] = -1;
          this.inTimer[cpu] = 0;
          this.fairRun[cpu] = -1;
          break;
        default:
          break;
      }
      // the task seen as current while still waiting: it runs (the switch-in was not recorded)
      if (
        ev.currentTid[i] === this.tid &&
        this.state === WAITING &&
        ts >= this.wakeTs &&
        k !== EventKind.SchedSwitch
      ) {
        this.curTid[cpu] = this.tid;
        this.switchIn(cpu);
      } else if (
        k !== EventKind.SchedSwitch &&
        k !== EventKind.LostEvents &&
        ev.currentTid[i] !== this.curTid[cpu]
      ) {
        // common_pid is the ground truth of who runs; it repairs a missed switch
        this.curTid[cpu] = ev.currentTid[i];
        this.fairRun[cpu] = -1;
      }
    }
    this.i = this.n;
    if (!wokeStarted) {
      this.attribute(t, this.wakeTs);
      t = Math.max(t, this.wakeTs);
      if (this.state === PRE) this.state = WAITING;
    }
    if (!this.switchedIn && !Number.isNaN(this.switchInTs) && this.switchInTs < this.end) {
      this.attribute(t, this.switchInTs);
      t = Math.max(t, this.switchInTs);
      this.switchIn(this.runCpu);
    }
    this.attribute(t, this.end);

    const out = [...this.causes.values()];
    const partOrder = ["irq", "hardirq", "latency", "wakeup", "thread", "running", "handling"];
    out.sort((x, y) => partOrder.indexOf(x.part ?? "") - partOrder.indexOf(y.part ?? "") || y.time - x.time);
    for (const c of out) c.percent = this.total > 0 ? Math.round((c.time / this.total) * 1000) / 10 : 0;
    const parts: Record<string, number> = {};
    for (const p of this.partOrder) parts[PART_NAMES[p]] = this.partTime[p];
    const res: CauseBreakdown = {
      causes: out,
      preemptions: this.preemptions,
      parts,
      total: this.total,
    };
    const w = this.wake;
    if (w.at >= 0) {
      const k = ev.kind[w.waker];
      res.wake = {
        event:
          k === EventKind.SchedWaking
            ? "sched_waking"
            : k === EventKind.SchedWakeupNew
              ? "sched_wakeup_new"
              : "sched_wakeup",
        wakerTid: ev.currentTid[w.waker],
        wakerCpu: ev.cpu[w.waker],
        context: this.wakerContext,
        ontoCpu: w.onto,
        placedFrom: w.placedFrom,
        migrations: this.migrations,
      };
    }
    return res;
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(v, hi));
}
