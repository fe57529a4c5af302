// The bridge the offline commands (report, demo) share: open a trace file, run the
// analysis over it, return the report and the histograms the hist format needs. The
// readers and the analysis are loaded when first needed, so a build without them gives a
// clear message instead of failing at start-up.

import { existsSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Histogram } from "hdr-histogram-js";
import { createAnalysisPipeline } from "../analysis/pipeline.ts";
import { type SampleObserver, ViolationWindows } from "../analysis/sample-observer.ts";
import type { WindowSource } from "../analysis/window-source.ts";
import { windowCaptureFrom } from "../analysis/worst-windows.ts";
import type { DiagnosticEntry } from "../model/diagnostics.ts";
import type { MetricKey, Report, SloBounds } from "../model/report.ts";
import { type Selection, selectionIsEmpty } from "../model/selection.ts";
import type { RunOptions, TraceSource } from "../model/source.ts";
import type { HdrLike, HistogramLookup } from "../output/hist-report.ts";
import { SamplesCsvWriter } from "../output/samples-csv.ts";
import type { WindowRenderer } from "../output/text-report.ts";
import type { TraceDatWindowsOptions } from "../sources/trace-dat-windows.ts";
import type { WindowSettings } from "./options.ts";

/** What a stored run keeps of a thread's metric: its histogram, or its few samples (MetricStats.stored). */
export type StoredHistogramLookup = (tid: number, metric: MetricKey) => Histogram | Float64Array | undefined;

export interface TraceAnalysisOptions {
  selection: Selection;
  slo: SloBounds;
  worstN: number;
  wakeupEvent: "wakeup" | "waking";
  /** trace.dat buffer (instance) name */
  buffer?: string;
  /**
   * capture worst-case windows with their causes (default true); "violations": only those of
   * samples over their SLO bound (what a text report with --windows violations shows)
   */
  windows?: boolean | "violations";
  /** --margin / --window-memory (defaults: 100 µs, 64 MiB) */
  windowSettings?: Partial<WindowSettings>;
  /** --strict: corrupt data is an error instead of a counted loss */
  strict?: boolean;
  /** --threads: trace.dat decode workers (undefined: the reader's default) */
  threads?: number;
  /** --samples: CSV file of every sample */
  samples?: string;
}

/** Diagnostics that mean the input is corrupt (data skipped and counted as lost events). */
const CORRUPTION_KEYS = new Set(["corrupt_subbuffer", "tid_out_of_range", "cpu_out_of_range"]);

/**
 * The stderr warning for corrupt data that was skipped ("" when none): the report is made,
 * but a user gating on it must hear that part of the file was not read.
 */
export function corruptionWarning(file: string, diagnostics: readonly DiagnosticEntry[]): string {
  const parts: string[] = [];
  let first = -1;
  for (const d of diagnostics) {
    if (!CORRUPTION_KEYS.has(d.key)) continue;
    const what =
      d.key === "corrupt_subbuffer"
        ? "corrupt sub-buffer(s) or chunk(s) skipped"
        : d.key === "tid_out_of_range"
          ? "event(s) with an impossible thread id dropped"
          : "event(s) with an impossible CPU dropped";
    parts.push(`${d.count} ${what}${d.cpu >= 0 ? ` on CPU ${d.cpu}` : ""}`);
    const at = Number(/^offset (\d+)/.exec(d.details[0] ?? "")?.[1] ?? -1);
    if (at >= 0 && (first < 0 || at < first)) first = at;
  }
  if (parts.length === 0) return "";
  const where = first >= 0 ? ` (first at offset ${first})` : "";
  return `rtscope: warning: ${file}: corrupt data: ${parts.join(", ")}${where}; counted as lost events, activations across them cut (--strict makes this an error)\n`;
}

interface SourcesModule {
  openSource(
    path: string,
    opts?: {
      traceDat?: { buffer?: string; strict?: boolean; threads?: number };
      text?: { strict?: boolean };
    },
  ): Promise<TraceSource>;
}

