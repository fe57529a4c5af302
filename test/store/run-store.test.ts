// The run database: a real analysed fixture stored and read back unchanged (its JSON report
// byte for byte, its histograms bucket for bucket), schema versions, removal, a writer
// killed mid-save, and a full disk.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { test } from "node:test";
import { percentiles } from "../../src/analysis/histogram.ts";
import { analyzeTrace } from "../../src/cli/analyze-trace.ts";
import { METRIC_KEYS } from "../../src/model/report.ts";
import { emptySelection } from "../../src/model/selection.ts";
import { encodeJsonReport } from "../../src/output/json-report.ts";
import { defaultDbPath, RunStore, StoreError } from "../../src/store/run-store.ts";
import { MIGRATIONS } from "../../src/store/schema.ts";
import { fixturesDir } from "../helpers/paths.ts";
import { sampleReport } from "../output/sample-report.ts";

const idle = join(fixturesDir, "trace-dat/idle/trace.v7.dat");
const tmp = mkdtempSync(join(tmpdir(), "rtscope-store-"));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const analysed = analyzeTrace(idle, {
  selection: { ...emptySelection(), comms: [/cyclictest/] },
  slo: { latency: 50_000, timer: 100_000 },
  worstN: 3,
  wakeupEvent: "wakeup",
});

const meta = { origin: "record", startedAt: 1_700_000_000_000, endedAt: 1_700_000_030_000 };

test("a stored run reads back as the same report, with its histograms", async () => {
  const a = await analysed;
  // as record makes it: with how the launched command ended
  const report = {
    ...a.report,
    command: {
      argv: ["cyclictest", "-m"],
      pid: 42,
      ended: "exited",
      exitCode: 0,
      signal: null,
      stoppedByUser: false,
    },
  } as typeof a.report;
  const store = RunStore.open(join(tmp, "roundtrip.db"));
  const id = store.saveRun({
    report,
    meta: {
      ...meta,
      host: "rt-box",
      kernel: "6.18.44 x86_64",
      preemption: "full",
      command: ["cyclictest", "-m"],
    },
    histogram: (t, _i, m) => a.histogram(t.tid, m),
  });
  const run = store.getRun(id);
  assert.ok(run);
  // the report as `report --format json` writes it, windows and all
  assert.equal(encodeJsonReport(run.report).toString(), encodeJsonReport(report).toString());
  assert.ok(
    run.report.tasks.some((t) => t.worst?.latency !== undefined && t.worst.latency.events.length > 0),
  );
  assert.deepEqual(run.meta, {
    ...meta,
    host: "rt-box",
    kernel: "6.18.44 x86_64",
    preemption: "full",
    command: ["cyclictest", "-m"],
    selection: a.report.selection,
    slo: { latency: 50_000, timer: 100_000 },
  });
  // each histogram holds the metric's samples, and gives the report's percentiles again
  let checked = 0;
  run.report.tasks.forEach((t, i) => {
    for (const key of METRIC_KEYS) {
      const m = t.metrics[key];
      if (m === undefined) continue;
      const h = run.histogram(i, key);
      assert.ok(h, `${t.tid} ${key}`);
      assert.equal(h.totalCount, m.count);
      const q: number[] = percentiles(h).map((v) => Math.min(v, m.max));
      assert.deepEqual(q, [m.p50, m.p90, m.p99, m.p999, m.p9999], `${t.tid} ${key}`);
      checked++;
    }
  });
  assert.ok(checked >= 9, `${checked} histograms`);
  const list = store.listRuns();
  assert.equal(list.length, 1);
  assert.equal(list[0].id, id);
  assert.equal(list[0].tasks, a.report.tasks.length);
  let violations = 0;
  for (const t of a.report.tasks)
    for (const m of Object.values(t.metrics)) violations += m.slo?.violations ?? 0;
  assert.ok(violations > 0);
  assert.equal(list[0].violations, violations);
  store.close();
});

test("timestamps past 2^53 and runs without histograms", () => {
  const store = RunStore.open(join(tmp, "big.db"));
  const r = sampleReport();
  const id = store.saveRun({ report: r, meta });
  const back = store.getRun(id);
  assert.ok(back);
  assert.equal(encodeJsonReport(back.report).toString(), encodeJsonReport(r).toString());
  assert.equal(back.histogram(0, "latency"), undefined);
  store.close();
});

