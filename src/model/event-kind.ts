// The events the analysis understands, as small integers so that dispatch is a switch
// over numbers. Every other event in a trace is decoded as `Other` and never breaks a read.

import type { EventRecord } from "./event.ts";

export const EventKind = {
  Other: 0,
  // sched
  SchedSwitch: 1,
  SchedWakeup: 2,
  SchedWaking: 3,
  SchedWakeupNew: 4,
  SchedMigrateTask: 5,
  SchedProcessFork: 6,
  SchedProcessExec: 7,
  SchedProcessExit: 8,
  // irq
  IrqHandlerEntry: 9,
  IrqHandlerExit: 10,
  SoftirqEntry: 11,
  SoftirqExit: 12,
  SoftirqRaise: 13,
  // timer
  HrtimerStart: 14,
  HrtimerExpireEntry: 15,
  HrtimerExpireExit: 16,
  HrtimerCancel: 17,
  // syscalls: clock_nanosleep and nanosleep
  SysEnterSleep: 18,
  SysExitSleep: 19,
  /** Synthetic: the source lost events on `cpu` before `ts` (count in `lostCount`, -1 = unknown). */
  LostEvents: 20,
  /** task:task_newtask: a new task with its clone flags (CLONE_THREAD = a thread of the creator's group) */
  TaskNewtask: 21,
} as const;
export type EventKind = (typeof EventKind)[keyof typeof EventKind];

/**
 * What a field's value is, which says how every stage stores, prints and reads it back: one
 * switch per stage over these types (window rows, ftrace text, trace.dat, JSON import), none
 * over kinds.
 */
export const FieldType = {
  /** a signed 32-bit integer, printed in decimal */
  Int: 0,
  /** a thread id: its thread's name is noted when a window is captured */
  Pid: 1,
  /** a task state, normalised (TaskState bits): letters in listings, the kernel's bits in files */
  State: 2,
  /** the name of the thread in field `of` (the recorder keeps names apart, never in columns) */
  Comm: 3,
  /** an IRQ line number: its name is noted when a window is captured */
  Irq: 4,
  /** the name of the IRQ line in field `of` */
  IrqName: 5,
  /** irq_handler_exit ret: 1 handled, 0 unhandled */
  IrqRet: 6,
  /** the name of the softirq vector in field `of` */
  SoftirqAction: 7,
  /** a kernel address folded into 53 bits (an object's identity), printed in hex */
  Address: 8,
  /** a kernel function's address folded into 53 bits, printed as its symbol when known */
  Symbol: 9,
  /** a time, ns relative to the trace's tsBase, printed absolute */
  Time: 10,
  /** enum hrtimer_mode */
  HrtimerMode: 11,
  /** clockid_t, printed as the syscall event prints it (0x%08lx) */
  ClockId: 12,
  /** a 32-bit flag word, printed 0x%08lx */
  Flags: 13,
  /** a syscall's return value (a long), printed 0x%lx */
  SysRet: 14,
  /** a field files carry that the recorder does not keep: written as `value` */
  Const: 15,
} as const;
export type FieldType = (typeof FieldType)[keyof typeof FieldType];

/** The recorder's generic columns: a..e 32-bit integers, f..k doubles (addresses, times). */
export type Column = "a" | "b" | "c" | "d" | "e" | "f" | "g" | "h" | "k";
export const COLUMNS: readonly Column[] = ["a", "b", "c", "d", "e", "f", "g", "h", "k"];

/** The numeric fields of EventRecord, those a column can hold. */
export type RecordField = {
  [K in keyof EventRecord]: EventRecord[K] extends number ? K : never;
}[keyof EventRecord];

/** A field's place in a trace.dat payload: C declaration, offset, size, signed (the format file's line). */
export type DatField = readonly [decl: string, offset: number, size: number, signed: boolean];

export interface FieldSpec {
  /** kernel field name, as format files and `trace-cmd report` name it */
  readonly name: string;
  readonly type: FieldType;
  /** value fields: the EventRecord field decoders fill, and the recorder column that keeps it */
  readonly rec?: RecordField;
  readonly col?: Column;
  /** name fields (Comm, IrqName, SoftirqAction): the field whose value they name */
  readonly of?: string;
  /** Const fields: the value written */
  readonly value?: number;
  /** its place in trace.dat payloads (absent: not written to trace.dat) */
  readonly dat?: DatField;
  /** left out of window listings (a file needs it, the recorder does not know it) */
  readonly unlisted?: true;
  /** printed zero-padded to this width in ftrace text (`%03d`) */
  readonly zeroPad?: number;
}

