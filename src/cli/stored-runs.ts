// What the commands that read stored runs share (runs, compare, export): the --db option,
// opening the database for reading, and naming a run or a JSON report on the command line.

import { existsSync, readFileSync } from "node:fs";
import type { ComparedRun } from "../analysis/compare.ts";
import type { MetricKey, Report } from "../model/report.ts";
import type { HdrLike, HistogramLookup } from "../output/hist-report.ts";
import { parseJsonExact } from "../output/json-report.ts";
import { defaultDbPath, type RunMeta, RunStore, type StoredRun } from "../store/run-store.ts";
import { UsageError } from "./options.ts";

export const DB_OPTIONS = {
  db: { type: "string" },
} as const;

export const DB_HELP = `  --db PATH              the run database (default: /var/lib/rtscope/rtscope.db as root, else
                         $XDG_STATE_HOME/rtscope/rtscope.db, ~/.local/state/rtscope/rtscope.db)`;

/** The existing database named by --db or the default one (for reading unless `write`). */
export function openStoredRuns(db: string | undefined, write = false): RunStore {
  const path = db ?? defaultDbPath();
  if (!existsSync(path))
    throw new Error(
      `${path}: no run database here (record stores runs there unless --no-store; or give --db PATH)`,
    );
  return RunStore.open(path, { readOnly: !write });
}

/** A run id on the command line ("12"), or undefined when `arg` is something else. */
export function runIdOf(arg: string): number | undefined {
  return /^\d+$/.test(arg) && Number(arg) > 0 && Number.isSafeInteger(Number(arg)) ? Number(arg) : undefined;
}

/** The stored run `id`, or an Error naming the database. */
export function loadRun(store: RunStore, id: number): StoredRun {
  const run = store.getRun(id);
  if (run === undefined)
    throw new Error(`${store.path}: no run ${id} (rtscope runs list shows the stored runs)`);
  return run;
}

/** How a stored run is named in output: "run 12 (host, 2026-12-02 03:00:12 UTC, --comm x)". */
export function runLabel(id: number, meta: RunMeta): string {
  return `run ${id} (${meta.host}, ${wallClock(meta.startedAt)}, ${meta.selection})`;
}

/** A wall-clock time in ms as "2026-12-02 03:00:12 UTC". */
export function wallClock(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** The histogram lookup by tid that the hist format reads, from a stored run. */
export function storedHistograms(run: StoredRun): HistogramLookup {
  return (tid: number, metric: MetricKey) => {
    const i = run.report.tasks.findIndex((t) => t.tid === tid);
    return i < 0 ? undefined : (run.histogram(i, metric) as unknown as HdrLike | undefined);
  };
}

/** A JSON report file (`report --format json` or `record --format json`): one report. */
export function readJsonReport(file: string): Report {
  let doc: unknown;
  try {
    doc = parseJsonExact(readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
  if (Array.isArray(doc)) {
    if (doc.length !== 1)
      throw new Error(
        `${file}: holds ${doc.length} reports (a report of several trace files); give a file with one report`,
      );
    doc = doc[0];
  }
  const r = doc as Partial<Report> | null;
  if (r === null || typeof r !== "object" || r.tool !== "rtscope" || !Array.isArray(r.tasks))
    throw new Error(`${file}: not an rtscope JSON report (rtscope report --format json writes one)`);
  return r as Report;
}

/**
 * A run named on the command line: a JSON report file, or the id of a stored run (a file of
 * that name wins). `store` is opened on first need.
 */
export function comparedRunOf(arg: string, store: () => RunStore, command: string): ComparedRun {
  if (existsSync(arg)) return { label: arg, report: readJsonReport(arg) };
  const id = runIdOf(arg);
  if (id === undefined)
    throw new UsageError(`'${arg}': no such file, and not a run id (rtscope runs list shows them)`, command);
  const run = loadRun(store(), id);
  return { label: runLabel(id, run.meta), report: run.report, histogram: run.histogram };
}
