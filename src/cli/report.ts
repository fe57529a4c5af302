// `rtscope report FILE...`: analyse recorded traces (trace.dat v6/v7, ftrace text) and
// print one report per file. Several files: text and hist reports follow each other,
// JSON is an array (one object per file; a single file gives a single object), JUnit is
// one document with a <testsuite> per file. Exit 3 when any SLO bound was violated.

import { basename } from "node:path";
import type { MetricKey, Report } from "../model/report.ts";
import { type Selection, selectionIsEmpty } from "../model/selection.ts";
import { formatHistReport, type HistogramLookup } from "../output/hist-report.ts";
import { encodeJsonReport, encodeJsonReports } from "../output/json-report.ts";
import { formatJunitReport } from "../output/junit-report.ts";
import { writeOutputFile } from "../output/output-file.ts";
import { ProgressLine } from "../output/progress.ts";
import {
  formatTextReport,
  WINDOW_CHOICES,
  type WindowChoice,
  type WindowRenderer,
} from "../output/text-report.ts";
import { analyzeTrace, corruptionWarning, loadWindowRenderer } from "./analyze-trace.ts";
import { gateExit } from "./gate.ts";
import {
  ANALYSIS_HELP,
  ANALYSIS_OPTIONS,
  capturedWindows,
  exitHelp,
  HELP_OPTIONS,
  HIST_OPTIONS,
  type HistSettings,
  METRICS_HELP,
  OUTPUT_OPTIONS,
  parseCommandLine,
  parseCount,
  parseFormat,
  parseHistSettings,
  parseMetricList,
  parseSlo,
  parseThreads,
  parseWakeupEvent,
  parseWindowSettings,
  REPORT_FORMATS,
  type ReportFormat,
  refuseOutputOverInput,
  SAMPLES_HELP,
  SELECTION_HELP,
  SELECTION_OPTIONS,
  SLO_HELP,
  SLO_OPTIONS,
  STRICT_HELP,
  selectionFromValues,
  THREADS_HELP,
  UsageError,
  WINDOW_HELP,
  WINDOW_OPTIONS,
  type WindowSettings,
} from "./options.ts";

export const summary = "analyse recorded traces (trace.dat, ftrace text)";

export const help = `Usage: rtscope report FILE... [SELECTION] [--slo ...] [--format text|json|junit|hist] [-o FILE]
                      [--worst N] [--buffer NAME] [--strict] [--threads N] [--wakeup-event wakeup|waking]
                      [--margin T] [--window-memory SIZE]

Analyses recorded traces: trace-cmd's trace.dat (v6, v7 with zlib/zstd) and ftrace text
(/sys/kernel/tracing/trace, trace-cmd report output). Prints, per process and thread, the
metrics below with count, min, percentiles and max, SLO violations, the worst cases with
their causes, and the data problems found (lost events, inferred switch-ins).

${SELECTION_HELP}

${SLO_HELP}

Output:
  --format, -f F         text (default), json (stable schema: README), junit (one test case per
                         task and metric with a bound), hist (rtla timerlat hist layout)
  -o, --output FILE      write the report to FILE instead of stdout
  --metrics LIST         only these metrics in the output (e.g. --metrics latency,timer); the
                         exit status then only counts their bounds
  --worst N              also list the N worst samples of each metric
${SAMPLES_HELP}
                         (one trace FILE only)
  --windows W            text: which worst cases to explain (cause breakdown): all, violations
                         (only metrics over their SLO), none (no worst-case windows at all, in
                         text or JSON: faster). Default: all when a selection is given,
                         violations when every thread is reported
  --bucket SIZE          hist: bucket size (default 1us)
  --entries N            hist: number of buckets (default 256); larger samples count in 'over:'
  --with-zeros           hist: print buckets where every column is zero
  Several FILEs: one report each; JSON gives an array, JUnit one <testsuite> per file.

Input:
  --buffer NAME          the trace.dat buffer (instance) to read (default: the first buffer
                         holding scheduler events, else the top buffer; the report header
                         names the buffer read)
${STRICT_HELP}
${THREADS_HELP}

${WINDOW_HELP}

${ANALYSIS_HELP}

${METRICS_HELP}

Examples:
  rtscope report trace.dat --comm cyclictest --slo latency=50us
  rtscope report trace.dat --rt --format json -o report.json
  rtscope report trace.dat --pid 4028 --format hist --bucket 2us --entries 100
  rtscope report a.dat b.dat --slo timer=100us --format junit -o rt-junit.xml
  rtscope report trace.dat --comm cyclictest --samples samples.csv

${exitHelp(false)}
`;

const OPTIONS = {
  ...HELP_OPTIONS,
  ...SELECTION_OPTIONS,
  ...SLO_OPTIONS,
  ...ANALYSIS_OPTIONS,
  ...OUTPUT_OPTIONS,
  ...HIST_OPTIONS,
  ...WINDOW_OPTIONS,
  buffer: { type: "string" },
  strict: { type: "boolean" },
  threads: { type: "string" },
  windows: { type: "string" },
  metrics: { type: "string", multiple: true },
} as const;