test("schema: created at the current version in WAL mode, a newer one refused", () => {
  const path = join(tmp, "schema.db");
  RunStore.open(path).close();
  const db = new DatabaseSync(path);
  assert.equal(
    (db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version,
    MIGRATIONS.length,
  );
  assert.equal((db.prepare("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode, "wal");
  // opening again migrates nothing and keeps the data
  db.exec(
    "INSERT INTO runs (origin, host, kernel, preemption, selection, slo, started_at, ended_at, version, source, diagnostics) VALUES ('record','h','k','p','s','{}',1,2,'0','{}','[]')",
  );
  const again = RunStore.open(path);
  assert.equal(again.listRuns().length, 1);
  again.close();
  db.exec(`PRAGMA user_version = ${MIGRATIONS.length + 1}`);
  db.close();
  assert.throws(
    () => RunStore.open(path),
    (e: Error) =>
      e instanceof StoreError &&
      /schema\.db: database schema version \d+ is newer than this rtscope's/.test(e.message),
  );
  assert.throws(
    () => RunStore.open(join(tmp, "missing.db"), { readOnly: true }),
    /missing\.db: cannot open the run database/,
  );
  writeFileSync(
    join(tmp, "junk.db"),
    "this is not a database, just text long enough to have a header..........",
  );
  assert.throws(
    () => RunStore.open(join(tmp, "junk.db")),
    /junk\.db: cannot .*not an rtscope database or damaged/,
  );
});

test("deleteRun removes the run's rows; its id is never reused", async () => {
  const a = await analysed;
  const path = join(tmp, "rm.db");
  const store = RunStore.open(path);
  const save = () =>
    store.saveRun({ report: a.report, meta, histogram: (t, _i, m) => a.histogram(t.tid, m) });
  const one = save();
  const two = save();
  assert.equal(store.deleteRun(two), true);
  assert.equal(store.deleteRun(two), false);
  assert.equal(store.getRun(two), undefined);
  assert.ok(store.getRun(one));
  const three = save();
  assert.ok(three > two);
  store.close();
  const db = new DatabaseSync(path, { readOnly: true });
  for (const table of ["tasks", "metrics"]) {
    const n = db.prepare(`SELECT count(*) AS n FROM ${table} WHERE run_id = ?`).get(two) as { n: number };
    assert.equal(n.n, 0, table);
  }
  db.close();
});

test("default path: XDG_STATE_HOME, ~/.local/state, /var/lib as root", () => {
  assert.equal(defaultDbPath({ XDG_STATE_HOME: "/s", HOME: "/h" }, 1000), "/s/rtscope/rtscope.db");
  assert.equal(defaultDbPath({ HOME: "/h" }, 1000), "/h/.local/state/rtscope/rtscope.db");
  assert.equal(defaultDbPath({ XDG_STATE_HOME: "/s" }, 0), "/var/lib/rtscope/rtscope.db");
});

/** Waits until the child has printed `n` "saved" lines; returns everything it printed. */
function killAfterSaves(db: string, n: number, extraMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(import.meta.dirname, "save-loop.ts"), db, idle], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    let armed = false;
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (!armed && (out.match(/^saved /gm) ?? []).length >= n) {
        armed = true;
        setTimeout(() => child.kill("SIGKILL"), extraMs);
      }
    });
    child.on("exit", (_code, signal) =>
      signal === "SIGKILL" ? resolve(out) : reject(new Error(`save loop ended by itself: ${out}`)),
    );
  });
}

