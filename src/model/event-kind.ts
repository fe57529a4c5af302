// The events the analysis understands, as small integers so that dispatch is a switch
// over numbers. Every other event in a trace is decoded as `Other` and never breaks a read.

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

/** Number of kinds (for tables indexed by kind). */
export const EVENT_KIND_COUNT = 22;

/** "system:event" name → kind, for sources that see event names (format files, text). */
export const EVENT_KIND_BY_NAME: ReadonlyMap<string, EventKind> = new Map<string, EventKind>([
  ["sched:sched_switch", EventKind.SchedSwitch],
  ["sched:sched_wakeup", EventKind.SchedWakeup],
  ["sched:sched_waking", EventKind.SchedWaking],
  ["sched:sched_wakeup_new", EventKind.SchedWakeupNew],
  ["sched:sched_migrate_task", EventKind.SchedMigrateTask],
  ["sched:sched_process_fork", EventKind.SchedProcessFork],
  ["sched:sched_process_exec", EventKind.SchedProcessExec],
  ["sched:sched_process_exit", EventKind.SchedProcessExit],
  ["irq:irq_handler_entry", EventKind.IrqHandlerEntry],
  ["irq:irq_handler_exit", EventKind.IrqHandlerExit],
  ["irq:softirq_entry", EventKind.SoftirqEntry],
  ["irq:softirq_exit", EventKind.SoftirqExit],
  ["irq:softirq_raise", EventKind.SoftirqRaise],
  ["timer:hrtimer_start", EventKind.HrtimerStart],
  ["timer:hrtimer_expire_entry", EventKind.HrtimerExpireEntry],
  ["timer:hrtimer_expire_exit", EventKind.HrtimerExpireExit],
  ["timer:hrtimer_cancel", EventKind.HrtimerCancel],
  ["syscalls:sys_enter_clock_nanosleep", EventKind.SysEnterSleep],
  ["syscalls:sys_enter_nanosleep", EventKind.SysEnterSleep],
  ["syscalls:sys_exit_clock_nanosleep", EventKind.SysExitSleep],
  ["syscalls:sys_exit_nanosleep", EventKind.SysExitSleep],
  ["task:task_newtask", EventKind.TaskNewtask],
]);

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
