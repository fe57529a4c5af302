// `rtscope export FILE --task TID --metric M [--format perfetto|tracedat|json|text] -o OUT`:
// analyses a recorded trace with the flight recorder on, and writes the worst-case window
// of a task's metric (or the windows of every task of a selection, merged) as trace.dat v6
// (trace-cmd report, KernelShark), ftrace text (Perfetto UI), JSON (SPEC §2 window
// schema) or the text listing with its cause breakdown.

import { closeSync, existsSync, openSync, readFileSync, readSync } from "node:fs";
import { createAnalysisPipeline } from "../analysis/pipeline.ts";
import { type CapturedWindow, createWindowCapture, type WindowRole } from "../analysis/worst-windows.ts";
import { METRIC_KEYS, type MetricKey, type WorstWindow } from "../model/report.ts";
import type { Selection } from "../model/selection.ts";
import { selectionIsEmpty } from "../model/selection.ts";
import { parseJsonExact } from "../output/json-report.ts";
import { writeOutputFile } from "../output/output-file.ts";
import { formatPerfettoText } from "../output/perfetto-text.ts";
import { ProgressLine } from "../output/progress.ts";
import { writeTraceDat } from "../output/trace-dat-writer.ts";
import { formatWindowsJson } from "../output/window-json.ts";
import { formatWorstWindow } from "../output/window-text.ts";
import { openSource } from "../sources/open-source.ts";
import { windowEventsFromReport } from "../windows/window-import.ts";
import { mergeWindowEvents } from "../windows/window-merge.ts";
import { corruptionWarning } from "./analyze-trace.ts";
import {
  ANALYSIS_OPTIONS,
  HELP_OPTIONS,
  parseCommandLine,
  parseFormat,
  parseIdList,
  parseSlo,
  parseThreads,
  parseWakeupEvent,
  parseWindowSettings,
  refuseOutputOverInput,
  SELECTION_HELP,
  SELECTION_OPTIONS,
  SLO_OPTIONS,
  STRICT_HELP,
  selectionFromValues,
  THREADS_HELP,
  UsageError,
  WINDOW_OPTIONS,
} from "./options.ts";
import { DB_HELP, DB_OPTIONS, loadRun, openStoredRuns, runIdOf } from "./stored-runs.ts";

/** Moved to options.ts (report and record take --window-memory too); kept importable here. */
export { parseSize } from "./options.ts";

export const summary = "export a worst-case window (Perfetto, trace.dat, JSON)";

export const help = `Usage: rtscope export FILE|RUN --task TID --metric M [--format perfetto|tracedat|json|text] -o OUT

Analyses FILE (trace.dat v6/v7 or ftrace text) and writes the worst-case window of a task's
metric: the events of every CPU involved from the wakeup (minus --margin) to the end of
the metric. FILE may also be a JSON report (rtscope report --format json) or a JSON
export, and RUN the id of a stored run (rtscope runs list): their saved windows (the worst
case of each metric) are converted without the trace.

  --task TID             the thread (repeatable, or a list 4028,4029); or use a selection
                         below to export the windows of every matching thread, merged
  --metric M             latency (default), response, relief, timer, irq
  --window W             which window: max (default), first (first SLO violation),
                         worst (worst SLO violation; needs --slo)
  --format, -f F         tracedat (trace.dat v6 for trace-cmd report / KernelShark),
                         perfetto (ftrace text for ui.perfetto.dev), json, text
                         (default: from the OUT extension: .dat tracedat, .json json,
                         .txt text, else perfetto)
  -o, --output OUT       output file (required for tracedat; else stdout)
  --margin T             time kept before the wakeup (default 100us)
  --window-memory SIZE   bound on the memory of all captured windows (default 64MiB)
  --slo M=BOUND          SLO bounds, for --window first|worst
  --buffer NAME          the trace.dat buffer (instance) to read
${STRICT_HELP}
${THREADS_HELP}
  --wakeup-event E       wakeup (default) or waking
${DB_HELP}

${SELECTION_HELP}

Examples:
  rtscope export trace.dat --task 4028 --metric latency -o worst.dat
  trace-cmd report worst.dat
  rtscope export trace.dat --comm cyclictest --metric timer -f perfetto -o worst.txt
  rtscope export 12 --comm cyclictest --metric latency -o worst.dat   # stored run 12

Exit status: 0 ok, 1 usage error, 2 runtime error (bad file, no such run, no such window).
`;

const OPTIONS = {
  ...HELP_OPTIONS,
  ...SELECTION_OPTIONS,
  ...SLO_OPTIONS,
  ...ANALYSIS_OPTIONS,
  task: { type: "string", multiple: true },
  metric: { type: "string" },
  window: { type: "string" },
  format: { type: "string", short: "f" },
  output: { type: "string", short: "o" },
  ...WINDOW_OPTIONS,
  ...DB_OPTIONS,
  buffer: { type: "string" },
  strict: { type: "boolean" },
  threads: { type: "string" },
} as const;

