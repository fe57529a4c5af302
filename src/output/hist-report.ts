// The histogram report in rtla's `timerlat hist` layout (Documentation/tools/rtla/
// rtla-timerlat-hist.rst): '#' header lines, an "Index" row of column names, one row per
// bucket (lower bound of the bucket, in the time unit) with a count per column, then the
// over:/count:/min:/avg:/max: rows. rtla has one column per CPU and context; rtscope has one
// per task and metric ("lat-4028" = scheduling latency of thread 4028). Like rtla, rows
// where every column is zero are left out unless asked (--with-zeros), and values are
// truncated to whole units.

import { METRIC_KEYS, METRIC_TITLES, type MetricKey, type Report } from "../model/report.ts";
import { writtenText } from "./text-report.ts";

/** What the HDR histograms of the analysis offer (hdr-histogram-js JsHistogram). */
export interface HdrLike {
  readonly countsArrayLength: number;
  getCountAtIndex(index: number): number;
  /** lowest value that lands at `index` */
  valueFromIndex(index: number): number;
}

/** The histogram of one task's metric, or undefined when none was kept. */
export type HistogramLookup = (tid: number, metric: MetricKey) => HdrLike | undefined;

export interface HistOptions {
  bucketNs: number;
  entries: number;
  withZeros?: boolean;
}

export const METRIC_ABBREV: Record<MetricKey, string> = {
  latency: "lat",
  response: "rsp",
  relief: "rlf",
  timer: "tmr",
  irq: "irq",
};

export interface Buckets {
  counts: Float64Array;
  over: number;
  total: number;
}

/**
 * Spreads an HDR histogram's counts over `entries` buckets of `bucketNs`; the rest is `over`.
 * Each HDR cell goes to the bucket of its lowest value. Cells are exact up to 2048 ns and
 * 0.1 % wide above, so a sample within 0.1 % of a bucket edge may be counted in the bucket
 * below it (e.g. at 1 ms a cell spans 1024 ns).
 */
export function bucketize(h: HdrLike, bucketNs: number, entries: number): Buckets {
  const counts = new Float64Array(entries);
  let over = 0;
  let total = 0;
  for (let i = 0; i < h.countsArrayLength; i++) {
    const n = h.getCountAtIndex(i);
    if (n === 0) continue;
    total += n;
    const b = Math.floor(h.valueFromIndex(i) / bucketNs);
    if (b < entries) counts[b] += n;
    else over += n;
  }
  return { counts, over, total };
}

interface HistColumn {
  label: string;
  title: string;
  buckets: Buckets;
  count: number;
  min: number;
  mean: number;
  max: number;
}

function durationHms(ns: number): string {
  const s = Math.max(0, Math.floor(ns / 1e9));
  const d = Math.floor(s / 86400);
  const hh = String(Math.floor((s % 86400) / 3600)).padStart(2, "0");
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return `${d} ${hh}:${mm}:${ss}`;
}

/** Report + histograms → rtla-style text. */
export function formatHistReport(report: Report, lookup: HistogramLookup, opts: HistOptions): string {
  const unitNs = opts.bucketNs % 1000 === 0 ? 1000 : 1;
  const unitName = unitNs === 1000 ? "microseconds (us)" : "nanoseconds (ns)";
  const columns: HistColumn[] = [];
  const missing: string[] = [];
  for (const t of report.tasks) {
    for (const k of METRIC_KEYS) {
      const m = t.metrics[k];
      if (!m) continue;
      const label = `${METRIC_ABBREV[k]}-${t.tid}`;
      const h = lookup(t.tid, k);
      if (!h) {
        missing.push(label);
        continue;
      }
      columns.push({
        label,
        title: `${t.comm}[${t.tid}] ${METRIC_TITLES[k]}`,
        buckets: bucketize(h, opts.bucketNs, opts.entries),
        count: m.count,
        min: m.min,
        mean: m.mean,
        max: m.max,
      });
    }
  }
  const out: string[] = [];
  out.push("# rtscope histogram (rtla timerlat hist layout)");
  out.push(`# Time unit is ${unitName}`);
  const s = report.source;
  if (s.start !== undefined && s.end !== undefined)
    out.push(`# Duration: ${durationHms(Number(BigInt(s.end) - BigInt(s.start)))}`);
  out.push(`# Source: ${s.path}${s.format ? ` (${s.format})` : ""}; selection: ${report.selection}`);
  const written = writtenText(s);
  if (written) out.push(`# Events: ${s.events} read; written ${written}`);
  out.push(
    `# Bucket size: ${opts.bucketNs / unitNs} ${unitNs === 1000 ? "us" : "ns"}, entries: ${opts.entries}`,
  );
  for (const c of columns) out.push(`# ${c.label}: ${c.title}`);
  if (missing.length) out.push(`# no histogram kept for: ${missing.join(" ")}`);
  if (columns.length === 0) {
    out.push("# no samples for the selected tasks");
    return `${out.join("\n")}\n`;
  }
  const widths = columns.map((c) => Math.max(9, c.label.length));
  // rtla: "Index" then "   IRQ-000" per column; rows "%-6d" then "%9d " per column.
  out.push(`Index${columns.map((c, i) => ` ${c.label.padStart(widths[i])}`).join("")}`.trimEnd());
  const row = (head: string, cells: (number | string)[]) =>
    `${head.padEnd(6)}${cells.map((v, i) => `${String(v).padStart(widths[i])} `).join("")}`.trimEnd();
  const bucketUnits = opts.bucketNs / unitNs;
  for (let b = 0; b < opts.entries; b++) {
    let any = false;
    for (const c of columns) if (c.buckets.counts[b] !== 0) any = true;
    if (!any && !opts.withZeros) continue;
    out.push(
      row(
        String(Math.round(b * bucketUnits)),
        columns.map((c) => c.buckets.counts[b]),
      ),
    );
  }
  const inUnit = (v: number) => Math.floor(v / unitNs);
  out.push(
    row(
      "over:",
      columns.map((c) => c.buckets.over),
    ),
  );
  out.push(
    row(
      "count:",
      columns.map((c) => c.count),
    ),
  );
  out.push(
    row(
      "min:",
      columns.map((c) => inUnit(c.min)),
    ),
  );
  out.push(
    row(
      "avg:",
      columns.map((c) => inUnit(c.mean)),
    ),
  );
  out.push(
    row(
      "max:",
      columns.map((c) => inUnit(c.max)),
    ),
  );
  return `${out.join("\n")}\n`;
}
