// --samples: the CSV writer's format (columns, quoting, cut rows, timestamps past 2^53,
// output bigger than its buffer), and that `report --samples` writes one row per sample the
// report counts and one per activation it counts as incomplete.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import type { Report } from "../../src/model/report.ts";
import { SAMPLES_CSV_HEADER, SamplesCsvWriter } from "../../src/output/samples-csv.ts";
import { rtscope } from "../helpers/cli.ts";
import { fixturesDir } from "../helpers/paths.ts";

const work = mkdtempSync(join(tmpdir(), "rtscope-samples-csv-"));
after(() => rmSync(work, { recursive: true, force: true }));

test("rows: parts by metric, inferred, cut rows, quoted names, absolute ns past 2^53", () => {
  const path = join(work, "unit.csv");
  const w = new SamplesCsvWriter(path, 9_007_199_254_740_000n);
  w.sample(7, 5, "cyclictest", "timer", 1000, 6000, 5000, 1200, 3800, 0, false);
  w.sample(8, 8, 'a,"b"', "irq", 10, 110, 100, 20, 30, 50, true);
  w.sample(7, 5, "cyclictest", "latency", 2000, 2500, 500, 0, 0, 0, true);
  w.cut(7, 5, "cyclictest", 3000, 4000, "loss");
  w.close();
  assert.equal(
    readFileSync(path, "utf8"),
    `${SAMPLES_CSV_HEADER}7,5,cyclictest,timer,9007199254741000,9007199254746000,5000,1200,3800,,,,0,
8,8,"a,""b""",irq,9007199254740010,9007199254740110,100,,,20,30,50,1,
7,5,cyclictest,latency,9007199254742000,9007199254742500,500,,,,,,1,
7,5,cyclictest,activation,9007199254743000,9007199254744000,,,,,,,0,loss
`,
  );
});

test("a file bigger than the write buffer keeps every row in order", () => {
  const path = join(work, "big.csv");
  const w = new SamplesCsvWriter(path, 0n);
  for (let i = 0; i < 20_000; i++) w.sample(1, 1, "t", "latency", i, i + 1, 1, 0, 0, 0, false);
  w.close();
  const lines = readFileSync(path, "utf8").trimEnd().split("\n");
  assert.equal(lines.length, 20_001);
  assert.equal(lines[20_000], "1,1,t,latency,19999,20000,1,,,,,,0,");
  assert.equal(w.rows, 20_000);
});

for (const [name, file] of [
  ["cyclictest fixture", join(fixturesDir, "trace-dat", "fifo-hog", "trace.v7.dat")],
  // activations cut for want of data on a CPU and missed switches (30 cut rows)
  ["a trace with cut activations", join(fixturesDir, "causes", "migration.dat")],
]) {
  test(`report --samples (${name}): a row per sample and per cut activation the report counts`, () => {
    const csv = join(work, `${name}.csv`);
    const r = rtscope("report", file, "--windows", "none", "--format", "json", "--samples", csv);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as Report;
    const rows = readFileSync(csv, "utf8").trimEnd().split("\n").slice(1);
    const count = new Map<string, number>();
    for (const row of rows) {
      const f = row.split(",");
      const key = `${f[0]} ${f[3]}`;
      count.set(key, (count.get(key) ?? 0) + 1);
    }
    let cut = 0;
    const byReason = { loss: 0, "cpu-without-data": 0, "missed-switch": 0, "missed-run": 0 };
    for (const t of report.tasks) {
      for (const [m, s] of Object.entries(t.metrics)) assert.equal(count.get(`${t.tid} ${m}`) ?? 0, s?.count);
      assert.equal(count.get(`${t.tid} activation`) ?? 0, t.counters.incomplete, `tid ${t.tid}`);
      cut += t.counters.incomplete;
      const c = t.counters.cut;
      if (c) {
        byReason.loss += c.lostEvents;
        byReason["cpu-without-data"] += c.cpuWithoutData;
        byReason["missed-switch"] += c.missedSwitch;
        byReason["missed-run"] += c.missedRun;
      }
    }
    // every cut row gives the reason the report counts it under
    for (const [reason, n] of Object.entries(byReason))
      assert.equal(rows.filter((x) => x.endsWith(`,${reason}`)).length, n, reason);
    if (name.includes("cut")) assert.ok(cut > 0, "activations were cut");
  });
}

test("--samples with several trace files is refused", () => {
  const f = join(fixturesDir, "text", "tracefs-mono.txt");
  const r = rtscope("report", f, f, "--samples", join(work, "x.csv"));
  assert.equal(r.code, 1);
  assert.match(r.stderr, /--samples takes one trace file/);
});
