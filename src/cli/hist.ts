// `rtscope hist`: live capture like record, printed at the end as rtla's histogram layout
// (one column per thread and metric). Same options as record minus --format.

import { formatHistReport } from "../output/hist-report.ts";
import { writeOutputFile } from "../output/output-file.ts";
import { gateExit } from "./gate.ts";
import { ANALYSIS_HELP, exitHelp, METRICS_HELP, SELECTION_HELP, SLO_HELP, UsageError } from "./options.ts";
import { captureAndAnalyze, LIVE_HELP, parseRecordArgs } from "./record.ts";

export const summary = "live capture, rtla-style histogram at the end";

export const help = `Usage: rtscope hist [SELECTION] [--bucket 1us] [--entries 256] [--with-zeros] [--duration 30s]
                    [--slo ...] [-o FILE] [-- CMD ARGS]

Like 'rtscope record --format hist': traces the running kernel until --duration, Ctrl-C or
the launched command's exit, then prints rtla's histogram layout with one column per thread
and metric. Needs root. No worst-case windows are captured for a histogram (--format,
--margin and --window-memory are record's).

${SELECTION_HELP}

${SLO_HELP}

Histogram (no worst-case windows are captured, and hist stores no run: --db and --no-store are refused):
  --bucket SIZE          bucket size (default 1us)
  --entries N            number of buckets (default 256); larger samples count in 'over:'
  --with-zeros           print buckets where every column is zero
  -o, --output FILE      write the histogram to FILE (use it when the command prints to the terminal)

${LIVE_HELP}

${ANALYSIS_HELP}

${METRICS_HELP}

Examples:
  sudo rtscope hist --comm cyclictest --duration 60s --bucket 2us --entries 200
  sudo rtscope hist --rt --slo latency=100us -o hist.txt -- cyclictest -m -t2 -p80 -i1000 -l60000

${exitHelp(true)}
`;

/** Whether one of `names` is given before the command's own arguments (`--`). */
function given(argv: readonly string[], names: readonly string[]): string | undefined {
  for (const a of argv) {
    if (a === "--") return undefined;
    const name = a.split("=")[0];
    if (names.includes(name)) return name;
  }
  return undefined;
}

export async function run(argv: string[]): Promise<number> {
  if (given(argv, ["--format", "-f"]))
    throw new UsageError("hist always prints the histogram layout (use record --format for others)", "hist");
  const windowOption = given(argv, ["--margin", "--window-memory"]);
  if (windowOption)
    throw new UsageError(
      `${windowOption} does not apply: hist captures no worst-case windows (use record or report)`,
      "hist",
    );
  const dbOption = given(argv, ["--db", "--no-store"]);
  if (dbOption) throw new UsageError(`${dbOption} does not apply: hist stores no run (use record)`, "hist");
  const o = parseRecordArgs(argv, "hist");
  if (o === "help") {
    process.stdout.write(help);
    return 0;
  }
  o.format = "hist";
  const { report, histograms } = await captureAndAnalyze(o);
  let text = formatHistReport(report, histograms, o.hist);
  if (!/lost/i.test(text.slice(0, 2000))) {
    // every output carries the lost-event count: a comment line in rtla's header style
    const lost = report.source.lostEvents < 0 ? "unknown number" : String(report.source.lostEvents);
    const line = `# Lost events: ${lost} (activations they cut are not counted)\n`;
    const at = text.indexOf("\n", text.indexOf("# Source:"));
    text = at > 0 ? text.slice(0, at + 1) + line + text.slice(at + 1) : line + text;
  }
  if (o.output !== undefined) writeOutputFile(o.output, text);
  else process.stdout.write(text);
  return gateExit([report], { command: report.command, ignoreCommandStatus: o.live.ignoreCommandStatus });
}
