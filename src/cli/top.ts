// `rtscope top`: a live table refreshed every second, like rtla timerlat top. Draws on the
// terminal's alternate screen without clearing it between frames (cursor home, each line
// overwritten and its tail erased), so nothing flickers; q or Ctrl-C quits and restores the
// terminal, also on errors and signals. Without a terminal it prints one frame per second.

import type { MetricKey } from "../model/report.ts";
import { METRIC_KEYS } from "../model/report.ts";
import { describeSelection } from "../model/selection.ts";
import { newTopMemory, renderTopFrame } from "../output/top-view.ts";
import { onCleanup } from "../tracefs/cleanup.ts";
import {
  ANALYSIS_HELP,
  ANALYSIS_OPTIONS,
  HELP_OPTIONS,
  METRICS_HELP,
  parseCommandLine,
  parseSlo,
  parseWakeupEvent,
  SELECTION_HELP,
  SELECTION_OPTIONS,
  SLO_HELP,
  SLO_OPTIONS,
  selectionFromValues,
  UsageError,
} from "./options.ts";
import { finishLiveRun, LIVE_HELP, LIVE_OPTIONS, parseLiveValues, startLiveRun } from "./record.ts";

export const summary = "live table refreshed every second, like rtla timerlat top";

export const help = `Usage: rtscope top [SELECTION] [--slo ...] [--metrics latency,timer] [--interval 1s] [-- CMD ARGS]

A live table of the tracked threads, refreshed every second: per thread and metric the
sample count, cur (mean of the samples of the last interval), min, avg, p99 and max in
microseconds, and SLO violations; a header with events/s, lost events and rtscope's own CPU
use, and a "NOT RECORDING" line as soon as the capture's instance is changed from outside
(tracing switched off, events disabled). q or Ctrl-C quits. Needs root.

${SELECTION_HELP}

${SLO_HELP}

Display:
  --metrics LIST         metrics to show (default latency,timer); any of ${METRIC_KEYS.join(", ")}
  --interval TIME        refresh period (default 1s)

${LIVE_HELP}

${ANALYSIS_HELP}

${METRICS_HELP}

Examples:
  sudo rtscope top --rt                          every SCHED_FIFO/RR/DEADLINE thread
  sudo rtscope top --comm cyclictest --slo latency=50us --metrics latency,timer,response
  sudo rtscope top -- cyclictest -m -t2 -p80 -i1000

Exit status: 0 ok, 1 usage error, 2 runtime error (top shows violations; it does not gate).
`;

const OPTIONS = {
  ...HELP_OPTIONS,
  ...SELECTION_OPTIONS,
  ...SLO_OPTIONS,
  ...ANALYSIS_OPTIONS,
  ...LIVE_OPTIONS,
  metrics: { type: "string" },
  interval: { type: "string" },
} as const;

const ENTER = "\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J";
const LEAVE = "\x1b[?25h\x1b[?1049l";

export async function run(argv: string[]): Promise<number> {
  const { values, positionals, rest } = parseCommandLine("top", argv, OPTIONS, { positionals: false });
  if (values.help) {
    process.stdout.write(help);
    return 0;
  }
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`, "top");
  const metrics = (values.metrics ?? "latency,timer").split(",").map((m) => m.trim()) as MetricKey[];
  for (const m of metrics)
    if (!(METRIC_KEYS as readonly string[]).includes(m))
      throw new UsageError(`--metrics: unknown metric '${m}'; valid: ${METRIC_KEYS.join(", ")}`, "top");
  const live = parseLiveValues(values, "top");
  let intervalMs = 1000;
  if (values.interval !== undefined) {
    const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(values.interval.trim());
    if (!m) throw new UsageError(`--interval expects e.g. 1s or 500ms, got '${values.interval}'`, "top");
    intervalMs = Number(m[1]) * (m[2] === "ms" ? 1 : 1000);
    if (intervalMs < 100) throw new UsageError("--interval must be at least 100ms", "top");
  }
  const selection = selectionFromValues(values, "top");
  const r = startLiveRun({
    selection,
    slo: parseSlo(values.slo, "top"),
    worstN: 0,
    wakeupEvent: parseWakeupEvent(values["wakeup-event"], "top"),
    live,
    command: rest,
    // the table shows no worst-case windows: no flight recorder
    windows: false,
  });
  const out = process.stdout;
  const tty = out.isTTY === true;
  const stdin = process.stdin;
  const interactive = tty && stdin.isTTY === true && rest.length === 0;
  const memory = newTopMemory();
  const title = `rtscope top — ${r.session.source.info.cpus} CPUs, clock mono, ${describeSelection(selection)}`;
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    if (interactive) {
      try {
        stdin.setRawMode(false);
      } catch {
        // stdin already closed
      }
      stdin.pause();
    }
    if (tty) out.write(LEAVE);
  };
  const unregister = onCleanup(restore);
  const frame = (): string[] => {
    const s = r.session.source.stats();
    const maxRows = tty ? Math.max(1, (out.rows ?? 40) - 7) : 1000;
    const { rows, total } = r.analysis.firstTasks(maxRows);
    return renderTopFrame(
      {
        title,
        eventsPerSec: s.eventsPerSec,
        lostEvents: s.lostEvents,
        cpuPercent: s.cpuPercent,
        elapsedSec: s.elapsedSec,
        written: s.written,
        captureProblem: s.captureProblem,
        captureGaps: s.captureGaps,
        threads: total,
      },
      rows,
      metrics,
      memory,
      tty ? (out.columns ?? 160) : 1000,
      maxRows,
    );
  };
  const draw = () => {
    const lines = frame();
    if (tty) out.write(`\x1b[H${lines.map((l) => `${l}\x1b[K`).join("\n")}\n\x1b[J`);
    else out.write(`${lines.join("\n")}\n\n`);
  };
  if (tty) out.write(ENTER);
  if (interactive) {
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on("data", (d: Buffer) => {
      for (const b of d)
        if (b === 0x71 /* q */ || b === 0x51 || b === 0x03 /* Ctrl-C */) r.session.stop("requested");
    });
  }
  const timer = setInterval(draw, intervalMs);
  draw();
  try {
    await finishLiveRun(r);
  } finally {
    clearInterval(timer);
    restore();
    unregister();
  }
  // the last table stays on the normal screen
  process.stdout.write(`${frame().join("\n")}\n`);
  return 0;
}
