// Cause analysis of one worst window: where did the time of the metric go? A pure
// function over the window's events (after rtla's timerlat auto-analysis, which breaks a
// timerlat worst case into additive parts; this is our own state machine for any metric
// of any task). The metric's span [start, end) is cut at every event into elementary
// intervals and each interval is given to exactly one cause, so the parts always SUM to
// end - start:
//
// - before the task is woken (timer: expiry → hrtimer_expire_entry is the IRQ part; irq:
//   irq_handler_entry → exit is the hard-IRQ part);
// - while the task is runnable but not running, the context of the CPU it waits on:
//   hard IRQ (per line), softirq (per vector), the idle task (idle exit), a thread of
//   higher priority (thread interference), a thread of equal/lower priority (blocking:
//   it kept the CPU, non-preemptible kernel or preemption/IRQs off), or, right after a
//   wakeup on another CPU or onto another CPU's queue, migration;
// - while the task runs (response/relief/irq handling): its own run time, minus the IRQs
//   and softirqs that hit it; when preempted, the preempting context; when asleep inside a
//   relief cycle (non-timer sleep), sleep.

import { EventKind, SOFTIRQ_NAMES } from "../model/event-kind.ts";
import type { Cause, CauseKind, MetricKey } from "../model/report.ts";
import type { EventColumns } from "./flight-recorder.ts";

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

export interface CauseBreakdown {
  /** additive parts; `time`s sum to end - start */
  causes: Cause[];
  /** response/relief/irq: switch-outs of the running task while still runnable */
  preemptions: Preemption[];
  /** metric-specific split: timer {irq, thread}; irq {hardirq, wakeup, handling}; others {latency, running...} */
  parts: Record<string, number>;
  total: number;
}

const HARDIRQ_UNKNOWN = -2;

// How a new cause is named (analyzeCauses: `name`).
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

// Task states of the sweep.
const PRE = 0;
const WAITING = 1;
const RUNNING = 2;
const SLEEPING = 3;

/** Breaks the metric of one window into additive causes. */
export function analyzeCauses(inp: CauseInput): CauseBreakdown {
  const ev = inp.events;
  // The input's fields are read once, and each pass over the events is a function of its
  // own: with loads from the input object inside the loops, and several loops in one
  // function, the optimized code deoptimized on nearly every window (an input map that
  // varies; a later loop with no type feedback yet when an earlier one was optimized).
  const { start, end, tid, wakeTs, wakeCpu, runCpu, switchInTs, metric } = inp;
  const prioOf = prioTable(ev);
  const curTid = new Map<number, number>();
  const hardirq = new Map<number, number>();
  const softirq = new Map<number, number>();
  firstContext(ev, curTid, hardirq, softirq);
  const wakeTarget = wakeTargetOf(ev, tid, wakeTs);
  const remoteWake = wakeCpu !== runCpu || (wakeTarget >= 0 && wakeTarget !== runCpu);
  let migrationEnd = wakeTs;
  if (remoteWake) {
    migrationEnd = migrationEndOf(ev, tid, wakeTs, runCpu, wakeTarget);
    if (!Number.isNaN(switchInTs)) migrationEnd = Math.min(migrationEnd, switchInTs);
  }
  // timer: the IRQ part ends at the hrtimer_expire_entry that woke the task
  let irqPartEnd = start;
  let timerCpu = wakeCpu;
  if (metric === "timer") {
    const at = timerExpiryEntry(ev, wakeTs, wakeCpu);
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
    curTid,
    hardirq,
    softirq,
    remoteWake,
    migrationEnd,
    irqPartEnd,
    timerCpu,
    hardPartEnd,
    irqLine,
  }).run();
}

/** tid → last known prio in the window (switch and wakeup events carry it). */
function prioTable(ev: EventColumns): Map<number, number> {
  const prioOf = new Map<number, number>();
  for (let i = 0; i < ev.length; i++) {
    const k = ev.kind[i];
    if (k === EventKind.SchedSwitch) {
      prioOf.set(ev.a[i], ev.b[i]);
      prioOf.set(ev.d[i], ev.e[i]);
    } else if (k === EventKind.SchedWakeup || k === EventKind.SchedWaking || k === EventKind.SchedWakeupNew) {
      prioOf.set(ev.a[i], ev.b[i]);
    }
  }
  return prioOf;
}

