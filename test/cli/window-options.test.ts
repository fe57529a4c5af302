// --window-memory and --margin on `report` (record shares the parser): the bound limits the
// worst-case windows kept, never the metrics; a bad value is a usage error naming the option.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { parseSize, parseWindowSettings, UsageError } from "../../src/cli/options.ts";
import { rtscope } from "../helpers/cli.ts";
import { fixturesDir } from "../helpers/paths.ts";

const trace = join(fixturesDir, "trace-dat/cpu-load/trace.v7.dat");

interface JsonTask {
  tid: number;
  metrics: Record<string, { count: number; max: number } | undefined>;
  worst?: Record<string, unknown>;
}

function reportJson(...extra: string[]): { code: number | null; tasks: JsonTask[] } {
  const r = rtscope(
    "report",
    trace,
    "--comm",
    "^cyclictest$",
    "--slo",
    "timer=200us",
    "-f",
    "json",
    ...extra,
  );
  assert.equal(r.stderr, "");
  return { code: r.code, tasks: (JSON.parse(r.stdout) as { tasks: JsonTask[] }).tasks };
}

const windowCount = (tasks: JsonTask[]) => tasks.reduce((n, t) => n + Object.keys(t.worst ?? {}).length, 0);

test("--window-memory 1k keeps fewer windows and the same metrics", () => {
  const full = reportJson();
  const tiny = reportJson("--window-memory", "1k");
  // the fixture's timer bound is violated (see its README): exit 3 either way
  assert.equal(full.code, 3);
  assert.equal(tiny.code, 3);
  const metrics = (ts: JsonTask[]) => ts.map((t) => [t.tid, t.metrics.timer?.count, t.metrics.timer?.max]);
  assert.deepEqual(metrics(tiny.tasks), metrics(full.tasks));
  assert.ok(windowCount(full.tasks) >= 3, `default keeps ${windowCount(full.tasks)} windows`);
  assert.ok(
    windowCount(tiny.tasks) < windowCount(full.tasks),
    `1 KiB kept ${windowCount(tiny.tasks)} of ${windowCount(full.tasks)} windows`,
  );
});

test("bad --window-memory / --margin: exit 1, the option named", () => {
  for (const [opt, value] of [
    ["--window-memory", "12q"],
    ["--window-memory", "0x10"],
    ["--margin", "5parsecs"],
  ]) {
    for (const cmd of ["report", "record"]) {
      const r = cmd === "report" ? rtscope(cmd, trace, opt, value) : rtscope(cmd, opt, value);
      assert.equal(r.code, 1, `${cmd} ${opt} ${value}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`${opt}.*${value.replace(/[-]/g, "\\-")}`), r.stderr);
      assert.match(r.stderr, new RegExp(`rtscope ${cmd} --help`));
    }
  }
});

test("parseSize: binary units; parseWindowSettings defaults", () => {
  assert.equal(parseSize("1k", "--x"), 1024);
  assert.equal(parseSize("64MiB", "--x"), 64 * 1024 * 1024);
  assert.equal(parseSize("1048576", "--x"), 1048576);
  assert.equal(parseSize("1.5KiB", "--x"), 1536);
  assert.throws(() => parseSize("lots", "--window-memory", "report"), UsageError);
  assert.deepEqual(parseWindowSettings({}), { marginNs: 100_000, windowMemoryBytes: 64 * 1024 * 1024 });
  assert.deepEqual(parseWindowSettings({ margin: "2ms", "window-memory": "512KiB" }), {
    marginNs: 2_000_000,
    windowMemoryBytes: 512 * 1024,
  });
});

test("windows are captured only where the report shows them", async () => {
  const { showsWindows } = await import("../../src/cli/options.ts");
  const none = {};
  const bound = { latency: 50_000 };
  assert.equal(showsWindows({ format: "json", windows: "violations", slo: none }), true);
  assert.equal(showsWindows({ format: "json", windows: "none", slo: bound }), false);
  assert.equal(showsWindows({ format: "text", windows: "all", slo: none }), true);
  // text of every thread (default --windows violations) without a bound: nothing to show
  assert.equal(showsWindows({ format: "text", windows: "violations", slo: none }), false);
  assert.equal(showsWindows({ format: "text", windows: "violations", slo: bound }), true);
  assert.equal(showsWindows({ format: "hist", windows: "all", slo: bound }), false);
  assert.equal(showsWindows({ format: "junit", windows: "all", slo: bound }), false);
  // and the text of every thread without a bound is the same whether or not they were captured
  const { analyzeTrace } = await import("../../src/cli/analyze-trace.ts");
  const { renderReports } = await import("../../src/cli/report.ts");
  const { emptySelection } = await import("../../src/model/selection.ts");
  const text = async (windows: boolean) => {
    const a = await analyzeTrace(trace, {
      selection: emptySelection(),
      slo: {},
      worstN: 0,
      wakeupEvent: "wakeup",
      windows,
    });
    return renderReports([a], {
      format: "text",
      hist: { bucketNs: 1000, entries: 256, withZeros: false },
      windows: "violations",
    });
  };
  const withWindows = await text(true);
  assert.match(String(withWindows), /cyclictest/);
  assert.equal(await text(false), withWindows);
});

test("a text report of violations captures only their windows, and reads the same", async () => {
  const { capturedWindows } = await import("../../src/cli/options.ts");
  const bound = { latency: 50_000 };
  assert.equal(capturedWindows({ format: "text", windows: "violations", slo: bound }), "violations");
  assert.equal(capturedWindows({ format: "text", windows: "all", slo: bound }), "all");
  assert.equal(capturedWindows({ format: "json", windows: "violations", slo: bound }), "all");
  assert.equal(capturedWindows({ format: "text", windows: "violations", slo: {} }), false);
  const { analyzeTrace } = await import("../../src/cli/analyze-trace.ts");
  const { renderReports } = await import("../../src/cli/report.ts");
  const { emptySelection } = await import("../../src/model/selection.ts");
  const analyse = (windows: boolean | "violations") =>
    analyzeTrace(trace, {
      selection: emptySelection(),
      slo: { latency: 20_000 },
      worstN: 0,
      wakeupEvent: "wakeup",
      windows,
    });
  const all = await analyse(true);
  const violations = await analyse("violations");
  const text = (a: Awaited<ReturnType<typeof analyse>>) =>
    renderReports([a], {
      format: "text",
      hist: { bucketNs: 1000, entries: 256, withZeros: false },
      windows: "violations",
    });
  const shown = String(await text(all));
  assert.match(shown, /scheduling latency \(wakeup → running\)/, "the fixture has latency violations");
  assert.equal(String(await text(violations)), shown);
  // the full capture has windows of maxima within their bound (responses, latencies of threads
  // that kept it); the violations capture has exactly those of the violated latencies
  let others = 0;
  let violated = 0;
  for (const t of all.report.tasks) {
    const v = violations.report.tasks.find((x) => x.tid === t.tid);
    for (const [metric, w] of Object.entries(t.worst ?? {})) {
      const over = (t.metrics[metric as "latency"]?.slo?.violations ?? 0) > 0;
      if (!over) {
        others++;
        assert.equal(v?.worst?.[metric as "latency"], undefined, `${t.tid} ${metric}: not a violation`);
        continue;
      }
      violated++;
      assert.deepEqual(v?.worst?.[metric as "latency"]?.causes, (w as { causes: unknown }).causes);
      assert.equal(v?.worst?.[metric as "latency"]?.value, (w as { value: number }).value);
    }
  }
  assert.ok(violated > 0 && others > violated, `${violated} violated, ${others} other windows`);
});
