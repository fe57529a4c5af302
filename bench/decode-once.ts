// One decode of a trace into a no-op sink, in this process (no child, no JIT warm-up pass):
// the unit to run under `valgrind --tool=callgrind`, whose instruction count repeats run
// after run whatever else the machine does (bench/README.md, "Instruction counts").
//
//   node bench/decode-once.ts TRACE [--analysis] [--slo latency=100us]
// --analysis: the every-thread analysis pipeline instead of the no-op sink.

import { parseArgs } from "node:util";
import { createAnalysisPipeline } from "../src/analysis/pipeline.ts";
import type { EventRecord } from "../src/model/event.ts";
import { emptySelection } from "../src/model/selection.ts";
import { openSource } from "../src/sources/open-source.ts";

const { values, positionals } = parseArgs({
  options: { analysis: { type: "boolean" }, windows: { type: "boolean" } },
  allowPositionals: true,
});
const file = positionals[0];
if (file === undefined) {
  process.stderr.write("usage: node bench/decode-once.ts TRACE [--analysis [--windows]]\n");
  process.exit(2);
}
const source = await openSource(file);
let events = 0;
if (values.analysis) {
  const p = createAnalysisPipeline({
    selection: emptySelection(),
    source,
    windows: values.windows ? {} : false,
  });
  await source.run(p.pipeline);
  p.pipeline.finish();
  events = p.pipeline.events;
} else {
  await source.run({
    handle(_rec: EventRecord) {
      events++;
    },
  });
}
source.close();
process.stdout.write(`${events} events\n`);
