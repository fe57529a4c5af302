// `rtscope compare` output: text (the regressions first, each naming task and metric, then
// a table of every task and metric), JSON (the Comparison as it is) and JUnit (one test
// case per task and metric, a regression is a failure).

import type { Comparison, MetricComparison, MetricSide, Regression } from "../analysis/compare.ts";
import { stringifyJson } from "./json-report.ts";
import { xmlEscape } from "./junit-report.ts";
import { countCell, durationText, NO_DATA, renderTable, usCell } from "./table.ts";

/** "cyclictest" when the thread is named like its process, else "process/thread". */
export function taskName(r: Pick<MetricComparison, "process" | "thread">): string {
  return r.process === r.thread ? r.thread : `${r.process}/${r.thread}`;
}

function change(base: number, now: number): string {
  if (base === 0) return now === 0 ? "0 %" : "new";
  const pct = ((now - base) / base) * 100;
  return `${pct >= 0 ? "+" : ""}${Math.abs(pct) < 10 ? pct.toFixed(1) : Math.round(pct)} %`;
}

function regressionText(r: Regression, side: MetricSide | undefined): string {
  if (r.kind === "violations") return `${countCell(r.new)} SLO violations where the base had none`;
  const approx = r.kind === "p99" && side !== undefined && !side.p99Exact ? "at least " : "";
  return `${r.kind} ${durationText(r.base)} → ${approx}${durationText(r.new)} (${change(r.base, r.new)}; limit ${durationText(r.limit ?? 0)})`;
}

function p99Cell(s: MetricSide | undefined): string {
  if (s === undefined) return NO_DATA;
  return s.p99Exact ? usCell(s.p99) : `${usCell(s.p99Low)}..${usCell(s.p99)}`;
}

function violationsCell(s: MetricSide | undefined): string {
  return s === undefined || s.violations === null ? NO_DATA : countCell(s.violations);
}

function verdict(r: MetricComparison): string {
  if (r.regressions.length > 0) return `REGRESSED ${r.regressions.map((x) => x.kind).join(",")}`;
  if (r.base === undefined) return "only in new";
  if (r.new === undefined) return "only in base";
  return "ok";
}

export function formatCompareText(c: Comparison): string {
  const out: string[] = [];
  out.push(`rtscope compare: base ${c.base}`);
  out.push(`                 new  ${c.new}`);
  out.push(
    `tolerance ${Math.round(c.tolerance * 1000) / 10} % of the base, at least ${durationText(c.floorNs)}; times in µs`,
  );
  out.push("");
  const regressed = c.rows.filter((r) => r.regressions.length > 0);
  for (const r of regressed)
    for (const x of r.regressions)
      out.push(`REGRESSION ${taskName(r)} ${r.metric}: ${regressionText(x, r.new)}`);
  out.push(
    regressed.length > 0
      ? `${regressed.length} task metric${regressed.length > 1 ? "s" : ""} regressed.`
      : "No regression.",
  );
  const approx = c.rows.some((r) => (r.base && !r.base.p99Exact) || (r.new && !r.new.p99Exact));
  if (approx)
    out.push(
      "p99 a..b: same-named threads merged without histograms (a JSON report): the merged p99 lies in that range; it counts as a regression only when certainly one.",
    );
  out.push("");
  const rows = c.rows.map((r) => [
    taskName(r),
    r.metric,
    r.base ? `${r.base.threads}` : NO_DATA,
    r.new ? `${r.new.threads}` : NO_DATA,
    usCell(r.base?.max),
    usCell(r.new?.max),
    r.base && r.new ? change(r.base.max, r.new.max) : NO_DATA,
    p99Cell(r.base),
    p99Cell(r.new),
    r.base?.p99Exact && r.new?.p99Exact ? change(r.base.p99, r.new.p99) : NO_DATA,
    violationsCell(r.base),
    violationsCell(r.new),
    verdict(r),
  ]);
  const col = (header: string, align: "left" | "right" = "right") => ({ header, align });
  out.push(
    ...renderTable(
      [
        col("task", "left"),
        col("metric", "left"),
        col("thr base"),
        col("thr new"),
        col("max base"),
        col("max new"),
        col("change"),
        col("p99 base"),
        col("p99 new"),
        col("change"),
        col("viol base"),
        col("viol new"),
        col("verdict", "left"),
      ],
      rows,
    ),
  );
  return `${out.join("\n")}\n`;
}

export function formatCompareJson(c: Comparison): string {
  return `${stringifyJson({ tool: "rtscope", ...c })}\n`;
}

export function formatCompareJunit(c: Comparison): string {
  const cases: string[] = [];
  let failures = 0;
  let skipped = 0;
  for (const r of c.rows) {
    const open = `    <testcase name="${xmlEscape(`${taskName(r)} ${r.metric}`)}" classname="${xmlEscape(`rtscope.compare.${r.process}`)}" time="0"`;
    if (r.regressions.length > 0) {
      failures++;
      const text = r.regressions.map((x) => regressionText(x, r.new));
      cases.push(
        `${open}>`,
        `      <failure message="${xmlEscape(text.join("; "))}" type="regression">${xmlEscape(`${taskName(r)} ${r.metric}, ${c.new} against ${c.base}:\n${text.join("\n")}`)}</failure>`,
        "    </testcase>",
      );
    } else if (r.base === undefined || r.new === undefined) {
      skipped++;
      cases.push(
        `${open}>`,
        `      <skipped message="${xmlEscape(`${r.metric} of ${taskName(r)} ${r.base === undefined ? `not in the base (${c.base})` : `not in the new run (${c.new})`}`)}"/>`,
        "    </testcase>",
      );
    } else cases.push(`${open}/>`);
  }
  const attrs = `tests="${c.rows.length}" failures="${failures}" errors="0" skipped="${skipped}"`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="rtscope" ${attrs}>`,
    `  <testsuite name="${xmlEscape(`rtscope compare ${c.base} ${c.new}`)}" ${attrs}>`,
    "    <properties>",
    `      <property name="tolerance" value="${c.tolerance}"/>`,
    `      <property name="floorNs" value="${c.floorNs}"/>`,
    "    </properties>",
    ...cases,
    "  </testsuite>",
    "</testsuites>",
    "",
  ].join("\n");
}
