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
  /** window cut by lost events */
  incomplete?: boolean;
  /** events of a long window left out to bound its size (the listing has the rest) */
  truncated?: number;
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
  /** activations cut by lost events (never counted as samples) */
  incomplete: number;
}

export interface TaskReport {
  tid: number;
  tgid: number;
  comm: string;
  /** "FIFO" | "RR" | "DEADLINE" | "OTHER" | "" (unknown); "RT" when events show an RT prio
   *  but not whether FIFO or RR (offline traces: sched events carry prio, not policy) */
  policy: string;
  /** kernel prio as the events show it (0..139; RT prio = 99 - prio) */
  prio: number;
  counters: TaskCounters;
  metrics: Partial<Record<MetricKey, MetricSummary>>;
  worst?: Partial<Record<MetricKey, WorstWindow>>;
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
  format?: string;
  /** first and last event timestamps */
  start?: Timestamp;
  end?: Timestamp;
}

/** Hard-IRQ duration (irq_handler_entry → exit) per IRQ line, for threaded and non-threaded IRQs. */
export interface IrqLineReport {
  irq: number;
  /** handler name from irq_handler_entry */
  name: string;
  hardirq: MetricSummary;
}

export interface Report {
  tool: "rtscope";
  version: string;
  source: ReportSource;
  slo: SloBounds;
  selection: string;
  tasks: TaskReport[];
  /** per IRQ line hard-IRQ durations; present when IRQ events were traced and the selection includes --irq-threads or all tasks */
  irqLines?: IrqLineReport[];
  diagnostics: DiagnosticEntry[];
}
