// The admission verdict (`rtscope admit`): the workload measured before a newcomer joined
// (baseline) and with it, and how much of each new worst case is the newcomer's doing.
// Pure functions over two reports of one capture; the capture itself is cli/admit.ts.
//
// Rules (SPEC §2 admit, compare's regression rules):
// - a workload task's metric is *violated* when its bound was exceeded with the newcomer;
// - it *regressed* when its max or p99 with the newcomer is worse than the baseline's by more
//   than the tolerance (a fraction, and at least `minDeltaNs`), or it has violations where
//   the baseline had none;
// - the newcomer's *share* of a worst case is the time of the causes that name one of its
//   threads (interference, blocking, migration) plus the softirq time done on its behalf
//   (softirqs raised in its context, analysis/softirq-behalf.ts), over the worst case's
//   value. Hard IRQs and threaded IRQ handlers are never the newcomer's: the trace does not
//   tie a device's interrupt to the task whose I/O caused it.
// - rejected: any violation; or a regression in which the newcomer has a share. A regression
//   without any share is "worse, not because of the newcomer" (short phases' maxima vary a
//   lot on a busy box) and rejects only when strict.
// - admitted: not rejected, and measured: a workload that had no sample with the newcomer is
//   never admitted (fail closed).

import {
  METRIC_KEYS,
  type MetricKey,
  type MetricSummary,
  type TaskReport,
  type WorstWindow,
} from "../model/report.ts";
import { type SoftirqTime, softirqKey } from "./softirq-behalf.ts";

export interface AdmissionRules {
  /** allowed worsening of max and p99, as a fraction (0.1 = 10 %) */
  tolerance: number;
  /** ... and at least this many ns */
  minDeltaNs: number;
  /** reject regressions the newcomer had no part in too */
  strict: boolean;
}

export const DEFAULT_ADMISSION_RULES: AdmissionRules = { tolerance: 0.1, minDeltaNs: 1000, strict: false };

/** The figures of one metric in one phase. */
export interface PhaseFigures {
  count: number;
  max: number;
  p99: number;
  violations: number;
}

/** The newcomer's part in one captured worst case of phase 2. */
export interface Attribution {
  /** why the window was captured: max, first-violation, worst-violation */
  role: string;
  value: number;
  start: number | bigint;
  newcomerTime: number;
  /** newcomerTime / value, 0..1 */
  newcomerShare: number;
  /**
   * the newcomer's part, with its time: its threads (tid; kind thread, blocking, migration)
   * and softirqs run on its behalf (kind softirq, no tid; cpu and vec)
   */
  culprits: { tid?: number; name: string; kind: string; time: number; cpu?: number; vec?: number }[];
}

export type MetricVerdict = "ok" | "violated" | "regressed" | "worse-not-newcomer" | "no-data";

export interface MetricAdmission {
  tid: number;
  tgid: number;
  comm: string;
  metric: MetricKey;
  bound?: number;
  baseline?: PhaseFigures;
  withNewcomer?: PhaseFigures;
  verdict: MetricVerdict;
  /** one line: what is wrong and by how much (empty when ok) */
  reason: string;
  attributions: Attribution[];
}

export interface AdmissionVerdict {
  /** not rejected, and the workload was measured with the newcomer */
  admitted: boolean;
  /** a bound violated, or a regression the newcomer took part in */
  rejected: boolean;
  /** some workload metric had samples with the newcomer */
  measured: boolean;
  /** every workload metric with data in either phase, the rejecting ones first */
  metrics: MetricAdmission[];
}

function figures(m: MetricSummary | undefined): PhaseFigures | undefined {
  if (m === undefined || m.count === 0) return undefined;
  return { count: m.count, max: m.max, p99: m.p99, violations: m.slo?.violations ?? 0 };
}

/**
 * How much of a window's time is the newcomer's: the causes that name one of its threads,
 * and of each softirq cause the part run on its behalf (`softirq`: softirqBehalf over the
 * window's span; a cause's time is the vector's run time on that CPU while it delayed the
 * task, so it takes the vector's on-behalf fraction on that CPU).
 */
export function attribute(
  w: WorstWindow,
  role: string,
  newcomer: ReadonlySet<number>,
  softirq?: ReadonlyMap<number, SoftirqTime>,
): Attribution {
  const culprits: Attribution["culprits"] = [];
  let time = 0;
  for (const c of w.causes) {
    if (c.kind === "softirq") {
      const s =
        c.cpu !== undefined && c.vec !== undefined ? softirq?.get(softirqKey(c.cpu, c.vec)) : undefined;
      if (s === undefined || s.behalf <= 0 || s.time <= 0) continue;
      const t = Math.round((c.time * Math.min(s.behalf, s.time)) / s.time);
      if (t <= 0) continue;
      time += t;
      culprits.push({
        name: `${c.name} softirq raised by the newcomer`,
        kind: c.kind,
        time: t,
        cpu: c.cpu,
        vec: c.vec,
      });
      continue;
    }
    if (c.tid === undefined || !newcomer.has(c.tid)) continue;
    if (c.kind !== "thread" && c.kind !== "blocking" && c.kind !== "migration") continue;
    time += c.time;
    culprits.push({ tid: c.tid, name: c.name, kind: c.kind, time: c.time });
  }
  const value = w.value;
  return {
    role,
    value,
    start: w.start,
    newcomerTime: time,
    newcomerShare: value > 0 ? Math.min(1, time / value) : 0,
    culprits,
  };
}