/**
 * The source's own worst-window reader when it has one (a seekable trace.dat reads windows
 * back from the file, and records only while that costs less).
 */
function windowReadBack(source: TraceSource, opts: TraceDatWindowsOptions): WindowSource | undefined {
  const s = source as TraceSource & { windowSource?: (o: TraceDatWindowsOptions) => WindowSource };
  return typeof s.windowSource === "function" ? s.windowSource(opts) : undefined;
}

async function loadModule<T>(relPath: string, what: string): Promise<T> {
  const url = new URL(relPath, import.meta.url);
  if (!existsSync(fileURLToPath(url)))
    throw new Error(
      `this build of rtscope has no ${what} (${relPath.replace(/^\.\.\//, "src/")} is missing)`,
    );
  return (await import(url.href)) as T;
}

/**
 * Opens `file`, runs one pipeline over it (with a flight recorder for worst windows unless
 * `windows` is false), closes it. Errors (missing file, corrupt data) propagate.
 */
export async function analyzeTrace(
  file: string,
  o: TraceAnalysisOptions,
  run: RunOptions = {},
): Promise<{ report: Report; histograms: HistogramLookup; histogram: StoredHistogramLookup }> {
  // A missing or unreadable file is the user's problem to fix: say so before anything else.
  if (statSync(file).isDirectory()) throw new Error(`${file}: is a directory, expected a trace file`);
  const sources = await loadModule<SourcesModule>("../sources/open-source.ts", "trace reader");
  const strict = o.strict === true;
  const source = await sources.openSource(file, {
    traceDat: {
      ...(o.buffer !== undefined && { buffer: o.buffer }),
      strict,
      ...(o.threads !== undefined && { threads: o.threads }),
    },
    text: { strict },
  });
  let samples: SamplesCsvWriter | undefined;
  try {
    const info = source.info;
    if (o.samples !== undefined) samples = new SamplesCsvWriter(o.samples, info.tsBase);
    // Windows read back from the file (a long one from its two ends only), or copied from a
    // flight recorder while the windows cover much of the trace; every thread's report starts
    // with the recorder, a selection's without (TraceDatWindows.considerRecording).
    const readBack =
      o.windows === false
        ? undefined
        : windowReadBack(source, { recorder: {}, recordFromStart: selectionIsEmpty(o.selection) });
    const { analysis, pipeline } = createAnalysisPipeline({
      selection: o.selection,
      slo: o.slo,
      worstN: o.worstN,
      wakeupEvent: o.wakeupEvent,
      source,
      windows:
        readBack !== undefined
          ? windowCaptureFrom(readBack, { tsBase: info.tsBase, symbols: source.symbols, ...o.windowSettings })
          : o.windows !== false && { ...o.windowSettings },
      sink: samples,
      ...(o.windows === "violations" && {
        observer: (w: SampleObserver | undefined) => (w === undefined ? w : new ViolationWindows(w)),
      }),
    });
    await source.run(pipeline, run);
    pipeline.finish();
    const report = analysis.report(info, source.diagnostics, pipeline);
    return {
      report,
      histograms: (tid, metric) => analysis.histogram(tid, metric) as unknown as HdrLike | undefined,
      histogram: (tid, metric) => analysis.storedHistogram(tid, metric),
    };
  } finally {
    samples?.close();
    source.close();
  }
}

/**
 * The worst-window renderer for text reports: the cause breakdown of each window (the
 * event listing is what `rtscope export` is for). Loaded only for text output; it is part
 * of rtscope, so a failure to load it is a bug and is thrown, never hidden.
 */
export async function loadWindowRenderer(): Promise<WindowRenderer> {
  const { formatWorstWindow } = await import("../output/window-text.ts");
  return (w, task, metric) => formatWorstWindow(w, task, metric, { events: false });
}
