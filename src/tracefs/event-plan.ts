// Which events a live capture enables, and with which in-kernel filters (SPEC §3 "events
// enabled per selection with in-kernel filters where they cut volume"). The rule for
// filters: only where the analysis provably never needs the filtered-out records.
// - sched_switch, irq and softirq events stay unfiltered: cause analysis needs every
//   switch and handler on the CPU where a tracked task waits, whoever runs there.
// - hrtimer_start / hrtimer_expire_entry are filtered to timers whose callback is
//   hrtimer_wakeup (task sleeps): only those make a timer sleep or a timer metric.
// - wakeups and syscall events are filtered by pid only when the selection is a fixed
//   list of threads (--pid); any selection that can grow at run time (--tgid, --comm,
//   --rt, --irq-threads, a launched command) needs them for every task.

import type { Selection } from "../model/selection.ts";

export interface PlannedEvent {
  system: string;
  event: string;
  /** in-kernel filter expression, "" = none */
  filter: string;
  /** false: the capture still works without it (older kernels, no syscall tracepoints) */
  required: boolean;
  why: string;
}

export interface EventPlanOptions {
  selection: Selection;
  wakeupEvent: "wakeup" | "waking";
  /** enable clock_nanosleep/nanosleep syscall events (timer metric to user space) */
  syscalls: boolean;
  /** kernel address of hrtimer_wakeup as hex "0x...", or "" when unknown */
  hrtimerWakeupAddr: string;
  /** softirq_raise too: who raised each softirq (admit's attribution; several per tick and CPU) */
  softirqRaise?: boolean;
}

function fixedTids(s: Selection): number[] | null {
  const growing =
    s.tgids.length > 0 || s.comms.length > 0 || s.rt || s.irqThreads || s.descendantsOf.length > 0;
  if (growing || s.tids.length === 0 || s.tids.length > 32) return null;
  return s.tids;
}

export function planEvents(o: EventPlanOptions): PlannedEvent[] {
  const tids = fixedTids(o.selection);
  const pidFilter = (field: string) => (tids ? tids.map((t) => `${field} == ${t}`).join(" || ") : "");
  const fnFilter = o.hrtimerWakeupAddr ? `function == ${o.hrtimerWakeupAddr}` : "";
  const plan: PlannedEvent[] = [
    {
      system: "sched",
      event: "sched_switch",
      filter: "",
      required: true,
      why: "switch-in/out of every task",
    },
    {
      system: "sched",
      event: "sched_wakeup",
      filter: pidFilter("pid"),
      required: o.wakeupEvent === "wakeup",
      why: "activation start",
    },
    {
      system: "sched",
      event: "sched_wakeup_new",
      filter: pidFilter("pid"),
      required: false,
      why: "new tasks' first wakeup",
    },
    { system: "sched", event: "sched_migrate_task", filter: "", required: false, why: "migrations" },
    {
      system: "sched",
      event: "sched_process_fork",
      filter: "",
      required: false,
      why: "threads and children created later",
    },
    {
      system: "sched",
      event: "sched_process_exec",
      filter: "",
      required: false,
      why: "renames by exec (--comm)",
    },
    { system: "sched", event: "sched_process_exit", filter: "", required: false, why: "task exit" },
    {
      system: "irq",
      event: "irq_handler_entry",
      filter: "",
      required: false,
      why: "IRQ metric, IRQ interference",
    },
    {
      system: "irq",
      event: "irq_handler_exit",
      filter: "",
      required: false,
      why: "IRQ metric, IRQ interference",
    },
    { system: "irq", event: "softirq_entry", filter: "", required: false, why: "softirq interference" },
    { system: "irq", event: "softirq_exit", filter: "", required: false, why: "softirq interference" },
    {
      system: "timer",
      event: "hrtimer_start",
      filter: fnFilter,
      required: false,
      why: "timer sleeps, timer expiry",
    },
    {
      system: "timer",
      event: "hrtimer_expire_entry",
      filter: fnFilter,
      required: false,
      why: "timer IRQ latency",
    },
    { system: "timer", event: "hrtimer_cancel", filter: "", required: false, why: "cancelled timer sleeps" },
  ];
  if (o.wakeupEvent === "waking") {
    plan.splice(2, 0, {
      system: "sched",
      event: "sched_waking",
      filter: pidFilter("pid"),
      required: true,
      why: "activation start (--wakeup-event waking)",
    });
  }
  if (o.softirqRaise)
    plan.push({
      system: "irq",
      event: "softirq_raise",
      filter: "",
      required: false,
      why: "softirqs raised on a task's behalf (admit)",
    });
  if (o.syscalls) {
    for (const ev of [
      "sys_enter_clock_nanosleep",
      "sys_exit_clock_nanosleep",
      "sys_enter_nanosleep",
      "sys_exit_nanosleep",
    ]) {
      plan.push({
        system: "syscalls",
        event: ev,
        filter: pidFilter("common_pid"),
        required: false,
        why: "timer latency to user space",
      });
    }
  }
  return plan;
}
