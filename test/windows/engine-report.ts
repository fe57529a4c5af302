// The metrics engine's report of a trace.dat with worst windows, assembled by the pipeline
// factory as the report command does; `beforeReport` may look at or change the captured
// windows between the end of the stream and the report.
import { createAnalysisPipeline } from "../../src/analysis/pipeline.ts";
import { createWindowCapture, type WindowCapture } from "../../src/analysis/worst-windows.ts";
import type { Report } from "../../src/model/report.ts";
import type { Selection } from "../../src/model/selection.ts";
import { openTraceDat } from "../../src/sources/trace-dat.ts";

export async function engineReport(
  file: string,
  sel: Selection,
  beforeReport?: (cap: WindowCapture) => void,
): Promise<{ rep: Report; tsBase: bigint }> {
  const src = await openTraceDat(file);
  const cap = createWindowCapture({ tsBase: src.info.tsBase, symbols: src.symbols });
  const { analysis: an, pipeline: p } = createAnalysisPipeline({
    selection: sel,
    symbols: src.symbols,
    initialComms: src.initialComms,
    cpus: src.info.cpus,
    tsBase: src.info.tsBase,
    windows: cap,
  });
  await src.run(p);
  p.finish();
  beforeReport?.(cap);
  const rep = an.report(src.info, src.diagnostics, p);
  src.close();
  return { rep, tsBase: src.info.tsBase };
}