const FORMATS = ["tracedat", "perfetto", "json", "text"] as const;
type ExportFormat = (typeof FORMATS)[number];
const ROLES: Record<string, WindowRole> = { max: "max", first: "first-violation", worst: "worst-violation" };

function defaultFormat(out: string | undefined): ExportFormat {
  if (!out) return "perfetto";
  if (/\.dat$/i.test(out)) return "tracedat";
  if (/\.json$/i.test(out)) return "json";
  if (/\.txt$/i.test(out) && !/perfetto|ftrace/i.test(out)) return "text";
  return "perfetto";
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine("export", argv, OPTIONS);
  if (values.help) {
    process.stdout.write(help);
    return 0;
  }
  if (positionals.length !== 1)
    throw new UsageError(
      positionals.length ? "give one trace file" : "no trace file given (rtscope export FILE ...)",
      "export",
    );
  const file = positionals[0];
  const runId = existsSync(file) ? undefined : runIdOf(file);
  if (!existsSync(file) && runId === undefined)
    throw new UsageError(`${file}: no such file, and not a run id (rtscope runs list shows them)`, "export");
  refuseOutputOverInput(values.output, runId === undefined ? [file] : [], "export");
  const metric = (values.metric ?? "latency") as MetricKey;
  if (!METRIC_KEYS.includes(metric))
    throw new UsageError(`unknown metric '${values.metric}'; metrics: ${METRIC_KEYS.join(", ")}`, "export");
  const role = ROLES[values.window ?? "max"];
  if (!role) throw new UsageError(`unknown --window '${values.window}'; use max, first or worst`, "export");
  const format = parseFormat(values.format, FORMATS, defaultFormat(values.output), "export");
  if (format === "tracedat" && !values.output)
    throw new UsageError("a trace.dat is binary: name the output file with -o OUT", "export");
  const selection = selectionFromValues(values, "export");
  for (const t of parseIdList(values.task, "--task", "export")) selection.tids.push(t);
  if (selectionIsEmpty(selection))
    throw new UsageError("name the task: --task TID (or a selection such as --comm REGEX)", "export");
  const slo = parseSlo(values.slo, "export");
  if (role !== "max" && slo[metric] === undefined)
    throw new UsageError(
      `--window ${values.window} needs an SLO bound for ${metric} (--slo ${metric}=...)`,
      "export",
    );
  const { marginNs, windowMemoryBytes } = parseWindowSettings(values, "export");

  if (runId !== undefined || isJson(file)) {
    let doc: unknown;
    let what = file;
    if (runId !== undefined) {
      const store = openStoredRuns(values.db);
      try {
        doc = loadRun(store, runId).report;
        what = `${store.path}: run ${runId}`;
      } finally {
        store.close();
      }
    } else doc = readJson(file);
    const windows = savedWindows(doc, selection, metric);
    if (windows.length === 0) {
      process.stderr.write(`rtscope export: ${what}: no saved ${metric} window for the selected threads\n`);
      return 2;
    }
    return writeOut(values.output, format, exportSaved(windows, metric, format));
  }
  const strict = values.strict === true;
  const source = await openSource(file, {
    traceDat: {
      ...(values.buffer !== undefined && { buffer: values.buffer }),
      strict,
      ...(values.threads !== undefined && { threads: parseThreads(values.threads, "export") }),
    },
    text: { strict },
  });
  const progress = new ProgressLine({ label: file });
  let text: string | Uint8Array;
  let summaryLine: string;
  try {
    const info = source.info;
    const capture = createWindowCapture({
      tsBase: info.tsBase,
      symbols: source.symbols,
      marginNs,
      windowMemoryBytes,
    });
    const { analysis, pipeline } = createAnalysisPipeline({
      selection,
      slo,
      wakeupEvent: parseWakeupEvent(values["wakeup-event"], "export"),
      source,
      windows: capture,
    });
    await source.run(pipeline, { onProgress: progress.update });
    pipeline.finish();
    progress.clear();
    const report = analysis.report(info, source.diagnostics, pipeline);
    process.stderr.write(corruptionWarning(file, report.diagnostics));
    const chosen: { tid: number; comm: string; w: CapturedWindow }[] = [];
    for (const t of report.tasks) {
      const w = capture.windows.captured(t.tid, metric, role);
      if (w) chosen.push({ tid: t.tid, comm: t.comm, w });
    }
    if (chosen.length === 0) {
      const seen = report.tasks.map((t) => t.tid).join(", ") || "none";
      process.stderr.write(
        `rtscope export: ${file}: no ${values.window ?? "max"} window for metric ${metric} (tracked threads: ${seen}; a thread needs samples of the metric${role === "max" ? "" : " over its bound"})\n`,
      );
      return 2;
    }
    const merged = mergeWindowEvents(chosen.map((c) => c.w));
    switch (format) {
      case "tracedat": {
        const res = writeTraceDat(merged, info.tsBase, {
          cpus: info.cpus,
          symbols: source.symbols,
          clock: info.clock || "mono",
          uname: info.kernel ? unameOf(info.kernel) : undefined,
          tgids: analysis.knownTgids(merged.comms.keys()),
        });
        text = res.bytes;
        break;
      }
      case "perfetto":
        text = formatPerfettoText(merged, info.tsBase, { cpus: info.cpus, symbols: source.symbols });
        break;
      case "json":
        text = formatWindowsJson(
          chosen.map((c) => ({ tid: c.tid, comm: c.comm, metric, window: capture.windows.render(c.w) })),
        );
        break;
      default:
        text = `${chosen
          .map((c) => formatWorstWindow(capture.windows.render(c.w), { tid: c.tid, comm: c.comm }, metric))
          .join("\n\n")}\n`;
    }
    const incomplete = chosen.filter((c) => c.w.incomplete).length;
    summaryLine = `${chosen.length} window(s), ${merged.events.length} events${incomplete ? `, ${incomplete} cut by lost events` : ""}`;
  } finally {
    progress.clear();
    source.close();
  }
  return writeOut(values.output, format, { data: text, summary: summaryLine });
}