/** Per-CPU context (current tid, hard IRQ, softirq) from each CPU's first event in the window. */
function firstContext(
  ev: EventColumns,
  curTid: Map<number, number>,
  hardirq: Map<number, number>,
  softirq: Map<number, number>,
): void {
  for (let i = 0; i < ev.length; i++) {
    const c = ev.cpu[i];
    if (curTid.has(c) || ev.kind[i] === EventKind.LostEvents) continue;
    curTid.set(c, ev.currentTid[i]);
    hardirq.set(c, ev.kind[i] === EventKind.IrqHandlerExit ? ev.a[i] : -1);
    softirq.set(c, ev.kind[i] === EventKind.SoftirqExit ? ev.a[i] : -1);
  }
}

/** target_cpu of the task's wakeup event at wakeTs, -1 when not in the window. */
function wakeTargetOf(ev: EventColumns, tid: number, wakeTs: number): number {
  let wakeTarget = -1;
  for (let i = 0; i < ev.length; i++) {
    const k = ev.kind[i];
    if (ev.ts[i] > wakeTs) break;
    if (
      (k === EventKind.SchedWakeup || k === EventKind.SchedWaking) &&
      ev.a[i] === tid &&
      ev.ts[i] === wakeTs
    )
      wakeTarget = ev.c[i];
  }
  return wakeTarget;
}

