// The report: what the analysis produces and every sink (text, JSON, hist, junit, API,
// store) reads. Field names are the stable JSON schema of SPEC §2; all times are integer
// nanoseconds, timestamps absolute trace timestamps (number, or bigint past 2^53).

import type { DiagnosticEntry } from "./diagnostics.ts";
import type { SourceKind } from "./source.ts";

export const METRIC_KEYS = ["latency", "response", "relief", "timer", "irq"] as const;
export type MetricKey = (typeof METRIC_KEYS)[number];

export const METRIC_TITLES: Record<MetricKey, string> = {
  latency: "scheduling latency (wakeup → running)",
  response: "response time (wakeup → voluntary sleep)",
  relief: "relief time (timer wakeup → timer sleep)",
  timer: "timer latency (expiry → running)",
  irq: "IRQ handling delay (hard IRQ → thread done)",
};

export type Timestamp = number | bigint;

export type SloBounds = Partial<Record<MetricKey, number>>;

export interface SloResult {
  bound: number;
  violations: number;
  firstAt: Timestamp | null;
  worstAt: Timestamp | null;
}

/** One additive part of a metric (timer: irq + thread; irq: hardirq + wakeup + handling). */
export interface MetricPart {
  /** largest value of this part over all samples */
  max: number;
  /** this part's value in the sample that set the metric's max (the parts' `worst` sum to `max`) */
  worst?: number;
}

export interface MetricSummary {
  count: number;
  min: number;
  mean: number;
  max: number;
  maxAt: Timestamp;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  p9999: number;
  /** samples whose end was inferred (switch-in not recorded) */
  inferred: number;
  slo?: SloResult;
  /** timer only: split of the worst case and maxima of the parts */
  irq?: MetricPart;
  thread?: MetricPart;
  /** irq only: maxima of the parts */
  hardirq?: MetricPart;
  wakeup?: MetricPart;
  handling?: MetricPart;
}

export type CauseKind =
  | "irq"
  | "softirq"
  | "thread"
  | "blocking"
  | "idle-exit"
  | "migration"
  /** the fair (deadline) server ran a SCHED_OTHER task ahead of the RT task (Linux 6.12+; RT throttling before) */
  | "fair-server"
  /** the CPU's state is not known from the events (no event since before the window's margin, or one contradicting it) */
  | "unknown"
  | "other"
  /** the task's own run time (response, relief, irq handling) */
  | "running"
  /** a non-timer sleep inside a relief cycle */
  | "sleep";

export interface Cause {
  kind: CauseKind;
  name: string;
  tid?: number;
  prio?: number;
  cpu?: number;
  time: number;
  /** share of the metric value, 0..100 */
  percent?: number;
  /** IRQ line (kind irq) */
  irq?: number;
  /** softirq vector (kind softirq) */
  vec?: number;
  /** which part of the metric: timer "irq" | "thread"; irq "hardirq" | "wakeup" | "handling"; else "latency" | "running" */
  part?: string;
  /** kind unknown: the CPU's first event after the wakeup that tells its state again (absent: none until the end) */
  until?: Timestamp;
  /** live: the thread is one of rtscope's own (the capture's reader, V8 or libuv threads) */
  rtscope?: boolean;
}

/**
 * Who woke the task, where it was put, and where it moved before it ran (SPEC §1): the waker is
 * the context `sched_waking` was written in (the parent for `sched_wakeup_new`; the context of
 * `sched_wakeup` when no `sched_waking` was recorded, which for a remote wakeup is whatever ran
 * on the target CPU); the placement is `target_cpu` of the wakeup.
 */
export interface WakeInfo {
  /** the event that names the waker: "sched_waking", "sched_wakeup_new" or "sched_wakeup" */
  event: string;
  tid: number;
  comm: string;
  /** the waker ran in this IRQ, softirq or hrtimer callback ("" in task context) */
  context?: string;
  /** CPU the task was queued on at its wakeup (target_cpu) */
  ontoCpu: number;
  /** CPU it was on before, when the wakeup placed it elsewhere (sched_migrate_task before sched_wakeup) */
  placedFrom?: number;
}

