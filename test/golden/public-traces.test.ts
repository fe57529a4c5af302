// Golden tests: every public sample trace (old and new kernels, 32- and 64-bit, v6/v7,
// trace-cmd text, systrace HTML) and the recorded VM trace read without error, and their
// results are pinned. Event counts come from outside rtscope (the traces' README, checked
// against trace-cmd 3.1.6); the per-task figures are pinned in test/golden/public-traces.json
// so that a change in the engine shows up as a reviewed diff.
// Regenerate after an intended change: `node scripts/update-golden.ts`, then review the diff.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { basename } from "node:path";
import { test } from "node:test";
import { sharedAvailable } from "../helpers/paths.ts";
import { GOLDEN_FILES, type GoldenSummary, goldenPath, goldenRun } from "./golden-summary.ts";

const golden: Record<string, GoldenSummary> = existsSync(goldenPath)
  ? JSON.parse(readFileSync(goldenPath, "utf8"))
  : {};

for (const f of GOLDEN_FILES) {
  const name = basename(f.path);
  test(`golden: ${name}`, {
    skip: sharedAvailable() ? false : "../shared/traces is not present",
  }, async () => {
    const { report, summary } = await goldenRun(f.path);
    assert.equal(report.source.events, f.events, "event count as documented (trace-cmd's count)");
    // the traces' README lists their events: these carry sched_switch but no sched_wakeup
    if (/lisa_example_rtapp|lisa_sched_load|trappy_trace_idle/.test(name))
      assert.ok(
        report.diagnostics.some((d) => d.key === "no_wakeup_events"),
        "a trace without wakeups says so",
      );
    assert.ok(golden[name], `no golden entry for ${name}: run scripts/update-golden.ts and review the diff`);
    assert.deepEqual(summary, golden[name]);
  });
}
