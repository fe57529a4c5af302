// Exported trace.dat read back by `trace-cmd report` (the ground truth reader): same
// events, same order, same fields as the window. Also checks the Perfetto text lines
// against the systrace line pattern Perfetto's tokenizer uses.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { type Analyzer, Pipeline } from "../../src/analysis/analyzer.ts";
import { type CapturedWindow, createWindowCapture } from "../../src/analysis/worst-windows.ts";
import type { EventRecord } from "../../src/model/event.ts";
import type { WindowEvents } from "../../src/model/event-columns.ts";
import { EventKind, WRITTEN_NAMES } from "../../src/model/event-kind.ts";
import { formatPerfettoText } from "../../src/output/perfetto-text.ts";
import { writeTraceDat } from "../../src/output/trace-dat-writer.ts";
import { openTraceDat } from "../../src/sources/trace-dat.ts";
import { fixturesDir } from "../helpers/paths.ts";
import { skipWithoutTraceCmd } from "../helpers/trace-cmd.ts";
import { Script, sample } from "./scripted.ts";

const skip = skipWithoutTraceCmd;

/** What trace-cmd -R should print for event i: raw field values, by field name. */
function expectedFields(w: WindowEvents, i: number, tsBase: bigint): Record<string, string | number> {
  const e = w.events;
  const comm = (t: number) => (t === 0 ? "swapper" : (w.comms.get(t) ?? "")).slice(0, 15);
  const abs = (rel: number) => (tsBase + BigInt(Math.round(rel))).toString();
  const hex = (v: number) => `0x${v.toString(16)}`;
  const a = e.a[i];
  switch (e.kind[i]) {
    case EventKind.SchedSwitch:
      return {
        prev_comm: comm(a),
        prev_pid: a,
        prev_prio: e.b[i],
        prev_state: e.c[i] === 0 ? 256 : e.c[i],
        next_comm: comm(e.d[i]),
        next_pid: e.d[i],
        next_prio: e.e[i],
      };
    case EventKind.SchedWakeup:
    case EventKind.SchedWaking:
    case EventKind.SchedWakeupNew:
      return { comm: comm(a), pid: a, prio: e.b[i], target_cpu: e.c[i] };
    case EventKind.SchedMigrateTask:
      return { comm: w.comms.get(a) ?? "", pid: a, prio: e.b[i], orig_cpu: e.d[i], dest_cpu: e.c[i] };
    case EventKind.IrqHandlerEntry:
      return { irq: a, name: w.irqNames.get(a) ?? "" };
    case EventKind.IrqHandlerExit:
      return { irq: a, ret: e.b[i] };
    case EventKind.SoftirqEntry:
    case EventKind.SoftirqExit:
    case EventKind.SoftirqRaise:
      return { vec: a };
    case EventKind.HrtimerStart:
      return { hrtimer: hex(e.f[i]), expires: abs(e.h[i]), softexpires: abs(e.k[i]), mode: a };
    case EventKind.HrtimerExpireEntry:
      return { hrtimer: hex(e.f[i]), now: abs(e.h[i]) };
    case EventKind.HrtimerExpireExit:
    case EventKind.HrtimerCancel:
      return { hrtimer: hex(e.f[i]) };
    default:
      return {};
  }
}

const LINE = /^\s*(.*)-(\d+)\s+\[(\d+)\]\s+(\d+)\.(\d{9}):\s+(\w+):\s*(.*)$/;

interface Parsed {
  pid: number;
  cpu: number;
  ts: bigint;
  name: string;
  fields: Map<string, string>;
}

function traceCmdRaw(file: string): { events: Parsed[]; dropped: string[] } {
  const out = execFileSync("trace-cmd", ["report", "-R", "-t", file], {
    encoding: "utf8",
    maxBuffer: 1 << 28,
  });
  const events: Parsed[] = [];
  const dropped: string[] = [];
  for (const line of out.split("\n")) {
    if (/EVENTS DROPPED/.test(line)) {
      dropped.push(line.trim());
      continue;
    }
    const m = LINE.exec(line);
    if (!m) continue;
    const fields = new Map<string, string>();
    // values may hold spaces (thread names): split only before "key="
    for (const part of m[7].trim().split(/ (?=[a-z_]+=)/)) {
      const eq = part.indexOf("=");
      if (eq > 0) fields.set(part.slice(0, eq), part.slice(eq + 1));
    }
    events.push({
      pid: Number(m[2]),
      cpu: Number(m[3]),
      ts: BigInt(m[4]) * 1_000_000_000n + BigInt(m[5]),
      name: m[6],
      fields,
    });
  }
  return { events, dropped };
}

