// `rtscope export` end to end on a recorded fixture: every format, read back by its reader.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { run } from "../../src/cli/export.ts";
import { UsageError } from "../../src/cli/options.ts";
import { fixturesDir } from "../helpers/paths.ts";
import { skipWithoutTraceCmd } from "../helpers/trace-cmd.ts";

const file = resolve(fixturesDir, "causes/thread.dat");

const skip = skipWithoutTraceCmd;

/** The prio-22 cyclictest thread of the fixture, found with trace-cmd (not rtscope). */
function cyclictestTid(): number {
  const out = execFileSync("trace-cmd", ["report", "-R", file], { encoding: "utf8", maxBuffer: 1 << 28 });
  const m = /next_comm=cyclictest next_pid=(\d+) next_prio=22/.exec(out);
  assert.ok(m);
  return Number(m[1]);
}

test("export writes trace.dat, Perfetto text, JSON and text for one task", { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "rtscope-export-"));
  const quiet = process.stderr.write;
  try {
    const tid = cyclictestTid();
    process.stderr.write = () => true;
    assert.equal(
      await run([file, "--task", String(tid), "--metric", "latency", "-o", join(dir, "w.dat")]),
      0,
    );
    assert.equal(await run([file, "--task", String(tid), "-f", "perfetto", "-o", join(dir, "w.txt")]), 0);
    assert.equal(await run([file, "--task", String(tid), "-o", join(dir, "w.json")]), 0);
    assert.equal(await run([file, "--task", String(tid), "-f", "text", "-o", join(dir, "w.list")]), 0);
    process.stderr.write = quiet;

    const json = JSON.parse(readFileSync(join(dir, "w.json"), "utf8"));
    const w = json.windows[0].window;
    assert.equal(json.windows[0].tid, tid);
    assert.equal(w.end - w.start, w.value);
    assert.equal(
      w.causes.reduce((a: number, c: { time: number }) => a + c.time, 0),
      w.value,
    );
    const report = execFileSync("trace-cmd", ["report", join(dir, "w.dat")], { encoding: "utf8" });
    const datLines = report.split("\n").filter((l) => /^\s*\S.*\[\d{3}\]/.test(l));
    assert.equal(datLines.length, w.events.length);
    const perfetto = readFileSync(join(dir, "w.txt"), "utf8")
      .split("\n")
      .filter((l) => l && !l.startsWith("#"));
    assert.equal(perfetto.length, w.events.length);
    const list = readFileSync(join(dir, "w.list"), "utf8");
    assert.match(list, /thread interference: stress-ng:\d+ \[prio 9\]/);

    // a saved JSON window exports to the same trace.dat events (callbacks get synthetic addresses)
    process.stderr.write = () => true;
    assert.equal(await run([join(dir, "w.json"), "--task", String(tid), "-o", join(dir, "j.dat")]), 0);
    process.stderr.write = quiet;
    const raw = (f: string) =>
      execFileSync("trace-cmd", ["report", "-R", "-t", f], { encoding: "utf8" }).replace(
        /function=\S+/g,
        "function=?",
      );
    assert.equal(raw(join(dir, "j.dat")), raw(join(dir, "w.dat")));
  } finally {
    process.stderr.write = quiet;
    rmSync(dir, { recursive: true, force: true });
  }
});

test("export: usage errors name the option", async () => {
  await assert.rejects(run([file, "--metric", "latency"]), UsageError);
  await assert.rejects(run([file, "--task", "1", "--metric", "bogus"]), /unknown metric 'bogus'/);
  await assert.rejects(run([file, "--task", "1", "-f", "tracedat"]), /-o OUT/);
  await assert.rejects(run([file, "--task", "1", "--window", "worst"]), /needs an SLO bound/);
  await assert.rejects(run(["/nonexistent.dat", "--task", "1"]), /no such file/);
});
