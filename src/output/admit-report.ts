// The admission result (`rtscope admit`) as text, JSON and JUnit. The reasons come first:
// which task, which metric, by how much, and how much of it the newcomer caused.

import type { AdmissionVerdict, Attribution, MetricAdmission, PhaseFigures } from "../analysis/admission.ts";
import type { MetricKey, Report, TaskReport } from "../model/report.ts";
import { stringifyJson } from "./json-report.ts";
import { xmlEscape } from "./junit-report.ts";

export interface AdmitPhase {
  /** planned and actual length, ns */
  plannedNs: number;
  actualNs: number;
  /** how the phase ended: "planned", "newcomer-exit", "interrupted", "not-started" */
  ended: string;
}

export interface AdmitNewcomer {
  /** the launched command, or "" for --newcomer-pid */
  command: string[];
  pid: number;
  /** how it ended: "running (stopped by admit)", "exit 0", "signal SIGKILL"... */
  status: string;
  /** its threads seen in phase 2 */
  tids: number[];
}

export interface AdmitResult {
  verdict: AdmissionVerdict;
  /** false when Ctrl-C or an early newcomer exit cut a phase short: the verdict is partial */
  complete: boolean;
  baseline: AdmitPhase;
  withNewcomer: AdmitPhase;
  newcomer: AdmitNewcomer;
  selection: string;
  slo: Partial<Record<MetricKey, number>>;
  tolerance: number;
  strict: boolean;
  /** phase reports (the workload's and, in phase 2, the newcomer's tasks) */
  baselineReport: Report;
  withNewcomerReport: Report;
  /** the phases' stored runs (rtscope runs show ID, compare BASE NEW); null when not stored */
  runs: { baseline: number; withNewcomer: number } | null;
  /** why the phases were not stored (the database could not be written) */
  storeWarning?: string;
}

const us = (ns: number): string => (ns / 1000).toFixed(ns < 100_000 ? 1 : 0);
const sec = (ns: number): string => `${(ns / 1e9).toFixed(1)} s`;
const pct = (x: number): string => `${Math.round(x * 100)} %`;

function culpritText(a: Attribution): string {
  if (a.culprits.length === 0) return "the newcomer took no part";
  const who = a.culprits.map((c) => `${c.name} (${c.kind}, ${us(c.time)} us)`).join(", ");
  return `${us(a.newcomerTime)} us (${pct(a.newcomerShare)}) is the newcomer: ${who}`;
}

function figuresCells(f: PhaseFigures | undefined): string {
  if (!f) return `${"-".padStart(7)} ${"-".padStart(9)} ${"-".padStart(9)} ${"-".padStart(5)}`;
  return `${String(f.count).padStart(7)} ${us(f.max).padStart(9)} ${us(f.p99).padStart(9)} ${String(f.violations).padStart(5)}`;
}

export function newcomerTasks(r: AdmitResult): TaskReport[] {
  const ids = new Set(r.newcomer.tids);
  return r.withNewcomerReport.tasks.filter((t) => ids.has(t.tid));
}

function metricLines(m: MetricAdmission): string[] {
  const out = [`  ${m.comm} [${m.tid}] ${m.metric}: ${m.reason}`];
  for (const a of m.attributions) out.push(`      ${a.role} ${us(a.value)} us: ${culpritText(a)}`);
  return out;
}

