// `rtscope compare` on two real recordings (test/fixtures/trace-dat: cyclictest idle and
// beside a CPU load). Ground truth: the numbers of the two JSON reports, read here and judged
// with SPEC's rule written again in the test; for stored runs, whose same-named threads are
// merged through their histograms, the merged p99 against the raw events' latency samples
// (the fidelity tests' independent scan).
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import type { Comparison } from "../../src/analysis/compare.ts";
import { analyzeTrace } from "../../src/cli/analyze-trace.ts";
import type { Report } from "../../src/model/report.ts";
import { RunStore } from "../../src/store/run-store.ts";
import {
  type CASES,
  engineMissing,
  loadCase,
  loadEngine,
  scanFile,
  selectionOfTids,
} from "../fidelity/ground-truth.ts";
import { rtscope } from "../helpers/cli.ts";
import { fixturesDir } from "../helpers/paths.ts";

const tmp = mkdtempSync(join(tmpdir(), "rtscope-compare-"));
test.after(() => rmSync(tmp, { recursive: true, force: true }));
const trace = (name: string) => join(fixturesDir, "trace-dat", name, "trace.v7.dat");

/** `rtscope report --format json` of a fixture, as a file; returns its path and parsed report. */
function jsonReport(name: string, ...extra: string[]): { path: string; report: Report } {
  const path = join(tmp, `${name}${extra.join("").replace(/\W/g, "_")}.json`);
  const r = rtscope(
    "report",
    trace(name),
    "--comm",
    "^cyclictest$",
    "--format",
    "json",
    "-o",
    path,
    ...extra,
  );
  assert.ok(r.code === 0 || r.code === 3, r.stderr);
  return { path, report: JSON.parse(readFileSync(path, "utf8")) as Report };
}

interface Expected {
  task: string;
  metric: string;
  kinds: string[];
}

/**
 * SPEC's rule on two JSON reports whose tasks are all named cyclictest (offline, each
 * thread is its own process): merged max = the largest max; violations summed.
 */
function expectedMaxAndViolations(base: Report, next: Report, tolerance = 0.1): Expected[] {
  const out: Expected[] = [];
  for (const metric of ["latency", "response", "relief", "timer", "irq"]) {
    const side = (r: Report) => {
      const ms = r.tasks.map((t) => t.metrics[metric as "latency"]).filter((m) => m !== undefined);
      if (ms.length === 0) return undefined;
      const bounded = ms.filter((m) => m.slo !== undefined);
      return {
        max: Math.max(...ms.map((m) => m.max)),
        violations: bounded.length ? bounded.reduce((s, m) => s + (m.slo?.violations ?? 0), 0) : null,
      };
    };
    const b = side(base);
    const n = side(next);
    if (!b || !n) continue;
    const kinds: string[] = [];
    if (n.max > b.max + Math.max(b.max * tolerance, 1000)) kinds.push("max");
    if ((n.violations ?? 0) > 0 && (b.violations ?? 0) === 0) kinds.push("violations");
    if (kinds.length) out.push({ task: "cyclictest", metric, kinds });
  }
  return out;
}

/** The JSON output: the Comparison itself (bigints never occur in it). */
type JsonComparison = Comparison;