/** Which events a window longer than its event limit keeps after the part that explains the metric. */
export const LongWindow = {
  Never: 0,
  Always: 1,
  /** those on the CPU the task is on */
  OnCpu: 2,
  /** those naming the task in a Pid field */
  Task: 3,
  /** either */
  TaskOrCpu: 4,
  /** those written while the task ran */
  CurrentTask: 5,
} as const;
export type LongWindow = (typeof LongWindow)[keyof typeof LongWindow];

export interface KindSpec {
  readonly kind: EventKind;
  /** "system:event" names sources know it by; the first is the one files are written with */
  readonly names: readonly string[];
  /** name in window listings (default: the event part of the first name) */
  readonly listed?: string;
  /** in payload order: value fields (kept by the recorder), name fields, Const fields */
  readonly fields: readonly FieldSpec[];
  /**
   * ftrace text payload as the kernel's print fmt prints it, `{field}` for each value
   * (absent: no text form, the text writer leaves the event out)
   */
  readonly text?: string;
  /** trace.dat: the format id written files use, and the print fmt of the format file */
  readonly dat?: { readonly id: number; readonly printFmt: string };
  readonly longWindow: LongWindow;
}

const value = (name: string, type: FieldType, col: Column, rec: RecordField, dat?: DatField): FieldSpec => ({
  name,
  type,
  col,
  rec,
  dat,
});
const named = (name: string, type: FieldType, of: string, dat?: DatField): FieldSpec => ({
  name,
  type,
  of,
  dat,
});

/** sched_wakeup, sched_waking and sched_wakeup_new share one layout. */
function wakeup(kind: EventKind, name: string, id: number): KindSpec {
  return {
    kind,
    names: [`sched:${name}`],
    fields: [
      named("comm", FieldType.Comm, "pid", ["char comm[16]", 8, 16, false]),
      value("pid", FieldType.Pid, "a", "tid", ["pid_t pid", 24, 4, true]),
      value("prio", FieldType.Int, "b", "prio", ["int prio", 28, 4, true]),
      {
        ...value("target_cpu", FieldType.Int, "c", "targetCpu", ["int target_cpu", 32, 4, true]),
        zeroPad: 3,
      },
    ],
    text: "comm={comm} pid={pid} prio={prio} target_cpu={target_cpu}",
    dat: {
      id,
      printFmt: `"comm=%s pid=%d prio=%d target_cpu=%03d", REC->comm, REC->pid, REC->prio, REC->target_cpu`,
    },
    longWindow: LongWindow.Task,
  };
}

/** softirq_entry, softirq_exit and softirq_raise share one layout. */
function softirq(kind: EventKind, name: string, id: number, longWindow: LongWindow): KindSpec {
  return {
    kind,
    names: [`irq:${name}`],
    fields: [
      value("vec", FieldType.Int, "a", "vec", ["unsigned int vec", 8, 4, false]),
      named("action", FieldType.SoftirqAction, "vec"),
    ],
    text: "vec={vec} [action={action}]",
    dat: {
      id,
      printFmt: `"vec=%u [action=%s]", REC->vec, __print_symbolic(REC->vec, { 0, "HI" }, { 1, "TIMER" }, { 2, "NET_TX" }, { 3, "NET_RX" }, { 4, "BLOCK" }, { 5, "IRQ_POLL" }, { 6, "TASKLET" }, { 7, "SCHED" }, { 8, "HRTIMER" }, { 9, "RCU" })`,
    },
    longWindow,
  };
}

/** hrtimer_expire_exit and hrtimer_cancel: the timer only. */
function hrtimerOnly(kind: EventKind, name: string, id: number): KindSpec {
  return {
    kind,
    names: [`timer:${name}`],
    fields: [value("hrtimer", FieldType.Address, "f", "timerKey", ["void * hrtimer", 8, 8, false])],
    text: "hrtimer={hrtimer}",
    dat: { id, printFmt: `"hrtimer=%p", REC->hrtimer` },
    longWindow: LongWindow.Never,
  };
}

