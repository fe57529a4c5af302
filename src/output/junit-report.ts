// JUnit XML for CI: one <testsuite> per report (input), one <testcase> per task and metric
// that has an SLO bound; a violated bound is a <failure>, a bound with no sample for that
// task is <skipped>, and a bound with no sample in the whole selection (nothing measured:
// exit status 4) is an <error> case of its own. Names read "comm[tid] metric <= bound".

import {
  METRIC_KEYS,
  METRIC_TITLES,
  type MetricKey,
  type Report,
  type TaskReport,
  uncheckedReasons,
  unmeasuredMetrics,
} from "../model/report.ts";
import { countCell, durationText, timestampText } from "./table.ts";

/** Escapes text for XML attributes and content; drops characters XML 1.0 cannot carry. */
export function xmlEscape(s: string): string {
  return s
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, "\uFFFD")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

interface Case {
  name: string;
  classname: string;
  failure?: { message: string; body: string };
  error?: { message: string; body: string; type: "nothing-measured" | "incomplete" };
  skipped?: string;
}

function boundOf(r: Report, t: TaskReport, k: MetricKey): number | undefined {
  return t.metrics[k]?.slo?.bound ?? r.slo[k];
}

function casesOf(r: Report): Case[] {
  const cases: Case[] = [];
  for (const t of r.tasks) {
    for (const k of METRIC_KEYS) {
      const bound = boundOf(r, t, k);
      if (bound === undefined) continue;
      const comm = t.comm || "<unknown>";
      const c: Case = {
        name: `${comm}[${t.tid}] ${k} <= ${durationText(bound)}`,
        classname: `rtscope.${comm}`,
      };
      const m = t.metrics[k];
      if (!m) c.skipped = `no ${k} sample for ${comm}[${t.tid}] in this trace`;
      else if (m.slo && m.slo.violations > 0) {
        c.failure = {
          message: `${countCell(m.slo.violations)} of ${countCell(m.count)} samples over ${durationText(bound)}; max ${durationText(m.max)}`,
          body:
            `${METRIC_TITLES[k]} of ${comm}[${t.tid}] (pid ${t.tgid})\n` +
            `bound ${bound} ns, violations ${m.slo.violations}, max ${m.max} ns at ${timestampText(m.maxAt)}\n` +
            (m.slo.firstAt !== null ? `first violation at ${timestampText(m.slo.firstAt)}\n` : "") +
            `p50 ${m.p50} ns, p99 ${m.p99} ns, p99.9 ${m.p999} ns, count ${m.count}`,
        };
      }
      cases.push(c);
    }
  }
  const why = r.diagnostics.find((d) => d.key === "nothing_measured")?.details[0] ?? "";
  for (const k of unmeasuredMetrics(r)) {
    const bound = r.slo[k] as number;
    cases.push({
      name: `selection (${r.selection}) ${k} <= ${durationText(bound)}`,
      classname: "rtscope.selection",
      error: {
        message: `nothing measured: no ${k} sample in the selection`,
        body: why,
        type: "nothing-measured",
      },
    });
  }
  const partly = uncheckedReasons(r);
  if (partly.length > 0)
    cases.push({
      name: `selection (${r.selection}) measured over the whole run`,
      classname: "rtscope.selection",
      error: {
        message: "bounds not checked over the whole run",
        body: partly.join("\n"),
        type: "incomplete",
      },
    });
  return cases;
}

function suite(
  r: Report,
  out: string[],
): { tests: number; failures: number; errors: number; skipped: number } {
  const cases = casesOf(r);
  const failures = cases.filter((c) => c.failure).length;
  const errors = cases.filter((c) => c.error).length;
  const skipped = cases.filter((c) => c.skipped).length;
  out.push(
    `  <testsuite name="${xmlEscape(`rtscope report ${r.source.path}`)}" tests="${cases.length}" failures="${failures}" errors="${errors}" skipped="${skipped}">`,
  );
  out.push("    <properties>");
  out.push(`      <property name="selection" value="${xmlEscape(r.selection)}"/>`);
  out.push(`      <property name="kernel" value="${xmlEscape(r.source.kernel)}"/>`);
  out.push(`      <property name="events" value="${r.source.events}"/>`);
  out.push(`      <property name="lostEvents" value="${r.source.lostEvents}"/>`);
  if (r.source.written !== undefined)
    out.push(`      <property name="written" value="${r.source.written}"/>`);
  if (r.source.ownCpu !== undefined) out.push(`      <property name="ownCpu" value="${r.source.ownCpu}"/>`);
  out.push("    </properties>");
  for (const c of cases) {
    const open = `    <testcase name="${xmlEscape(c.name)}" classname="${xmlEscape(c.classname)}" time="0"`;
    if (c.failure) {
      out.push(`${open}>`);
      out.push(
        `      <failure message="${xmlEscape(c.failure.message)}" type="slo-violation">${xmlEscape(c.failure.body)}</failure>`,
      );
      out.push("    </testcase>");
    } else if (c.error) {
      out.push(`${open}>`);
      out.push(
        `      <error message="${xmlEscape(c.error.message)}" type="${c.error.type}">${xmlEscape(c.error.body)}</error>`,
      );
      out.push("    </testcase>");
    } else if (c.skipped) {
      out.push(`${open}>`);
      out.push(`      <skipped message="${xmlEscape(c.skipped)}"/>`);
      out.push("    </testcase>");
    } else out.push(`${open}/>`);
  }
  out.push("  </testsuite>");
  return { tests: cases.length, failures, errors, skipped };
}

/** One or several reports → one JUnit XML document. */
export function formatJunitReport(reports: Report | readonly Report[]): string {
  const list = Array.isArray(reports) ? (reports as readonly Report[]) : [reports as Report];
  const body: string[] = [];
  let tests = 0;
  let failures = 0;
  let errors = 0;
  let skipped = 0;
  for (const r of list) {
    const n = suite(r, body);
    tests += n.tests;
    failures += n.failures;
    errors += n.errors;
    skipped += n.skipped;
  }
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="rtscope" tests="${tests}" failures="${failures}" errors="${errors}" skipped="${skipped}">`,
    ...body,
    "</testsuites>",
    "",
  ].join("\n");
}
