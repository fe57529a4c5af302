// The bridge the offline commands (report, demo) share: open a trace file, run the
// analysis over it, return the report and the histograms the hist format needs. The
// readers and the analysis are loaded when first needed, so a build without them gives a
// clear message instead of failing at start-up.

import { existsSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { MetricKey, Report, SloBounds } from "../model/report.ts";
import type { Selection } from "../model/selection.ts";
import type { RunOptions, TraceSource } from "../model/source.ts";
import type { HdrLike, HistogramLookup } from "../output/hist-report.ts";
import type { WindowRenderer } from "../output/text-report.ts";

export interface TraceAnalysisOptions {
  selection: Selection;
  slo: SloBounds;
  worstN: number;
  wakeupEvent: "wakeup" | "waking";
  /** trace.dat buffer (instance) name */
  buffer?: string;
  /** keep per task/metric histograms for the hist format */
  keepHistograms?: boolean;
}

interface SourcesModule {
  openSource(path: string, opts?: { buffer?: string }): Promise<TraceSource>;
}

interface AnalysisLike {
  histogram?(tid: number, metric: MetricKey): HdrLike | undefined;
}

interface AnalysisModule {
  analyzeSource(
    source: TraceSource,
    opts: Record<string, unknown> & { selection: Selection },
    run?: RunOptions,
  ): Promise<Report>;
  Analysis?: new (...args: unknown[]) => AnalysisLike;
}

async function loadModule<T>(relPath: string, what: string): Promise<T> {
  const url = new URL(relPath, import.meta.url);
  if (!existsSync(fileURLToPath(url)))
    throw new Error(
      `this build of rtscope has no ${what} (${relPath.replace(/^\.\.\//, "src/")} is missing)`,
    );
  return (await import(url.href)) as T;
}

/** Opens `file`, analyses it, closes it. Errors (missing file, corrupt data) propagate. */
export async function analyzeTrace(
  file: string,
  o: TraceAnalysisOptions,
  run: RunOptions = {},
): Promise<{ report: Report; histograms: HistogramLookup }> {
  // A missing or unreadable file is the user's problem to fix: say so before anything else.
  if (statSync(file).isDirectory()) throw new Error(`${file}: is a directory, expected a trace file`);
  const sources = await loadModule<SourcesModule>("../sources/open-source.ts", "trace reader");
  const analysis = await loadModule<AnalysisModule>("../analysis/analyze.ts", "analysis");
  const source = await sources.openSource(file, o.buffer !== undefined ? { buffer: o.buffer } : undefined);
  try {
    const report = await analysis.analyzeSource(
      source,
      { selection: o.selection, slo: o.slo, worstN: o.worstN, wakeupEvent: o.wakeupEvent },
      run,
    );
    return { report, histograms: () => undefined };
  } finally {
    source.close();
  }
}

/** The windows engineer's worst-window renderer, when this build has it. */
export async function loadWindowRenderer(): Promise<WindowRenderer | undefined> {
  const url = new URL("../output/window-text.ts", import.meta.url);
  if (!existsSync(fileURLToPath(url))) return undefined;
  try {
    const mod = (await import(url.href)) as Record<string, unknown>;
    for (const name of ["formatWorstWindow", "formatWindowText", "renderWindow", "windowText"]) {
      if (typeof mod[name] === "function") return mod[name] as WindowRenderer;
    }
  } catch {
    // a broken renderer must not sink the report: the brief causes list is printed instead
  }
  return undefined;
}