/** An event kept by its trace id only (the listing shows `other` and the id). */
const ID_ONLY: Omit<KindSpec, "kind" | "names"> = {
  listed: "other",
  fields: [value("id", FieldType.Int, "a", "id")],
  longWindow: LongWindow.Never,
};

/** x86_64 syscall number of clock_nanosleep, for __syscall_nr in written files (informative only). */
const NR_CLOCK_NANOSLEEP = 230;

/**
 * Every event kind, indexed by kind: its names, its fields, how the flight recorder keeps
 * each (column), how window listings, ftrace text and trace.dat print it, and which events
 * a long window keeps. The recorder's columns, the listings, the writers, the JSON import
 * and the name lookups are all derived from here. trace.dat layouts are those of the
 * modern 6.x kernels (FORMATS §2.3, checked on Linux 6.18); print formats use numbers where
 * the kernel's use unexpanded enum names (hrtimer mode), so that trace-cmd can evaluate
 * every one. To add a kind: a number in EventKind, a row here, and its decoders (trace.dat:
 * decode/event-catalog.ts; text: sources/ftrace-text/).
 */
export const EVENT_TABLE: readonly KindSpec[] = [
  { kind: EventKind.Other, names: [], ...ID_ONLY },
  {
    kind: EventKind.SchedSwitch,
    names: ["sched:sched_switch"],
    fields: [
      named("prev_comm", FieldType.Comm, "prev_pid", ["char prev_comm[16]", 8, 16, false]),
      value("prev_pid", FieldType.Pid, "a", "prevTid", ["pid_t prev_pid", 24, 4, true]),
      value("prev_prio", FieldType.Int, "b", "prevPrio", ["int prev_prio", 28, 4, true]),
      value("prev_state", FieldType.State, "c", "prevState", ["long prev_state", 32, 8, true]),
      named("next_comm", FieldType.Comm, "next_pid", ["char next_comm[16]", 40, 16, false]),
      value("next_pid", FieldType.Pid, "d", "nextTid", ["pid_t next_pid", 56, 4, true]),
      value("next_prio", FieldType.Int, "e", "nextPrio", ["int next_prio", 60, 4, true]),
    ],
    text: "prev_comm={prev_comm} prev_pid={prev_pid} prev_prio={prev_prio} prev_state={prev_state} ==> next_comm={next_comm} next_pid={next_pid} next_prio={next_prio}",
    dat: {
      id: 316,
      printFmt: `"prev_comm=%s prev_pid=%d prev_prio=%d prev_state=%s%s ==> next_comm=%s next_pid=%d next_prio=%d", REC->prev_comm, REC->prev_pid, REC->prev_prio, (REC->prev_state & 0xff) ? __print_flags(REC->prev_state & 0xff, "|", { 0x01, "S" }, { 0x02, "D" }, { 0x04, "T" }, { 0x08, "t" }, { 0x10, "X" }, { 0x20, "Z" }, { 0x40, "P" }, { 0x80, "I" }) : "R", REC->prev_state & 0x100 ? "+" : "", REC->next_comm, REC->next_pid, REC->next_prio`,
    },
    longWindow: LongWindow.TaskOrCpu,
  },
  wakeup(EventKind.SchedWakeup, "sched_wakeup", 318),
  wakeup(EventKind.SchedWaking, "sched_waking", 319),
  wakeup(EventKind.SchedWakeupNew, "sched_wakeup_new", 317),
  {
    kind: EventKind.SchedMigrateTask,
    names: ["sched:sched_migrate_task"],
    fields: [
      named("comm", FieldType.Comm, "pid", ["__data_loc char[] comm", 8, 4, false]),
      value("pid", FieldType.Pid, "a", "tid", ["pid_t pid", 12, 4, true]),
      value("prio", FieldType.Int, "b", "prio", ["int prio", 16, 4, true]),
      value("orig_cpu", FieldType.Int, "d", "origCpu", ["int orig_cpu", 20, 4, true]),
      value("dest_cpu", FieldType.Int, "c", "targetCpu", ["int dest_cpu", 24, 4, true]),
    ],
    text: "comm={comm} pid={pid} prio={prio} orig_cpu={orig_cpu} dest_cpu={dest_cpu}",
    dat: {
      id: 320,
      printFmt: `"comm=%s pid=%d prio=%d orig_cpu=%d dest_cpu=%d", __get_str(comm), REC->pid, REC->prio, REC->orig_cpu, REC->dest_cpu`,
    },
    longWindow: LongWindow.Task,
  },
  {
    kind: EventKind.SchedProcessFork,
    names: ["sched:sched_process_fork"],
    fields: [
      named("parent_comm", FieldType.Comm, "parent_pid", ["__data_loc char[] parent_comm", 8, 4, false]),
      value("parent_pid", FieldType.Pid, "d", "parentTid", ["pid_t parent_pid", 12, 4, true]),
      named("child_comm", FieldType.Comm, "child_pid", ["__data_loc char[] child_comm", 16, 4, false]),
      value("child_pid", FieldType.Pid, "a", "tid", ["pid_t child_pid", 20, 4, true]),
    ],
    text: "comm={parent_comm} pid={parent_pid} child_comm={child_comm} child_pid={child_pid}",
    dat: {
      id: 321,
      printFmt: `"comm=%s pid=%d child_comm=%s child_pid=%d", __get_str(parent_comm), REC->parent_pid, __get_str(child_comm), REC->child_pid`,
    },
    longWindow: LongWindow.Never,
  },
  {
    kind: EventKind.SchedProcessExec,
    names: ["sched:sched_process_exec"],
    fields: [
      // the recorder keeps no file names: files get the thread's name, listings leave it out
      {
        ...named("filename", FieldType.Comm, "pid", ["__data_loc char[] filename", 8, 4, false]),
        unlisted: true,
      },
      value("pid", FieldType.Pid, "a", "tid", ["pid_t pid", 12, 4, true]),
      value("old_pid", FieldType.Int, "d", "parentTid", ["pid_t old_pid", 16, 4, true]),
    ],
    text: "filename={filename} pid={pid} old_pid={old_pid}",
    dat: {
      id: 322,
      printFmt: `"filename=%s pid=%d old_pid=%d", __get_str(filename), REC->pid, REC->old_pid`,
    },
    longWindow: LongWindow.Never,
  },
  {
    kind: EventKind.SchedProcessExit,
    names: ["sched:sched_process_exit"],
    fields: [
      named("comm", FieldType.Comm, "pid", ["char comm[16]", 8, 16, false]),
      value("pid", FieldType.Pid, "a", "tid", ["pid_t pid", 24, 4, true]),
      value("prio", FieldType.Int, "b", "prio", ["int prio", 28, 4, true]),
      {
        name: "group_dead",
        type: FieldType.Const,
        value: 0,
        dat: ["bool group_dead", 32, 1, false],
        unlisted: true,
      },
    ],
    text: "comm={comm} pid={pid} prio={prio}",
    dat: {
      id: 323,
      printFmt: `"comm=%s pid=%d prio=%d group_dead=%s", REC->comm, REC->pid, REC->prio, REC->group_dead ? "true" : "false"`,
    },
    longWindow: LongWindow.Never,
  },
  {
    kind: EventKind.IrqHandlerEntry,
    names: ["irq:irq_handler_entry"],
    fields: [
      value("irq", FieldType.Irq, "a", "irq", ["int irq", 8, 4, true]),
      named("name", FieldType.IrqName, "irq", ["__data_loc char[] name", 12, 4, false]),
    ],
    text: "irq={irq} name={name}",
    dat: { id: 225, printFmt: `"irq=%d name=%s", REC->irq, __get_str(name)` },
    longWindow: LongWindow.OnCpu,
  },
  {
    kind: EventKind.IrqHandlerExit,
    names: ["irq:irq_handler_exit"],
    fields: [
      value("irq", FieldType.Irq, "a", "irq", ["int irq", 8, 4, true]),
      value("ret", FieldType.IrqRet, "b", "irqRet", ["int ret", 12, 4, true]),
    ],
    text: "irq={irq} ret={ret}",
    dat: { id: 224, printFmt: `"irq=%d ret=%s", REC->irq, REC->ret ? "handled" : "unhandled"` },
    longWindow: LongWindow.OnCpu,
  },
  softirq(EventKind.SoftirqEntry, "softirq_entry", 223, LongWindow.OnCpu),
  softirq(EventKind.SoftirqExit, "softirq_exit", 222, LongWindow.OnCpu),
  softirq(EventKind.SoftirqRaise, "softirq_raise", 221, LongWindow.Never),
  {
    kind: EventKind.HrtimerStart,
    names: ["timer:hrtimer_start"],
    fields: [
      value("hrtimer", FieldType.Address, "f", "timerKey", ["void * hrtimer", 8, 8, false]),
      value("function", FieldType.Symbol, "g", "timerFn", ["void * function", 16, 8, false]),
      value("expires", FieldType.Time, "h", "expires", ["s64 expires", 24, 8, true]),
      value("softexpires", FieldType.Time, "k", "softExpires", ["s64 softexpires", 32, 8, true]),
      // was_armed (6.x) is left out: the event record does not carry it (older kernels end here too)
      value("mode", FieldType.HrtimerMode, "a", "timerMode", ["enum hrtimer_mode mode", 40, 4, false]),
    ],
    text: "hrtimer={hrtimer} function={function} expires={expires} softexpires={softexpires} mode={mode}",
    dat: {
      id: 460,
      printFmt: `"hrtimer=%p function=%ps expires=%llu softexpires=%llu mode=%s", REC->hrtimer, REC->function, (unsigned long long) REC->expires, (unsigned long long) REC->softexpires, __print_symbolic(REC->mode, { 0, "ABS" }, { 1, "REL" }, { 2, "ABS|PINNED" }, { 3, "REL|PINNED" }, { 4, "ABS|SOFT" }, { 5, "REL|SOFT" }, { 6, "ABS|PINNED|SOFT" }, { 7, "REL|PINNED|SOFT" }, { 8, "ABS|HARD" }, { 9, "REL|HARD" }, { 10, "ABS|PINNED|HARD" }, { 11, "REL|PINNED|HARD" })`,
    },
    longWindow: LongWindow.Never,
  },
  {
    kind: EventKind.HrtimerExpireEntry,
    names: ["timer:hrtimer_expire_entry"],
    fields: [
      value("hrtimer", FieldType.Address, "f", "timerKey", ["void * hrtimer", 8, 8, false]),
      value("now", FieldType.Time, "h", "now", ["s64 now", 16, 8, true]),
      value("function", FieldType.Symbol, "g", "timerFn", ["void * function", 24, 8, false]),
    ],
    text: "hrtimer={hrtimer} function={function} now={now}",
    dat: {
      id: 459,
      printFmt: `"hrtimer=%p function=%ps now=%llu", REC->hrtimer, REC->function, (unsigned long long) REC->now`,
    },
    longWindow: LongWindow.Never,
  },
  hrtimerOnly(EventKind.HrtimerExpireExit, "hrtimer_expire_exit", 458),
  hrtimerOnly(EventKind.HrtimerCancel, "hrtimer_cancel", 457),
  {
    kind: EventKind.SysEnterSleep,
    names: ["syscalls:sys_enter_clock_nanosleep", "syscalls:sys_enter_nanosleep"],
    fields: [
      {
        name: "__syscall_nr",
        type: FieldType.Const,
        value: NR_CLOCK_NANOSLEEP,
        dat: ["int __syscall_nr", 8, 4, true],
        unlisted: true,
      },
      value("which_clock", FieldType.ClockId, "a", "sleepClock", [
        "const clockid_t which_clock",
        16,
        8,
        false,
      ]),
      value("flags", FieldType.Flags, "b", "sleepFlags", ["int flags", 24, 8, false]),
      // rqtp/rmtp (user pointers) are not recorded, so not written
    ],
    text: "which_clock: {which_clock}, flags: {flags}",
    dat: {
      id: 700,
      printFmt: `"which_clock: 0x%08lx, flags: 0x%08lx", ((unsigned long)(REC->which_clock)), ((unsigned long)(REC->flags))`,
    },
    longWindow: LongWindow.CurrentTask,
  },
  {
    kind: EventKind.SysExitSleep,
    names: ["syscalls:sys_exit_clock_nanosleep", "syscalls:sys_exit_nanosleep"],
    fields: [
      {
        name: "__syscall_nr",
        type: FieldType.Const,
        value: NR_CLOCK_NANOSLEEP,
        dat: ["int __syscall_nr", 8, 4, true],
        unlisted: true,
      },
      value("ret", FieldType.SysRet, "a", "sysRet", ["long ret", 16, 8, true]),
    ],
    text: "{ret}",
    dat: { id: 701, printFmt: `"0x%lx", REC->ret` },
    longWindow: LongWindow.CurrentTask,
  },
  {
    kind: EventKind.LostEvents,
    names: [],
    listed: "lost_events",
    // written as the trace.dat sub-buffer's missed-events flag and as a text header line
    fields: [value("count", FieldType.Int, "a", "lostCount")],
    longWindow: LongWindow.Always,
  },
  // its fields (pid, comm, clone_flags) feed thread groups; windows keep only its id so far
  { kind: EventKind.TaskNewtask, names: ["task:task_newtask"], ...ID_ONLY },
];

