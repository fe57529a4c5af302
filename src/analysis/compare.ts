// Two runs side by side (SPEC §2 Storage, `rtscope compare`): tasks are matched by process
// and thread name (thread ids differ between runs), same-named threads merged (the worst
// max, the histograms added, violations summed), and each task's metrics judged: a
// regression is a max or p99 worse than the base by more than the tolerance (a fraction of
// the base, and at least a floor of 1 µs) or a violation where the base had none.

import type { Histogram } from "hdr-histogram-js";
import { METRIC_KEYS, type MetricKey, type Report, type TaskReport } from "../model/report.ts";
import { mergeHistograms, percentiles } from "./histogram.ts";

/** A run to compare: a report, and its histograms when it has them (stored runs). */
export interface ComparedRun {
  /** how the run is named in the output: "run 12", "base.json" */
  label: string;
  report: Report;
  /** the histogram of report.tasks[taskIndex]'s metric */
  histogram?: (taskIndex: number, metric: MetricKey) => Histogram | undefined;
}

export interface CompareOptions {
  /** allowed worsening as a fraction of the base value (0.1 = 10 %) */
  tolerance: number;
  /** ... and never less than this, ns */
  floorNs: number;
}

export const DEFAULT_TOLERANCE = 0.1;
export const DEFAULT_FLOOR_NS = 1000;

/** One side's view of a task's metric, same-named threads merged. */
export interface MetricSide {
  /** threads merged */
  threads: number;
  count: number;
  max: number;
  p99: number;
  /**
   * false when same-named threads were merged without histograms (a JSON report): the
   * merged p99 is then only known to lie between the threads' smallest p99 (p99Low) and
   * their largest (p99)
   */
  p99Exact: boolean;
  p99Low: number;
  /** SLO violations; null when no thread had a bound */
  violations: number | null;
  bound: number | null;
}

export type RegressionKind = "max" | "p99" | "violations";

export interface Regression {
  kind: RegressionKind;
  base: number;
  new: number;
  /** the largest new value that was not a regression (max, p99) */
  limit?: number;
}

export interface MetricComparison {
  /** process name (the thread group leader's comm) and thread name */
  process: string;
  thread: string;
  metric: MetricKey;
  base?: MetricSide;
  new?: MetricSide;
  regressions: Regression[];
}

export interface Comparison {
  base: string;
  new: string;
  tolerance: number;
  floorNs: number;
  /** regressed rows first, then by process, thread and metric */
  rows: MetricComparison[];
  /** rows with at least one regression */
  regressed: number;
}

/** The group key of a task: process name and thread name. */
interface TaskKey {
  process: string;
  thread: string;
}

/**
 * A task's process name: the comm of its thread group leader in the same report. Offline
 * traces do not say which threads form a process (each thread is its own group there); a
 * live run names the leader when it is tracked. Without the leader, the thread's own name
 * stands for the process (the key is then the same in every run that also lacks it).
 */
function keyOf(t: TaskReport, leaders: Map<number, string>): TaskKey {
  return { process: leaders.get(t.tgid) ?? t.comm, thread: t.comm };
}

interface Group {
  key: TaskKey;
  /** indexes into report.tasks */
  tasks: number[];
}

function groupTasks(r: Report): Map<string, Group> {
  const leaders = new Map<number, string>();
  for (const t of r.tasks) if (t.tid === t.tgid) leaders.set(t.tgid, t.comm);
  const groups = new Map<string, Group>();
  r.tasks.forEach((t, i) => {
    const key = keyOf(t, leaders);
    const id = `${key.process}\u0000${key.thread}`;
    let g = groups.get(id);
    if (g === undefined) {
      g = { key, tasks: [] };
      groups.set(id, g);
    }
    g.tasks.push(i);
  });
  return groups;
}

/** The merged view of `metric` over the group's threads, or undefined when none has samples. */
function sideOf(run: ComparedRun, g: Group, metric: MetricKey): MetricSide | undefined {
  let threads = 0;
  let count = 0;
  let max = Number.NEGATIVE_INFINITY;
  let p99High = 0;
  let p99Low = Number.POSITIVE_INFINITY;
  let violations: number | null = null;
  let bound: number | null = null;
  const hists: Histogram[] = [];
  for (const i of g.tasks) {
    const m = run.report.tasks[i].metrics[metric];
    if (m === undefined) continue;
    threads++;
    count += m.count;
    if (m.max > max) max = m.max;
    if (m.p99 > p99High) p99High = m.p99;
    if (m.p99 < p99Low) p99Low = m.p99;
    if (m.slo !== undefined) {
      violations = (violations ?? 0) + m.slo.violations;
      bound = bound === null ? m.slo.bound : Math.min(bound, m.slo.bound);
    }
    const h = run.histogram?.(i, metric);
    if (h !== undefined) hists.push(h);
  }
  if (threads === 0) return undefined;
  if (threads > 1 && hists.length === threads) {
    const merged = mergeHistograms(hists);
    // as the report does: an HDR percentile is a bucket's upper end, never above the exact max
    p99High = p99Low = Math.min(percentiles(merged, [99])[0], max);
  }
  return { threads, count, max, p99: p99High, p99Exact: p99Low === p99High, p99Low, violations, bound };
}

/** The largest value `now` may take against `base` without being a regression. */
export function regressionLimit(base: number, o: CompareOptions): number {
  return base + Math.max(base * o.tolerance, o.floorNs);
}

function judge(base: MetricSide, next: MetricSide, o: CompareOptions): Regression[] {
  const out: Regression[] = [];
  const maxLimit = regressionLimit(base.max, o);
  if (next.max > maxLimit) out.push({ kind: "max", base: base.max, new: next.max, limit: maxLimit });
  // a p99 known only within bounds is a regression only when certainly one: the least it
  // can be against the most the base's can be
  const p99Limit = regressionLimit(base.p99, o);
  if (next.p99Low > p99Limit) out.push({ kind: "p99", base: base.p99, new: next.p99Low, limit: p99Limit });
  if ((next.violations ?? 0) > 0 && (base.violations ?? 0) === 0)
    out.push({ kind: "violations", base: base.violations ?? 0, new: next.violations ?? 0 });
  return out;
}

/** Compares `next` with `base`, task by task and metric by metric. */
export function compareRuns(base: ComparedRun, next: ComparedRun, o: CompareOptions): Comparison {
  const bg = groupTasks(base.report);
  const ng = groupTasks(next.report);
  const rows: MetricComparison[] = [];
  for (const id of new Set([...bg.keys(), ...ng.keys()])) {
    const b = bg.get(id);
    const n = ng.get(id);
    const key = (b ?? n)?.key as TaskKey;
    for (const metric of METRIC_KEYS) {
      const bs = b && sideOf(base, b, metric);
      const ns = n && sideOf(next, n, metric);
      if (bs === undefined && ns === undefined) continue;
      rows.push({
        process: key.process,
        thread: key.thread,
        metric,
        base: bs,
        new: ns,
        regressions: bs && ns ? judge(bs, ns, o) : [],
      });
    }
  }
  const order = (r: MetricComparison) => (r.regressions.length > 0 ? 0 : 1);
  rows.sort(
    (x, y) =>
      order(x) - order(y) ||
      x.process.localeCompare(y.process) ||
      x.thread.localeCompare(y.thread) ||
      METRIC_KEYS.indexOf(x.metric) - METRIC_KEYS.indexOf(y.metric),
  );
  return {
    base: base.label,
    new: next.label,
    tolerance: o.tolerance,
    floorNs: o.floorNs,
    rows,
    regressed: rows.filter((r) => r.regressions.length > 0).length,
  };
}
