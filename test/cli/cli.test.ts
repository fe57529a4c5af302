// End to end: bin/rtscope.js run by the Node that runs the tests (Node 24 under npm test),
// checked for exit status and messages; real traces once the readers are in this build.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { COMMANDS } from "../../src/cli/main.ts";
import { rtscope } from "../helpers/cli.ts";
import { fixturesDir, repoRoot } from "../helpers/paths.ts";

const trace = join(fixturesDir, "trace-dat/cpu-load/trace.v7.dat");
const traceCmdReport = join(fixturesDir, "trace-dat/cpu-load/report-t.txt");
const haveReaders = existsSync(join(repoRoot, "src/sources/open-source.ts"));
const noReaders = haveReaders ? false : "src/sources/open-source.ts is not in this build yet";
const tmp = mkdtempSync(join(tmpdir(), "rtscope-cli-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

test("--help lists every command; --version prints the package version", () => {
  const r = rtscope("--help");
  assert.equal(r.code, 0);
  for (const c of COMMANDS) assert.match(r.stdout, new RegExp(`^  ${c.name} `, "m"), c.name);
  for (const c of [
    "record",
    "top",
    "hist",
    "report",
    "export",
    "serve",
    "ctl",
    "runs",
    "compare",
    "doctor",
    "reset",
    "demo",
  ])
    assert.ok(
      COMMANDS.some((x) => x.name === c),
      c,
    );
  const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8"));
  assert.equal(rtscope("--version").stdout, `rtscope ${pkg.version}\n`);
});

test("help for one command: `help report` and `report --help`", () => {
  const a = rtscope("help", "report");
  const b = rtscope("report", "--help");
  assert.equal(a.code, 0);
  assert.equal(b.code, 0);
  assert.equal(a.stdout, b.stdout);
  for (const opt of [
    "--pid",
    "--tgid",
    "--comm",
    "--rt",
    "--irq-threads",
    "--slo",
    "--format",
    "--worst",
    "--bucket",
  ])
    assert.ok(a.stdout.includes(opt), opt);
  assert.match(a.stdout, /latency {3}scheduling latency/);
});

test("usage errors exit 1 and name the offending option", () => {
  let r = rtscope("report", "x.dat", "--frobnicate");
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^rtscope: unknown option '--frobnicate'\nTry 'rtscope report --help'\.\n$/);
  r = rtscope("report", "x.dat", "--slo", "lateness=5us");
  assert.equal(r.code, 1);
  assert.match(r.stderr, /unknown metric 'lateness'; valid metrics: latency, response, relief, timer, irq/);
  r = rtscope("report", "x.dat", "--format", "xml");
  assert.equal(r.code, 1);
  assert.match(r.stderr, /valid formats: text, json, junit, hist/);
  r = rtscope("report", "x.dat", "--pid", "12a");
  assert.equal(r.code, 1);
  assert.match(r.stderr, /--pid expects a positive thread\/process id, got '12a'/);
  r = rtscope("report");
  assert.equal(r.code, 1);
  r = rtscope("bogus");
  assert.equal(r.code, 1);
  assert.match(r.stderr, /unknown command 'bogus'/);
  // hist captures no worst-case windows: their settings are refused, not ignored
  r = rtscope("hist", "--window-memory=1k");
  assert.equal(r.code, 1);
  assert.match(r.stderr, /--window-memory does not apply: hist captures no worst-case windows/);
  r = rtscope("hist", "-f", "json");
  assert.equal(r.code, 1);
  assert.match(r.stderr, /hist always prints the histogram layout/);
});

test("a missing file is a runtime error (exit 2) naming the path, one line", () => {
  const missing = join(tmp, "nope.dat");
  const r = rtscope("report", missing);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, `rtscope: ${missing}: no such file or directory\n`);
});

test("a truncated trace.dat is a runtime error (exit 2) naming file and offset", { skip: noReaders }, () => {
  const cut = join(tmp, "cut.dat");
  writeFileSync(cut, readFileSync(trace).subarray(0, 3000));
  const r = rtscope("report", cut);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr.split("\n").length, 2, r.stderr);
  assert.ok(r.stderr.includes(cut), r.stderr);
  assert.match(r.stderr, /offset \d+/);
});

test("report on a real trace: exit 0, events as trace-cmd counts them; JSON parses", {
  skip: noReaders,
}, () => {
  // trace-cmd report prints one line per event after its "cpus=2" header
  const events = readFileSync(traceCmdReport, "utf8").trimEnd().split("\n").length - 1;
  const r = rtscope("report", trace, "--comm", "^cyclictest$", "--format", "json");
  assert.equal(r.code, 0, r.stderr);
  const rep = JSON.parse(r.stdout);
  assert.equal(rep.source.events, events);
  assert.ok(rep.tasks.length >= 2);
  for (const t of rep.tasks) assert.equal(t.comm, "cyclictest");
  const text = rtscope("report", trace, "--comm", "^cyclictest$");
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`events {5}${events.toLocaleString("en-US")} \\(0 lost\\)`));
});