test("a writer killed mid-save leaves every stored run whole", async () => {
  const a = await analysed;
  const db = join(tmp, "crash.db");
  let insideSave = 0;
  let savedSeen = 0;
  for (const extra of [3, 17, 41, 70]) {
    const out = await killAfterSaves(db, 2, extra);
    const lines = out.trim().split("\n");
    if (lines.at(-1) === "begin") insideSave++;
    savedSeen += lines.filter((l) => l.startsWith("saved ")).length;
    const store = RunStore.open(db);
    const runs = store.listRuns();
    // every save that said "saved" is there; at most the one cut short is not
    assert.ok(
      runs.length >= savedSeen && runs.length <= savedSeen + 4,
      `${runs.length} runs, ${savedSeen} saved`,
    );
    for (const r of runs) {
      const run = store.getRun(r.id);
      assert.ok(run);
      assert.equal(run.report.tasks.length, a.report.tasks.length);
      run.report.tasks.forEach((t, i) => {
        assert.deepEqual(Object.keys(t.metrics), Object.keys(a.report.tasks[i].metrics));
        for (const key of METRIC_KEYS)
          if (t.metrics[key]) assert.equal(run.histogram(i, key)?.totalCount, t.metrics[key].count);
      });
    }
    store.close();
    savedSeen = runs.length;
    const check = new DatabaseSync(db);
    assert.equal(
      (check.prepare("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check,
      "ok",
    );
    check.close();
  }
  // the kills must have hit saves in progress for the test to mean anything
  assert.ok(insideSave >= 2, `${insideSave} of 4 kills inside a save`);
});

const canMount = process.getuid?.() === 0 && spawnSync("mount", ["--version"]).status === 0;

test("a full disk is a clear error and leaves the database usable", {
  skip: canMount ? false : "needs root to mount a tmpfs",
}, async () => {
  const a = await analysed;
  const dir = mkdtempSync(join(tmpdir(), "rtscope-full-"));
  assert.equal(spawnSync("mount", ["-t", "tmpfs", "-o", "size=320k", "tmpfs", dir]).status, 0);
  try {
    const db = join(dir, "rtscope.db");
    const store = RunStore.open(db);
    let saved = 0;
    let error: Error | undefined;
    for (let i = 0; i < 200 && error === undefined; i++) {
      try {
        store.saveRun({ report: a.report, meta, histogram: (t, _i, m) => a.histogram(t.tid, m) });
        saved++;
      } catch (e) {
        error = e as Error;
      }
    }
    assert.ok(error instanceof StoreError, String(error));
    assert.match(
      error.message,
      new RegExp(`${db}: cannot store the run: the disk is full: free space, or give another --db`),
    );
    assert.equal(store.listRuns().length, saved);
    store.close();
    // on the full disk a new database cannot even be made: the error says so when opening
    writeFileSync(join(dir, "filler"), Buffer.alloc(0));
    try {
      writeFileSync(join(dir, "filler"), Buffer.alloc(320 * 1024));
    } catch {}
    assert.throws(
      () => RunStore.open(join(dir, "other.db")),
      /other\.db: cannot open the run database: the disk is full/,
    );
  } finally {
    spawnSync("umount", [dir]);
    rmSync(dir, { recursive: true, force: true });
  }
});

test("cut activations by reason and coalesced IRQs read back as they were stored", async () => {
  // a fixture with activations cut (CPU without data, missed switches)
  const { report } = await analyzeTrace(join(fixturesDir, "causes/migration.dat"), {
    selection: emptySelection(),
    slo: {},
    worstN: 0,
    wakeupEvent: "wakeup",
  });
  assert.ok(report.tasks.some((t) => t.counters.cut !== undefined));
  const store = RunStore.open(join(tmp, "cut.db"));
  const run = store.getRun(store.saveRun({ report, meta }));
  assert.ok(run);
  assert.equal(encodeJsonReport(run.report).toString(), encodeJsonReport(report).toString());
  store.close();
});

test("an admission stores its two phases linked, all or nothing; removing a phase removes the link", async () => {
  const a = await analysed;
  const store = RunStore.open(join(tmp, "admission.db"));
  const phase = { report: a.report, meta: { ...meta, origin: "admit" } };
  const ids = store.saveAdmission(phase, phase, {
    verdict: "rejected",
    result: (ids) => ({
      json: JSON.stringify({ runs: ids }),
      text: `runs ${ids.baseline} ${ids.withNewcomer}\n`,
    }),
  });
  assert.equal(ids.withNewcomer, ids.baseline + 1);
  for (const id of [ids.baseline, ids.withNewcomer])
    assert.deepEqual(store.admissionOf(id), {
      id: 1,
      baselineRun: ids.baseline,
      withNewcomerRun: ids.withNewcomer,
      verdict: "rejected",
      result: { runs: ids },
      text: `runs ${ids.baseline} ${ids.withNewcomer}\n`,
    });
  // a failure inside the transaction stores neither run
  assert.throws(
    () =>
      store.saveAdmission(phase, phase, {
        verdict: "admitted",
        result: () => {
          throw new StoreError("no");
        },
      }),
    StoreError,
  );
  assert.equal(store.listRuns().length, 2);
  assert.ok(store.deleteRun(ids.withNewcomer));
  assert.equal(store.admissionOf(ids.baseline), undefined);
  assert.ok(store.getRun(ids.baseline));
  store.close();
});

test("a database path whose directories cannot be made is a StoreError, also under /proc (where Node's recursive mkdir never returns)", () => {
  const nested = join(mkdtempSync(join(tmpdir(), "rtscope-store-")), "a/b/c/runs.db");
  RunStore.open(nested).close(); // missing levels are made, one at a time
  assert.throws(
    () => RunStore.open("/proc/rtscope-nope/runs.db"),
    (e: unknown) => {
      assert.ok(e instanceof StoreError);
      assert.match(e.message, /cannot create the directory \/proc\/rtscope-nope/);
      return true;
    },
  );
});