/** The migration phase ends when the task lands on the run CPU's queue, or that CPU first reacts. */
function migrationEndOf(
  ev: EventColumns,
  tid: number,
  wakeTs: number,
  runCpu: number,
  wakeTarget: number,
): number {
  for (let i = 0; i < ev.length; i++) {
    if (ev.ts[i] < wakeTs) continue;
    const k = ev.kind[i];
    if (k === EventKind.SchedMigrateTask && ev.a[i] === tid && ev.c[i] === runCpu) return ev.ts[i];
    if (ev.cpu[i] === runCpu && (wakeTarget < 0 || wakeTarget === runCpu) && ev.ts[i] > wakeTs)
      return ev.ts[i];
  }
  return Number.POSITIVE_INFINITY;
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

/** Where the sweep stands on each CPU and the window's landmarks (analyzeCauses' first passes). */
interface SweepSetup {
  /** tid → last known prio in the window */
  prioOf: Map<number, number>;
  /** per CPU: current tid, hard IRQ line (-1 none), softirq vector (-1 none) */
  curTid: Map<number, number>;
  hardirq: Map<number, number>;
  softirq: Map<number, number>;
  remoteWake: boolean;
  migrationEnd: number;
  irqPartEnd: number;
  timerCpu: number;
  hardPartEnd: number;
  irqLine: number;
}

/**
 * The sweep over one window's events that gives each elementary interval to a cause. A class
 * rather than closures inside analyzeCauses: new closures per window made every call site
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
  // copied from the input (not read through it in the loops: see analyzeCauses)
  private readonly wakeTs: number;
  private readonly wakeCpu: number;
  private readonly runCpu: number;
  private readonly switchInTs: number;
  private readonly metric: MetricKey;
  private readonly prioOf: Map<number, number>;
  private readonly curTid: Map<number, number>;
  private readonly hardirq: Map<number, number>;
  private readonly softirq: Map<number, number>;
  private readonly remoteWake: boolean;
  private readonly migrationEnd: number;
  private readonly irqPartEnd: number;
  private readonly timerCpu: number;
  private readonly hardPartEnd: number;
  private readonly irqLine: number;

  private readonly causes = new Map<string, Cause>();
  private readonly parts: Record<string, number> = {};
  private readonly preemptions: Preemption[] = [];
  private open: Preemption | null = null;
  private state: number;
  private waitCpu: number;
  private taskCpu: number;
  private switchedIn = false;
  /** the task's own prio can change inside the window (PI boosting, sched_setscheduler) */
  private taskPrio: number;
  // A new cause is named once, when first seen: `add` takes a NAME_* code and reads the
  // details from these fields, set by the caller.
  private nCpu = 0;
  private nIrq = 0;
  private nTid = 0;
  private nPrio: number | undefined = undefined;
  private nIdle = false;

  constructor(inp: CauseInput, s: SweepSetup) {
    this.inp = inp;
    this.ev = inp.events;
    this.n = inp.events.length;
    this.start = inp.start;
    this.end = inp.end;
    this.tid = inp.tid;
    this.total = Math.max(0, inp.end - inp.start);
    this.wakeTs = inp.wakeTs;
    this.wakeCpu = inp.wakeCpu;
    this.runCpu = inp.runCpu;
    this.switchInTs = inp.switchInTs;
    this.metric = inp.metric;
    this.prioOf = s.prioOf;
    this.curTid = s.curTid;
    this.hardirq = s.hardirq;
    this.softirq = s.softirq;
    this.remoteWake = s.remoteWake;
    this.migrationEnd = s.migrationEnd;
    this.irqPartEnd = s.irqPartEnd;
    this.timerCpu = s.timerCpu;
    this.hardPartEnd = s.hardPartEnd;
    this.irqLine = s.irqLine;
    this.state = inp.metric === "timer" || inp.metric === "irq" ? PRE : WAITING;
    this.waitCpu = inp.runCpu;
    this.taskCpu = inp.runCpu;
    this.taskPrio = inp.prio;
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
        c.name = `CPU ${this.wakeCpu} → CPU ${this.runCpu}`;
        c.cpu = this.nCpu;
        return;
      case NAME_RETURN:
        c.name = "return to user space";
        c.cpu = this.nCpu;
        return;
      default:
        c.name = "sleep (non-timer)";
        c.tid = this.tid;
    }
  }

  private add(kind: CauseKind, key: string, part: string, dur: number, code: number): void {
    if (dur <= 0) return;
    this.parts[part] = (this.parts[part] ?? 0) + dur;
    const id = `${part}/${kind}/${key}`;
    let c = this.causes.get(id);
    if (!c) {
      c = { kind, name: "", time: 0 };
      this.nameCause(c, code);
      if (part) c.part = part;
      this.causes.set(id, c);
    }
    c.time += dur;
  }

  /** the context of `cpu`, as a cause */
  private attributeCpu(cpu: number, dur: number, part: string, runningSelf: boolean): void {
    this.nCpu = cpu;
    const hi = this.hardirq.get(cpu) ?? -1;
    if (hi !== -1) {
      this.nIrq = hi;
      this.add("irq", `${hi}`, part, dur, NAME_IRQ);
      return;
    }
    const si = this.softirq.get(cpu) ?? -1;
    if (si !== -1) {
      this.nIrq = si;
      this.add("softirq", `${si}`, part, dur, NAME_SOFTIRQ);
      return;
    }
    if (runningSelf) {
      this.add("running", "", part, dur, NAME_RUNNING);
      return;
    }
    const cur = this.curTid.get(cpu);
    if (cur === undefined || cur === this.tid) {
      this.add("other", "", part, dur, NAME_OTHER);
      return;
    }
    if (cur === 0) {
      this.add("idle-exit", `${cpu}`, part, dur, NAME_IDLE);
      return;
    }
    const p = this.prioOf.get(cur);
    const kind: CauseKind = p !== undefined && p < this.taskPrio ? "thread" : "blocking";
    this.nTid = cur;
    this.nPrio = p;
    this.add(kind, `${cur}`, part, dur, NAME_THREAD);
  }

  private partOf(t0: number): string {
    if (this.metric === "timer") return t0 < this.irqPartEnd ? "irq" : "thread";
    if (this.metric === "irq")
      return t0 < this.hardPartEnd ? "hardirq" : this.switchedIn ? "handling" : "wakeup";
    return this.switchedIn ? "running" : "latency";
  }

  private attribute(t0: number, t1: number): void {
    const a = Math.max(t0, this.start);
    const b = Math.min(t1, this.end);
    if (b <= a) return;
    const dur = b - a;
    if (this.open) this.open.time += dur;
    const part = this.partOf(a);
    if (this.metric === "timer" && a < this.irqPartEnd) {
      this.nIdle = this.curTid.get(this.timerCpu) === 0;
      this.nCpu = this.timerCpu;
      this.add(this.nIdle ? "idle-exit" : "irq", "timer", part, dur, NAME_TIMER_IRQ);
      return;
    }
    if (this.metric === "irq" && a < this.hardPartEnd) {
      this.nIrq = this.irqLine;
      this.nCpu = this.wakeCpu;
      this.add("irq", `${this.irqLine}`, part, dur, NAME_HARD_IRQ);
      return;
    }
    switch (this.state) {
      case PRE:
        // between the IRQ part and the wakeup: the handler that wakes the task
        this.nCpu = this.wakeCpu;
        this.add("irq", "handler", part, dur, NAME_WAKING_HANDLER);
        return;
      case WAITING:
        if (!this.switchedIn && this.remoteWake && a < this.migrationEnd) {
          this.nCpu = this.runCpu;
          this.add("migration", "", part, dur, NAME_MIGRATION);
          return;
        }
        this.attributeCpu(this.waitCpu, dur, part, false);
        return;
      case RUNNING:
        if (this.metric === "timer") {
          // switch-in → return to user space (sys_exit_clock_nanosleep)
          this.nCpu = this.taskCpu;
          this.add("other", "return", part, dur, NAME_RETURN);
          return;
        }
        this.attributeCpu(this.taskCpu, dur, part, true);
        return;
      default:
        this.add("sleep", "", part, dur, NAME_SLEEP);
    }
  }

  private switchIn(cpu: number): void {
    this.state = RUNNING;
    this.taskCpu = cpu;
    this.switchedIn = true;
    this.open = null;
  }

  run(): CauseBreakdown {
    let t = this.start;
    let wokeStarted = this.state === WAITING;
    for (let i = 0; i < this.n; i++) {
      const ts = this.ev.ts[i];
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

      const cpu = this.ev.cpu[i];
      const k = this.ev.kind[i];
      switch (k) {
        case EventKind.SchedSwitch: {
          const prev = this.ev.a[i];
          const next = this.ev.d[i];
          this.curTid.set(cpu, next);
          if (prev === this.tid) this.taskPrio = this.ev.b[i];
          else if (next === this.tid) this.taskPrio = this.ev.e[i];
          if (ts < this.start) break;
          if (prev === this.tid && this.state === RUNNING) {
            if (this.ev.c[i] === 0) {
              this.state = WAITING;
              this.waitCpu = cpu;
              if (ts < this.end) {
                this.open = { ts, cpu, tid: next, comm: this.inp.comm(next), prio: this.ev.e[i], time: 0 };
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
        case EventKind.SchedWakeup:
        case EventKind.SchedWaking:
          if (this.ev.a[i] === this.tid && this.state === SLEEPING && ts >= this.wakeTs) {
            this.state = WAITING;
            this.waitCpu = this.ev.c[i] >= 0 ? this.ev.c[i] : cpu;
          }
          break;
        case EventKind.SchedMigrateTask:
          if (this.ev.a[i] === this.tid && this.state === WAITING) this.waitCpu = this.ev.c[i];
          break;
        case EventKind.IrqHandlerEntry:
          this.hardirq.set(cpu, this.ev.a[i]);
          break;
        case EventKind.IrqHandlerExit:
          this.hardirq.set(cpu, -1);
          break;
        case EventKind.SoftirqEntry:
          this.softirq.set(cpu, this.ev.a[i]);
          break;
        case EventKind.SoftirqExit:
          this.softirq.set(cpu, -1);
          break;
        default:
          break;
      }
      // the task seen as current while still waiting: it runs (the switch-in was not recorded)
      if (
        this.ev.currentTid[i] === this.tid &&
        this.state === WAITING &&
        ts >= this.wakeTs &&
        k !== EventKind.SchedSwitch
      ) {
        this.curTid.set(cpu, this.tid);
        this.switchIn(cpu);
      } else if (
        k !== EventKind.SchedSwitch &&
        k !== EventKind.LostEvents &&
        this.ev.currentTid[i] !== this.curTid.get(cpu)
      ) {
        // common_pid is the ground truth of who runs; it repairs a missed switch
        this.curTid.set(cpu, this.ev.currentTid[i]);
      }
    }
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
    return { causes: out, preemptions: this.preemptions, parts: this.parts, total: this.total };
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(v, hi));
}
