// `rtscope compare BASE NEW`: two stored runs or JSON reports, task by task and metric by
// metric (src/analysis/compare.ts); exit 3 on any regression, so that CI can gate on it.

import { existsSync } from "node:fs";
import { compareRuns, DEFAULT_FLOOR_NS, DEFAULT_TOLERANCE } from "../analysis/compare.ts";
import { parseDuration } from "../model/units.ts";
import { formatCompareJson, formatCompareJunit, formatCompareText } from "../output/compare-report.ts";
import { writeOutputFile } from "../output/output-file.ts";
import type { RunStore } from "../store/run-store.ts";
import { HELP_OPTIONS, parseCommandLine, parseFormat, refuseOutputOverInput, UsageError } from "./options.ts";
import { comparedRunOf, DB_HELP, DB_OPTIONS, openStoredRuns } from "./stored-runs.ts";

export const summary = "compare two runs or JSON reports; exit 3 on regression";

export const help = `Usage: rtscope compare BASE NEW [--tolerance 10%] [--min-change 1us]
                       [--format text|json|junit] [-o FILE] [--db PATH]

Compares the NEW run with the BASE run. Each is a stored run id (rtscope runs list) or a
JSON report file (rtscope report/record --format json). Tasks are matched by process and
thread name (thread ids differ between runs); threads of the same name are merged: the
worst max, the histograms combined, violations summed. For each task and metric it shows
max, p99 and SLO violations of both runs.

A regression is:
  - a max or a p99 worse than the base's by more than the tolerance (a share of the base
    value, and at least --min-change), or
  - SLO violations where the base had none.
The regressions are listed first, each naming the task and metric.

  --tolerance PCT        allowed worsening, percent of the base value (default ${DEFAULT_TOLERANCE * 100}%)
  --min-change T         ... and never less than T (default ${DEFAULT_FLOOR_NS / 1000}us)
  --format, -f F         text (default), json, junit (one test case per task and metric;
                         a regression is a failure)
  -o, --output FILE      write to FILE instead of stdout
${DB_HELP}

Stored runs keep their histograms, so merged threads get exact percentiles. A JSON report
has none: the p99 of same-named threads merged from it is only known to lie between the
threads' p99s; it counts as a regression only when certainly one.

Examples:
  rtscope compare 12 15
  rtscope compare baseline.json 15 --tolerance 5%
  rtscope compare before.json after.json --format junit -o compare-junit.xml

Exit status: 0 no regression, 1 usage error, 2 runtime error (no such run, bad file),
3 a regression.
`;

const OPTIONS = {
  ...HELP_OPTIONS,
  ...DB_OPTIONS,
  tolerance: { type: "string" },
  "min-change": { type: "string" },
  format: { type: "string", short: "f" },
  output: { type: "string", short: "o" },
} as const;

/** "10%", "10" or "2.5 %" → 0.1, 0.1, 0.025. */
export function parseTolerance(text: string | undefined): number {
  if (text === undefined) return DEFAULT_TOLERANCE;
  const m = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(text);
  if (!m) throw new UsageError(`--tolerance expects a percentage like 10% or 2.5%, got '${text}'`, "compare");
  return Number(m[1]) / 100;
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine("compare", argv, OPTIONS);
  if (values.help) {
    process.stdout.write(help);
    return 0;
  }
  if (positionals.length !== 2)
    throw new UsageError(
      `give BASE and NEW (run ids or JSON reports), got ${positionals.length} argument(s)`,
      "compare",
    );
  const tolerance = parseTolerance(values.tolerance);
  let floorNs = DEFAULT_FLOOR_NS;
  if (values["min-change"] !== undefined) {
    try {
      floorNs = parseDuration(values["min-change"], "--min-change");
    } catch (e) {
      throw new UsageError((e as Error).message, "compare");
    }
  }
  const format = parseFormat(values.format, ["text", "json", "junit"] as const, "text", "compare");
  let store: RunStore | undefined;
  const openStore = () => {
    store ??= openStoredRuns(values.db);
    return store;
  };
  // a JSON report given as BASE or NEW is never overwritten by -o
  refuseOutputOverInput(
    values.output,
    positionals.filter((p) => existsSync(p)),
    "compare",
  );
  try {
    const base = comparedRunOf(positionals[0], openStore, "compare");
    const next = comparedRunOf(positionals[1], openStore, "compare");
    const c = compareRuns(base, next, { tolerance, floorNs });
    const text =
      format === "json"
        ? formatCompareJson(c)
        : format === "junit"
          ? formatCompareJunit(c)
          : formatCompareText(c);
    if (values.output !== undefined) writeOutputFile(values.output, text);
    else process.stdout.write(text);
    return c.regressed > 0 ? 3 : 0;
  } finally {
    store?.close();
  }
}
