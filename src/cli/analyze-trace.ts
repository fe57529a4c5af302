// The bridge the offline commands (report, demo) share: open a trace file, run the
// analysis over it, return the report and the histograms the hist format needs. The
// readers and the analysis are loaded when first needed, so a build without them gives a
// clear message instead of failing at start-up.

import { existsSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Histogram } from "hdr-histogram-js";
import { Analysis, defaultAnalysisOptions, sourceAnalysisOptions } from "../analysis/analyze.ts";
import { Pipeline } from "../analysis/analyzer.ts";
import { createWindowCapture } from "../analysis/worst-windows.ts";
import type { MetricKey, Report, SloBounds } from "../model/report.ts";
import type { Selection } from "../model/selection.ts";
import type { RunOptions, TraceSource } from "../model/source.ts";
import type { HdrLike, HistogramLookup } from "../output/hist-report.ts";
import type { WindowRenderer } from "../output/text-report.ts";
import type { WindowSettings } from "./options.ts";

/** A thread's metric histogram itself (what the store encodes). */
export type HdrHistogramLookup = (tid: number, metric: MetricKey) => Histogram | undefined;

export interface TraceAnalysisOptions {
  selection: Selection;
  slo: SloBounds;
  worstN: number;
  wakeupEvent: "wakeup" | "waking";
  /** trace.dat buffer (instance) name */
  buffer?: string;
  /** capture worst-case windows with their causes (default true) */
  windows?: boolean;
  /** --margin / --window-memory (defaults: 100 µs, 64 MiB) */
  windowSettings?: Partial<WindowSettings>;
}

interface SourcesModule {
  openSource(path: string, opts?: { traceDat?: { buffer?: string } }): Promise<TraceSource>;
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
 * Opens `file`, runs one pipeline over it (flight recorder for worst windows, then the
 * analysis), closes it. Errors (missing file, corrupt data) propagate.
 */
export async function analyzeTrace(
  file: string,
  o: TraceAnalysisOptions,
  run: RunOptions = {},
): Promise<{ report: Report; histograms: HistogramLookup; histogram: HdrHistogramLookup }> {
  // A missing or unreadable file is the user's problem to fix: say so before anything else.
  if (statSync(file).isDirectory()) throw new Error(`${file}: is a directory, expected a trace file`);
  const sources = await loadModule<SourcesModule>("../sources/open-source.ts", "trace reader");
  const source = await sources.openSource(
    file,
    o.buffer !== undefined ? { traceDat: { buffer: o.buffer } } : {},
  );
  try {
    const info = source.info;
    const capture =
      o.windows === false
        ? undefined
        : createWindowCapture({ tsBase: info.tsBase, symbols: source.symbols, ...o.windowSettings });
    const analysis = new Analysis({
      ...defaultAnalysisOptions(o.selection),
      slo: { ...o.slo },
      worstN: o.worstN,
      wakeupEvent: o.wakeupEvent,
      ...sourceAnalysisOptions(source),
      observer: capture?.observer,
      windows: capture?.windows,
    });
    // the recorder sees each event before the metrics, so a window's last event is in it
    const pipeline = new Pipeline(capture ? [capture.recorder, ...analysis.analyzers] : analysis.analyzers);
    await source.run(pipeline, run);
    pipeline.finish();
    const report = analysis.report(info, source.diagnostics, pipeline);
    return {
      report,
      histograms: (tid, metric) => analysis.histogram(tid, metric) as unknown as HdrLike | undefined,
      histogram: (tid, metric) => analysis.histogram(tid, metric),
    };
  } finally {
    source.close();
  }
}

/**
 * The worst-window renderer for text reports: the cause breakdown of each window (the
 * event listing is what `rtscope export` is for). Returns undefined if it fails to load,
 * so that the text report falls back to its brief causes list.
 */
export async function loadWindowRenderer(): Promise<WindowRenderer | undefined> {
  try {
    const { formatWorstWindow } = await import("../output/window-text.ts");
    return (w, task, metric) => formatWorstWindow(w, task, metric, { events: false });
  } catch {
    return undefined;
  }
}