test("an SLO of 1ns is violated by every sample: exit 3, junit failures", { skip: noReaders }, () => {
  const out = join(tmp, "junit.xml");
  const r = rtscope(
    "report",
    trace,
    "--comm",
    "^cyclictest$",
    "--slo",
    "latency=1ns",
    "--format",
    "junit",
    "-o",
    out,
  );
  assert.equal(r.code, 3, r.stderr);
  assert.equal(r.stdout, "");
  const xml = readFileSync(out, "utf8");
  const tests = Number(/<testsuites [^>]*tests="(\d+)"/.exec(xml)![1]);
  const failures = Number(/<testsuites [^>]*failures="(\d+)"/.exec(xml)![1]);
  assert.ok(tests >= 2);
  assert.equal(failures, tests);
  const json = JSON.parse(
    rtscope("report", trace, "--comm", "^cyclictest$", "--slo", "latency=1ns", "-f", "json").stdout,
  );
  for (const t of json.tasks) assert.equal(t.metrics.latency.slo.violations, t.metrics.latency.count);
});

test("hist format: rtla layout with one column per task and metric", { skip: noReaders }, () => {
  const r = rtscope(
    "report",
    trace,
    "--comm",
    "^cyclictest$",
    "--format",
    "hist",
    "--bucket",
    "10us",
    "--entries",
    "50",
  );
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split("\n");
  assert.equal(lines[1], "# Time unit is microseconds (us)");
  const header = lines.find((l) => l.startsWith("Index"))!;
  const cols = header.split(/\s+/).slice(1);
  assert.ok(cols.includes(cols.find((c) => c.startsWith("lat-"))!));
  // bucket rows + over: add up to count: for every column
  const rows = lines.filter((l) => /^\d+\s/.test(l)).map((l) => l.split(/\s+/).map(Number));
  const over = lines
    .find((l) => l.startsWith("over:"))!
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const count = lines
    .find((l) => l.startsWith("count:"))!
    .split(/\s+/)
    .slice(1)
    .map(Number);
  cols.forEach((_c, i) => {
    const sum = rows.reduce((s, row) => s + row[i + 1], 0) + over[i];
    assert.equal(sum, count[i], cols[i]);
  });
});

// `demo` goes live where it can (test/cli/demo.test.ts); --no-live is the fallback path
test("demo --no-live runs on the bundled trace and exits 0", { skip: noReaders }, () => {
  const r = rtscope("demo", "--no-live");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /rtscope demo: .*analysing a bundled recording instead/);
  assert.match(r.stdout, /process cyclictest/);
});

test("several files: a JSON array in argument order; text reports one after the other", {
  skip: noReaders,
}, () => {
  const text = join(fixturesDir, "trace-dat/cpu-load/trace.txt");
  const r = rtscope("report", text, trace, "--comm", "^cyclictest$", "-f", "json");
  assert.equal(r.code, 0, r.stderr);
  const arr = JSON.parse(r.stdout);
  assert.equal(arr.length, 2);
  assert.equal(arr[0].source.path, text);
  assert.equal(arr[1].source.path, trace);
  // the same recording read two ways: same events, same threads, same sample counts
  assert.equal(arr[0].source.events, arr[1].source.events);
  assert.deepEqual(
    arr[0].tasks.map((t: { tid: number; metrics: { latency?: { count: number } } }) => [
      t.tid,
      t.metrics.latency?.count,
    ]),
    arr[1].tasks.map((t: { tid: number; metrics: { latency?: { count: number } } }) => [
      t.tid,
      t.metrics.latency?.count,
    ]),
  );
  const t = rtscope("report", text, trace, "--comm", "^cyclictest$", "--windows", "none");
  assert.equal(t.code, 0, t.stderr);
  assert.equal((t.stdout.match(/^rtscope \S+ report: /gm) ?? []).length, 2);
});

test("--help after -- belongs to the launched command, not to rtscope", () => {
  // demo takes no positionals: with the help intercepted this would print help and exit 0
  const r = rtscope("demo", "--", "--help");
  assert.notEqual(r.stdout.startsWith("Usage: rtscope demo"), true);
});

test("--metrics narrows every format and the exit status to the metrics shown", { skip: noReaders }, () => {
  const args = ["report", trace, "--comm", "^cyclictest$", "--slo", "latency=1ns"];
  assert.equal(rtscope(...args, "-f", "junit").code, 3);
  const r = rtscope(...args, "--metrics", "timer,response", "-f", "json");
  assert.equal(r.code, 0, r.stderr);
  const rep = JSON.parse(r.stdout);
  assert.deepEqual(rep.slo, {});
  for (const t of rep.tasks)
    for (const k of Object.keys(t.metrics)) assert.ok(k === "timer" || k === "response", k);
  const h = rtscope("report", trace, "--comm", "^cyclictest$", "--metrics", "latency", "-f", "hist");
  const header = h.stdout.split("\n").find((l) => l.startsWith("Index"))!;
  for (const c of header.split(/\s+/).slice(1)) assert.match(c, /^lat-\d+$/);
});