export interface ReportCommandOptions {
  files: string[];
  selection: Selection;
  slo: ReturnType<typeof parseSlo>;
  format: ReportFormat;
  output?: string;
  worstN: number;
  /** --samples: CSV of every sample */
  samples?: string;
  buffer?: string;
  /** --strict: corrupt data is an error */
  strict: boolean;
  /** --threads: trace.dat decode workers (undefined: the reader's default) */
  threads?: number;
  wakeupEvent: "wakeup" | "waking";
  hist: HistSettings;
  windows: WindowChoice;
  /** metrics to show; [] = all */
  metrics: MetricKey[];
  /** --margin, --window-memory */
  window: WindowSettings;
}

export function parseReportArgs(argv: string[]): ReportCommandOptions | "help" {
  const { values, positionals } = parseCommandLine("report", argv, OPTIONS);
  if (values.help) return "help";
  if (positionals.length === 0)
    throw new UsageError("no trace file given (rtscope report FILE...)", "report");
  const selection = selectionFromValues(values, "report");
  if (values.samples !== undefined && positionals.length > 1)
    throw new UsageError("--samples takes one trace file at a time (its rows carry no file name)", "report");
  refuseOutputOverInput(values.output, positionals, "report");
  return {
    files: positionals,
    selection,
    slo: parseSlo(values.slo, "report"),
    format: parseFormat(values.format, REPORT_FORMATS, "text", "report"),
    output: values.output,
    worstN: parseCount(values.worst, "--worst", 0, { min: 0, max: 10_000 }, "report"),
    samples: values.samples,
    buffer: values.buffer,
    strict: values.strict === true,
    threads: parseThreads(values.threads, "report"),
    wakeupEvent: parseWakeupEvent(values["wakeup-event"], "report"),
    hist: parseHistSettings(values, "report"),
    metrics: parseMetricList(values.metrics, "--metrics", "report"),
    window: parseWindowSettings(values, "report"),
    windows: parseFormat(
      values.windows,
      WINDOW_CHOICES,
      selectionIsEmpty(selection) ? "violations" : "all",
      "report",
      "--windows",
    ),
  };
}

/** The report restricted to `keys` (every metric when empty). */
export function onlyMetrics(r: Report, keys: readonly MetricKey[]): Report {
  if (keys.length === 0) return r;
  const pick = <T>(o: Partial<Record<MetricKey, T>> | undefined) => {
    if (o === undefined) return undefined;
    const out: Partial<Record<MetricKey, T>> = {};
    for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
    return out;
  };
  return {
    ...r,
    slo: pick(r.slo) ?? {},
    tasks: r.tasks.map((t) => ({
      ...t,
      metrics: pick(t.metrics) ?? {},
      worst: pick(t.worst),
      worstList: pick(t.worstList),
    })),
  };
}

export interface AnalysedFile {
  report: Report;
  histograms: HistogramLookup;
}

/** Renders the analysed files in the chosen format (JSON comes UTF-8 encoded: it can be large). */
export function renderReports(
  files: readonly AnalysedFile[],
  o: Pick<ReportCommandOptions, "format" | "hist"> & { windows?: WindowChoice },
  extras: { width?: number; windowRenderer?: WindowRenderer } = {},
): string | Uint8Array {
  const reports = files.map((f) => f.report);
  switch (o.format) {
    case "json":
      return reports.length === 1 ? encodeJsonReport(reports[0]) : encodeJsonReports(reports);
    case "junit":
      return formatJunitReport(reports);
    case "hist":
      return files.map((f) => formatHistReport(f.report, f.histograms, o.hist)).join("\n");
    default:
      return reports.map((r) => formatTextReport(r, { ...extras, windows: o.windows })).join("\n");
  }
}

export async function run(argv: string[]): Promise<number> {
  const o = parseReportArgs(argv);
  if (o === "help") {
    process.stdout.write(help);
    return 0;
  }
  const analysed: AnalysedFile[] = [];
  const captured = capturedWindows(o);
  for (const file of o.files) {
    const progress = new ProgressLine({ label: basename(file) });
    try {
      analysed.push(
        await analyzeTrace(
          file,
          {
            selection: o.selection,
            slo: o.slo,
            worstN: o.worstN,
            wakeupEvent: o.wakeupEvent,
            buffer: o.buffer,
            strict: o.strict,
            threads: o.threads,
            windows: captured === "all" ? true : captured,
            windowSettings: o.window,
            samples: o.samples,
          },
          { onProgress: progress.update },
        ),
      );
    } finally {
      progress.clear();
    }
    process.stderr.write(corruptionWarning(file, analysed[analysed.length - 1].report.diagnostics));
  }
  // a selection the trace could not fully resolve is said where a CI log shows it, whatever the format
  for (let i = 0; i < analysed.length; i++)
    for (const d of analysed[i].report.diagnostics)
      if (d.key === "tgid_unplaced")
        process.stderr.write(`rtscope: ${o.files[i]}: ${d.details.join("; ")}: ${d.message}; ${d.remedy}\n`);
  if (o.metrics.length > 0) for (const a of analysed) a.report = onlyMetrics(a.report, o.metrics);
  const windowRenderer = o.format === "text" ? await loadWindowRenderer() : undefined;
  const width = o.output === undefined && process.stdout.isTTY ? process.stdout.columns : undefined;
  const text = renderReports(analysed, o, { width: width ?? 100, windowRenderer });
  if (o.output !== undefined) writeOutputFile(o.output, text);
  else process.stdout.write(text);
  return gateExit(analysed.map((a) => a.report));
}
