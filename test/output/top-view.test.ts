// top's frame builds rows only for the threads it shows (a screenful of thousands): the rows
// built are the first of the full report order, and the header and the "more threads" line
// count every tracked thread, not the rows built.
import assert from "node:assert/strict";
import { resolve } from "node:path";
import { test } from "node:test";
import { createAnalysisPipeline } from "../../src/analysis/pipeline.ts";
import { emptySelection } from "../../src/model/selection.ts";
import { newTopMemory, renderTopFrame } from "../../src/output/top-view.ts";
import { openSource } from "../../src/sources/open-source.ts";
import { recordedTraces, skipWithoutShared } from "../helpers/paths.ts";

const TRACE = resolve(recordedTraces, "stress-ng-cyclic.v7zstd.dat");

test("firstTasks builds the first rows of the report order and counts them all", {
  skip: skipWithoutShared,
}, async () => {
  const source = await openSource(TRACE);
  try {
    const p = createAnalysisPipeline({ selection: emptySelection(), source });
    await source.run(p.pipeline);
    p.pipeline.finish();
    const all = p.analysis.snapshot();
    assert.ok(all.length > 10, `${all.length} threads`);
    // report order, by a sort written here: processes by tgid, the leader first, then by tid
    const lead = (t: { tid: number; tgid: number }) => (t.tid === t.tgid ? 0 : 1);
    const ref = [...all].sort((a, b) => a.tgid - b.tgid || lead(a) - lead(b) || a.tid - b.tid);
    assert.deepEqual(
      all.map((t) => t.tid),
      ref.map((t) => t.tid),
    );
    const first = p.analysis.firstTasks(7);
    assert.equal(first.total, all.length);
    assert.deepEqual(first.rows, all.slice(0, 7));
    const none = p.analysis.firstTasks(0);
    assert.deepEqual(none, { rows: [], total: all.length });

    const header = { title: "t", eventsPerSec: 0, lostEvents: 0, cpuPercent: 0, elapsedSec: 0 };
    const lines = renderTopFrame(
      { ...header, threads: first.total },
      first.rows,
      ["latency"],
      newTopMemory(),
      200,
      7,
    );
    assert.match(lines[1], new RegExp(`threads ${all.length} `));
    assert.equal(lines.filter((l) => /^\s+\d+ \S/.test(l)).length, 7);
    assert.equal(lines.at(-1), `  ... ${all.length - 7} more threads (enlarge the terminal)`);
    // the same frame from every row: identical
    assert.deepEqual(renderTopFrame(header, all, ["latency"], newTopMemory(), 200, 7), lines);
  } finally {
    source.close();
  }
});

test("an empty frame says no thread has run", () => {
  const header = { title: "t", eventsPerSec: 0, lostEvents: 0, cpuPercent: 0, elapsedSec: 0, threads: 0 };
  const lines = renderTopFrame(header, [], ["latency"], newTopMemory());
  assert.equal(lines.at(-1), "  (no tracked thread has run yet)");
});
