// Stored runs in one SQLite file (node:sqlite, no native module): `record` and `serve` save
// each run's report with its histograms; `runs`, `export RUN`, `compare` and the API read
// them back as Report objects. WAL journal, one transaction per run: a process killed while
// saving leaves the database as it was before that run. Errors are StoreErrors naming the
// file and saying what to do (a full disk, a read-only file system, a newer schema).

import { accessSync, constants, existsSync, mkdirSync } from "node:fs";
import { hostname, machine, release } from "node:os";
import { dirname } from "node:path";
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import * as zlib from "node:zlib";
import type { Histogram } from "hdr-histogram-js";
import {
  METRIC_KEYS,
  type MetricKey,
  type MetricPart,
  type MetricSummary,
  type Report,
  type SloBounds,
  type TaskReport,
  type Timestamp,
  type WorstWindow,
} from "../model/report.ts";
import { encodeWorstWindows, parseJsonExact, stringifyJson } from "../output/json-report.ts";
import { preemptionModel } from "../tracefs/doctor-checks.ts";
import { decodeHistogram, encodeHistogram, encodeSamples } from "./histogram-codec.ts";
import { MIGRATIONS } from "./schema.ts";

/** Where and when a run was made (a run's row, besides its report). */
export interface RunMeta {
  /** "record" or "serve" */
  origin: string;
  host: string;
  /** kernel release and machine */
  kernel: string;
  /** preemption model (doctor's reading: debugfs, the kernel log, preempt=, config, uname -v; "unknown" when none tells) */
  preemption: string;
  /** the selection as the report states it */
  selection: string;
  slo: SloBounds;
  /** wall clock, ms since the epoch */
  startedAt: number;
  endedAt: number;
  /** argv of the command the run launched */
  command?: string[];
}

/** What saveRun takes: the report, its run metadata, and the HDR histograms behind it. */
export interface RunInput {
  report: Report;
  meta: {
    origin: string;
    startedAt: number;
    endedAt: number;
    command?: string[];
    /** default: this machine (hostFacts()) */
    host?: string;
    kernel?: string;
    preemption?: string;
  };
  /**
   * the histogram of task `index`'s metric (Analysis.storedHistogram(tid, metric)), or its
   * samples when it has no histogram yet; absent: none stored
   */
  histogram?: (task: TaskReport, index: number, metric: MetricKey) => Histogram | Float64Array | undefined;
}

/** One line of `runs list`. */
export interface RunSummary extends RunMeta {
  id: number;
  tasks: number;
  /** SLO violations summed over tasks and metrics */
  violations: number;
  lostEvents: number;
}

/** A stored run: its metadata, its report, and its histograms decoded on demand. */
export interface StoredRun {
  id: number;
  meta: RunMeta;
  /** the report as `report --format json` has it (tasks in stored order) */
  report: Report;
  /** the HDR histogram of report.tasks[taskIndex]'s metric, if one was stored */
  histogram(taskIndex: number, metric: MetricKey): Histogram | undefined;
}

/** An admission (`rtscope admit`): its two runs and its verdict. */
export interface StoredAdmission {
  id: number;
  baselineRun: number;
  withNewcomerRun: number;
  /** "admitted", "rejected" or "not-admitted" */
  verdict: string;
  /** admit's result: --format json (parsed) and the text */
  result: unknown;
  text: string;
}

/** What saveAdmission stores besides the two runs; a function of their ids (the result names them). */
export interface AdmissionInput {
  verdict: string;
  result: (ids: { baseline: number; withNewcomer: number }) => { json: string; text: string };
}

/** A database problem, said plainly with the file and what to do. */
export class StoreError extends Error {
  /** SQLite's primary result code (SQLITE_FULL = 13, ...), 0 when not from SQLite */
  readonly sqliteCode: number;
  constructor(message: string, sqliteCode = 0) {
    super(message);
    this.name = "StoreError";
    this.sqliteCode = sqliteCode;
  }
}

const SQLITE_READONLY = 8;
const SQLITE_IOERR = 10;
const SQLITE_CORRUPT = 11;
const SQLITE_FULL = 13;
const SQLITE_CANTOPEN = 14;
const SQLITE_NOTADB = 26;

