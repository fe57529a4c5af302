// Golden tests: every public sample trace (old and new kernels, 32- and 64-bit, v6/v7,
// trace-cmd text, systrace HTML) and the recorded VM trace read without error, and their
// results are pinned. Event counts come from outside rtscope (the traces' README, checked
// against trace-cmd 3.1.6); the per-task figures are pinned in test/golden/public-traces.json
// so that a change in the engine shows up as a reviewed diff.
// Regenerate after an intended change: RTSCOPE_UPDATE_GOLDEN=1 npx node --test test/golden/
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { test } from "node:test";
import { analyzeTrace } from "../../src/cli/analyze-trace.ts";
import { METRIC_KEYS, type Report } from "../../src/model/report.ts";
import { emptySelection } from "../../src/model/selection.ts";
import { publicTraces, recordedTraces, repoRoot, sharedAvailable } from "../helpers/paths.ts";

const goldenPath = join(repoRoot, "test/golden/public-traces.json");
const update = process.env.RTSCOPE_UPDATE_GOLDEN === "1";

/** Event counts documented in ../shared/traces/public/README.md (ground truth from trace-cmd). */
const FILES: { path: string; events: number }[] = [
  { path: join(publicTraces, "lisa_example_rtapp.v6.dat"), events: 7820 },
  { path: join(publicTraces, "lisa_sched_load.v6.dat"), events: 3724 },
  { path: join(publicTraces, "trappy_trace_arm32_thermal.v6.dat"), events: 525 },
  { path: join(publicTraces, "trappy_trace_idle.v6.dat"), events: 43 },
  { path: join(publicTraces, "lisa_sched_report_raw.txt"), events: 2941 },
  { path: join(publicTraces, "trappy_surfaceflinger_systrace.html"), events: 2506 },
  { path: join(publicTraces, "trappy_legacy_systrace.html"), events: 15 },
  { path: join(recordedTraces, "stress-ng-cyclic.v7zstd.dat"), events: 33130 },
];

type Summary = ReturnType<typeof summarize>;

function summarize(r: Report) {
  return {
    events: r.source.events,
    lostEvents: r.source.lostEvents,
    cpus: r.source.cpus,
    tasks: r.tasks.length,
    perTask: r.tasks
      .filter((t) => Object.keys(t.metrics).length > 0)
      .map((t) => {
        const m: Record<string, [number, number, number, number]> = {};
        for (const k of METRIC_KEYS) {
          const s = t.metrics[k];
          if (s) m[k] = [s.count, s.min, s.p99, s.max];
        }
        const worst = t.worst?.latency?.causes.slice(0, 2).map((c) => `${c.kind}:${c.name}:${c.time}`);
        return { tid: t.tid, comm: t.comm, wakeups: t.counters.wakeups, m, worstLatency: worst ?? [] };
      }),
  };
}

const golden: Record<string, Summary> =
  !update && existsSync(goldenPath) ? JSON.parse(readFileSync(goldenPath, "utf8")) : {};
const fresh: Record<string, Summary> = {};

for (const f of FILES) {
  const name = basename(f.path);
  test(`golden: ${name}`, {
    skip: sharedAvailable() ? false : "../shared/traces is not present",
  }, async () => {
    const { report } = await analyzeTrace(f.path, {
      selection: emptySelection(),
      slo: {},
      worstN: 0,
      wakeupEvent: "wakeup",
    });
    assert.equal(report.source.events, f.events, "event count as documented (trace-cmd's count)");
    // the traces' README lists their events: these carry sched_switch but no sched_wakeup
    if (/lisa_example_rtapp|lisa_sched_load|trappy_trace_idle/.test(name))
      assert.ok(
        report.diagnostics.some((d) => d.key === "no_wakeup_events"),
        "a trace without wakeups says so",
      );
    const s = summarize(report);
    fresh[name] = s;
    if (update) return;
    assert.ok(
      golden[name],
      `no golden entry for ${name}: run with RTSCOPE_UPDATE_GOLDEN=1 and review the diff`,
    );
    assert.deepEqual(JSON.parse(JSON.stringify(s)), golden[name]);
  });
}

test("golden: write the pinned results when asked", { skip: !update }, () => {
  writeFileSync(goldenPath, `${JSON.stringify(fresh, null, 1)}\n`);
});
