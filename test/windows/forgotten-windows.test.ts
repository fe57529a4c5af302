// A window older than the flight recorder holds is incomplete, and says it was the recorder's
// memory, not a loss: the trace has no lost events. Read back from the trace.dat, the same
// windows are whole.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { createAnalysisPipeline } from "../../src/analysis/pipeline.ts";
import {
  createWindowCapture,
  type WindowCapture,
  windowCaptureFrom,
} from "../../src/analysis/worst-windows.ts";
import type { Report, WorstWindow } from "../../src/model/report.ts";
import { emptySelection } from "../../src/model/selection.ts";
import { formatWorstWindow } from "../../src/output/window-text.ts";
import { TraceDatSource } from "../../src/sources/trace-dat.ts";
import { fixturesDir } from "../helpers/paths.ts";

const FILE = join(fixturesDir, "trace-dat", "hackbench", "trace.v7.dat");

async function report(small: boolean): Promise<Report> {
  const src = new TraceDatSource(FILE);
  try {
    // rings of 32 events per CPU, overwritten after 50 us: most windows reach further back
    const cap: WindowCapture = small
      ? createWindowCapture({
          tsBase: src.info.tsBase,
          symbols: src.symbols,
          recorder: { maxBytesPerCpu: 32 * 80, initialEvents: 32, keepNs: 50_000 },
        })
      : windowCaptureFrom(src.windowSource(), { tsBase: src.info.tsBase, symbols: src.symbols });
    const { analysis, pipeline } = createAnalysisPipeline({
      selection: emptySelection(),
      symbols: src.symbols,
      initialComms: src.initialComms,
      cpus: src.info.cpus,
      tsBase: src.info.tsBase,
      windows: cap,
    });
    await src.run(pipeline);
    pipeline.finish();
    return analysis.report(src.info, src.diagnostics, pipeline);
  } finally {
    src.close();
  }
}

function windows(rep: Report): { task: Report["tasks"][number]; metric: string; w: WorstWindow }[] {
  const out: { task: Report["tasks"][number]; metric: string; w: WorstWindow }[] = [];
  for (const task of rep.tasks)
    for (const [metric, w] of Object.entries(task.worst ?? {})) if (w) out.push({ task, metric, w });
  return out;
}

test("a window the recorder no longer holds is incomplete by its memory, not by lost events", async () => {
  const small = await report(true);
  assert.equal(small.source.lostEvents, 0, "the fixture has no lost events");
  const all = windows(small);
  const forgotten = all.filter((x) => x.w.incomplete);
  assert.ok(forgotten.length > 0, "some windows reach past the tiny rings");
  for (const { task, metric, w } of forgotten) {
    assert.equal(w.forgotten, true, `${task.comm}:${task.tid} ${metric}`);
    const text = formatWorstWindow(w, task, metric as never, { events: false });
    assert.match(text, /INCOMPLETE: its start is older than the flight recorder holds; no event was lost/);
    assert.doesNotMatch(text, /events lost/);
  }
  // read back from the file, the same windows are whole
  const file = await report(false);
  for (const x of windows(file)) {
    assert.equal(x.w.incomplete, undefined, `${x.task.comm}:${x.task.tid} ${x.metric}`);
    assert.equal(x.w.forgotten, undefined);
  }
});