/** A node:sqlite (or fs) error as a StoreError about `path`, doing `doing`. */
function storeError(e: unknown, path: string, doing: string): StoreError {
  if (e instanceof StoreError) return e;
  const err = e as { errcode?: number; errstr?: string; message?: string; code?: string };
  const code = typeof err.errcode === "number" ? err.errcode & 0xff : 0;
  let why: string;
  switch (code) {
    case SQLITE_FULL:
      why = "the disk is full: free space, or give another --db";
      break;
    case SQLITE_READONLY:
      why = "the database is read-only (read-only file system or file): give a writable --db";
      break;
    case SQLITE_CANTOPEN:
      why = `cannot open the file (${whyNotWritable(path)}): give a writable --db`;
      break;
    case SQLITE_IOERR:
      why = `I/O error (${err.message ?? "unknown"}): the disk may be full or failing`;
      break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      why = "not an rtscope database or damaged: give another --db";
      break;
    default:
      why =
        err.code === "EROFS"
          ? "read-only file system: give a writable --db"
          : err.code === "ENOSPC"
            ? "the disk is full: free space, or give another --db"
            : (err.message ?? String(e));
  }
  return new StoreError(`${path}: cannot ${doing}: ${why}`, code);
}

/** Why `path` cannot be written, as far as the file system tells (its first existing ancestor). */
/**
 * mkdir -p, one level at a time: Node's recursive mkdirSync never returns on a file system
 * that answers ENOENT to every mkdir (e.g. under /proc).
 */
function makeDirectories(dir: string): void {
  const missing: string[] = [];
  for (let p = dir; !existsSync(p); p = dirname(p)) {
    missing.push(p);
    if (dirname(p) === p) break;
  }
  for (let i = missing.length - 1; i >= 0; i--) mkdirSync(missing[i], { mode: 0o755 });
}

function whyNotWritable(path: string): string {
  for (let p = path; ; p = dirname(p)) {
    try {
      accessSync(p, constants.W_OK);
      return "missing directory or no permission";
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EROFS") return "read-only file system";
      if (code === "EACCES" || code === "EPERM") return `no permission to write ${p}`;
      if (code !== "ENOENT" || dirname(p) === p) return (e as Error).message;
    }
  }
}

/** The database path: SPEC's default ($XDG_STATE_HOME/rtscope, /var/lib/rtscope as root) or --db. */
export function defaultDbPath(
  env: NodeJS.ProcessEnv = process.env,
  uid: number = process.getuid?.() ?? -1,
): string {
  if (uid === 0) return "/var/lib/rtscope/rtscope.db";
  const state = env.XDG_STATE_HOME || `${env.HOME ?? "."}/.local/state`;
  return `${state}/rtscope/rtscope.db`;
}

/** This machine's host name, kernel and preemption model, for a live run. */
export function hostFacts(): { host: string; kernel: string; preemption: string } {
  // doctor's model may carry advice in parentheses ("dynamic (the model in force shows...)")
  const preemption = preemptionModel().model.split(" (")[0];
  return { host: hostname(), kernel: `${release()} ${machine()}`, preemption };
}

export interface OpenOptions {
  /** open an existing database only for reading (runs list/show, compare, export) */
  readOnly?: boolean;
}

type Row = Record<string, SQLInputValue>;

/** A bigint read back as a number when exact (the report's Timestamp). */
function ts(v: SQLInputValue): Timestamp {
  const b = v as bigint;
  return b >= -9007199254740991n && b <= 9007199254740991n ? Number(b) : b;
}
const num = (v: SQLInputValue): number => Number(v);
const tsOrNull = (v: SQLInputValue): Timestamp | null => (v === null ? null : ts(v));

const PART_KEYS = ["irq", "thread", "hardirq", "wakeup", "handling"] as const;

export class RunStore {
  readonly path: string;
  private readonly db: DatabaseSync;
  private readonly statements = new Map<string, StatementSync>();

  private constructor(path: string, db: DatabaseSync) {
    this.path = path;
    this.db = db;
  }

