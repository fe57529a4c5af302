// rtscope's own threads among a window's causes: marked where (and only where) a thread cause
// names one of the given tids, the text says "(rtscope)", and the report gets one warning that
// counts the windows and names the largest share.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { markOwnThreads } from "../../src/analysis/own-interference.ts";
import type { Cause, WorstWindow } from "../../src/model/report.ts";
import { formatCauseBreakdown } from "../../src/output/window-text.ts";
import { wantsCaptureRuntime } from "../../src/tracefs/capture-runtime.ts";
import { sampleReport } from "../output/sample-report.ts";

function window(causes: Cause[], preemptions: WorstWindow["preemptions"] = []): WorstWindow {
  const value = causes.reduce((n, c) => n + c.time, 0);
  return {
    start: 30_000_000_000_000,
    end: 30_000_000_000_000 + value,
    value,
    cpu: 0,
    wakeCpu: 0,
    causes,
    events: [],
    preemptions,
  };
}

describe("rtscope's own threads in the causes", () => {
  it("marks thread and blocking causes and preemptions by an own tid, nothing else", () => {
    const r = sampleReport();
    const t = r.tasks[0];
    const before = r.diagnostics.length;
    t.worst = {
      latency: window([
        { kind: "thread", name: "MainThread", tid: 500, prio: 98, time: 8_000 },
        { kind: "irq", name: "IRQ 500", irq: 500, time: 1_000 },
        { kind: "thread", name: "stress-ng", tid: 777, prio: 120, time: 2_000 },
      ]),
      response: window(
        [
          { kind: "blocking", name: "V8Worker", tid: 501, prio: 98, time: 30_000 },
          { kind: "running", name: "", time: 5_000 },
        ],
        [{ ts: 30_000_000_000_100, cpu: 0, tid: 501, comm: "V8Worker", prio: 98, time: 30_000 }],
      ),
      relief: window([{ kind: "thread", name: "stress-ng", tid: 777, prio: 120, time: 4_000 }]),
    };
    markOwnThreads(r, new Set([500, 501, 502]));
    const w = t.worst;
    assert.deepEqual(
      w.latency?.causes.map((c) => c.rtscope === true),
      [true, false, false],
    );
    assert.deepEqual(
      w.response?.causes.map((c) => c.rtscope === true),
      [true, false],
    );
    assert.equal(w.response?.preemptions?.[0].rtscope, true);
    assert.ok(w.relief?.causes.every((c) => c.rtscope === undefined));
    const added = r.diagnostics.slice(before);
    assert.equal(added.length, 1);
    assert.equal(added[0].key, "own_interference");
    assert.equal(added[0].severity, "warning");
    assert.equal(added[0].count, 2);
    assert.deepEqual(added[0].details, [
      "2 worst-case windows; at most 30.0 us of rtscope's threads in one (cyclictest:4028 response at 30000.000000)",
    ]);
    const text = formatCauseBreakdown(w.latency as WorstWindow);
    assert.match(text, /thread interference: MainThread:500 \(rtscope\) \[prio 98\]/);
    assert.match(text, /thread interference: stress-ng:777 \[prio 120\]/);
  });

  it("adds nothing when no window names an own thread", () => {
    const r = sampleReport();
    const before = structuredClone(r);
    markOwnThreads(r, new Set([1, 2, 3]));
    markOwnThreads(r, new Set());
    assert.deepEqual(r, before);
  });
});

describe("the capture's restart with the GC on the reader's thread", () => {
  it("applies to capturing commands at SCHED_FIFO only", () => {
    const root = process.getuid?.() === 0;
    assert.equal(wantsCaptureRuntime("record", ["--duration", "1s"]), root);
    assert.equal(wantsCaptureRuntime("serve", []), root);
    assert.equal(wantsCaptureRuntime("record", ["--priority", "5"]), true);
    assert.equal(wantsCaptureRuntime("record", ["--priority", "normal"]), false);
    assert.equal(wantsCaptureRuntime("record", ["--priority=normal"]), false);
    assert.equal(wantsCaptureRuntime("record", ["--help"]), false);
    // a launched command's own options are not rtscope's
    assert.equal(wantsCaptureRuntime("record", ["--priority", "3", "--", "sh", "--help"]), true);
    assert.equal(wantsCaptureRuntime("record", ["--", "chrt", "--priority", "normal"]), root);
    assert.equal(wantsCaptureRuntime("report", ["x.dat"]), false);
    assert.equal(wantsCaptureRuntime("doctor", []), false);
  });
});
