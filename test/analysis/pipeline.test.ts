// The pipeline contract: analyzers are fed after what they depend on, a missing dependency
// or a cycle is refused with a message naming them, and the factory puts a window source's
// recorder before the activations whatever order it is given in.

import assert from "node:assert/strict";
import { test } from "node:test";
import { type Analyzer, orderAnalyzers, Pipeline, PipelineError } from "../../src/analysis/analyzer.ts";
import { createAnalysisPipeline } from "../../src/analysis/pipeline.ts";
import { EventRecord } from "../../src/model/event.ts";
import { EventKind } from "../../src/model/event-kind.ts";
import { emptySelection } from "../../src/model/selection.ts";

/** An analyzer that writes its name into `log` for every event. */
function probe(name: string, log: string[], dependsOn: Analyzer[] = []): Analyzer<number> {
  let seen = 0;
  return {
    name,
    dependsOn,
    handle() {
      log.push(name);
      seen++;
    },
    data: () => seen,
  };
}

test("dependencies are fed first, otherwise the given order is kept", () => {
  const log: string[] = [];
  const a = probe("a", log);
  const b = probe("b", log);
  const c = probe("c", log, [b]);
  const d = probe("d", log, [c, a]);
  const p = new Pipeline([d, a, c, b]);
  assert.deepEqual(
    p.order.map((x) => x.name),
    ["b", "c", "a", "d"],
  );
  const r = new EventRecord();
  r.kind = EventKind.SchedSwitch;
  p.handle(r);
  assert.deepEqual(log, ["b", "c", "a", "d"]);
  assert.equal(d.data(), 1);
});

test("a dependency missing from the pipeline is refused, naming both", () => {
  const log: string[] = [];
  const rec = probe("flight recorder", log);
  const metrics = probe("activations", log, [rec]);
  assert.throws(
    () => orderAnalyzers([metrics]),
    (e: unknown) =>
      e instanceof PipelineError &&
      e.message === "analyzer activations depends on flight recorder, which is not in the pipeline",
  );
});

test("a cycle is refused, naming its members", () => {
  const log: string[] = [];
  const deps: Analyzer[] = [];
  const x = probe("x", log, deps);
  const y = probe("y", log, [x]);
  deps.push(y);
  assert.throws(
    () => new Pipeline([x, y]),
    (e: unknown) => e instanceof PipelineError && e.message === "analyzer dependency cycle: x -> y -> x",
  );
});

test("the factory feeds the window source's recorder before the activations", () => {
  const withWindows = createAnalysisPipeline({ selection: emptySelection(), windows: {} });
  assert.deepEqual(
    withWindows.pipeline.order.map((a) => a.name),
    ["flight recorder", "irq lines", "activations"],
  );
  assert.ok(withWindows.capture);
  // the activations declare the recorder: fed without it, the pipeline refuses
  const noRecorder = withWindows.analysis.analyzers.filter((a) => a.name !== "flight recorder");
  assert.throws(() => new Pipeline(noRecorder), PipelineError);
  const none = createAnalysisPipeline({ selection: emptySelection() });
  assert.deepEqual(
    none.pipeline.order.map((a) => a.name),
    ["irq lines", "activations"],
  );
  assert.equal(none.capture, undefined);
});