/**
 * Perfetto text vs `trace-cmd report -N -t` of the trace.dat export (trace-cmd renders each
 * payload with the print fmt, independently of our text code): same pid, CPU, ns time,
 * event and payload, line by line.
 */
function checkPerfettoAgainstTraceCmd(w: WindowEvents, tsBase: bigint, dir: string, label: string): number {
  const file = join(dir, `${label}-n.dat`);
  writeFileSync(file, writeTraceDat(w, tsBase).bytes);
  const ref = execFileSync("trace-cmd", ["report", "-N", "-t", file], {
    encoding: "utf8",
    maxBuffer: 1 << 28,
  })
    .split("\n")
    .map((l) => /^\s*.*-(\d+)\s+\[(\d+)\]\s+(\d+\.\d{9}):\s+(\w+):\s+(.*)$/.exec(l))
    .filter((m) => m !== null)
    .map((m) => [Number(m[1]), Number(m[2]), m[3], m[4], m[5].trim()]);
  const ours = formatPerfettoText(w, tsBase)
    .split("\n")
    .filter((l) => l && !l.startsWith("#"))
    .map((l) => /^\s*.*-(\d+)\s+\[(\d+)\]\s+\S{4}\s+(\d+\.\d{9}):\s+(\w+):\s+(.*)$/.exec(l))
    .map((m) => {
      assert.ok(m, "a Perfetto line in the kernel's trace layout");
      return [Number(m[1]), Number(m[2]), m[3], m[4], m[5].trim()];
    });
  assert.equal(ours.length, ref.length, `${label}: line count`);
  ours.forEach((o, k) => {
    assert.deepEqual(o, ref[k], `${label}: line ${k}`);
  });
  return ours.length;
}

function checkRoundTrip(w: WindowEvents, tsBase: bigint, dir: string, label: string): number {
  const file = join(dir, `${label}.dat`);
  const res = writeTraceDat(w, tsBase);
  writeFileSync(file, res.bytes);
  const { events: got } = traceCmdRaw(file);
  const ev = w.events;
  const want: number[] = [];
  for (let i = 0; i < ev.length; i++) if (WRITTEN_NAMES[ev.kind[i]]) want.push(i);
  assert.equal(got.length, want.length, `${label}: event count`);
  assert.equal(res.events, want.length);
  want.forEach((i, k) => {
    const g = got[k];
    const where = `${label} event ${k}`;
    assert.equal(g.name, WRITTEN_NAMES[ev.kind[i]], `${where}: name`);
    assert.equal(g.cpu, ev.cpu[i], `${where}: cpu`);
    assert.equal(g.pid, ev.currentTid[i], `${where}: pid`);
    assert.equal(g.ts, tsBase + BigInt(ev.ts[i]), `${where}: timestamp`);
    for (const [key, v] of Object.entries(expectedFields(w, i, tsBase))) {
      const gv = g.fields.get(key);
      assert.ok(gv !== undefined, `${where}: field ${key} missing in "${[...g.fields].join(" ")}"`);
      if (typeof v === "number") assert.equal(Number(gv), v, `${where}: ${key}`);
      else assert.equal(gv, v, `${where}: ${key}`);
    }
  });
  // the plugin-formatted report parses every event too
  const plain = execFileSync("trace-cmd", ["report", file], { encoding: "utf8", maxBuffer: 1 << 28 });
  assert.doesNotMatch(plain, /FAILED TO PARSE|unknown event/i);
  return want.length;
}

