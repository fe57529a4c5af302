// `rtscope runs [list|show ID|rm ID...]`: the runs `record` (and `serve`) stored in the run
// database. `show` prints a stored run's report as `report` would (text, JSON, JUnit or
// hist, from the stored histograms); `rm` removes runs.

import { stringifyJson } from "../output/json-report.ts";
import { writeOutputFile } from "../output/output-file.ts";
import { countCell, durationText, renderTable } from "../output/table.ts";
import type { RunStore, StoredAdmission } from "../store/run-store.ts";
import { loadWindowRenderer } from "./analyze-trace.ts";
import {
  HELP_OPTIONS,
  HIST_OPTIONS,
  parseCommandLine,
  parseFormat,
  parseHistSettings,
  REPORT_FORMATS,
  UsageError,
} from "./options.ts";
import { renderReports } from "./report.ts";
import {
  DB_HELP,
  DB_OPTIONS,
  loadRun,
  openStoredRuns,
  runIdOf,
  storedHistograms,
  wallClock,
} from "./stored-runs.ts";

export const summary = "stored runs: list, show, remove";

export const help = `Usage: rtscope runs [list] [--format text|json] [--db PATH]
       rtscope runs show ID [--format text|json|junit|hist] [-o FILE] [--db PATH]
       rtscope runs rm ID... [--db PATH]

The runs stored in the run database: \`rtscope record\` stores each run there unless
--no-store (and \`rtscope serve\` stores its runs). A run keeps the host, kernel and
preemption model, the selection and SLO bounds, start and end, every task's metrics with
their HDR histograms, and the worst-case windows.

  list                   one line per run (default): id, start, duration, origin, host,
                         kernel, preemption model, tasks, SLO violations, lost events, selection
  show ID                the run's report, as \`rtscope report\` prints it; a phase of
                         \`rtscope admit\` first names its linked run and the stored verdict
  rm ID...               remove runs (their ids are never given to another run)
  --format, -f F         list: text (default), json; show: text (default), json, junit, hist
  -o, --output FILE      show: write the report to FILE
  --bucket SIZE, --entries N, --with-zeros   show --format hist settings
${DB_HELP}

Other commands that read stored runs: rtscope compare BASE NEW, rtscope export ID.

Examples:
  rtscope runs
  rtscope runs show 12 --format json -o run12.json
  rtscope runs rm 3 4
  sudo rtscope runs --db /var/lib/rtscope/rtscope.db

Exit status: 0 ok, 1 usage error, 2 runtime error (no database, no such run...).
`;

const OPTIONS = {
  ...HELP_OPTIONS,
  ...DB_OPTIONS,
  ...HIST_OPTIONS,
  format: { type: "string", short: "f" },
  output: { type: "string", short: "o" },
} as const;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine("runs", argv, OPTIONS);
  if (values.help) {
    process.stdout.write(help);
    return 0;
  }
  const [action = "list", ...ids] = positionals;
  const idsOf = (min: number, max: number): number[] => {
    if (ids.length < min || ids.length > max)
      throw new UsageError(
        min === max ? `runs ${action} takes one run id` : `runs ${action} takes run ids`,
        "runs",
      );
    return ids.map((a) => {
      const id = runIdOf(a);
      if (id === undefined) throw new UsageError(`'${a}' is not a run id (a positive integer)`, "runs");
      return id;
    });
  };
  switch (action) {
    case "list": {
      idsOf(0, 0);
      const format = parseFormat(values.format, ["text", "json"] as const, "text", "runs");
      return list(values.db, format);
    }
    case "show": {
      const [id] = idsOf(1, 1);
      const format = parseFormat(values.format, REPORT_FORMATS, "text", "runs");
      const store = openStoredRuns(values.db);
      try {
        const r = loadRun(store, id);
        const windowRenderer = format === "text" ? await loadWindowRenderer() : undefined;
        const width = values.output === undefined && process.stdout.isTTY ? process.stdout.columns : 100;
        const text = renderReports(
          [{ report: r.report, histograms: storedHistograms(r) }],
          { format, hist: parseHistSettings(values, "runs") },
          { width, windowRenderer },
        );
        const admission = store.admissionOf(id);
        const head =
          format === "text"
            ? `Run ${id}: ${r.meta.origin} on ${r.meta.host}, kernel ${r.meta.kernel}, preemption ${r.meta.preemption}\n` +
              `  ${wallClock(r.meta.startedAt)} for ${durationText((r.meta.endedAt - r.meta.startedAt) * 1e6)}` +
              `${r.meta.command ? `, command: ${r.meta.command.join(" ")}` : ""}\n` +
              (admission ? `${admissionText(id, admission)}\n` : "\n")
            : "";
        const out = typeof text === "string" ? head + text : text;
        if (values.output !== undefined) writeOutputFile(values.output, out);
        else process.stdout.write(out);
        return 0;
      } finally {
        store.close();
      }
    }
    case "rm": {
      const list = idsOf(1, Number.POSITIVE_INFINITY);
      const store = openStoredRuns(values.db, true);
      try {
        const missing = list.filter((id) => !store.deleteRun(id));
        const removed = list.length - missing.length;
        if (removed > 0) process.stderr.write(`rtscope runs: removed ${removed} run(s) from ${store.path}\n`);
        if (missing.length > 0) {
          process.stderr.write(`rtscope runs: ${store.path}: no run ${missing.join(", ")}\n`);
          return 2;
        }
        return 0;
      } finally {
        store.close();
      }
    }
    default:
      throw new UsageError(`unknown action '${action}'; use list, show ID or rm ID`, "runs");
  }
}

/** The admission a run is a phase of: the link, then admit's stored result. */
function admissionText(id: number, a: StoredAdmission): string {
  const phase = id === a.baselineRun ? "baseline" : "with-newcomer phase";
  const other =
    id === a.baselineRun ? `run ${a.withNewcomerRun} (with the newcomer)` : `run ${a.baselineRun} (baseline)`;
  return (
    `  admit ${phase}, linked with ${other}: ${a.verdict.toUpperCase()} ` +
    `(rtscope compare ${a.baselineRun} ${a.withNewcomerRun})\n\n${a.text}`
  );
}

function list(db: string | undefined, format: "text" | "json"): number {
  const store = openStoredRuns(db);
  let runs: ReturnType<RunStore["listRuns"]>;
  try {
    runs = store.listRuns();
  } finally {
    store.close();
  }
  if (format === "json") {
    process.stdout.write(`${stringifyJson(runs)}\n`);
    return 0;
  }
  if (runs.length === 0) {
    process.stdout.write(`No runs stored in ${store.path}.\n`);
    return 0;
  }
  const col = (header: string, align: "left" | "right" = "left") => ({ header, align });
  const lines = renderTable(
    [
      col("id", "right"),
      col("started"),
      col("duration", "right"),
      col("origin"),
      col("host"),
      col("kernel"),
      col("preemption"),
      col("tasks", "right"),
      col("violations", "right"),
      col("lost", "right"),
      col("selection"),
    ],
    runs.map((r) => [
      String(r.id),
      wallClock(r.startedAt),
      durationText((r.endedAt - r.startedAt) * 1e6),
      r.origin,
      r.host,
      r.kernel,
      r.preemption,
      countCell(r.tasks),
      countCell(r.violations),
      countCell(r.lostEvents),
      r.selection,
    ]),
    0,
  );
  process.stdout.write(`${lines.join("\n")}\n`);
  return 0;
}
