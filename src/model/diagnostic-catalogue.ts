// Every data problem rtscope can report, in one place (Perfetto's stats.h is the model): a
// stable key, a severity, what it means and what the user can do about it. A source or
// analyzer adds an occurrence by key with the detail it knows (a count, a CPU, an offset);
// outputs print the meaning and the remedy from here. Adding a diagnostic = one entry below.
//
// Severities: `info` is expected on some systems and changes no number; `warning` means
// some figures may be missing or weaker; `data-loss` means events were not seen, so a figure
// may be missing for a span of time; `error` means a result could not be produced.

export type Severity = "info" | "warning" | "data-loss" | "error";

export interface DiagnosticSpec {
  severity: Severity;
  /** what happened, in general terms (the occurrence's detail says where and how much) */
  meaning: string;
  /** what the user can do; "" when nothing needs doing */
  remedy: string;
}

const RECORD_MORE = "record with that event enabled (rtscope record enables it)";
const BIGGER_BUFFER =
  "enlarge the per-CPU trace buffer (trace-cmd record -b, rtscope record --buffer-size KB) or trace fewer events";

export const DIAGNOSTICS = {
  // --- sources: the file or the live capture ---
  lost_events: {
    severity: "data-loss",
    meaning:
      "the kernel dropped events (ring buffer full or overwritten); activations spanning the loss were not measured",
    remedy: BIGGER_BUFFER,
  },
  buffer_overflow: {
    severity: "data-loss",
    meaning: "the ring buffer was overwritten before it was read, so the start of the trace is missing",
    remedy: "use a larger buffer_size_kb, or read trace_pipe / trace_pipe_raw while tracing",
  },
  trace_file_warning: {
    severity: "info",
    meaning: "the trace file has an oddity that rtscope worked around",
    remedy: "",
  },
  bad_format: {
    severity: "warning",
    meaning: "an event format in the trace could not be parsed; its events are kept as generic events",
    remedy: "if the event matters to a metric, report the format text to the rtscope developers",
  },
  unknown_event: {
    severity: "warning",
    meaning: "records with an event id that has no format in the trace were kept as generic events",
    remedy: "the file may be damaged, or written by a tool that omits formats; re-record with trace-cmd",
  },
  unparsed_lines: {
    severity: "warning",
    meaning: "lines that are neither ftrace events nor headers were skipped",
    remedy: "check that the file is ftrace text (tracefs trace, trace-cmd report) and not edited",
  },
  unparsed_payload: {
    severity: "warning",
    meaning: "events of a known kind had a payload that could not be read and were passed on as other events",
    remedy: "report the line to the rtscope developers; trace-cmd report -R (raw fields) is always readable",
  },
  events_out_of_order: {
    severity: "warning",
    meaning: "events have a timestamp earlier than an event before them; they were passed on in file order",
    remedy: "use a trace clock that is monotonic across CPUs (mono, global)",
  },
  live_out_of_order: {
    severity: "warning",
    meaning:
      "live events arrived after the merge had already passed their time (a CPU's data came late); they were passed on late",
    remedy: "usually a stalled reader: see lost_events and the reader's priority",
  },
  prev_state_table: {
    severity: "info",
    meaning:
      "a numeric prev_state only the pre-4.14 kernel table allows appeared late in the file; earlier numeric states were read with the new table (running vs sleeping is the same in both)",
    remedy: "",
  },
  unknown_prev_state: {
    severity: "warning",
    meaning:
      "sched_switch prev_state values had letters not understood; they were taken as a blocking sleep (D)",
    remedy: "report the prev_state text to the rtscope developers",
  },
  live_event_missing: {
    severity: "warning",
    meaning: "an event rtscope wanted is not available on this kernel; what it measures will be missing",
    remedy:
      "enable the kernel's tracepoints for it (CONFIG_FTRACE_SYSCALLS for syscalls), see rtscope doctor",
  },
  live_filter_refused: {
    severity: "info",
    meaning:
      "the kernel refused an in-kernel event filter; the event is traced unfiltered (more events to read)",
    remedy: "",
  },

  // --- what the trace lacks ---
  no_wakeup_events: {
    severity: "warning",
    meaning:
      "the trace has no wakeup events, so no activation starts: no latency, response, relief or timer can be measured",
    remedy: RECORD_MORE,
  },
  no_switch_events: {
    severity: "warning",
    meaning:
      "the trace has no sched:sched_switch events: switch-ins are only inferred and response/relief cannot be measured",
    remedy: RECORD_MORE,
  },
  no_timer_events: {
    severity: "info",
    meaning:
      "the trace has no timer:hrtimer_* or clock_nanosleep/nanosleep syscall events, so timer sleeps cannot be recognised: no relief or timer metric",
    remedy: "record timer:hrtimer_start, hrtimer_expire_entry/exit and syscalls:sys_*_clock_nanosleep",
  },

  // --- analysis ---
  missed_switch: {
    severity: "info",
    meaning:
      "the CPU's running task changed without a recorded sched_switch (some kernels never record switches out of idle); the analysis follows common_pid",
    remedy: "",
  },
  inferred_switch_in: {
    severity: "info",
    meaning:
      "switch-ins not recorded: the latency was closed at the thread's first event on the CPU (an upper bound, flagged `inferred`)",
    remedy: "",
  },
  activation_cut_by_loss: {
    severity: "data-loss",
    meaning: "activations open when events were lost were not measured (counted in `incomplete`)",
    remedy: BIGGER_BUFFER,
  },
  activation_before_all_cpus: {
    severity: "info",
    meaning:
      "activations that started before every CPU had trace data were not measured (counted in `incomplete`)",
    remedy: "",
  },
  activation_cut_cpu_without_data: {
    severity: "warning",
    meaning:
      "activations involving a CPU whose trace data had not begun were not measured (counted in `incomplete`)",
    remedy: "a CPU's buffer was overwritten early: enlarge the buffer or record for a shorter time",
  },
  activation_cut_missed_switch: {
    severity: "warning",
    meaning: "activations whose switch-out was not recorded were not measured (counted in `incomplete`)",
    remedy: "",
  },
  timer_end_missing: {
    severity: "warning",
    meaning:
      "timer wakeups whose return from clock_nanosleep/nanosleep was not recorded gave no timer sample",
    remedy: "record syscalls:sys_exit_clock_nanosleep with the other syscall events, or none of them",
  },
  cpu_no_data: {
    severity: "info",
    meaning: "the CPU had no events in the first second of the trace; it was taken to have no data",
    remedy: "",
  },
  cpu_data_late: {
    severity: "warning",
    meaning:
      "the CPU's trace data began after the others'; activations open at that moment were not measured",
    remedy: "a CPU's buffer was overwritten early: enlarge the buffer or record for a shorter time",
  },
  irq_exit_unmatched: {
    severity: "info",
    meaning:
      "irq_handler_exit without its entry on that CPU (the trace began inside a handler, or events were lost)",
    remedy: "",
  },
  retired_tasks_dropped: {
    severity: "info",
    meaning:
      "rows of exited tracked threads whose ids were reused were dropped to keep memory bounded (oldest first)",
    remedy: "select fewer threads (--comm, --tgid) if those rows matter",
  },
  sample_clamped: {
    severity: "warning",
    meaning:
      "samples outside the histogram range (0..10 s) were clamped for percentiles; min/max/mean are exact",
    remedy: "",
  },
} as const satisfies Record<string, DiagnosticSpec>;

export type DiagnosticKey = keyof typeof DIAGNOSTICS;

export function diagnosticSpec(key: DiagnosticKey): DiagnosticSpec {
  return DIAGNOSTICS[key];
}