test("scripted window: every event kind survives trace.dat → trace-cmd report", { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), "rtscope-tdat-"));
  try {
    const s = new Script({ 100: "cyclictest", 200: "hog", 300: "a thread name" });
    s.switch(500, 1, 0, 120, 0, 200, 9)
      .hrtimerStart(600, 0, 300, 0x1234560, 0x7777, 2000)
      .wakeup(1000, 1, 200, 100, 19, 1)
      .wakeup(1000, 0, 300, 100, 19, 1, EventKind.SchedWaking)
      .irq(2000, 2500, 1, 200, 24, "virtio0-input.0")
      .softirq(2500, 3000, 1, 200, 3)
      .migrate(3500, 0, 300, 100, 19, 0, 1)
      .expireEntry(4000, 0, 300, 0x1234560, 0x7777, 3990)
      .expireExit(4100, 0, 300, 0x1234560)
      .switch(4200, 0, 300, 120, 2, 0, 120)
      // a gap longer than 2^27 ns forces a new sub-buffer
      .switch(400_000_000, 1, 200, 9, 1, 100, 19);
    s.sleepEnter(400_000_050, 1, 100, 1, 1).sleepExit(400_000_060, 1, 100, -4);
    for (let i = 0; i < 300; i++) s.other(400_000_100 + i * 10, 1, 100);
    for (let i = 0; i < 200; i++) s.wakeup(400_010_000 + i * 10, 1, 100, 300, 120, 0);
    const cap = createWindowCapture({ tsBase: 123_456_000_000_000n });
    for (const r of s.sorted()) cap.recorder.handle(r);
    cap.observer.onSample(sample({ tid: 100, start: 1000, end: 400_020_000, cpus: [0, 1] }));
    const w = cap.windows.captured(100, "latency") as CapturedWindow;
    const n = checkRoundTrip(w, 123_456_000_000_000n, dir, "scripted");
    assert.equal(n, 215);
    assert.equal(checkPerfettoAgainstTraceCmd(w, 123_456_000_000_000n, dir, "scripted"), 215);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("lost events become the sub-buffer's missed-events flag", { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), "rtscope-tdat-"));
  try {
    const s = new Script({ 100: "t" });
    s.wakeup(1000, 1, 0, 100, 19, 1).lost(1500, 1, 42).switch(2000, 1, 0, 120, 0, 100, 19);
    const cap = createWindowCapture({ tsBase: 10_000_000_000n });
    for (const r of s.sorted()) cap.recorder.handle(r);
    cap.observer.onSample(sample({ tid: 100, start: 1000, end: 2000 }));
    const w = cap.windows.captured(100, "latency") as CapturedWindow;
    assert.equal(w.incomplete, true);
    const file = join(dir, "lost.dat");
    writeFileSync(file, writeTraceDat(w, 10_000_000_000n).bytes);
    const { events, dropped } = traceCmdRaw(file);
    assert.equal(events.length, 2);
    assert.deepEqual(dropped, ["CPU:1 [42 EVENTS DROPPED]"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("worst window of a recorded trace round-trips through trace-cmd", { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "rtscope-tdat-"));
  try {
    const file = resolve(fixturesDir, "causes/thread.dat");
    const src = await openTraceDat(file);
    const cap = createWindowCapture({ tsBase: src.info.tsBase, marginNs: 2_000_000 });
    // one window per CPU: 100 ms of the trace on both CPUs
    let first = Number.NaN;
    let fired = false;
    // a stand-in for the metrics: it reports samples, so it comes after the recorder
    const fire: Analyzer = {
      name: "scripted sample",
      dependsOn: [cap.recorder],
      data: () => undefined,
      handle(r: EventRecord) {
        if (Number.isNaN(first)) first = r.ts;
        if (!fired && r.ts >= first + 500_000_000) {
          fired = true;
          cap.observer.onSample(sample({ tid: 1, start: r.ts - 100_000_000, end: r.ts, cpus: [0, 1] }));
        }
      },
    };
    const p = new Pipeline([cap.recorder, fire]);
    await src.run(p);
    p.finish();
    const w = cap.windows.captured(1, "latency") as CapturedWindow;
    assert.ok(w.events.length > 200, `${w.events.length} events`);
    const n = checkRoundTrip(w, src.info.tsBase, dir, "thread");
    assert.ok(n > 200);
    assert.equal(checkPerfettoAgainstTraceCmd(w, src.info.tsBase, dir, "thread"), n);
    // Perfetto text: every line matches the systrace tokenizer's pattern (older 0-4 flag chars)
    const text = formatPerfettoText(w, src.info.tsBase);
    const lines = text.split("\n").filter((l) => l && !l.startsWith("#"));
    assert.equal(lines.length, n);
    const tokenizer = /-(\d+)\s+\(?\s*(\d+|-+)?\)?\s?\[(\d+)\]\s*[a-zA-Z0-9.]{0,4}\s+(\d+\.\d+):\s+(\S+):/;
    for (const l of lines) assert.match(l, tokenizer);
    const sw = lines.find((l) => l.includes(" sched_switch: "));
    assert.match(
      sw ?? "",
      /prev_pid=\d+ prev_prio=\d+ prev_state=\S+ ==> next_comm=.* next_pid=\d+ next_prio=\d+$/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