/** The column whose value a field prints: its own, or for a name field that of the field it names. */
export function columnOfField(spec: KindSpec, f: FieldSpec): Column | undefined {
  if (f.col !== undefined || f.of === undefined) return f.col;
  return spec.fields.find((x) => x.name === f.of)?.col;
}

/** Number of kinds (for tables indexed by kind). */
export const EVENT_KIND_COUNT = EVENT_TABLE.length;

/** "system:event" name → kind, for sources that see event names (format files, text). */
export const EVENT_KIND_BY_NAME: ReadonlyMap<string, EventKind> = new Map(
  EVENT_TABLE.flatMap((k) => k.names.map((n) => [n, k.kind] as const)),
);

/** Kind → its name in window listings ("sched_switch", "other"). */
export const LISTED_NAMES: readonly string[] = EVENT_TABLE.map(
  (k) => k.listed ?? k.names[0].slice(k.names[0].indexOf(":") + 1),
);

/** Kind → the event name files are written with ("sched_switch"; "" for kinds no file carries). */
export const WRITTEN_NAMES: readonly string[] = EVENT_TABLE.map((k) =>
  k.names.length ? k.names[0].slice(k.names[0].indexOf(":") + 1) : "",
);

/** Softirq vector names, index = vector number (include/linux/interrupt.h). */
export const SOFTIRQ_NAMES = [
  "HI",
  "TIMER",
  "NET_TX",
  "NET_RX",
  "BLOCK",
  "IRQ_POLL",
  "TASKLET",
  "SCHED",
  "HRTIMER",
  "RCU",
];

