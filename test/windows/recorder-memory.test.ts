// Flight recorder rings (growth by time, overwrite by memory, cut windows) and the window
// memory bound under many new maxima.
import assert from "node:assert/strict";
import { test } from "node:test";
import { FlightRecorder } from "../../src/analysis/flight-recorder.ts";
import { createWindowCapture } from "../../src/analysis/worst-windows.ts";
import { EventRecord } from "../../src/model/event.ts";
import { BYTES_PER_EVENT } from "../../src/model/event-columns.ts";
import { EventKind } from "../../src/model/event-kind.ts";
import { mergeWindowEvents } from "../../src/windows/window-merge.ts";
import { Script, sample } from "./scripted.ts";

function rec(ts: number, cpu: number, cur = 5): EventRecord {
  const r = new EventRecord();
  r.clear();
  r.kind = EventKind.Other;
  r.ts = ts;
  r.cpu = cpu;
  r.currentTid = cur;
  return r;
}

test("a ring grows while it holds less than keepNs, then overwrites at its memory cap", () => {
  const fr = new FlightRecorder({ keepNs: 1e9, initialEvents: 16, maxBytesPerCpu: 64 * BYTES_PER_EVENT });
  const r = rec(0, 0);
  for (let i = 0; i < 200; i++) {
    r.ts = i * 1000;
    fr.handle(r);
  }
  const info = fr.ringInfo(0);
  assert.equal(info?.capacity, 64);
  assert.equal(info?.count, 64);
  assert.equal(info?.overwritten, true);
  assert.equal(info?.oldestTs, 136_000);
  // a window reaching before the oldest kept event is cut
  const cut = fr.copyWindow([0], 100_000, 150_000);
  assert.equal(cut.cut, true);
  // by the ring's memory, not by a loss: the report says which
  assert.equal(cut.forgotten, true);
  assert.equal(cut.events.length, 15);
  // limited too (a long window read from its ends)
  const limited = fr.copyWindow([0], 100_000, 199_000, {
    maxEvents: 16,
    fullUntilTs: 101_000,
    tid: 1,
    runCpu: 0,
  });
  assert.equal(limited.cut, true);
  assert.equal(limited.forgotten, true);
  const whole = fr.copyWindow([0], 140_000, 150_000);
  assert.equal(whole.cut, false);
  // 140..150 µs, and the event before the window (who was running when it opens)
  assert.equal(whole.events.length, 12);
  assert.equal(whole.events.ts[0], 139_000);
  assert.equal(whole.events.ts[1], 140_000);
  assert.equal(whole.events.ts[11], 150_000);
});

test("a ring that already covers keepNs overwrites instead of growing", () => {
  const fr = new FlightRecorder({ keepNs: 10_000, initialEvents: 16, maxBytesPerCpu: 1 << 20 });
  const r = rec(0, 0);
  for (let i = 0; i < 100; i++) {
    r.ts = i * 1000;
    fr.handle(r);
  }
  assert.equal(fr.ringInfo(0)?.capacity, 16);
});

test("windows merge CPUs in (ts, cpu) order and are cut by lost events", () => {
  const s = new Script({ 100: "t" });
  s.other(10, 1, 7).other(10, 0, 8).other(20, 0, 8).lost(25, 1, 12).other(30, 1, 7);
  const fr = new FlightRecorder();
  for (const r of s.sorted()) fr.handle(r);
  const w = fr.copyWindow([1, 0], 0, 30);
  assert.deepEqual([...w.events.cpu], [0, 1, 0, 1, 1]);
  assert.deepEqual([...w.events.ts], [10, 10, 20, 25, 30]);
  assert.equal(w.cut, true);
  assert.equal(w.forgotten, undefined, "a lost-events cut is not the recorder's memory");
  assert.equal(fr.copyWindow([0], 0, 30).cut, false);
});

test("thread names are read once, not per event", () => {
  let reads = 0;
  const s = new Script({ 100: "cyclictest", 200: "hog" });
  for (let i = 0; i < 50; i++) s.switch(i * 10, 0, i % 2 ? 100 : 200, 120, 0, i % 2 ? 200 : 100, 120);
  const fr = new FlightRecorder();
  for (const r of s.sorted()) {
    const orig = r.str.bind(r);
    r.str = (slot) => {
      reads++;
      return orig(slot);
    };
    fr.handle(r);
  }
  assert.equal(fr.comm(100), "cyclictest");
  assert.equal(fr.comm(200), "hog");
  assert.equal(reads, 2);
});

