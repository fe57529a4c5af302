// Softirq work done on a group of threads' behalf, from a window's events (admit's
// attribution of the newcomer's share). The trace names who raised a softirq
// (`softirq_raise`, written in the raiser's context) but not on whose behalf a softirq ran;
// this joins the two, per CPU and vector:
//
// - a raise in task context (no hard IRQ or softirq running on that CPU) is on behalf of the
//   task that is current there (common_pid): weight 1 when it is one of the group's threads,
//   else 0;
// - a raise inside a hard IRQ handler is the device's (0): a NIC's NET_RX raised while the
//   newcomer happened to be current is not the newcomer's work, nor is the tick's TIMER/RCU;
// - a raise inside a running softirq carries that softirq's weight (NET_RX raising NET_TX
//   for the newcomer's traffic is still the newcomer's);
// - one softirq run (softirq_entry .. softirq_exit of vector V on CPU C) serves every raise
//   of V on C since the previous run of V there, so its weight is their mean; a run whose
//   raises are not in the window has weight 0 (not guessed).
//
// What it does not see: hard IRQs and threaded IRQ handlers (irq/N-name) are the device's
// work; nothing in the trace ties a device's interrupt to the task whose I/O caused it.

import { EventKind } from "../model/event-kind.ts";
import type { EventColumns } from "./flight-recorder.ts";

/** common_flags: in a hard IRQ handler (include/linux/trace_events.h) */
const FLAG_HARDIRQ = 0x08;
const VECTORS = 10;

/** Softirq run time of one vector on one CPU in a span, and the part done on the group's behalf. */
export interface SoftirqTime {
  /** softirq run time inside the span, hard IRQs nested in it left out, ns */
  time: number;
  /** the part of `time` on the group's behalf (weighted by its raises), ns */
  behalf: number;
}

/** Key of softirqBehalf's map: CPU and vector. */
export const softirqKey = (cpu: number, vec: number): number => cpu * VECTORS + vec;

interface CpuState {
  /** per vector: raises since its last run, and their weights summed */
  raises: Float64Array;
  weights: Float64Array;
  /** the softirq running (-1 none), its weight, and where its current segment began */
  vec: number;
  weight: number;
  since: number;
  /** hard IRQ handlers open on this CPU */
  hardirq: number;
}

/**
 * Per CPU and vector (softirqKey), the softirq run time within [from, to) and how much of it
 * was on behalf of the threads `inGroup` accepts. Pure; events in time order, relative ns.
 */
export function softirqBehalf(
  ev: EventColumns,
  from: number,
  to: number,
  inGroup: (tid: number) => boolean,
): Map<number, SoftirqTime> {
  const out = new Map<number, SoftirqTime>();
  const cpus = new Map<number, CpuState>();
  const state = (cpu: number): CpuState => {
    let s = cpus.get(cpu);
    if (s === undefined) {
      s = {
        raises: new Float64Array(VECTORS),
        weights: new Float64Array(VECTORS),
        vec: -1,
        weight: 0,
        since: 0,
        hardirq: 0,
      };
      cpus.set(cpu, s);
    }
    return s;
  };
  const close = (cpu: number, s: CpuState, ts: number): void => {
    if (s.vec < 0 || s.hardirq > 0) return;
    const dur = Math.min(ts, to) - Math.max(s.since, from);
    if (dur <= 0) return;
    const key = softirqKey(cpu, s.vec);
    let t = out.get(key);
    if (t === undefined) {
      t = { time: 0, behalf: 0 };
      out.set(key, t);
    }
    t.time += dur;
    t.behalf += dur * s.weight;
  };
  for (let i = 0; i < ev.length; i++) {
    const ts = ev.ts[i];
    if (ts >= to) break;
    const cpu = ev.cpu[i];
    switch (ev.kind[i]) {
      case EventKind.IrqHandlerEntry: {
        const s = state(cpu);
        close(cpu, s, ts);
        s.hardirq++;
        break;
      }
      case EventKind.IrqHandlerExit: {
        const s = state(cpu);
        if (s.hardirq > 0) s.hardirq--;
        if (s.hardirq === 0) s.since = ts;
        break;
      }
      case EventKind.SoftirqRaise: {
        const vec = ev.a[i];
        if (vec < 0 || vec >= VECTORS) break;
        const s = state(cpu);
        const flags = ev.flags[i];
        const inHardirq = s.hardirq > 0 || (flags >= 0 && (flags & FLAG_HARDIRQ) !== 0);
        const w = inHardirq ? 0 : s.vec >= 0 ? s.weight : inGroup(ev.currentTid[i]) ? 1 : 0;
        s.raises[vec]++;
        s.weights[vec] += w;
        break;
      }
      case EventKind.SoftirqEntry: {
        const vec = ev.a[i];
        if (vec < 0 || vec >= VECTORS) break;
        const s = state(cpu);
        close(cpu, s, ts);
        s.vec = vec;
        s.weight = s.raises[vec] > 0 ? s.weights[vec] / s.raises[vec] : 0;
        s.raises[vec] = 0;
        s.weights[vec] = 0;
        s.since = ts;
        break;
      }
      case EventKind.SoftirqExit: {
        const s = state(cpu);
        close(cpu, s, ts);
        s.vec = -1;
        break;
      }
    }
  }
  for (const [cpu, s] of cpus) close(cpu, s, to);
  return out;
}
