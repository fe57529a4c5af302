// `npm start` = `rtscope demo`: live on cyclictest where it can, else the bundled trace.
// Ground truth for the live run is cyclictest's own summary (its loop count per thread),
// printed by the same run; the tracefs instance named in the report must be gone after.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { test } from "node:test";
import { CYCLICTEST } from "../../src/cli/demo.ts";
import { liveUsable } from "../../src/tracefs/live-usable.ts";
import { rtscopeBin as bin } from "../helpers/cli.ts";

const usable = liveUsable();
const skipLive = !usable.ok
  ? `live capture not usable: ${usable.why}`
  : process.getuid?.() !== 0
    ? "not root"
    : !existsSync(CYCLICTEST)
      ? `${CYCLICTEST} not installed`
      : false;

/** cyclictest -q's final lines: "T: 0 (19922) P:80 I:1000 C:   4984 Min: ... Max:    2693" */
function cyclictestSummary(out: string): Map<number, { cycles: number; maxUs: number }> {
  const m = new Map<number, { cycles: number; maxUs: number }>();
  for (const x of out.matchAll(/^T:\s*\d+\s+\(\s*(\d+)\)\s+P:\s*80.*?C:\s*(\d+).*?Max:\s*(\d+)/gm))
    m.set(Number(x[1]), { cycles: Number(x[2]), maxUs: Number(x[3]) });
  return m;
}

/** The report's timer row of thread `tid`: [count, max us]. */
function timerRow(out: string, tid: number): [number, number] | undefined {
  const at = out.indexOf(`cyclictest [${tid}]  SCHED_FIFO`);
  if (at < 0) return undefined;
  // maxima of a millisecond and more print with thousands separators (a loaded machine)
  const row = /^\s+timer\s+([\d,]+)\s.*\s([\d.,]+)\s+[\d,]+\s+200\.0/m.exec(out.slice(at, at + 2000));
  return row ? [Number(row[1].replace(/,/g, "")), Number(row[2].replace(/,/g, ""))] : undefined;
}

function checkLiveOutput(out: string): void {
  assert.match(out, /^rtscope demo: live capture is usable/m);
  assert.match(
    out,
    /^Equivalent command: rtscope record --comm '\^cyclictest\$' --slo timer=200us,latency=100us -- /m,
  );
  const instance = /report: (\S+\/instances\/rtscope-\d+)/.exec(out)?.[1];
  assert.ok(instance, "the report names its instance");
  assert.equal(existsSync(instance), false, `${instance} left behind`);
  const truth = cyclictestSummary(out);
  assert.equal(truth.size, 2, "cyclictest printed two thread summaries");
  for (const [tid, ct] of truth) {
    const row = timerRow(out, tid);
    assert.ok(row, `no SCHED_FIFO timer row for cyclictest [${tid}]`);
    // one timer sample per cyclictest loop; the last may be cut by the end of the capture
    assert.ok(
      Math.abs(row[0] - ct.cycles) <= 1,
      `tid ${tid}: ${row[0]} samples, cyclictest ${ct.cycles} loops`,
    );
    // cyclictest reads the clock back in user space, after the syscall exit where the timer
    // metric ends: anything after that (a preemption) makes its max larger, never smaller
    assert.ok(row[1] <= ct.maxUs + 2, `tid ${tid}: max ${row[1]} us, cyclictest ${ct.maxUs} us`);
  }
}

test("npm start (demo) goes live on cyclictest: exit 0, timer rows match cyclictest, no instance left", {
  skip: skipLive,
  timeout: 60_000,
}, () => {
  const r = spawnSync(process.execPath, [bin, "demo"], { encoding: "utf8", timeout: 45_000 });
  assert.equal(r.status, 0, r.stderr);
  checkLiveOutput(r.stdout);
});

test("Ctrl-C during the live demo: report of what was recorded, exit 0, instance removed", {
  skip: skipLive,
  timeout: 60_000,
}, async () => {
  const child = spawn(process.execPath, [bin, "demo"], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  // wait until it is recording, then interrupt rtscope only (a terminal would signal the
  // whole group; rtscope must also stop the workload itself)
  while (!/^Equivalent command/m.test(out)) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 2000));
  child.kill("SIGINT");
  const code = await new Promise<number | null>((r) => child.on("close", (c) => r(c)));
  assert.equal(code, 0, err);
  checkLiveOutput(out);
  const events = /events\s+[\d,]+ \(\d+ lost\), ([\d.]+) s/.exec(out);
  assert.ok(events && Number(events[1]) < 4.5, `stopped early: ${events?.[1]} s recorded`);
});

test("demo --no-live: the bundled trace, saying why", () => {
  const r = spawnSync(process.execPath, [bin, "demo", "--no-live"], { encoding: "utf8", timeout: 45_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stdout,
    /^rtscope demo: live capture not asked for; analysing a bundled recording instead\.$/m,
  );
  assert.match(r.stdout, /cyclictest \[28861\]\s+SCHED_FIFO/);
  assert.match(r.stdout, /^\s+timer\s+500\s/m);
});
