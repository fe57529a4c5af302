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
  const n = ev.length;
  const { start, end, tid } = inp;
  const total = Math.max(0, end - start);

  // tid → last known prio in the window (switch and wakeup events carry it)
  const prioOf = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const k = ev.kind[i];
    if (k === EventKind.SchedSwitch) {
      prioOf.set(ev.a[i], ev.b[i]);
      prioOf.set(ev.d[i], ev.e[i]);
    } else if (k === EventKind.SchedWakeup || k === EventKind.SchedWaking || k === EventKind.SchedWakeupNew) {
      prioOf.set(ev.a[i], ev.b[i]);
    }
  }

  // per-CPU context, initialised from each CPU's first event in the window
  const curTid = new Map<number, number>();
  const hardirq = new Map<number, number>();
  const softirq = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const c = ev.cpu[i];
    if (curTid.has(c) || ev.kind[i] === EventKind.LostEvents) continue;
    curTid.set(c, ev.currentTid[i]);
    hardirq.set(c, ev.kind[i] === EventKind.IrqHandlerExit ? ev.a[i] : -1);
    softirq.set(c, ev.kind[i] === EventKind.SoftirqExit ? ev.a[i] : -1);
  }

  // landmarks
  let wakeTarget = -1;
  for (let i = 0; i < n; i++) {
    const k = ev.kind[i];
    if (ev.ts[i] > inp.wakeTs) break;
    if (
      (k === EventKind.SchedWakeup || k === EventKind.SchedWaking) &&
      ev.a[i] === tid &&
      ev.ts[i] === inp.wakeTs
    )
      wakeTarget = ev.c[i];
  }
  const remoteWake = inp.wakeCpu !== inp.runCpu || (wakeTarget >= 0 && wakeTarget !== inp.runCpu);
  // the migration phase ends when the task lands on the run CPU's queue, or that CPU first reacts
  let migrationEnd = inp.wakeTs;
  if (remoteWake) {
    migrationEnd = Number.POSITIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      if (ev.ts[i] < inp.wakeTs) continue;
      const k = ev.kind[i];
      if (k === EventKind.SchedMigrateTask && ev.a[i] === tid && ev.c[i] === inp.runCpu) {
        migrationEnd = ev.ts[i];
        break;
      }
      if (
        ev.cpu[i] === inp.runCpu &&
        (wakeTarget < 0 || wakeTarget === inp.runCpu) &&
        ev.ts[i] > inp.wakeTs
      ) {
        migrationEnd = ev.ts[i];
        break;
      }
    }
    if (!Number.isNaN(inp.switchInTs)) migrationEnd = Math.min(migrationEnd, inp.switchInTs);
  }

  // timer: the IRQ part ends at the hrtimer_expire_entry that woke the task
  let irqPartEnd = start;
  let timerCpu = inp.wakeCpu;
  if (inp.metric === "timer") {
    irqPartEnd = inp.wakeTs;
    for (let i = n - 1; i >= 0; i--) {
      if (ev.ts[i] > inp.wakeTs) continue;
      if (ev.kind[i] === EventKind.HrtimerExpireEntry && ev.cpu[i] === inp.wakeCpu) {
        // the metrics engine puts the split at this event (start = entry - (now - expires)),
        // so the IRQ part here equals its `timer.irq` part exactly
        irqPartEnd = ev.ts[i];
        timerCpu = ev.cpu[i];
        break;
      }
    }
    irqPartEnd = clamp(irqPartEnd, start, end);
  }
  // irq: the hard-IRQ part ends at the matching irq_handler_exit
  let hardPartEnd = start;
  let irqLine = -1;
  if (inp.metric === "irq") {
    for (let i = 0; i < n; i++) {
      if (ev.ts[i] < start) continue;
      if (ev.kind[i] === EventKind.IrqHandlerEntry && irqLine < 0 && ev.ts[i] === start) irqLine = ev.a[i];
      if (ev.kind[i] === EventKind.IrqHandlerExit && (irqLine < 0 || ev.a[i] === irqLine)) {
        hardPartEnd = ev.ts[i];
        break;
      }
    }
    hardPartEnd = clamp(Math.max(hardPartEnd, start), start, end);
  }

  const causes = new Map<string, Cause>();
  const parts: Record<string, number> = {};
  const preemptions: Preemption[] = [];
  let open: Preemption | null = null;

  let state = inp.metric === "timer" || inp.metric === "irq" ? PRE : WAITING;
  let waitCpu = inp.runCpu;
  let taskCpu = inp.runCpu;
  let switchedIn = false;
  // the task's own prio can change inside the window (PI boosting, sched_setscheduler)
  let taskPrio = inp.prio;

  // A new cause is named once, when first seen: `add` takes a NAME_* code and reads the
  // details from these variables, set by the caller (no closure per interval).
  let nCpu = 0;
  let nIrq = 0;
  let nTid = 0;
  let nPrio: number | undefined;
  let nIdle = false;
  const name = (c: Cause, code: number): void => {
    switch (code) {
      case NAME_IRQ:
        c.name = nIrq === HARDIRQ_UNKNOWN ? "unknown IRQ" : inp.irqName(nIrq) || `irq ${nIrq}`;
        if (nIrq >= 0) c.irq = nIrq;
        c.cpu = nCpu;
        return;
      case NAME_SOFTIRQ:
        c.name = SOFTIRQ_NAMES[nIrq] ?? `softirq ${nIrq}`;
        c.vec = nIrq;
        c.cpu = nCpu;
        return;
      case NAME_RUNNING:
        c.name = "own run time";
        c.tid = tid;
        c.cpu = nCpu;
        return;
      case NAME_OTHER:
        c.name = "scheduler / unexplained";
        return;
      case NAME_IDLE:
        c.name = "idle exit";
        c.cpu = nCpu;
        return;
      case NAME_THREAD:
        c.name = inp.comm(nTid) || `<${nTid}>`;
        c.tid = nTid;
        if (nPrio !== undefined) c.prio = nPrio;
        c.cpu = nCpu;
        return;
      case NAME_TIMER_IRQ:
        c.name = nIdle ? "timer IRQ latency (exit from idle)" : "timer IRQ latency";
        c.cpu = nCpu;
        return;
      case NAME_HARD_IRQ:
        c.name = `hard IRQ ${nIrq >= 0 ? inp.irqName(nIrq) || `irq ${nIrq}` : ""}`.trim();
        if (nIrq >= 0) c.irq = nIrq;
        c.cpu = nCpu;
        return;
      case NAME_WAKING_HANDLER:
        c.name = inp.metric === "timer" ? "timer handler (wakeup)" : "IRQ handler (wakeup)";
        c.cpu = nCpu;
        return;
      case NAME_MIGRATION:
        c.name = `CPU ${inp.wakeCpu} → CPU ${inp.runCpu}`;
        c.cpu = nCpu;
        return;
      case NAME_RETURN:
        c.name = "return to user space";
        c.cpu = nCpu;
        return;
      default:
        c.name = "sleep (non-timer)";
        c.tid = tid;
    }
  };

  const add = (kind: CauseKind, key: string, part: string, dur: number, code: number): void => {
    if (dur <= 0) return;
    parts[part] = (parts[part] ?? 0) + dur;
    const id = `${part}/${kind}/${key}`;
    let c = causes.get(id);
    if (!c) {
      c = { kind, name: "", time: 0 };
      name(c, code);
      if (part) c.part = part;
      causes.set(id, c);
    }
    c.time += dur;
  };

  /** the context of `cpu`, as a cause */
  const attributeCpu = (cpu: number, dur: number, part: string, runningSelf: boolean): void => {
    nCpu = cpu;
    const hi = hardirq.get(cpu) ?? -1;
    if (hi !== -1) {
      nIrq = hi;
      add("irq", `${hi}`, part, dur, NAME_IRQ);
      return;
    }
    const si = softirq.get(cpu) ?? -1;
    if (si !== -1) {
      nIrq = si;
      add("softirq", `${si}`, part, dur, NAME_SOFTIRQ);
      return;
    }
    if (runningSelf) {
      add("running", "", part, dur, NAME_RUNNING);
      return;
    }
    const cur = curTid.get(cpu);
    if (cur === undefined || cur === tid) {
      add("other", "", part, dur, NAME_OTHER);
      return;
    }
    if (cur === 0) {
      add("idle-exit", `${cpu}`, part, dur, NAME_IDLE);
      return;
    }
    const p = prioOf.get(cur);
    const kind: CauseKind = p !== undefined && p < taskPrio ? "thread" : "blocking";
    nTid = cur;
    nPrio = p;
    add(kind, `${cur}`, part, dur, NAME_THREAD);
  };

  const partOf = (t0: number): string => {
    if (inp.metric === "timer") return t0 < irqPartEnd ? "irq" : "thread";
    if (inp.metric === "irq") return t0 < hardPartEnd ? "hardirq" : switchedIn ? "handling" : "wakeup";
    return switchedIn ? "running" : "latency";
  };

  const attribute = (t0: number, t1: number): void => {
    const a = Math.max(t0, start);
    const b = Math.min(t1, end);
    if (b <= a) return;
    const dur = b - a;
    if (open) open.time += dur;
    const part = partOf(a);
    if (inp.metric === "timer" && a < irqPartEnd) {
      nIdle = curTid.get(timerCpu) === 0;
      nCpu = timerCpu;
      add(nIdle ? "idle-exit" : "irq", "timer", part, dur, NAME_TIMER_IRQ);
      return;
    }
    if (inp.metric === "irq" && a < hardPartEnd) {
      nIrq = irqLine;
      nCpu = inp.wakeCpu;
      add("irq", `${irqLine}`, part, dur, NAME_HARD_IRQ);
      return;
    }
    switch (state) {
      case PRE:
        // between the IRQ part and the wakeup: the handler that wakes the task
        nCpu = inp.wakeCpu;
        add("irq", "handler", part, dur, NAME_WAKING_HANDLER);
        return;
      case WAITING:
        if (!switchedIn && remoteWake && a < migrationEnd) {
          nCpu = inp.runCpu;
          add("migration", "", part, dur, NAME_MIGRATION);
          return;
        }
        attributeCpu(waitCpu, dur, part, false);
        return;
      case RUNNING:
        if (inp.metric === "timer") {
          // switch-in → return to user space (sys_exit_clock_nanosleep)
          nCpu = taskCpu;
          add("other", "return", part, dur, NAME_RETURN);
          return;
        }
        attributeCpu(taskCpu, dur, part, true);
        return;
      default:
        add("sleep", "", part, dur, NAME_SLEEP);
    }
  };

  const switchIn = (cpu: number): void => {
    state = RUNNING;
    taskCpu = cpu;
    switchedIn = true;
    open = null;
  };

  let t = start;
  let wokeStarted = state === WAITING;
  for (let i = 0; i < n; i++) {
    const ts = ev.ts[i];
    if (ts > end) break;
    // boundaries that are not events: the wakeup instant and the sampled switch-in
    if (!wokeStarted && ts >= inp.wakeTs) {
      attribute(t, inp.wakeTs);
      t = Math.max(t, inp.wakeTs);
      wokeStarted = true;
      if (state === PRE) state = WAITING;
    }
    if (!switchedIn && !Number.isNaN(inp.switchInTs) && ts > inp.switchInTs) {
      attribute(t, inp.switchInTs);
      t = Math.max(t, inp.switchInTs);
      switchIn(inp.runCpu);
    }
    attribute(t, ts);
    if (ts > t) t = ts;

    const cpu = ev.cpu[i];
    const k = ev.kind[i];
    switch (k) {
      case EventKind.SchedSwitch: {
        const prev = ev.a[i];
        const next = ev.d[i];
        curTid.set(cpu, next);
        if (prev === tid) taskPrio = ev.b[i];
        else if (next === tid) taskPrio = ev.e[i];
        if (ts < start) break;
        if (prev === tid && state === RUNNING) {
          if (ev.c[i] === 0) {
            state = WAITING;
            waitCpu = cpu;
            if (ts < end) {
              open = { ts, cpu, tid: next, comm: inp.comm(next), prio: ev.e[i], time: 0 };
              preemptions.push(open);
            }
          } else {
            state = SLEEPING;
          }
        } else if (next === tid && state !== RUNNING && ts >= inp.wakeTs) {
          switchIn(cpu);
        }
        break;
      }
      case EventKind.SchedWakeup:
      case EventKind.SchedWaking:
        if (ev.a[i] === tid && state === SLEEPING && ts >= inp.wakeTs) {
          state = WAITING;
          waitCpu = ev.c[i] >= 0 ? ev.c[i] : cpu;
        }
        break;
      case EventKind.SchedMigrateTask:
        if (ev.a[i] === tid && state === WAITING) waitCpu = ev.c[i];
        break;
      case EventKind.IrqHandlerEntry:
        hardirq.set(cpu, ev.a[i]);
        break;
      case EventKind.IrqHandlerExit:
        hardirq.set(cpu, -1);
        break;
      case EventKind.SoftirqEntry:
        softirq.set(cpu, ev.a[i]);
        break;
      case EventKind.SoftirqExit:
        softirq.set(cpu, -1);
        break;
      default:
        break;
    }
    // the task seen as current while still waiting: it runs (the switch-in was not recorded)
    if (ev.currentTid[i] === tid && state === WAITING && ts >= inp.wakeTs && k !== EventKind.SchedSwitch) {
      curTid.set(cpu, tid);
      switchIn(cpu);
    } else if (
      k !== EventKind.SchedSwitch &&
      k !== EventKind.LostEvents &&
      ev.currentTid[i] !== curTid.get(cpu)
    ) {
      // common_pid is the ground truth of who runs; it repairs a missed switch
      curTid.set(cpu, ev.currentTid[i]);
    }
  }
  if (!wokeStarted) {
    attribute(t, inp.wakeTs);
    t = Math.max(t, inp.wakeTs);
    if (state === PRE) state = WAITING;
  }
  if (!switchedIn && !Number.isNaN(inp.switchInTs) && inp.switchInTs < end) {
    attribute(t, inp.switchInTs);
    t = Math.max(t, inp.switchInTs);
    switchIn(inp.runCpu);
  }
  attribute(t, end);

  const out = [...causes.values()];
  const partOrder = ["irq", "hardirq", "latency", "wakeup", "thread", "running", "handling"];
  out.sort((x, y) => partOrder.indexOf(x.part ?? "") - partOrder.indexOf(y.part ?? "") || y.time - x.time);
  for (const c of out) c.percent = total > 0 ? Math.round((c.time / total) * 1000) / 10 : 0;
  return { causes: out, preemptions, parts, total };
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(v, hi));
}