const us = (ns: number): string => `${(ns / 1000).toFixed(ns < 100_000 ? 1 : 0)} us`;

function worseBy(base: number, next: number, r: AdmissionRules): boolean {
  const delta = next - base;
  return delta > r.minDeltaNs && delta > base * r.tolerance;
}

/** What changed for one metric, in words, and the verdict. */
function judge(
  base: PhaseFigures | undefined,
  next: PhaseFigures | undefined,
  bound: number | undefined,
  newcomerShare: number,
  r: AdmissionRules,
): { verdict: MetricVerdict; reason: string } {
  // no evidence with the newcomer is not a pass (it is why admit can exit 4)
  if (next === undefined) return { verdict: "no-data", reason: base ? "no sample with the newcomer" : "" };
  if (bound !== undefined && next.violations > 0)
    return {
      verdict: "violated",
      reason: `${next.violations} over the ${us(bound)} bound with the newcomer (max ${us(next.max)}${base ? `, baseline ${us(base.max)}` : ""})`,
    };
  if (base === undefined) return { verdict: "ok", reason: "" };
  const what: string[] = [];
  if (worseBy(base.max, next.max, r)) what.push(`max ${us(next.max)} (baseline ${us(base.max)})`);
  if (worseBy(base.p99, next.p99, r)) what.push(`p99 ${us(next.p99)} (baseline ${us(base.p99)})`);
  if (what.length === 0) return { verdict: "ok", reason: "" };
  const reason = what.join(", ");
  return newcomerShare > 0 || r.strict
    ? { verdict: "regressed", reason }
    : { verdict: "worse-not-newcomer", reason: `${reason}; the newcomer took no part in its worst cases` };
}

/**
 * Captured windows of phase 2 for one task and metric, by role, each with its softirq time
 * done on the newcomer's behalf (softirqBehalf; absent: none known).
 */
export type WindowsOf = (
  tid: number,
  metric: MetricKey,
) => { role: string; window: WorstWindow; softirq?: ReadonlyMap<number, SoftirqTime> }[];

const RANK: Record<MetricVerdict, number> = {
  violated: 0,
  regressed: 1,
  "worse-not-newcomer": 2,
  ok: 3,
  "no-data": 4,
};

/**
 * The verdict over the workload's tasks (phase 2's tasks that are not the newcomer's, matched
 * with the baseline by tid: one capture, so thread ids are the same threads).
 */
export function admissionVerdict(
  baseline: readonly TaskReport[],
  withNewcomer: readonly TaskReport[],
  newcomer: ReadonlySet<number>,
  bounds: Partial<Record<MetricKey, number>>,
  windowsOf: WindowsOf,
  rules: AdmissionRules = DEFAULT_ADMISSION_RULES,
): AdmissionVerdict {
  const before = new Map(baseline.map((t) => [t.tid, t]));
  const tasks = new Map<number, { tgid: number; comm: string; base?: TaskReport; next?: TaskReport }>();
  for (const t of baseline)
    if (!newcomer.has(t.tid)) tasks.set(t.tid, { tgid: t.tgid, comm: t.comm, base: t });
  for (const t of withNewcomer)
    if (!newcomer.has(t.tid))
      tasks.set(t.tid, { tgid: t.tgid, comm: t.comm, base: before.get(t.tid), next: t });
  const metrics: MetricAdmission[] = [];
  for (const [tid, { tgid, comm, base, next }] of tasks) {
    for (const metric of METRIC_KEYS) {
      const b = figures(base?.metrics[metric]);
      const n = figures(next?.metrics[metric]);
      if (b === undefined && n === undefined) continue;
      const bound = next?.metrics[metric]?.slo?.bound ?? bounds[metric];
      const attributions =
        n === undefined
          ? []
          : windowsOf(tid, metric).map((x) => attribute(x.window, x.role, newcomer, x.softirq));
      const share = attributions.reduce((s, a) => Math.max(s, a.newcomerShare), 0);
      const { verdict, reason } = judge(b, n, bound, share, rules);
      metrics.push({
        tid,
        tgid,
        comm,
        metric,
        bound,
        baseline: b,
        withNewcomer: n,
        verdict,
        reason,
        attributions,
      });
    }
  }
  metrics.sort((a, b) => RANK[a.verdict] - RANK[b.verdict] || a.tid - b.tid);
  const rejected = metrics.some((m) => m.verdict === "violated" || m.verdict === "regressed");
  const measured = metrics.some((m) => m.withNewcomer !== undefined);
  return { admitted: !rejected && measured, rejected, measured, metrics };
}