function writeOut(
  output: string | undefined,
  format: string,
  r: { data: string | Uint8Array; summary: string },
): number {
  if (output) {
    writeOutputFile(output, r.data);
    process.stderr.write(`rtscope export: wrote ${r.summary} to ${output} (${format})\n`);
  } else {
    process.stdout.write(r.data);
  }
  return 0;
}

/**
 * The UNAME option as trace-cmd writes it ("sysname nodename release machine"): readers
 * take the release from the third word on. The recording's host name is not in the
 * report, so the node name is a placeholder.
 */
export function unameOf(kernel: string): string {
  return `Linux rtscope-export ${kernel}`;
}

function isJson(file: string): boolean {
  const fd = openSync(file, "r");
  try {
    const head = Buffer.alloc(64);
    const n = readSync(fd, head, 0, 64, 0);
    return /^\s*[[{]/.test(head.subarray(0, n).toString("latin1"));
  } finally {
    closeSync(fd);
  }
}

interface SavedWindow {
  tid: number;
  comm: string;
  window: WorstWindow;
}

function readJson(file: string): unknown {
  try {
    // timestamps past 2^53 are JSON integers: keep them exact
    return parseJsonExact(readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
}

/** Windows saved in a report (one or an array; JSON or stored) or a JSON export, for the selection. */
function savedWindows(doc: unknown, sel: Selection, metric: MetricKey): SavedWindow[] {
  const wanted = (tid: number, comm: string) =>
    sel.tids.includes(tid) || sel.comms.some((re) => re.test(comm)) || sel.tgids.length > 0;
  const out: SavedWindow[] = [];
  const reports = Array.isArray(doc) ? doc : [doc];
  for (const r of reports as Record<string, unknown>[]) {
    if (Array.isArray(r.windows)) {
      for (const x of r.windows as { tid: number; comm: string; metric: string; window: WorstWindow }[])
        if (x.metric === metric && wanted(x.tid, x.comm))
          out.push({ tid: x.tid, comm: x.comm, window: x.window });
    }
    if (Array.isArray(r.tasks)) {
      for (const t of r.tasks as {
        tid: number;
        tgid: number;
        comm: string;
        worst?: Record<string, WorstWindow>;
      }[]) {
        const w = t.worst?.[metric];
        if (w && (wanted(t.tid, t.comm) || sel.tgids.includes(t.tgid)))
          out.push({ tid: t.tid, comm: t.comm, window: w });
      }
    }
  }
  return out;
}

function exportSaved(
  list: SavedWindow[],
  metric: MetricKey,
  format: ExportFormat,
): { data: string | Uint8Array; summary: string } {
  const summary = `${list.length} saved window(s)`;
  if (format === "json")
    return {
      data: formatWindowsJson(list.map((x) => ({ tid: x.tid, comm: x.comm, metric, window: x.window }))),
      summary,
    };
  if (format === "text")
    return {
      data: `${list.map((x) => formatWorstWindow(x.window, { tid: x.tid, comm: x.comm }, metric)).join("\n\n")}\n`,
      summary,
    };
  let base: bigint | undefined;
  for (const x of list)
    for (const e of x.window.events.slice(0, 1))
      if (base === undefined || BigInt(e.ts) < base) base = BigInt(e.ts);
  const fnKeys = new Map<string, number>();
  const conv = list.map((x) => windowEventsFromReport(x.window, base, fnKeys));
  const merged = mergeWindowEvents(conv);
  const tsBase = base ?? 0n;
  const symbols = conv[0].symbols;
  const data =
    format === "tracedat"
      ? writeTraceDat(merged, tsBase, { symbols }).bytes
      : formatPerfettoText(merged, tsBase, { symbols });
  return { data, summary: `${summary}, ${merged.events.length} events` };
}