  /**
   * Opens (and creates, unless readOnly) the database at `path` and brings its schema to
   * this version. A database of a newer rtscope is refused, not changed.
   */
  static open(path: string, o: OpenOptions = {}): RunStore {
    const tooOld = new StoreError(
      `${path}: the run database needs Node.js >= 22.16 (this is ${process.version})`,
    );
    // zlib's zstd (windows), node:sqlite's busy timeout and isTransaction
    if (typeof zlib.zstdCompressSync !== "function") throw tooOld;
    let db: DatabaseSync;
    if (!o.readOnly) {
      try {
        makeDirectories(dirname(path));
      } catch {
        throw new StoreError(
          `${path}: cannot create the directory ${dirname(path)} (${whyNotWritable(dirname(path))}): give a writable --db`,
        );
      }
    }
    try {
      // timeout: a daemon and a CLI may use the file at once (WAL: readers never wait)
      db = new DatabaseSync(path, { readOnly: o.readOnly === true, timeout: 5000 });
    } catch (e) {
      throw storeError(e, path, "open the run database");
    }
    if (typeof db.isTransaction !== "boolean") {
      db.close();
      throw tooOld;
    }
    const store = new RunStore(path, db);
    try {
      store.prepareSchema(o.readOnly === true);
    } catch (e) {
      db.close();
      throw storeError(e, path, "open the run database");
    }
    return store;
  }

  private prepareSchema(readOnly: boolean): void {
    const version = (): number => num((this.db.prepare("PRAGMA user_version").get() as Row).user_version);
    const have = version();
    if (have > MIGRATIONS.length)
      throw new StoreError(
        `${this.path}: database schema version ${have} is newer than this rtscope's (${MIGRATIONS.length}): use a newer rtscope or another --db`,
      );
    if (readOnly) {
      if (have < MIGRATIONS.length)
        throw new StoreError(
          `${this.path}: database schema version ${have} is older than this rtscope's (${MIGRATIONS.length}); record a run with this rtscope to upgrade it`,
        );
      return;
    }
    this.db.exec("PRAGMA journal_mode = WAL");
    // FULL: a committed run survives a power cut too (runs are few; the fsync is cheap)
    this.db.exec("PRAGMA synchronous = FULL");
    this.db.exec("PRAGMA foreign_keys = ON");
    if (have === MIGRATIONS.length) return;
    this.transaction(() => {
      // another process may have migrated between the read above and the lock
      for (let v = version(); v < MIGRATIONS.length; v++) {
        this.db.exec(MIGRATIONS[v]);
        this.db.exec(`PRAGMA user_version = ${v + 1}`);
      }
    });
  }

  /** `fn` inside one write transaction: all of it is stored, or none of it. */
  private transaction<T>(fn: () => T): T {
    this.db.exec("BEGIN IMMEDIATE");
    try {
      const r = fn();
      this.db.exec("COMMIT");
      return r;
    } catch (e) {
      if (this.db.isTransaction) this.db.exec("ROLLBACK");
      throw e;
    }
  }