/** A move of a waiting task after its wakeup placed it (RT push/pull, load balancing). */
export interface MigrationInfo {
  ts: Timestamp;
  from: number;
  to: number;
  /** the CPU whose context wrote sched_migrate_task (the destination, for a pull) */
  by: number;
}

/** A switch-out of the task while runnable, inside the activation (response, relief, irq). */
export interface PreemptionInfo {
  ts: Timestamp;
  cpu: number;
  /** who took the CPU */
  tid: number;
  comm: string;
  prio: number;
  /** ns until the task ran again */
  time: number;
  /** live: the thread that took the CPU is one of rtscope's own */
  rtscope?: boolean;
}

/** One event of a worst window, times absolute; `rel` is ns relative to the wakeup. */
export interface WindowEvent {
  ts: Timestamp;
  rel: number;
  cpu: number;
  /** "sched_switch", ... */
  event: string;
  currentTid: number;
  /** event-specific fields, readable */
  fields: Record<string, string | number>;
}

/**
 * One window event in readable form, filled in place (no allocation per event but the
 * strings): what a WindowEvent holds, with the fields as parallel key/value arrays.
 */
export class WindowEventRow {
  ts: Timestamp = 0;
  /** ns relative to the wakeup (NaN when the wakeup is unknown) */
  rel = 0;
  cpu = 0;
  event = "";
  currentTid = 0;
  readonly keys: string[] = [];
  readonly values: (string | number)[] = [];
  /** fields in use */
  n = 0;

  field(k: string, v: string | number): void {
    this.keys[this.n] = k;
    this.values[this.n++] = v;
  }

  /** The row as a WindowEvent. */
  toEvent(): WindowEvent {
    const fields: Record<string, string | number> = {};
    for (let k = 0; k < this.n; k++) fields[this.keys[k]] = this.values[k];
    return {
      ts: this.ts,
      rel: this.rel,
      cpu: this.cpu,
      event: this.event,
      currentTid: this.currentTid,
      fields,
    };
  }
}

/**
 * A window's events without the list being built: `count`, and `fill(i, row)` with event
 * i. The analysis keeps it on a WorstWindow under WINDOW_EVENT_ROWS (not enumerable, so
 * not part of the JSON value) until the window's `events` list is first read, for writers
 * that encode events one by one: 120 k events on the bench trace.
 */
export interface WindowEventRows {
  readonly count: number;
  fill(i: number, row: WindowEventRow): WindowEventRow;
}
export const WINDOW_EVENT_ROWS: unique symbol = Symbol("rtscope.windowEventRows");

export interface WorstWindow {
  start: Timestamp;
  end: Timestamp;
  value: number;
  /** CPU the task ran on */
  cpu: number;
  /** the waker's CPU (where sched_waking was written; else the wakeup event's CPU) */
  wakeCpu: number;
  /** CPU the task was woken onto (target_cpu), when the wakeup is in the window */
  ontoCpu?: number;
  /** who woke it (absent when the wakeup is not in the window) */
  waker?: WakeInfo;
  /** moves after the wakeup, before the task ran */
  migrations?: MigrationInfo[];
  /** window cut: by lost events, or (`forgotten`) by the flight recorder's memory */
  incomplete?: boolean;
  /**
   * the flight recorder no longer held the window's start (a live run or a text trace keeps
   * about 2 s and at most 16 MiB of events per CPU): older events are missing, none was lost
   */
  forgotten?: boolean;
  /** events of a long window left out to bound its size (the listing has the rest) */
  truncated?: number;
  /** oldest events left out to keep all windows under --window-memory */
  memoryOmitted?: number;
  /** the cause analysis failed on this window (a bug; then `causes` is empty): what it threw */
  causeError?: string;
  causes: Cause[];
  events: WindowEvent[];
  /** the wakeup (absolute), the switch-in (absolute, absent when unknown) */
  wakeTs?: Timestamp;
  switchInTs?: Timestamp;
  /** the metric's split into its parts, ns (timer: irq/thread; irq: hardirq/wakeup/handling) */
  parts?: Record<string, number>;
  preemptions?: PreemptionInfo[];
  /** why it was captured: "max", "first-violation", "worst-violation" */
  reasons?: string[];
}

