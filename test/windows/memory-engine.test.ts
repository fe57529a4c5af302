// A long run with a new maximum at every activation, through the real metrics engine:
// the windows stay inside --window-memory, and the recorder's rings inside their caps.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Analysis, defaultAnalysisOptions } from "../../src/analysis/analyze.ts";
import { Pipeline } from "../../src/analysis/analyzer.ts";
import { createWindowCapture } from "../../src/analysis/worst-windows.ts";
import { Diagnostics } from "../../src/model/diagnostics.ts";
import { EventRecord, StrSlot } from "../../src/model/event.ts";
import { BYTES_PER_EVENT } from "../../src/model/event-columns.ts";
import { EventKind } from "../../src/model/event-kind.ts";
import { emptySelection } from "../../src/model/selection.ts";
import { SCRIPT_INFO } from "../analysis/event-script.ts";

test("every activation a new maximum, 40 tasks, 100k events: window memory stays bounded", () => {
  const bound = 32 * 1024;
  const cap = createWindowCapture({
    windowMemoryBytes: bound,
    marginNs: 10_000,
    recorder: { maxBytesPerCpu: 1 << 20, keepNs: 50_000_000 },
  });
  const sel = emptySelection();
  sel.comms.push(/^rt-/);
  const an = new Analysis({
    ...defaultAnalysisOptions(sel),
    slo: { latency: 5_000 },
    initialComms: new Map(),
    cpus: 2,
    observer: cap.observer,
    windows: cap.windows,
  });
  const p = new Pipeline([cap.recorder, ...an.analyzers]);
  const r = new EventRecord();
  const emit = (fill: () => void) => {
    r.clear();
    r.flags = 0;
    r.preemptCount = 0;
    fill();
    p.handle(r);
  };
  const TASKS = 40;
  let ts = 1_000_000;
  let events = 0;
  let peak = 0;
  for (let round = 0; events < 100_000; round++) {
    for (let k = 0; k < TASKS; k++) {
      const tid = 1000 + k;
      const cpu = k % 2;
      const lat = 1_000 + round * 50 + k; // grows every round: a new max each time
      emit(() => {
        r.kind = EventKind.SchedWakeup;
        r.ts = ts;
        r.cpu = cpu;
        r.currentTid = 0;
        r.tid = tid;
        r.prio = 19;
        r.targetCpu = cpu;
        r.text[StrSlot.Comm] = `rt-${k}`;
      });
      // filler inside the latency (the window's events)
      for (let j = 0; j < 8; j++)
        emit(() => {
          r.kind = EventKind.Other;
          r.ts = ts + ((j + 1) * lat) / 10;
          r.cpu = cpu;
          r.currentTid = 0;
        });
      emit(() => {
        r.kind = EventKind.SchedSwitch;
        r.ts = ts + lat;
        r.cpu = cpu;
        r.currentTid = 0;
        r.prevTid = 0;
        r.prevPrio = 120;
        r.prevState = 0;
        r.nextTid = tid;
        r.nextPrio = 19;
        r.text[StrSlot.Comm] = "swapper";
        r.text[StrSlot.Comm2] = `rt-${k}`;
      });
      emit(() => {
        r.kind = EventKind.SchedSwitch;
        r.ts = ts + lat + 500;
        r.cpu = cpu;
        r.currentTid = tid;
        r.prevTid = tid;
        r.prevPrio = 19;
        r.prevState = 1;
        r.nextTid = 0;
        r.nextPrio = 120;
        r.text[StrSlot.Comm] = `rt-${k}`;
        r.text[StrSlot.Comm2] = "swapper";
      });
      events += 11;
      ts += lat + 1_000;
      peak = Math.max(peak, cap.windows.stats().bytes);
    }
  }
  p.finish();
  const st = cap.windows.stats();
  assert.ok(st.captured > 5_000, `${st.captured} windows captured`);
  assert.ok(peak <= bound, `peak ${peak} <= ${bound}`);
  assert.equal(st.peakBytes, peak);
  assert.ok(st.evicted > 0, "some windows were evicted");
  assert.ok(cap.recorder.bytes <= 2 * (1 << 20));
  // what is kept is usable: the latest task's max window explains its latency
  const rep = an.report(SCRIPT_INFO(2), new Diagnostics(), p);
  // what is kept is usable: each held maximum is its metric's max and its causes add up
  let kept = 0;
  for (const t of rep.tasks)
    for (const [metric, w] of Object.entries(t.worst ?? {})) {
      kept++;
      assert.equal(w.value, t.metrics[metric as keyof typeof t.metrics]?.max);
      assert.equal(
        w.causes.reduce((a, c) => a + c.time, 0),
        w.value,
      );
    }
  assert.ok(kept > 0);
  console.log(
    `captured ${st.captured}, evicted ${st.evicted}, held ${st.windows} windows / ${st.bytes} B (peak ${peak} B, bound ${bound} B, ${Math.floor(bound / BYTES_PER_EVENT)} events)`,
  );
});