/**
 * Task state bits in the modern (>= 4.14) encoding, which every source normalises to:
 * 0 = runnable (R, preempted). Sources that read older kernels translate their bits.
 */
export const TaskState = {
  Running: 0,
  Interruptible: 0x1, // S
  Uninterruptible: 0x2, // D
  Stopped: 0x4, // T
  Traced: 0x8, // t
  Dead: 0x10, // X
  Zombie: 0x20, // Z
  Parked: 0x40, // P
  Idle: 0x80, // I
} as const;

const STATE_LETTERS: [number, string][] = [
  [0x1, "S"],
  [0x2, "D"],
  [0x4, "T"],
  [0x8, "t"],
  [0x10, "X"],
  [0x20, "Z"],
  [0x40, "P"],
  [0x80, "I"],
];

/** Normalised state → kernel letters ("R", "S", "D|K"...). */
export function taskStateLetters(state: number): string {
  if (state === 0) return "R";
  const out: string[] = [];
  for (const [bit, l] of STATE_LETTERS) if (state & bit) out.push(l);
  return out.join("|") || "?";
}

/** Kernel letters (as printed in text traces, "S", "R+", "D|W") → normalised state; -1 if unknown. */
export function taskStateFromLetters(text: string): number {
  let s = 0;
  for (const part of text.replace(/\+$/, "").split("|")) {
    if (part === "R" || part === "") continue;
    const hit = STATE_LETTERS.find(([, l]) => l === part);
    if (hit) s |= hit[0];
    else if (part === "K" || part === "W" || part === "x" || part === "N") s |= 0x2;
    else return -1;
  }
  return s;
}