export interface TaskCounters {
  wakeups: number;
  voluntarySwitches: number;
  involuntarySwitches: number;
  migrations: number;
  runtime: number;
  /** activations cut (never counted as samples): the sum of `cut` */
  incomplete: number;
  /** why activations were cut; present when `incomplete` > 0 */
  cut?: CutCounts;
  /** irq threads: hard IRQs served by a run already in progress (no sample of their own) */
  irqCoalesced?: number;
}

export interface CutCounts {
  /** events were lost (on any CPU) during the activation */
  lostEvents: number;
  /** a CPU it involved had no trace data from its start on */
  cpuWithoutData: number;
  /** the CPU's current task changed without the thread's switch-out */
  missedSwitch: number;
  /** woken again before a switch-in was seen: it ran and slept unseen */
  missedRun: number;
}

export interface TaskReport {
  tid: number;
  tgid: number;
  comm: string;
  /**
   * live (/proc): "FIFO" | "RR" | "OTHER" | "BATCH" | "IDLE" | "DEADLINE"; offline, or when
   * /proc disagrees with the events, the class the kernel prio shows: "RT" (FIFO or RR),
   * "normal", "DEADLINE"; "" unknown
   */
  policy: string;
  /** user-visible priority: rtprio (1..99) for RT, nice (-20..19) for normal, 0 for DEADLINE */
  prio: number;
  /** kernel prio the thread worked at, as the events show it (-1 DEADLINE, 0..99 RT, 100..139 normal) */
  kernelPrio: number;
  /** the highest kernel prio seen above the thread's own: a PI boost (or a policy change in the trace) */
  boostedKernelPrio?: number;
  /**
   * when the thread was forked, or first seen in the trace: with the tid, what tells two
   * threads apart that used the same tid one after the other (each has its own entry)
   */
  start?: Timestamp;
  /** when it exited (sched_process_exit, else its last switch-out in X/Z); absent while alive */
  exited?: Timestamp;
  counters: TaskCounters;
  metrics: Partial<Record<MetricKey, MetricSummary>>;
  worst?: Partial<Record<MetricKey, WorstWindow>>;
  /** metrics whose worst window was dropped, and why ("memory bound": --window-memory) */
  notCaptured?: Partial<Record<MetricKey, string>>;
  /** the N worst activations per metric (report --worst N) */
  worstList?: Partial<Record<MetricKey, { value: number; start: Timestamp; end: Timestamp; cpu: number }[]>>;
}

export interface ReportSource {
  kind: SourceKind;
  path: string;
  clock: string;
  cpus: number;
  kernel: string;
  events: number;
  lostEvents: number;
  /** live: events the kernel wrote (every CPU's stats: entries + overrun + read events) */
  written?: number;
  /** live: rtscope's own CPU time, s (user + system, the whole process) */
  ownCpu?: number;
  format?: string;
  /** first and last event timestamps */
  start?: Timestamp;
  end?: Timestamp;
  /** live: per CPU, events written by the kernel, read by rtscope, and lost */
  perCpu?: { cpu: number; written: number; events: number; lost: number }[];
  /** how timer expiries were put on the trace clock; present when there are timer samples or none could be */
  timerClock?: TimerClockReport;
}

/**
 * The timer metric's clock handling (SPEC §1 timer row). `direct`: MONOTONIC expiries on a
 * mono trace clock, subtracted as they are. `estimated`: offsets to the trace clock estimated
 * from hrtimer_expire_entry (ts − now, lower envelope per CPU and clock base); those samples
 * are low by at most `errorBound` ns. `unavailable`: the trace clock is no time (counter,
 * x86-tsc), no timer samples.
 */
export interface TimerClockReport {
  mode: "direct" | "estimated" | "unavailable";
  /** the trace clock the analysis assumed ("" = not stated by the source) */
  traceClock: string;
  /** timer samples whose expiry subtracted directly / through an estimated offset */
  direct: number;
  estimated: number;
  /** estimated samples: largest error found (ns), 0 when none was estimated */
  errorBound: number;
}