export function formatAdmitText(r: AdmitResult): string {
  const v = r.verdict;
  const out: string[] = [];
  const state = v.rejected
    ? "REJECTED"
    : !r.complete
      ? "NOT ADMITTED (PARTIAL: a phase was cut short)"
      : v.measured
        ? "ADMITTED"
        : "NOT ADMITTED (nothing measured with the newcomer)";
  out.push(`rtscope admit: ${state}`);
  const cmd = r.newcomer.command.length > 0 ? ` (${r.newcomer.command.join(" ")})` : "";
  out.push(`  newcomer    pid ${r.newcomer.pid}${cmd}: ${r.newcomer.status}`);
  out.push(`  workload    ${r.selection}`);
  const bounds = Object.entries(r.slo).map(([k, b]) => `${k} <= ${us(b as number)} us`);
  out.push(`  SLO         ${bounds.length ? bounds.join(", ") : "none"}`);
  out.push(
    `  phases      baseline ${sec(r.baseline.actualNs)} (${r.baseline.ended}), with newcomer ${sec(r.withNewcomer.actualNs)} (${r.withNewcomer.ended})`,
  );
  out.push(
    `  rules       worse than baseline by > ${pct(r.tolerance)} and 1 us${r.strict ? ", strict" : ""}`,
  );
  if (r.runs !== null)
    out.push(
      `  stored      runs ${r.runs.baseline} (baseline) and ${r.runs.withNewcomer} (with newcomer): rtscope compare ${r.runs.baseline} ${r.runs.withNewcomer}`,
    );
  else if (r.storeWarning !== undefined) out.push(`  stored      not stored: ${r.storeWarning}`);
  const rejecting = v.metrics.filter((m) => m.verdict === "violated" || m.verdict === "regressed");
  const worse = v.metrics.filter((m) => m.verdict === "worse-not-newcomer");
  if (rejecting.length) {
    out.push("", "rejected because:");
    for (const m of rejecting) out.push(...metricLines(m));
  }
  if (worse.length) {
    out.push("", `worse, not because of the newcomer${r.strict ? "" : " (rejects only with --strict)"}:`);
    for (const m of worse) out.push(...metricLines(m));
  }
  out.push("", "workload (us)                           baseline                          with newcomer");
  out.push(
    `  ${"task".padEnd(22)} ${"metric".padEnd(8)}   count       max       p99  over   count       max       p99  over  verdict`,
  );
  for (const m of v.metrics) {
    const task = `${m.comm} [${m.tid}]`.slice(0, 22).padEnd(22);
    out.push(
      `  ${task} ${m.metric.padEnd(8)} ${figuresCells(m.baseline)} ${figuresCells(m.withNewcomer)}  ${m.verdict}`,
    );
  }
  if (v.metrics.length === 0) out.push("  (no workload metric had samples)");
  const own = newcomerTasks(r);
  if (own.length) {
    out.push("", "newcomer's own (us):");
    for (const t of own)
      for (const [k, s] of Object.entries(t.metrics))
        out.push(
          `  ${`${t.comm} [${t.tid}]`.padEnd(22)} ${k.padEnd(8)} ${figuresCells({ count: s.count, max: s.max, p99: s.p99, violations: s.slo?.violations ?? 0 })}`,
        );
  }
  const diags = r.withNewcomerReport.diagnostics.filter((d) => d.severity !== "info");
  if (diags.length) {
    out.push("", "diagnostics:");
    for (const d of diags)
      out.push(`  [${d.severity}] ${d.key}${d.cpu >= 0 ? ` CPU ${d.cpu}` : ""}: ${d.message}`);
  }
  return `${out.join("\n")}\n`;
}

export function admitJsonObject(r: AdmitResult): object {
  return {
    tool: "rtscope",
    command: "admit",
    admitted: r.verdict.admitted && r.complete,
    rejected: r.verdict.rejected,
    complete: r.complete,
    selection: r.selection,
    slo: r.slo,
    tolerance: r.tolerance,
    strict: r.strict,
    newcomer: r.newcomer,
    phases: { baseline: r.baseline, withNewcomer: r.withNewcomer },
    runs: r.runs,
    ...(r.storeWarning !== undefined ? { storeWarning: r.storeWarning } : {}),
    metrics: r.verdict.metrics.map((m) => ({
      tid: m.tid,
      tgid: m.tgid,
      comm: m.comm,
      metric: m.metric,
      bound: m.bound ?? null,
      verdict: m.verdict,
      reason: m.reason,
      baseline: m.baseline ?? null,
      withNewcomer: m.withNewcomer ?? null,
      worstCases: m.attributions,
    })),
    newcomerTasks: newcomerTasks(r).map((t) => ({ tid: t.tid, comm: t.comm, metrics: t.metrics })),
    diagnostics: r.withNewcomerReport.diagnostics,
  };
}

export function formatAdmitJson(r: AdmitResult): string {
  return `${stringifyJson(admitJsonObject(r))}\n`;
}

export function formatAdmitJunit(r: AdmitResult): string {
  const cases: string[] = [];
  let failures = 0;
  for (const m of r.verdict.metrics) {
    if (m.verdict === "no-data") continue;
    const name = xmlEscape(`${m.comm} [${m.tid}] ${m.metric}`);
    if (m.verdict === "violated" || m.verdict === "regressed") {
      failures++;
      const detail = [m.reason, ...m.attributions.map((a) => `${a.role}: ${culpritText(a)}`)].join("\n");
      cases.push(
        `    <testcase classname="rtscope.admit" name="${name}">\n      <failure message="${xmlEscape(m.reason)}">${xmlEscape(detail)}</failure>\n    </testcase>`,
      );
    } else cases.push(`    <testcase classname="rtscope.admit" name="${name}"/>`);
  }
  let errors = 0;
  if (!r.complete) {
    errors++;
    cases.push(
      `    <testcase classname="rtscope.admit" name="phases">\n      <error message="a phase was cut short: the verdict is partial"/>\n    </testcase>`,
    );
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n  <testsuite name="rtscope admit" tests="${cases.length}" failures="${failures}" errors="${errors}">\n${cases.join("\n")}\n  </testsuite>\n</testsuites>\n`;
}
