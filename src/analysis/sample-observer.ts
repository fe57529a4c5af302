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

export interface WorstWindowProvider {
  /** the captured window of a task's maximum for a metric (absolute timestamps), if any */
  worst(tid: number, metric: MetricKey): WorstWindow | undefined;
}
