// The typed event stream. Every source (trace.dat, ftrace text, live tracefs) fills ONE
// reusable EventRecord per event, in merged timestamp order, and hands it to the
// analyzers synchronously. Analyzers read it and copy only what they keep: a record is
// only valid during the call that received it.
//
// Numeric fields are decoded eagerly for the kinds the analysis uses (a handful of
// reads per event). Strings (comm, IRQ names) are decoded lazily through `str()`: the
// hot path never builds a string unless an analyzer asks, e.g. when a task is first seen.

import { EventKind } from "./event-kind.ts";
import { DOUBLE_ZERO } from "./units.ts";

/** String slots an event may carry; which are valid depends on the kind. */
export const StrSlot = {
  /** sched_switch prev_comm; wakeup/waking/wakeup_new/migrate/exit comm; fork child_comm; exec filename */
  Comm: 0,
  /** sched_switch next_comm; fork parent_comm */
  Comm2: 1,
  /** irq_handler_entry name */
  IrqName: 2,
  /** event name ("sched:sched_switch") — for Other events and diagnostics */
  EventName: 3,
} as const;
export type StrSlot = (typeof StrSlot)[keyof typeof StrSlot];
export const STR_SLOT_COUNT = 4;

/** Something that can decode a string slot of the current record (binary sources). */
export interface StringDecoder {
  readString(rec: EventRecord, slot: StrSlot): string;
}

export class EventRecord {
  kind: EventKind = EventKind.Other;
  /** Event id in its trace (format ID), -1 for synthetic or text events. */
  id = -1;
  cpu = 0;
  /** Timestamp, ns relative to the stream's tsBase. */
  ts = DOUBLE_ZERO;
  /** common_pid: the task running on `cpu` when the event fired. */
  currentTid = 0;
  /** thread group of the current task, when the source shows it (text TGID column); -1 unknown */
  currentTgid = -1;
  /** common_flags (irqs-off 0x01, need-resched 0x04, hardirq 0x08, softirq 0x10, ...); -1 unknown. */
  flags = -1;
  /** common_preempt_count; -1 unknown. */
  preemptCount = -1;

  // --- the task an event is about (wakeup*/migrate/fork child/exec/exit) ---
  tid = 0;
  prio = 0;
  /** wakeup*: target_cpu; migrate: dest_cpu */
  targetCpu = -1;
  /** migrate: orig_cpu */
  origCpu = -1;
  /** fork: parent pid; exec: old_pid */
  parentTid = 0;
  /** task_newtask: clone_flags, low 32 bits (CLONE_THREAD 0x10000) */
  cloneFlags = 0;

  // --- sched_switch ---
  prevTid = 0;
  prevPrio = 0;
  /** Normalised task state of prev (TaskState bits, 0 = runnable/preempted). */
  prevState = 0;
  nextTid = 0;
  nextPrio = 0;

  // --- irq / softirq ---
  irq = -1;
  /** irq_handler_exit ret */
  irqRet = 0;
  /** softirq vector */
  vec = -1;

  // --- hrtimer ---
  /** Identity of the hrtimer object (address folded into 53 bits; stable within a trace). */
  timerKey = DOUBLE_ZERO;
  /** Callback address folded into 53 bits; compare with SymbolTable keys (e.g. hrtimerWakeupKey). */
  timerFn = DOUBLE_ZERO;
  /** hrtimer_start expires / softexpires, ns relative to tsBase (same clock base as ts when the trace clock is mono). */
  expires = DOUBLE_ZERO;
  softExpires = DOUBLE_ZERO;
  /** hrtimer_expire_entry now, ns relative to tsBase. */
  now = DOUBLE_ZERO;
  timerMode = 0;

  // --- syscalls (clock_nanosleep / nanosleep) ---
  /** which_clock of clock_nanosleep (-1 for nanosleep / unknown). */
  sleepClock = -1;
  /** TIMER_ABSTIME etc. */
  sleepFlags = 0;
  /** sys_exit ret */
  sysRet = 0;

  // --- LostEvents ---
  /** number of events lost on `cpu` between `ts` and `lostUntil`; -1 = unknown */
  lostCount = 0;
  /**
   * End of the gap: the CPU's first event after the loss (relative ns). The record's own
   * `ts` is the gap's start (the CPU's last event before it); equal when unknown.
   */
  lostUntil = DOUBLE_ZERO;

  // --- raw payload, for binary sources (generic field access, exports) ---
  data: Uint8Array | null = null;
  view: DataView | null = null;
  /** offset of the payload (common_type) in `data` */
  offset = 0;
  /** payload length in bytes (allocated length, may include padding) */
  length = 0;

  /** Binary sources set a decoder; text sources fill `text` instead. */
  strings: StringDecoder | null = null;
  readonly text: (string | null)[] = [null, null, null, null];

  /** Resets the per-event fields a source may leave untouched. Call before filling. */
  clear(): void {
    this.clearDecoded();
    this.currentTgid = -1;
    this.text[0] = null;
    this.text[1] = null;
    this.text[2] = null;
    this.text[3] = null;
  }

  /**
   * clear() for a record only binary sources fill (CpuMerge's own): they never set
   * `currentTgid` or `text`, so those keep their reset values and are not stored again.
   */
  clearDecoded(): void {
    this.kind = EventKind.Other;
    this.id = -1;
    this.flags = -1;
    this.preemptCount = -1;
    this.tid = 0;
    this.prio = 0;
    this.targetCpu = -1;
    this.origCpu = -1;
    this.parentTid = 0;
    this.irq = -1;
    this.vec = -1;
    this.lostCount = 0;
    this.lostUntil = 0;
  }

  /** Decodes a string slot ("" when the event has none). */
  str(slot: StrSlot): string {
    const t = this.text[slot];
    if (t !== null) return t;
    return this.strings ? this.strings.readString(this, slot) : "";
  }
}
