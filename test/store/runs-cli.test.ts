// `rtscope runs` and `rtscope export RUN` on a database holding a fixture's run. Ground truth:
// `rtscope report --format json` of the same trace and selection (what record would have
// written), and `rtscope export` of that JSON report.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, test } from "node:test";
import { analyzeTrace } from "../../src/cli/analyze-trace.ts";
import { emptySelection } from "../../src/model/selection.ts";
import { RunStore } from "../../src/store/run-store.ts";
import { rtscope } from "../helpers/cli.ts";
import { fixturesDir } from "../helpers/paths.ts";

const tmp = mkdtempSync(join(tmpdir(), "rtscope-runs-"));
test.after(() => rmSync(tmp, { recursive: true, force: true }));
const file = join(fixturesDir, "trace-dat/cpu-load/trace.v7.dat");
const db = join(tmp, "runs.db");
const reportJson = join(tmp, "report.json");
const started = Date.UTC(2026, 10, 25, 14, 8, 22);

before(async () => {
  const r = rtscope(
    "report",
    file,
    "--comm",
    "^cyclictest$",
    "--slo",
    "latency=100us",
    "-f",
    "json",
    "-o",
    reportJson,
  );
  assert.equal(r.code, 3, r.stderr);
  const a = await analyzeTrace(file, {
    selection: { ...emptySelection(), comms: [/^cyclictest$/] },
    slo: { latency: 100_000 },
    worstN: 0,
    wakeupEvent: "wakeup",
  });
  const store = RunStore.open(db);
  for (let i = 0; i < 2; i++)
    store.saveRun({
      report: a.report,
      meta: {
        origin: "record",
        startedAt: started,
        endedAt: started + 30_000,
        host: "vm",
        kernel: "6.18.44-fc-v782 x86_64",
        preemption: "none",
      },
      histogram: (t, _i, m) => a.histogram(t.tid, m),
    });
  store.close();
});

test("runs show ID --format json is the report itself", () => {
  const out = join(tmp, "show.json");
  const r = rtscope("runs", "show", "1", "--db", db, "--format", "json", "-o", out);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(out, "utf8"), readFileSync(reportJson, "utf8"));
});

test("runs list, show (text, hist), rm", () => {
  const list = rtscope("runs", "--db", db);
  assert.equal(list.code, 0, list.stderr);
  const lines = list.stdout.trim().split("\n");
  assert.equal(lines.length, 3);
  assert.match(
    lines[0],
    /^id\s+started\s+duration\s+origin\s+host\s+kernel\s+preemption\s+tasks\s+violations\s+lost\s+selection$/,
  );
  const report = JSON.parse(readFileSync(reportJson, "utf8")) as {
    tasks: { metrics: { latency?: { slo?: { violations: number } } } }[];
  };
  const violations = report.tasks.reduce((s, t) => s + (t.metrics.latency?.slo?.violations ?? 0), 0);
  assert.match(
    lines[1],
    new RegExp(
      `^ 1  2026-11-25 14:08:22 UTC\\s+30 s  record  vm\\s+6\\.18\\.44-fc-v782 x86_64  none\\s+${report.tasks.length}\\s+${violations}\\s+0  --comm \\^cyclictest\\$$`,
    ),
  );
  const json = JSON.parse(rtscope("runs", "list", "--db", db, "-f", "json").stdout) as {
    id: number;
    tasks: number;
  }[];
  assert.deepEqual(
    json.map((r) => r.id),
    [1, 2],
  );

  const text = rtscope("runs", "show", "2", "--db", db);
  assert.equal(text.code, 0, text.stderr);
  assert.match(
    text.stdout,
    /^Run 2: record on vm, kernel 6\.18\.44-fc-v782 x86_64, preemption none\n {2}2026-11-25 14:08:22 UTC for 30 s\n\nrtscope 0\.1\.0 report: /,
  );
  const fromTrace = rtscope("report", file, "--comm", "^cyclictest$", "--slo", "latency=100us", "-f", "hist");
  const hist = rtscope("runs", "show", "2", "--db", db, "-f", "hist");
  assert.equal(hist.stdout, fromTrace.stdout);

  const rm = rtscope("runs", "rm", "1", "--db", db);
  assert.equal(rm.code, 0, rm.stderr);
  const gone = rtscope("runs", "show", "1", "--db", db);
  assert.equal(gone.code, 2);
  assert.match(gone.stderr, /runs\.db: no run 1 \(rtscope runs list shows the stored runs\)/);
  assert.equal(rtscope("runs", "rm", "1", "--db", db).code, 2);
});

test("export RUN writes the stored window as export of the JSON report does", () => {
  const window = ["--comm", "^cyclictest$", "--metric", "latency", "-f", "json"];
  const fromRun = rtscope("export", "2", ...window, "--db", db);
  assert.equal(fromRun.code, 0, fromRun.stderr);
  const fromJson = rtscope("export", reportJson, ...window);
  assert.equal(fromRun.stdout, fromJson.stdout);
  assert.match(fromRun.stdout, /"event": "sched_switch"|"event":"sched_switch"/);
  const missing = rtscope("export", "42", "--task", "1", "--db", db);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no run 42/);
});

test("usage errors and a missing database", () => {
  assert.equal(rtscope("runs", "show", "--db", db).code, 1);
  assert.match(
    rtscope("runs", "frob", "--db", db).stderr,
    /unknown action 'frob'; use list, show ID or rm ID/,
  );
  assert.match(rtscope("runs", "show", "x1", "--db", db).stderr, /'x1' is not a run id/);
  const none = rtscope("runs", "--db", join(tmp, "none.db"));
  assert.equal(none.code, 2);
  assert.match(none.stderr, /none\.db: no run database here/);
  assert.equal(existsSync(join(tmp, "none.db")), false);
});