test("many new maxima stay inside --window-memory; eviction keeps violations over maxima", () => {
  const bound = 200 * BYTES_PER_EVENT;
  const cap = createWindowCapture({ windowMemoryBytes: bound, marginNs: 0 });
  const r = rec(0, 1, 50);
  let value = 0;
  let peak = 0;
  // 3000 activations of growing latency for 5 tasks, each window ~ 40-80 events
  for (let i = 0; i < 3000; i++) {
    const tid = 100 + (i % 5);
    const start = i * 100_000;
    const len = 40 + (i % 41);
    for (let j = 0; j < len; j++) {
      r.ts = start + j * 100;
      r.currentTid = j === len - 1 ? tid : 50;
      cap.recorder.handle(r);
    }
    value = (len - 1) * 100 + i;
    cap.observer.onSample(
      sample({
        tid,
        start,
        end: start + (len - 1) * 100,
        value,
        isNewMax: true,
        isWorstViolation: i % 3 === 0,
        isFirstViolation: i < 5,
      }),
    );
    peak = Math.max(peak, cap.windows.stats().bytes);
  }
  const st = cap.windows.stats();
  assert.ok(peak <= bound, `peak ${peak} <= ${bound}`);
  assert.equal(st.peakBytes, peak);
  assert.ok(st.evicted > 0);
  // every window held is a violation's (the maxima within their bound went first)
  const held = cap.windows.all();
  assert.ok(held.length >= 2);
  for (const w of held) assert.ok(w.roles.has("worst-violation"), `held roles ${[...w.roles]}`);
  // the newest, largest maximum was not a violation: dropped, and said so
  assert.equal(cap.windows.worst(104, "latency"), undefined);
  assert.ok(cap.windows.dropped(104, "latency").includes("max"));
  assert.ok(cap.windows.droppedWindows().some((d) => d.tid === 104 && d.metric === "latency"));
  // the recorder itself stayed within its own cap
  assert.ok(cap.recorder.bytes <= 2 * 16 * 1024 * 1024);
});

test("a single window larger than the bound keeps its newest events, not marked as lost events", () => {
  const cap = createWindowCapture({ windowMemoryBytes: 10 * BYTES_PER_EVENT, marginNs: 0 });
  const r = rec(0, 1, 50);
  for (let j = 0; j < 100; j++) {
    r.ts = j * 10;
    cap.recorder.handle(r);
  }
  cap.observer.onSample(sample({ tid: 100, start: 0, end: 990 }));
  const w = cap.windows.worst(100, "latency");
  assert.equal(w?.events.length, 10);
  assert.equal(w?.incomplete, undefined);
  assert.equal(w?.memoryOmitted, 90);
  assert.equal(w?.events[9].rel, 990);
  assert.equal(cap.windows.stats().truncated, 1);
});

test("overlapping windows merge into one event set without duplicates", () => {
  const s = new Script({ 100: "a", 200: "b" });
  s.wakeup(1000, 0, 0, 100, 19, 0)
    .wakeup(1000, 0, 0, 200, 19, 0)
    .switch(1500, 0, 0, 120, 0, 100, 19)
    .switch(2500, 0, 100, 19, 1, 200, 19)
    .other(2600, 1, 7);
  const cap = createWindowCapture({ marginNs: 0 });
  for (const r of s.sorted()) cap.recorder.handle(r);
  cap.observer.onSample(sample({ tid: 100, start: 1000, end: 1500, runCpu: 0, wakeCpu: 0, cpus: [0] }));
  cap.observer.onSample(sample({ tid: 200, start: 1000, end: 2600, runCpu: 0, wakeCpu: 0, cpus: [0, 1] }));
  const a = cap.windows.captured(100, "latency");
  const b = cap.windows.captured(200, "latency");
  assert.ok(a && b);
  assert.equal(a.events.length, 3);
  assert.equal(b.events.length, 5);
  const m = mergeWindowEvents([a, b]);
  assert.equal(m.events.length, 5);
  assert.deepEqual([...m.events.ts], [1000, 1000, 1500, 2500, 2600]);
  assert.deepEqual([...m.events.a.subarray(0, 2)], [100, 200]);
  assert.equal(m.comms.get(200), "b");
});

test("rings stop growing at the total cap, whatever the number of CPUs", () => {
  const fr = new FlightRecorder({
    keepNs: 1e12,
    initialEvents: 16,
    maxBytesPerCpu: 1 << 30,
    maxBytesTotal: 64 * 1024,
  });
  const r = rec(0, 0);
  for (let i = 0; i < 100_000; i++) {
    r.ts = i;
    r.cpu = i % 8;
    fr.handle(r);
  }
  assert.ok(fr.bytes <= 64 * 1024, `${fr.bytes} bytes`);
  let sum = 0;
  for (let c = 0; c < 8; c++) sum += (fr.ringInfo(c)?.capacity ?? 0) * BYTES_PER_EVENT;
  assert.equal(sum, fr.bytes);
});

test("a loss before the window does not cut it; the event before the margin is carried", () => {
  const s = new Script({ 100: "t" });
  s.lost(500, 1, 3).other(600, 1, 42).wakeup(1000, 1, 42, 100, 19, 1).switch(1200, 1, 42, 120, 0, 100, 19);
  const fr = new FlightRecorder();
  for (const r of s.sorted()) fr.handle(r);
  const w = fr.copyWindow([1], 900, 1200);
  assert.equal(w.cut, false);
  assert.deepEqual([...w.events.ts], [600, 1000, 1200]);
  assert.equal(fr.copyWindow([1], 550, 1200).cut, false);
  assert.equal(fr.copyWindow([1], 400, 1200).cut, true);
});