describe("compare JSON reports", () => {
  const cpu = jsonReport("cpu-load");
  const idle = jsonReport("idle");

  test("a clearly worse run exits 3 and names the task and metric first", () => {
    // on this VM the idle recording caught the longer host stalls: it is the worse one
    const expected = expectedMaxAndViolations(cpu.report, idle.report);
    assert.ok(expected.length >= 2, JSON.stringify(expected));
    const text = rtscope("compare", cpu.path, idle.path);
    assert.equal(text.code, 3, text.stderr);
    const lines = text.stdout.split("\n");
    const first = lines.findIndex((l) => l.startsWith("REGRESSION"));
    // only the header comes before the regressions
    assert.equal(first, 4, text.stdout);
    const named = lines
      .filter((l) => l.startsWith("REGRESSION "))
      .map((l) => /^REGRESSION (\S+) (\S+): (\S+)/.exec(l)?.slice(1));
    for (const e of expected)
      for (const k of e.kinds)
        assert.ok(
          named.some((n) => n?.[0] === e.task && n[1] === `${e.metric}` && n[2] === k),
          `${e.metric} ${k} in\n${text.stdout}`,
        );
    const json = rtscope("compare", cpu.path, idle.path, "--format", "json");
    assert.equal(json.code, 3);
    const c = JSON.parse(json.stdout) as JsonComparison;
    const got = c.rows.filter((r) => r.regressions.some((x) => x.kind === "max")).map((r) => r.metric);
    assert.deepEqual(
      got.sort(),
      expected
        .filter((e) => e.kinds.includes("max"))
        .map((e) => e.metric)
        .sort(),
    );
    for (const r of c.rows) {
      const maxOf = (rep: Report) =>
        Math.max(...rep.tasks.map((t) => t.metrics[r.metric as "latency"]?.max ?? 0));
      assert.equal(r.base?.max, maxOf(cpu.report), r.metric);
      assert.equal(r.new?.max, maxOf(idle.report), r.metric);
      assert.equal(r.new?.threads, idle.report.tasks.filter((t) => t.metrics[r.metric as "latency"]).length);
    }
    // regressed rows first
    const firstOk = c.rows.findIndex((r) => r.regressions.length === 0);
    assert.ok(firstOk === -1 || c.rows.slice(firstOk).every((r) => r.regressions.length === 0));
  });

  test("a run compared with itself exits 0", () => {
    for (const r of [cpu, idle]) {
      const out = rtscope("compare", r.path, r.path);
      assert.equal(out.code, 0, out.stdout);
      assert.match(out.stdout, /^No regression\.$/m);
    }
  });

  test("the other way round nothing regresses on max", () => {
    const expected = expectedMaxAndViolations(idle.report, cpu.report);
    const c = JSON.parse(rtscope("compare", idle.path, cpu.path, "-f", "json").stdout) as JsonComparison;
    assert.equal(expected.length, 0);
    assert.equal(c.rows.filter((r) => r.regressions.some((x) => x.kind === "max")).length, 0);
  });

  test("violations where the base had none; --tolerance", () => {
    // a latency bound at the base's max: the base has no violation, the worse run has some
    const bound = Math.max(...cpu.report.tasks.map((t) => t.metrics.latency?.max ?? 0));
    const base = jsonReport("cpu-load", "--slo", `latency=${bound}ns`);
    const next = jsonReport("idle", "--slo", `latency=${bound}ns`);
    const expected = expectedMaxAndViolations(base.report, next.report, 1000);
    assert.deepEqual(expected, [{ task: "cyclictest", metric: "latency", kinds: ["violations"] }]);
    const out = rtscope("compare", base.path, next.path, "--tolerance", "100000%");
    assert.equal(out.code, 3, out.stdout);
    const n = next.report.tasks.reduce((s, t) => s + (t.metrics.latency?.slo?.violations ?? 0), 0);
    assert.match(
      out.stdout,
      new RegExp(`^REGRESSION cyclictest latency: ${n} SLO violations where the base had none$`, "m"),
    );
    assert.equal(rtscope("compare", cpu.path, idle.path, "--tolerance", "100000%").code, 0);
  });

  test("JUnit: one test case per task and metric, a regression is a failure", () => {
    const out = rtscope("compare", cpu.path, idle.path, "-f", "junit");
    assert.equal(out.code, 3);
    const c = JSON.parse(rtscope("compare", cpu.path, idle.path, "-f", "json").stdout) as JsonComparison;
    assert.equal((out.stdout.match(/<testcase /g) ?? []).length, c.rows.length);
    assert.equal((out.stdout.match(/<failure /g) ?? []).length, c.regressed);
    assert.match(out.stdout, /<testcase name="cyclictest latency" classname="rtscope.compare.cyclictest"/);
  });

  test("bad input: usage errors exit 1, missing runs and files 2", () => {
    assert.equal(rtscope("compare", cpu.path).code, 1);
    assert.match(
      rtscope("compare", cpu.path, idle.path, "--tolerance", "ten").stderr,
      /--tolerance expects a percentage/,
    );
    const missing = rtscope("compare", cpu.path, "nope.json");
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /'nope.json': no such file, and not a run id/);
    const noDb = rtscope("compare", cpu.path, "7", "--db", join(tmp, "none.db"));
    assert.equal(noDb.code, 2);
    assert.match(noDb.stderr, /none\.db: no run database here/);
    const trace = rtscope("compare", cpu.path, join(fixturesDir, "trace-dat/idle/case.json"));
    assert.equal(trace.code, 2);
    assert.match(trace.stderr, /case\.json: not an rtscope JSON report/);
  });
});

describe("compare stored runs", { skip: engineMissing() || false }, () => {
  const db = join(tmp, "runs.db");
  const ids: Record<string, number> = {};
  before(async () => {
    const store = RunStore.open(db);
    for (const name of ["cpu-load", "idle"]) {
      const tids = loadCase(name as (typeof CASES)[number]).threads.map((t) => t.tid);
      const a = await analyzeTrace(trace(name), {
        selection: selectionOfTids(tids),
        slo: {},
        worstN: 0,
        wakeupEvent: "wakeup",
      });
      ids[name] = store.saveRun({
        report: a.report,
        meta: { origin: "record", startedAt: 0, endedAt: 1 },
        histogram: (t, _i, m) => a.histogram(t.tid, m),
      });
    }
    store.close();
  });

  test("same-named threads merged through their histograms: p99 of every sample of both threads", async () => {
    const out = rtscope("compare", String(ids["cpu-load"]), String(ids.idle), "--db", db, "-f", "json");
    assert.ok(out.code === 0 || out.code === 3, out.stderr);
    const c = JSON.parse(out.stdout) as JsonComparison;
    const row = c.rows.find((r) => r.metric === "latency");
    assert.ok(row?.base && row.new);
    const engine = await loadEngine();
    for (const [name, side] of [
      ["cpu-load", row.base],
      ["idle", row.new],
    ] as const) {
      const tids = loadCase(name).threads.map((t) => t.tid);
      const scan = await scanFile(engine, trace(name), tids);
      const values = tids
        .flatMap((tid) => scan.tasks.get(tid)?.latency.map((s) => s.value) ?? [])
        .sort((a, b) => a - b);
      const exact = values[Math.ceil(values.length * 0.99) - 1];
      assert.equal(side.threads, 2);
      assert.equal(side.p99Exact, true);
      assert.equal(side.max, values.at(-1), `${name} max`);
      // HDR, 3 significant digits: the bucket's upper end, within 1/1024 above the sample
      assert.ok(
        side.p99 >= exact && side.p99 <= exact + exact / 1024 + 1,
        `${name}: p99 ${side.p99}, samples ${exact}`,
      );
    }
    const limit = row.base.p99 + Math.max(row.base.p99 * 0.1, 1000);
    assert.equal(
      row.regressions.some((x) => x.kind === "p99"),
      row.new.p99 > limit,
    );
  });

  test("a stored run compared with itself exits 0; an unknown id is an error", () => {
    for (const id of Object.values(ids)) {
      const out = rtscope("compare", String(id), String(id), "--db", db);
      assert.equal(out.code, 0, out.stdout);
    }
    const missing = rtscope("compare", "1", "99", "--db", db);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /runs\.db: no run 99/);
  });
});
