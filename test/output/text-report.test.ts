import assert from "node:assert/strict";
import { test } from "node:test";
import { countCell, durationText, timestampText, usCell } from "../../src/output/table.ts";
import { formatTextReport } from "../../src/output/text-report.ts";
import { sampleReport } from "./sample-report.ts";

test("number cells: µs with sensible precision, a dash for no data", () => {
  assert.equal(usCell(812), "0.81");
  assert.equal(usCell(20912), "20.9");
  assert.equal(usCell(1961500), "1962");
  assert.equal(usCell(undefined), "-");
  assert.equal(countCell(669509), "669,509");
  assert.equal(countCell(-1), "unknown");
  assert.equal(durationText(50000), "50 us");
  assert.equal(durationText(2e6), "2 ms");
  assert.equal(timestampText(9985261234567), "9985.261234");
  assert.equal(timestampText(9007199254740997n), "9007199.254740");
});

test("header, per-thread table, counters, causes and diagnostics", () => {
  const text = formatTextReport(sampleReport(), { width: 120 });
  const lines = text.split("\n");
  assert.equal(lines[0], "rtscope 0.1.0 report: /tmp/cyclic.dat");
  assert.ok(lines.includes("  source     trace.dat v7 zstd, clock mono, 2 CPUs"));
  assert.ok(lines.includes("  events     669,509 (0 lost), 2.5 ms (9985.259000 .. 9985.261500)"));
  assert.ok(lines.includes("  SLO        latency <= 50 us"));
  assert.ok(lines.includes("process cyclictest (pid 4026): 2 threads"));
  assert.ok(lines.includes("  cyclictest [4028]  SCHED_FIFO rtprio 80"));
  const head = lines.findIndex((l) => l.trimStart().startsWith("metric (us)"));
  assert.deepEqual(lines[head].trim().split(/\s{2,}/), [
    "metric (us)",
    "count",
    "min",
    "p50",
    "p90",
    "p99",
    "p99.9",
    "max",
    "inferred",
    "SLO",
    "over SLO",
  ]);
  assert.deepEqual(lines[head + 1].trim().split(/\s+/), [
    "latency",
    "2,000",
    "0.81",
    "2.10",
    "3.00",
    "9.00",
    "20.0",
    "60.9",
    "1,994",
    "50.0",
    "2",
    "!",
  ]);
  assert.deepEqual(lines[head + 2].trim().split(/\s+/), [
    "timer",
    "1,999",
    "25.1",
    "60.0",
    "80.0",
    "300.0",
    "1500",
    "1962",
    "0",
    "-",
    "-",
  ]);
  assert.match(
    text,
    /timer: max 1962 us at 9985\.261234; split: IRQ latency max 1\.23 us, thread latency max 1960 us/,
  );
  assert.match(
    text,
    /wakeups 2,000, switches 2,000 voluntary \/ 3 involuntary, migrations 1, run time 1\.235 ms/,
  );
  assert.match(text, /irq {5}IRQ 11 virtio0 {3}40\.0 {2}65\.7%/);
  assert.match(text, /thread {2}stress-ng \[777\] {2}20\.9 {2}34\.3%/);
  // the thread with no samples: its bounded metric shows dashes (rtla style)
  assert.match(text, /latency {10}0 {4}- {4}- {4}- {4}- {6}- {4}-/);
  // diagnostics: data loss before warnings, unknown counts said as such
  const d = lines.indexOf("diagnostics:");
  // each entry: meaning, then its details and its remedy when it has them
  assert.equal(lines[d + 1], "  [data-loss] lost_events CPU 0 (count unknown): events were lost");
  assert.equal(lines[d + 2], "      page at offset 4096");
  assert.equal(lines[d + 3], "      what to do: use a bigger buffer");
  assert.match(lines[d + 4], /^ {2}\[warning\] inferred_switch_in CPU 1 \(x1,994\)/);
  assert.ok(!lines[d + 5], "no remedy line when there is nothing to do");
});

test("narrow terminals drop optional columns; no line ends in spaces", () => {
  const text = formatTextReport(sampleReport(), { width: 70 });
  assert.doesNotMatch(text, /inferred {2}/);
  // the wide table (4028) loses p90 too; every table fits
  assert.match(
    text,
    /\n {4}metric \(us\) {2}count {3}min {3}p50 {4}p99 {2}p99\.9 {3}max {3}SLO {2}over SLO\n/,
  );
  for (const l of text.split("\n")) if (/^ {4}(metric|latency|timer) /.test(l)) assert.ok(l.length <= 70, l);
  for (const l of text.split("\n")) assert.equal(l, l.trimEnd());
});

test("a window renderer, when given, replaces the brief causes list", () => {
  const text = formatTextReport(sampleReport(), {
    windowRenderer: (w, t, k) => `WINDOW ${t.tid} ${k} ${w.value}\nline two`,
  });
  assert.match(text, /\n {4}WINDOW 4028 latency 60912\n {4}line two\n/);
  assert.doesNotMatch(text, /cause {3}who/);
});

test("no tasks: says so and how to fix the selection", () => {
  const r = sampleReport();
  r.tasks = [];
  assert.match(
    formatTextReport(r),
    /No tracked thread had any activity in this trace \(selection: --comm \^cyclictest\$\)/,
  );
});

test("windows: 'violations' keeps only windows of metrics over their bound, 'none' drops all", () => {
  const r = sampleReport();
  r.tasks[0].worst!.timer = { ...r.tasks[0].worst!.latency!, value: 1961500 };
  const render = (w: { value: number }, _t: unknown, k: string) => `WINDOW ${k} ${w.value}`;
  assert.match(formatTextReport(r, { windowRenderer: render }), /WINDOW timer 1961500/);
  const v = formatTextReport(r, { windowRenderer: render, windows: "violations" });
  assert.match(v, /WINDOW latency 60912/);
  assert.doesNotMatch(v, /WINDOW timer/);
  assert.doesNotMatch(formatTextReport(r, { windowRenderer: render, windows: "none" }), /WINDOW/);
});

test("a renderer that throws falls back to the brief causes list", () => {
  const text = formatTextReport(sampleReport(), {
    windowRenderer: () => {
      throw new Error("boom");
    },
  });
  assert.match(text, /worst scheduling latency \(wakeup → running\): 60\.9 us/);
  assert.match(text, /irq {5}IRQ 11 virtio0/);
});
