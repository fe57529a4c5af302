// Every data problem rtscope can report, in one place (Perfetto's stats.h is the model): a
// stable key, a severity, what it means and what the user can do about it. A source or
// analyzer adds an occurrence by key with the detail it knows (a count, a CPU, an offset);
// outputs print the meaning and the remedy from here. Adding a diagnostic = one entry below.
//
// Severities: `info` is expected on some systems and changes no number; `warning` means
// some figures may be missing or weaker; `data-loss` means events were not seen, so a figure
// may be missing for a span of time; `error` means a result could not be produced.

import { PID_LIMIT } from "./id-limits.ts";

export type Severity = "info" | "warning" | "data-loss" | "error";

export interface DiagnosticSpec {
  severity: Severity;
  /** what happened, in general terms (the occurrence's detail says where and how much) */
  meaning: string;
  /** what the user can do; "" when nothing needs doing */
  remedy: string;
}

const CORRUPT_REMEDY =
  "re-record, or repair the file at the offsets given; --strict makes corrupt data an error instead";
const RECORD_MORE = "record with that event enabled (rtscope record enables it)";
const RECORD_GROUPS =
  "record the thread groups: enable task:task_newtask (its clone flags tell a thread from a process: trace-cmd record -e task:task_newtask ...), or ftrace's record-tgid option for a text trace (echo 1 > options/record-tgid, then read `trace`: it shows a TGID column), or record with rtscope (live, it reads /proc; the trace.dat files it writes keep the groups)";
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
  corrupt_subbuffer: {
    severity: "data-loss",
    meaning:
      "sub-buffers (or v7 chunks) of the trace could not be decoded and were skipped; each counts as lost events of unknown number, so activations across them were cut, never measured",
    remedy: CORRUPT_REMEDY,
  },
  tid_out_of_range: {
    severity: "data-loss",
    meaning: `events carry a thread id outside the kernel's range (0 to ${PID_LIMIT - 1}, pid_max's limit): the trace is corrupt there; each was dropped and counted as a lost event, so activations across it were cut`,
    remedy: CORRUPT_REMEDY,
  },
  cpu_out_of_range: {
    severity: "data-loss",
    meaning:
      "events name a CPU the trace does not have (or beyond the kernel's limit of 8192): the trace is corrupt there; each was dropped and counted as a lost event, so activations across it were cut",
    remedy: CORRUPT_REMEDY,
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
  cpu_events_out_of_order: {
    severity: "warning",
    meaning:
      "events of one CPU have a timestamp earlier than that CPU's previous event (a CPU's buffer is written in time order, so its clock went back or the timestamps are damaged); they were passed on in the CPU's order, after later events of other CPUs, and times measured across them may be wrong",
    remedy:
      "check the events at the offsets given (trace-cmd report shows their timestamps); do not change the trace clock while recording, and re-record if the file was damaged",
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
  live_capture_gap: {
    severity: "data-loss",
    meaning:
      "the live capture's instance was changed from outside (tracing switched off, events disabled, the instance removed): nothing, or not everything, was recorded for a stretch of time; activations open across it were cut",
    remedy:
      "leave instances/rtscope-<pid> alone while rtscope runs (another tool or script wrote to it); the details give each stretch not covered",
  },
  live_buffer_resized: {
    severity: "data-loss",
    meaning:
      "the live capture's per-CPU buffer was resized from outside; events buffered at that moment may be lost and activations open across it were cut",
    remedy: "leave instances/rtscope-<pid>/buffer_size_kb alone; use rtscope record --buffer-size KB",
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
  own_interference: {
    severity: "warning",
    meaning:
      "rtscope's own threads (its reader, V8 and libuv threads) are among the causes of worst cases: the capture delayed the threads it measured (marked `rtscope` in the windows)",
    remedy:
      "pin rtscope to housekeeping CPUs away from the measured threads (--cpu); under preempt=none or voluntary a reader's syscall blocks even RT threads (boot with preempt=full or use PREEMPT_RT); --priority normal stops the reader taking the CPU from normal threads (it may then be starved and lose events)",
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
  activation_cut_cpu_without_data: {
    severity: "warning",
    meaning:
      "activations involving a CPU (woken onto, run on, migrated to, or the CPU of the IRQ that woke an IRQ thread) whose trace data had not begun at their start were not measured (counted in `incomplete`, per task in `counters.cut.cpuWithoutData`); a CPU's data begins at its first event unless the source says otherwise",
    remedy: "a CPU's buffer was overwritten early: enlarge the buffer or record for a shorter time",
  },
  activation_cut_missed_run: {
    severity: "warning",
    meaning:
      "activations woken a second time before any switch-in was seen (the thread ran and slept unseen: events missing) were not measured (counted in `incomplete`)",
    remedy: "",
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
  timer_clock_estimated: {
    severity: "info",
    meaning:
      "timer expiries are not on the trace clock (another trace clock, a clock the file does not state, or REALTIME/BOOTTIME/TAI timers): each was put on it by an offset estimated from hrtimer_expire_entry events (per CPU and clock base, the lowest timestamp − now over 1-2 s), so these timer samples may be low by up to the bound given (plus the timestamps' resolution)",
    remedy:
      "for exact timer latency record with the mono trace clock (rtscope record sets it; trace-cmd record -C mono) and CLOCK_MONOTONIC timers",
  },
  timer_clock_unavailable: {
    severity: "warning",
    meaning:
      "the trace clock counts events or cycles (counter, x86-tsc), not time: timer expiries cannot be compared with it, so there is no timer latency",
    remedy: "record with the mono trace clock (rtscope record sets it; trace-cmd record -C mono)",
  },
  tgid_unplaced: {
    severity: "warning",
    meaning:
      "tasks created by the selected process may be its threads, but the trace has no thread-group data for them (sched_process_fork alone cannot tell a thread from a process), so --tgid did not select them",
    remedy: `select them with --pid or --comm, or ${RECORD_GROUPS}`,
  },
  tgid_no_group_data: {
    severity: "info",
    meaning:
      "the trace carries no thread-group data (no task_newtask events, TGID column or saved groups): --tgid matches only the tasks exec placed, threads created before the trace began or without exec cannot be matched",
    remedy: RECORD_GROUPS,
  },
  cpu_no_data: {
    severity: "info",
    meaning:
      "the CPU has no events in the trace (idle, offline, or its buffer lost): activations woken onto or moved to it were not measured",
    remedy: "",
  },
  cpu_data_late: {
    severity: "info",
    meaning:
      "the CPU's trace data begins after the others' (idle until then, or its buffer overwritten): activations involving it before then were not measured; others are not affected",
    remedy: "",
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
  exited_tasks_dropped: {
    severity: "info",
    meaning:
      "rows of the oldest exited tracked threads were dropped to keep memory bounded (the capture tracked more short-lived threads than it keeps: 4096 by default)",
    remedy: "select fewer threads (--comm, --tgid, --rt) if those rows matter",
  },
  sample_clamped: {
    severity: "warning",
    meaning:
      "samples outside the histogram range (0..10 s) were clamped for percentiles; min/max/mean are exact",
    remedy: "",
  },
  nothing_measured: {
    severity: "error",
    meaning:
      "an SLO bound was set but its metric has no sample in the whole selection: nothing was measured against it (exit status 4)",
    remedy:
      "check the selection (--pid, --tgid, --comm, --rt) against the thread names the trace holds (the detail lists them; the kernel keeps 15 characters of a name), and that the workload ran while tracing",
  },
  window_dropped: {
    severity: "warning",
    meaning:
      "worst-case windows were dropped to stay under --window-memory (windows of violated bounds are kept first): the report cannot explain those worst cases",
    remedy: "raise --window-memory (default 64MiB)",
  },
  cause_analysis_failed: {
    severity: "error",
    meaning:
      "the cause analysis of a worst window failed (a bug in rtscope): that window is shown without its causes; every other figure of the report is unaffected",
    remedy:
      "report it to the rtscope developers with the detail and the window's events (rtscope export TRACE writes them); the rest of the report stands",
  },
  window_render_failed: {
    severity: "warning",
    meaning:
      "a worst window's cause breakdown could not be rendered as text (a bug in rtscope): its brief cause list is printed instead; every figure of the report is unaffected",
    remedy: "report it to the rtscope developers with the detail; --format json gives the window in full",
  },
} as const satisfies Record<string, DiagnosticSpec>;

export type DiagnosticKey = keyof typeof DIAGNOSTICS;

export function diagnosticSpec(key: DiagnosticKey): DiagnosticSpec {
  return DIAGNOSTICS[key];
}
