// The seam between the per-task metrics (activations) and the worst-case machinery
// (flight recorder, windows, cause analysis). The metrics side calls `onSample` only for
// samples worth explaining — a new maximum, or an SLO's first/worst violation — so the
// cheap counters stay cheap; the window side keeps what it captured and hands it back
// when a report is built.

import type { MetricKey, WorstWindow } from "../model/report.ts";

export interface SampleEvent {
  tid: number;
  metric: MetricKey;
  /** the sample, ns */
  value: number;
  /** where the metric starts (wakeup; timer expiry for `timer`; irq_handler_entry for `irq`), relative ns */
  start: number;
  /** where the metric ends (switch-in, sleep...), relative ns */
  end: number;
  /** the wakeup event's timestamp (relative ns), and the CPUs involved */
  wakeTs: number;
  wakeCpu: number;
  /** CPU where the task ran at the end of the metric */
  runCpu: number;
  /** every CPU the task was on during the activation, including wakeCpu and runCpu */
  cpus: readonly number[];
  /** the task's kernel prio at wakeup (lower = more important; < 100 is RT) */
  prio: number;
  /** the switch-in that ended the scheduling latency part (relative ns), or NaN */
  switchInTs: number;
  inferred: boolean;
  isNewMax: boolean;
  isFirstViolation: boolean;
  isWorstViolation: boolean;
  /** over the bound (observers see every violation only when they asked for it) */
  isViolation?: boolean;
}

export interface SampleObserver {
  onSample(s: SampleEvent): void;
}

/**
 * Passes on only the samples over their SLO bound (an SLO's first or worst violation): the
 * windows a text report with `--windows violations` shows. A new maximum within its bound is
 * never shown there, and copying its window is most of a capture's work on every thread
 * (responses spanning seconds). A violating maximum keeps its max role: a metric's maximum
 * is its worst violation once it has one.
 */
export class ViolationWindows implements SampleObserver {
  private readonly inner: SampleObserver;
  constructor(inner: SampleObserver) {
    this.inner = inner;
  }
  onSample(s: SampleEvent): void {
    if (s.isFirstViolation || s.isWorstViolation) this.inner.onSample(s);
  }
}

export type WindowRole = "max" | "first-violation" | "worst-violation";

/** A window evicted to stay under the memory bound, which no later capture replaced. */
export interface DroppedWindow {
  tid: number;
  metric: MetricKey;
  roles: WindowRole[];
  /** the sample's value, ns */
  value: number;
}

export interface WorstWindowProvider {
  /** the captured window of a task's maximum for a metric (absolute timestamps), if any */
  worst(tid: number, metric: MetricKey): WorstWindow | undefined;
  /** roles of a task's metric whose window was dropped for memory */
  dropped?(tid: number, metric: MetricKey): WindowRole[];
  /** every window dropped for memory */
  droppedWindows?(): DroppedWindow[];
  /** the memory bound of all windows, bytes */
  readonly windowMemoryBytes?: number;
  /** drops every window of a thread no longer in the report (the exited-threads bound) */
  forgetTask?(tid: number): void;
}

/** Why an activation was cut (never a sample): the `cut` column of --samples. */
export type CutReason = "loss" | "cpu-without-data" | "missed-switch" | "missed-run";

/**
 * Receives EVERY sample as it is produced, and every activation cut without one (--samples).
 * Plain numbers, no object per sample; times relative ns like SampleEvent. Parts: timer
 * (irq, thread), irq (hardirq, wakeup, handling), NaN where the metric has none.
 */
export interface SampleSink {
  sample(
    tid: number,
    tgid: number,
    comm: string,
    metric: MetricKey,
    start: number,
    end: number,
    value: number,
    a: number,
    b: number,
    c: number,
    inferred: boolean,
  ): void;
  /** an activation (from its wakeup at `start`) cut at `end` */
  cut(tid: number, tgid: number, comm: string, start: number, end: number, reason: CutReason): void;
}
