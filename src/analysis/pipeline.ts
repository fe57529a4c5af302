// The one place an analysis pipeline is assembled (report, export, demo, record, top, hist,
// admit, serve, benchmarks): the analysis options from the source and the command, the
// worst-window capture (a flight recorder fed by the stream, or another WindowSource), the
// observer a daemon wraps around it, and the analyzers in dependency order (analyzer.ts:
// each declares what it reads, `Pipeline` orders them and refuses a missing one or a cycle).

import type { Report } from "../model/report.ts";
import type { Selection } from "../model/selection.ts";
import type { RunOptions, TraceSource } from "../model/source.ts";
import { Analysis, type AnalysisOptions, defaultAnalysisOptions, sourceAnalysisOptions } from "./analyze.ts";
import { Pipeline } from "./analyzer.ts";
import type { SampleObserver } from "./sample-observer.ts";
import { createWindowCapture, type WindowCapture, type WindowCaptureOptions } from "./worst-windows.ts";

export interface PipelineSpec
  extends Partial<Omit<AnalysisOptions, "observer" | "windows" | "windowSource" | "selection">> {
  selection: Selection;
  /** the source the events come from: its symbols, names, CPUs, clock and tsBase */
  source?: Pick<TraceSource, "info" | "symbols" | "initialComms" | "initialTgids">;
  /**
   * worst-case windows: settings of a flight-recorder capture (`{}` for the defaults), a
   * capture made over another WindowSource (windowCaptureFrom), or false/absent for none
   * (no recorder runs)
   */
  windows?: false | WindowCaptureOptions | WindowCapture;
  /** wraps the capture's observer (a daemon keeps windows of traced tasks only and taps violations) */
  observer?: (windows: SampleObserver | undefined) => SampleObserver | undefined;
}

/** An assembled pipeline: feed `pipeline` (source.run), read `analysis` at any time. */
export interface AnalysisPipeline {
  readonly analysis: Analysis;
  /** undefined when the run captures no worst-case windows */
  readonly capture: WindowCapture | undefined;
  readonly pipeline: Pipeline;
}

/** The analysis and its window capture, not yet in a pipeline (admit feeds two from one). */
export function createAnalysis(spec: PipelineSpec): {
  analysis: Analysis;
  capture: WindowCapture | undefined;
} {
  const { source, windows, observer, ...rest } = spec;
  const opts: AnalysisOptions = {
    ...defaultAnalysisOptions(spec.selection),
    ...(source === undefined ? {} : sourceAnalysisOptions(source)),
    ...stripUndefined(rest),
  };
  opts.slo = { ...opts.slo };
  let capture: WindowCapture | undefined;
  if (windows !== undefined && windows !== false)
    capture = isCapture(windows)
      ? windows
      : createWindowCapture({ tsBase: opts.tsBase, symbols: opts.symbols, ...windows });
  opts.observer = observer === undefined ? capture?.observer : observer(capture?.observer);
  opts.windows = capture?.windows;
  opts.windowSource = capture?.source;
  return { analysis: new Analysis(opts), capture };
}

export function createAnalysisPipeline(spec: PipelineSpec): AnalysisPipeline {
  const { analysis, capture } = createAnalysis(spec);
  return { analysis, capture, pipeline: new Pipeline(analysis.analyzers) };
}

/** Reads a whole source through one pipeline (no worst windows unless asked) and returns its report. */
export async function analyzeSource(
  source: TraceSource,
  spec: Omit<PipelineSpec, "source">,
  run?: RunOptions,
): Promise<Report> {
  const p = createAnalysisPipeline({ ...spec, source });
  await source.run(p.pipeline, run);
  p.pipeline.finish();
  return p.analysis.report(source.info, source.diagnostics, p.pipeline);
}

function isCapture(w: WindowCaptureOptions | WindowCapture): w is WindowCapture {
  return "observer" in w;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