/** Hard-IRQ duration (irq_handler_entry → exit) per IRQ line, for threaded and non-threaded IRQs. */
export interface IrqLineReport {
  irq: number;
  /** handler name from irq_handler_entry */
  name: string;
  hardirq: MetricSummary;
}

/** How the command `record -- CMD ARGS` launched ended. */
export interface CommandStatus {
  argv: string[];
  pid: number;
  /** "exited" (exitCode), "killed" (signal), "running" (still running when the capture ended) */
  ended: "exited" | "killed" | "running";
  exitCode: number | null;
  /** "SIGKILL"... when killed */
  signal: string | null;
  /** the capture was stopped by Ctrl-C/SIGTERM, which rtscope passed on to the command */
  stoppedByUser: boolean;
}

/**
 * Whether the launched command failed (SPEC §1: makes the run fail): a non-zero exit or a
 * signal, except the SIGINT/SIGTERM a user's Ctrl-C gave it (or the 130/143 a shell makes
 * of them).
 */
export function commandFailed(c: CommandStatus): boolean {
  if (c.ended === "running") return false;
  if (c.stoppedByUser) {
    if (c.signal === "SIGINT" || c.signal === "SIGTERM") return false;
    if (c.exitCode === 130 || c.exitCode === 143) return false;
  }
  return c.ended === "killed" || c.exitCode !== 0;
}

/** "exited with status 7", "killed by SIGKILL", "still running when the capture ended". */
export function commandEndText(c: CommandStatus): string {
  switch (c.ended) {
    case "running":
      return "still running when the capture ended";
    case "killed":
      return `killed by ${c.signal}${c.stoppedByUser ? " (passed on from Ctrl-C)" : ""}`;
    default:
      return `exited with status ${c.exitCode}`;
  }
}

export interface Report {
  tool: "rtscope";
  version: string;
  source: ReportSource;
  slo: SloBounds;
  selection: string;
  /** record -- CMD ARGS: how the launched command ended */
  command?: CommandStatus;
  tasks: TaskReport[];
  /** per IRQ line hard-IRQ durations; present when IRQ events were traced and the selection includes --irq-threads or all tasks */
  irqLines?: IrqLineReport[];
  diagnostics: DiagnosticEntry[];
}

/** Bounded metrics with at least one violation in the report. */
export function violatedMetrics(r: Report): MetricKey[] {
  return METRIC_KEYS.filter((k) => r.tasks.some((t) => (t.metrics[k]?.slo?.violations ?? 0) > 0));
}

/**
 * Bounded metrics with no sample in the whole selection: nothing was measured against the
 * bound (a --comm typo, an empty buffer, a workload that never ran), which a CI gate must
 * not take for a pass (SPEC §1, exit status 4).
 */
export function unmeasuredMetrics(r: Report): MetricKey[] {
  return METRIC_KEYS.filter(
    (k) => r.slo[k] !== undefined && !r.tasks.some((t) => (t.metrics[k]?.count ?? 0) > 0),
  );
}

/**
 * Why a report's bounds were not checked over the whole run although something was measured:
 * the live capture had a gap (a stretch not recorded at all), or lost events cut activations of
 * a selected task (one of them may have been the violation). A CI gate must not take "no
 * violation seen" for a pass then (exit status 4). Empty when no bound is set.
 */
export function uncheckedReasons(r: Report): string[] {
  if (!METRIC_KEYS.some((k) => r.slo[k] !== undefined)) return [];
  const out: string[] = [];
  const gap = r.diagnostics.find((d) => d.key === "live_capture_gap");
  if (gap !== undefined) out.push(`the capture had a gap (${gap.details[0] ?? gap.message})`);
  let tasks = 0;
  let cut = 0;
  for (const t of r.tasks) {
    const n = t.counters.cut?.lostEvents ?? 0;
    if (n > 0) {
      tasks++;
      cut += n;
    }
  }
  if (cut > 0)
    out.push(
      `lost events cut ${cut} activation${cut === 1 ? "" : "s"} of ${tasks} selected thread${tasks === 1 ? "" : "s"}`,
    );
  return out;
}