  private stmt(sql: string): StatementSync {
    let s = this.statements.get(sql);
    if (s === undefined) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  /** Stores a run in one transaction; returns its id. Throws a StoreError (the database unchanged). */
  saveRun(input: RunInput): number {
    try {
      return this.transaction(() => this.insertRun(input));
    } catch (e) {
      throw storeError(e, this.path, "store the run");
    }
  }

  /**
   * Stores an admission in one transaction: both phases as runs, linked, with the verdict.
   * Returns the two run ids. Throws a StoreError (the database unchanged).
   */
  saveAdmission(
    baseline: RunInput,
    withNewcomer: RunInput,
    a: AdmissionInput,
  ): { baseline: number; withNewcomer: number } {
    try {
      return this.transaction(() => {
        const ids = { baseline: this.insertRun(baseline), withNewcomer: this.insertRun(withNewcomer) };
        const r = a.result(ids);
        this.stmt(
          "INSERT INTO admissions (baseline_run, newcomer_run, verdict, result, text) VALUES (?, ?, ?, ?, ?)",
        ).run(ids.baseline, ids.withNewcomer, a.verdict, r.json, r.text);
        return ids;
      });
    } catch (e) {
      throw storeError(e, this.path, "store the admission");
    }
  }

  /** The admission run `id` is a phase of, or undefined. */
  admissionOf(id: number): StoredAdmission | undefined {
    try {
      const row = this.stmt("SELECT * FROM admissions WHERE baseline_run = ? OR newcomer_run = ?").get(
        id,
        id,
      ) as Row | undefined;
      if (row === undefined) return undefined;
      return {
        id: num(row.id),
        baselineRun: num(row.baseline_run),
        withNewcomerRun: num(row.newcomer_run),
        verdict: row.verdict as string,
        result: parseJsonExact(row.result as string),
        text: row.text as string,
      };
    } catch (e) {
      throw storeError(e, this.path, `read the admission of run ${id}`);
    }
  }

  private insertRun(input: RunInput): number {
    const r = input.report;
    const m = input.meta;
    const facts =
      m.host === undefined || m.kernel === undefined || m.preemption === undefined ? hostFacts() : null;
    const res = this.stmt(
      `INSERT INTO runs (origin, host, kernel, preemption, selection, slo, started_at, ended_at,
             command, version, source, diagnostics, irq_lines, command_status)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      m.origin,
      m.host ?? facts?.host ?? "",
      m.kernel ?? facts?.kernel ?? "",
      m.preemption ?? facts?.preemption ?? "",
      r.selection,
      JSON.stringify(r.slo),
      Math.round(m.startedAt),
      Math.round(m.endedAt),
      m.command === undefined ? null : JSON.stringify(m.command),
      r.version,
      stringifyJson(r.source, 0),
      stringifyJson(r.diagnostics, 0),
      r.irqLines === undefined ? null : stringifyJson(r.irqLines, 0),
      r.command === undefined ? null : stringifyJson(r.command, 0),
    );
    const id = Number(res.lastInsertRowid);
    for (let i = 0; i < r.tasks.length; i++) this.saveTask(id, i, r.tasks[i], input.histogram);
    return id;
  }

  private saveTask(runId: number, idx: number, t: TaskReport, histogram: RunInput["histogram"]): void {
    const worst = t.worst !== undefined && Object.keys(t.worst).length > 0 ? t.worst : undefined;
    this.stmt(
      `INSERT INTO tasks (run_id, idx, tid, tgid, comm, policy, prio, kernel_prio, boosted_kernel_prio,
         wakeups, voluntary_switches, involuntary_switches, migrations, runtime, incomplete, worst, worst_list,
         start, exited, cut, irq_coalesced)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      runId,
      idx,
      t.tid,
      t.tgid,
      t.comm,
      t.policy,
      t.prio,
      t.kernelPrio,
      t.boostedKernelPrio ?? null,
      t.counters.wakeups,
      t.counters.voluntarySwitches,
      t.counters.involuntarySwitches,
      t.counters.migrations,
      Math.round(t.counters.runtime),
      t.counters.incomplete,
      worst === undefined ? null : zlib.zstdCompressSync(encodeWorstWindows(worst)),
      t.worstList === undefined ? null : stringifyJson(t.worstList, 0),
      t.start === undefined ? null : BigInt(t.start),
      t.exited === undefined ? null : BigInt(t.exited),
      t.counters.cut === undefined ? null : JSON.stringify(t.counters.cut),
      t.counters.irqCoalesced ?? null,
    );
    const insert = this.stmt(
      `INSERT INTO metrics (run_id, task_idx, metric, count, min, mean, max, max_at, p50, p90, p99,
         p999, p9999, inferred, slo_bound, violations, first_at, worst_at, parts, histogram)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const key of METRIC_KEYS) {
      const m = t.metrics[key];
      if (m === undefined) continue;
      const parts: Record<string, MetricPart> = {};
      for (const p of PART_KEYS) if (m[p] !== undefined) parts[p] = m[p];
      const h = histogram?.(t, idx, key);
      insert.run(
        runId,
        idx,
        key,
        m.count,
        m.min,
        Math.round(m.mean),
        m.max,
        m.maxAt,
        m.p50,
        m.p90,
        m.p99,
        m.p999,
        m.p9999,
        m.inferred,
        m.slo?.bound ?? null,
        m.slo?.violations ?? null,
        m.slo?.firstAt ?? null,
        m.slo?.worstAt ?? null,
        Object.keys(parts).length > 0 ? JSON.stringify(parts) : null,
        h === undefined ? null : h instanceof Float64Array ? encodeSamples(h, h.length) : encodeHistogram(h),
      );
    }
  }

  /** Every stored run, oldest first. */
  listRuns(): RunSummary[] {
    try {
      const rows = this.stmt(
        `SELECT r.*,
           (SELECT count(*) FROM tasks t WHERE t.run_id = r.id) AS task_count,
           (SELECT coalesce(sum(m.violations), 0) FROM metrics m WHERE m.run_id = r.id) AS violation_count
         FROM runs r ORDER BY r.id`,
      ).all() as Row[];
      return rows.map((row) => ({
        id: num(row.id),
        ...metaOf(row),
        tasks: num(row.task_count),
        violations: num(row.violation_count),
        lostEvents: Number((parseJsonExact(row.source as string) as { lostEvents?: number }).lostEvents ?? 0),
      }));
    } catch (e) {
      throw storeError(e, this.path, "list the runs");
    }
  }

  /** The run `id` with its report and histograms, or undefined when there is none. */
  getRun(id: number): StoredRun | undefined {
    try {
      const row = this.stmt("SELECT * FROM runs WHERE id = ?").get(id) as Row | undefined;
      if (row === undefined) return undefined;
      const meta = metaOf(row);
      const taskRows = this.stmt("SELECT * FROM tasks WHERE run_id = ? ORDER BY idx").all(id) as Row[];
      const metricStmt = this.stmt("SELECT * FROM metrics WHERE run_id = ? ORDER BY task_idx");
      // timestamps are 64-bit: read integers as bigints, convert the ones that are not
      metricStmt.setReadBigInts(true);
      const metricRows = metricStmt.all(id) as Row[];
      const tasks = taskRows.map((t) => taskOf(t, id));
      const blobs = new Map<string, Uint8Array>();
      for (const m of metricRows) {
        const idx = num(m.task_idx);
        const key = m.metric as MetricKey;
        const task = tasks[idx];
        if (task === undefined || !METRIC_KEYS.includes(key))
          throw new StoreError(`${this.path}: run ${id}: metric row for task ${idx} '${key}' has no task`);
        task.metrics[key] = summaryOf(m);
        if (m.histogram !== null) blobs.set(`${idx}/${key}`, m.histogram as Uint8Array);
      }
      // the report's metric order (rows come in key order)
      for (const t of tasks) {
        const ms = t.metrics;
        t.metrics = {};
        for (const k of METRIC_KEYS) if (ms[k] !== undefined) t.metrics[k] = ms[k];
      }
      const report: Report = {
        tool: "rtscope",
        version: row.version as string,
        source: parseJsonExact(row.source as string) as Report["source"],
        slo: meta.slo,
        selection: meta.selection,
        ...(row.command_status !== null && row.command_status !== undefined
          ? { command: parseJsonExact(row.command_status as string) as Report["command"] }
          : {}),
        tasks,
        ...(row.irq_lines !== null
          ? { irqLines: parseJsonExact(row.irq_lines as string) as Report["irqLines"] }
          : {}),
        diagnostics: parseJsonExact(row.diagnostics as string) as Report["diagnostics"],
      };
      const path = this.path;
      return {
        id,
        meta,
        report,
        histogram(taskIndex: number, metric: MetricKey): Histogram | undefined {
          const b = blobs.get(`${taskIndex}/${metric}`);
          return b === undefined
            ? undefined
            : decodeHistogram(b, `${path}: run ${id}, task ${taskIndex}, ${metric}`);
        },
      };
    } catch (e) {
      throw storeError(e, this.path, `read run ${id}`);
    }
  }

  /** Removes run `id`; false when there was none. */
  deleteRun(id: number): boolean {
    try {
      // its tasks and metrics go with it (ON DELETE CASCADE)
      return this.transaction(() => Number(this.stmt("DELETE FROM runs WHERE id = ?").run(id).changes) > 0);
    } catch (e) {
      throw storeError(e, this.path, `remove run ${id}`);
    }
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }
}

function metaOf(row: Row): RunMeta {
  const meta: RunMeta = {
    origin: row.origin as string,
    host: row.host as string,
    kernel: row.kernel as string,
    preemption: row.preemption as string,
    selection: row.selection as string,
    slo: JSON.parse(row.slo as string) as SloBounds,
    startedAt: num(row.started_at),
    endedAt: num(row.ended_at),
  };
  if (row.command !== null) meta.command = JSON.parse(row.command as string) as string[];
  return meta;
}

/** prio, kernelPrio (and boostedKernelPrio) of a task row; version-1 rows hold the kernel prio in prio. */
function storedPrio(row: Row): Pick<TaskReport, "prio" | "kernelPrio" | "boostedKernelPrio"> {
  if (row.kernel_prio === null || row.kernel_prio === undefined) {
    const kp = num(row.prio);
    return { prio: kp < 0 ? 0 : kp < 100 ? 99 - kp : kp - 120, kernelPrio: kp };
  }
  const out: Pick<TaskReport, "prio" | "kernelPrio" | "boostedKernelPrio"> = {
    prio: num(row.prio),
    kernelPrio: num(row.kernel_prio),
  };
  if (row.boosted_kernel_prio !== null && row.boosted_kernel_prio !== undefined)
    out.boostedKernelPrio = num(row.boosted_kernel_prio);
  return out;
}

function taskOf(row: Row, runId: number): TaskReport {
  const t: TaskReport = {
    tid: num(row.tid),
    tgid: num(row.tgid),
    comm: row.comm as string,
    policy: row.policy as string,
    ...storedPrio(row),
    ...(row.start === null ? {} : { start: ts(row.start) }),
    ...(row.exited === null ? {} : { exited: ts(row.exited) }),
    counters: {
      wakeups: num(row.wakeups),
      voluntarySwitches: num(row.voluntary_switches),
      involuntarySwitches: num(row.involuntary_switches),
      migrations: num(row.migrations),
      runtime: num(row.runtime),
      incomplete: num(row.incomplete),
    },
    metrics: {},
  };
  if (row.cut !== null && row.cut !== undefined)
    t.counters.cut = JSON.parse(row.cut as string) as TaskReport["counters"]["cut"];
  if (row.irq_coalesced !== null && row.irq_coalesced !== undefined)
    t.counters.irqCoalesced = num(row.irq_coalesced);
  if (row.worst !== null) {
    let text: string;
    try {
      text = zlib.zstdDecompressSync(row.worst as Uint8Array).toString("utf8");
    } catch (e) {
      throw new StoreError(
        `run ${runId}, task ${num(row.idx)}: worst windows unreadable (${(e as Error).message})`,
      );
    }
    t.worst = parseJsonExact(text) as Partial<Record<MetricKey, WorstWindow>>;
  }
  if (row.worst_list !== null)
    t.worstList = parseJsonExact(row.worst_list as string) as TaskReport["worstList"];
  return t;
}

function summaryOf(m: Row): MetricSummary {
  const s: MetricSummary = {
    count: num(m.count),
    min: num(m.min),
    mean: num(m.mean),
    max: num(m.max),
    maxAt: ts(m.max_at),
    p50: num(m.p50),
    p90: num(m.p90),
    p99: num(m.p99),
    p999: num(m.p999),
    p9999: num(m.p9999),
    inferred: num(m.inferred),
  };
  if (m.slo_bound !== null)
    s.slo = {
      bound: num(m.slo_bound),
      violations: num(m.violations),
      firstAt: tsOrNull(m.first_at),
      worstAt: tsOrNull(m.worst_at),
    };
  if (m.parts !== null) Object.assign(s, JSON.parse(m.parts as string) as Record<string, MetricPart>);
  return s;
}
