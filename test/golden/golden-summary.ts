// What the golden test pins per shared trace, shared by the test and the script that
// rewrites the pinned file (scripts/update-golden.ts) so that the two cannot drift apart.
import { join } from "node:path";
import { analyzeTrace } from "../../src/cli/analyze-trace.ts";
import { METRIC_KEYS, type Report } from "../../src/model/report.ts";
import { emptySelection } from "../../src/model/selection.ts";
import { publicTraces, recordedTraces, repoRoot } from "../helpers/paths.ts";

export const goldenPath = join(repoRoot, "test/golden/public-traces.json");

/** Event counts documented in ../shared/traces/public/README.md (ground truth from trace-cmd). */
export const GOLDEN_FILES: { path: string; events: number }[] = [
  { path: join(publicTraces, "lisa_example_rtapp.v6.dat"), events: 7820 },
  { path: join(publicTraces, "lisa_sched_load.v6.dat"), events: 3724 },
  { path: join(publicTraces, "trappy_trace_arm32_thermal.v6.dat"), events: 525 },
  { path: join(publicTraces, "trappy_trace_idle.v6.dat"), events: 43 },
  { path: join(publicTraces, "lisa_sched_report_raw.txt"), events: 2941 },
  { path: join(publicTraces, "trappy_surfaceflinger_systrace.html"), events: 2506 },
  { path: join(publicTraces, "trappy_legacy_systrace.html"), events: 15 },
  { path: join(recordedTraces, "stress-ng-cyclic.v7zstd.dat"), events: 33130 },
];

export type GoldenSummary = ReturnType<typeof summarize>;

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

/** The report of one golden trace (every thread, default options) and its pinned summary. */
export async function goldenRun(path: string): Promise<{ report: Report; summary: GoldenSummary }> {
  const { report } = await analyzeTrace(path, {
    selection: emptySelection(),
    slo: {},
    worstN: 0,
    wakeupEvent: "wakeup",
  });
  // through JSON, as the pinned file holds it
  return { report, summary: JSON.parse(JSON.stringify(summarize(report))) };
}
