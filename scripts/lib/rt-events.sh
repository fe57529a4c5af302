# Sourced by the scripts/record-*.sh fixture recorders (bash): the tracepoints rtscope reads,
# as "system/event" words for instances/<name>/events/<word>/enable.

RT_SCHED_EVENTS="sched/sched_switch sched/sched_wakeup sched/sched_waking sched/sched_wakeup_new
  sched/sched_migrate_task sched/sched_process_fork sched/sched_process_exec sched/sched_process_exit"
RT_EVENTS="$RT_SCHED_EVENTS
  irq/irq_handler_entry irq/irq_handler_exit irq/softirq_entry irq/softirq_exit irq/softirq_raise
  timer/hrtimer_start timer/hrtimer_expire_entry timer/hrtimer_expire_exit timer/hrtimer_cancel
  syscalls/sys_enter_clock_nanosleep syscalls/sys_exit_clock_nanosleep
  syscalls/sys_enter_nanosleep syscalls/sys_exit_nanosleep"
