// A cause analysis that throws for one window (forced here: that window's event columns throw
// when the analysis reads their kinds) costs that window its causes, and nothing else: the
// report is produced, with a cause_analysis_failed diagnostic naming the window, and every
// other figure is what the same report gives without the failure.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { analyzeCauses } from "../../src/analysis/causes.ts";
import type { CapturedWindow } from "../../src/analysis/worst-windows.ts";
import { EventColumns } from "../../src/model/event-columns.ts";
import type { Report } from "../../src/model/report.ts";
import { emptySelection } from "../../src/model/selection.ts";
import { formatTextReport } from "../../src/output/text-report.ts";
import { formatWorstWindow } from "../../src/output/window-text.ts";
import { fixturesDir } from "../helpers/paths.ts";
import { engineReport } from "./engine-report.ts";

const FILE = join(fixturesDir, "causes", "thread.dat");

/** Makes the cause analysis of `w` throw: its columns, with a `kind` column that throws when read. */
function breakCauses(w: CapturedWindow): void {
  const broken = Object.create(w.events) as EventColumns;
  Object.defineProperty(broken, "kind", {
    get() {
      throw new Error("forced failure");
    },
  });
  const m = w as unknown as { events: EventColumns; breakdown?: unknown };
  m.events = broken;
  m.breakdown = undefined;
}

async function report(fail: boolean): Promise<{ rep: Report; failedTid: number }> {
  const sel = emptySelection();
  sel.comms.push(/^cyclictest$/);
  let failedTid = -1;
  const { rep } = await engineReport(FILE, sel, (cap) => {
    // the worst latency window of the first thread that has one
    const windows = cap.windows.all().filter((w) => w.metric === "latency" && w.roles.has("max"));
    assert.ok(windows.length >= 2, "at least two threads with a worst latency window");
    failedTid = windows[0].tid;
    if (fail) breakCauses(windows[0]);
  });
  return { rep, failedTid };
}

test("analyzeCauses returns the failure instead of throwing", () => {
  const events = new EventColumns(4);
  events.length = 2;
  const broken = Object.create(events) as EventColumns;
  Object.defineProperty(broken, "kind", {
    get() {
      throw new Error("forced failure");
    },
  });
  const b = analyzeCauses({
    events: broken,
    metric: "latency",
    tid: 1,
    prio: 19,
    start: 1000,
    end: 5000,
    wakeTs: 1000,
    wakeCpu: 0,
    runCpu: 0,
    switchInTs: 5000,
    comm: () => "",
    irqName: () => "",
  });
  assert.equal(b.error, "Error: forced failure");
  assert.deepEqual(b.causes, []);
  assert.equal(b.total, 4000);
});

test("a window whose cause analysis throws becomes a diagnostic; the report goes on unchanged", {
  skip: !existsSync(FILE) && `${FILE} missing`,
}, async () => {
  const good = await report(false);
  const bad = await report(true);
  assert.equal(bad.failedTid, good.failedTid);
  const tid = bad.failedTid;

  const d = bad.rep.diagnostics.find((x) => x.key === "cause_analysis_failed");
  assert.ok(d, "cause_analysis_failed reported");
  assert.equal(d.count, 1);
  assert.equal(d.severity, "error");
  assert.match(
    d.details[0],
    new RegExp(`^cyclictest:${tid} latency window at \\d+\\.\\d{6} s: Error: forced failure$`),
  );
  assert.ok(d.remedy.length > 0);
  assert.equal(
    good.rep.diagnostics.find((x) => x.key === "cause_analysis_failed"),
    undefined,
  );

  // the failed window keeps its figures, without causes; every other window keeps its causes
  const taskOf = (r: Report, t: number) => r.tasks.find((x) => x.tid === t)!;
  const failed = taskOf(bad.rep, tid).worst!.latency!;
  const before = taskOf(good.rep, tid).worst!.latency!;
  assert.equal(failed.causeError, "Error: forced failure");
  assert.deepEqual(failed.causes, []);
  assert.equal(failed.value, before.value);
  assert.equal(failed.start, before.start);
  assert.ok(before.causes.length > 0);
  for (const t of bad.rep.tasks) {
    const g = taskOf(good.rep, t.tid);
    // every metric figure is the same
    assert.deepEqual(t.metrics, g.metrics, `metrics of ${t.tid}`);
    if (t.tid === tid) continue;
    for (const k of Object.keys(t.worst ?? {}) as (keyof NonNullable<typeof t.worst>)[])
      assert.deepEqual(t.worst![k]!.causes, g.worst![k]!.causes, `causes of ${t.tid} ${k}`);
  }
  assert.deepEqual(
    bad.rep.diagnostics.filter((x) => x.key !== "cause_analysis_failed"),
    good.rep.diagnostics,
  );

  // the text report says so where the window is, and in the diagnostics with the remedy
  const text = formatTextReport(bad.rep, {
    windowRenderer: (w, task, metric) => formatWorstWindow(w, task, metric, { events: false }),
  });
  assert.match(
    text,
    /causes not analysed \(Error: forced failure\): see cause_analysis_failed in the diagnostics/,
  );
  assert.match(text, /\[error\] cause_analysis_failed \(x1\): the cause analysis of a worst window failed/);
  assert.ok(text.includes(`      what to do: ${d.remedy}`));
  const brief = formatTextReport(bad.rep);
  assert.match(brief, /causes not analysed \(Error: forced failure\)/);
});

test("a window renderer that throws leaves the brief list and a window_render_failed diagnostic", {
  skip: !existsSync(FILE) && `${FILE} missing`,
}, async () => {
  const { rep } = await report(false);
  const withWorst = rep.tasks.filter((t) => t.worst?.latency);
  assert.ok(withWorst.length >= 2);
  const victim = withWorst[0].tid;
  const text = formatTextReport(rep, {
    windowRenderer: (w, task, metric) => {
      if (task.tid === victim && metric === "latency") throw new RangeError("forced render failure");
      return formatWorstWindow(w, task, metric, { events: false });
    },
  });
  // the victim's window in the brief form, the others rendered in full
  assert.match(text, /\n {4}worst scheduling latency \(wakeup → running\): [\d,.]+ us at/);
  assert.match(text, /\[warning\] window_render_failed \(x1\)/);
  assert.ok(text.includes(`cyclictest:${victim} latency: RangeError: forced render failure`));
  assert.match(text, /what to do: report it to the rtscope developers/);
  assert.equal(
    rep.diagnostics.find((x) => x.key === "window_render_failed"),
    undefined,
    "the report itself is untouched",
  );
});
