// Worst windows read back from a trace.dat (src/sources/trace-dat-windows.ts): after the
// stream has indexed the pages, a window copied from the file holds exactly the events that
// `trace-cmd report -t` (recorded with the fixture) lists in its span, plus per CPU the last
// event before it, at the same nanosecond on the same CPU; on zstd chunks (v7, a seek lands
// inside a chunk) and on uncompressed pages (v6).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Pipeline } from "../../src/analysis/analyzer.ts";
import type { WindowCopy, WindowLimit } from "../../src/analysis/flight-recorder.ts";
import { COLUMN_MASK, type EventColumns, forColumns } from "../../src/model/event-columns.ts";
import { absoluteTs } from "../../src/model/units.ts";
import { TraceDatSource } from "../../src/sources/trace-dat.ts";

const FIXTURES = join(import.meta.dirname, "../fixtures/trace-dat");

interface OracleEvent {
  ns: bigint;
  cpu: number;
  name: string;
  pid: number;
  line: string;
}

/** trace-cmd report -t lines: "comm-pid [cpu] s.nnnnnnnnn: name: fields". */
function oracle(dir: string): OracleEvent[] {
  const out: OracleEvent[] = [];
  for (const line of readFileSync(join(FIXTURES, dir, "report-t.txt"), "latin1").split("\n")) {
    const m = /\[(\d+)\] +(\d+)\.(\d{9}): +([^:]+):(.*)$/.exec(line);
    if (!m) continue;
    const pid = /pid=(\d+)/.exec(m[5]) ?? /:(\d+) \[/.exec(m[5]);
    out.push({
      ns: BigInt(m[2]) * 1_000_000_000n + BigInt(m[3]),
      cpu: Number(m[1]),
      name: m[4].trim(),
      pid: pid ? Number(pid[1]) : -1,
      line,
    });
  }
  return out;
}

/** What a window over every CPU holds per trace-cmd: the last event before `from` per CPU, then the span. */
function expected(ev: OracleEvent[], from: bigint, to: bigint): string[] {
  const before = new Map<number, OracleEvent>();
  const inside: OracleEvent[] = [];
  for (const e of ev) {
    if (e.ns < from) before.set(e.cpu, e);
    else if (e.ns <= to) inside.push(e);
  }
  return [...before.values(), ...inside]
    .sort((a, b) => (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : a.cpu - b.cpu))
    .map((e) => `${e.ns} ${e.cpu}`);
}

async function indexed(
  file: string,
  opts?: Parameters<TraceDatSource["windowSource"]>[0],
): Promise<{ src: TraceDatSource; windows: ReturnType<TraceDatSource["windowSource"]> }> {
  const src = new TraceDatSource(file);
  const windows = src.windowSource(opts);
  const pipeline = new Pipeline([windows.analyzer]);
  await src.run(pipeline);
  pipeline.finish();
  return { src, windows };
}

for (const [dir, version] of [
  ["hackbench", "v7"],
  ["hackbench", "v6"],
  ["cpu-load", "v7"],
] as const) {
  describe(`read-back windows: ${dir} trace.${version}.dat`, () => {
    const ev = oracle(dir);
    const first = ev[0].ns;
    const last = ev[ev.length - 1].ns;

    it("a window anywhere in the file holds trace-cmd's events of its span", async () => {
      const { src, windows } = await indexed(join(FIXTURES, dir, `trace.${version}.dat`));
      try {
        const base = src.info.tsBase;
        const rel = (ns: bigint) => Number(ns - base);
        // spans at the start, inside and at the end, out of order (each one a new seek, or an
        // extension of the one before), short and long
        for (const [at, lenUs] of [
          [0.5, 2000],
          [0.1, 500],
          [0.9, 3000],
          [0.0, 20_000],
          [0.3, 50_000],
          [0.999, 10_000],
          [0.31, 100],
        ] as const) {
          const from = first + BigInt(Math.floor(Number(last - first) * at));
          const to = from + BigInt(lenUs * 1000);
          const copy = windows.copyWindow([0, 1], rel(from), rel(to));
          const got: string[] = [];
          for (let i = 0; i < copy.events.length; i++)
            got.push(`${absoluteTs(base, copy.events.ts[i])} ${copy.events.cpu[i]}`);
          const want = expected(ev, from, to);
          assert.ok(want.length > 0, `window at ${at}: trace-cmd lists events`);
          assert.deepEqual(got, want, `window at ${at} of the trace, ${lenUs} us`);
          assert.equal(copy.cut, false);
        }
        assert.ok(windows.loads >= 2, "windows were read back from more than one place");
      } finally {
        src.close();
      }
    });

    it("the waker's CPU is the CPU of trace-cmd's last sched_waking of the task in the span", async () => {
      const { src, windows } = await indexed(join(FIXTURES, dir, `trace.${version}.dat`));
      try {
        const base = src.info.tsBase;
        const wakings = ev.filter((e) => e.name === "sched_waking" && e.pid > 0);
        assert.ok(wakings.length > 10);
        for (const w of [wakings[5], wakings[Math.floor(wakings.length / 2)], wakings[wakings.length - 2]]) {
          const from = w.ns - 200_000n;
          const to = w.ns + 1000n;
          const want = ev.filter(
            (e) => e.name === "sched_waking" && e.pid === w.pid && e.ns >= from && e.ns <= to,
          );
          const cpu = windows.wakingCpu(w.pid, Number(from - base), Number(to - base));
          assert.equal(cpu, want[want.length - 1].cpu, w.line);
        }
      } finally {
        src.close();
      }
    });
  });
}

/** A copy as comparable rows: each event's time, CPU, kind and the columns its kind uses, then what was left out. */
function rows(c: WindowCopy): { events: string[]; causes: string[] | null; omitted: number; cut: boolean } {
  const list = (e: EventColumns) => {
    const out: string[] = [];
    for (let i = 0; i < e.length; i++) {
      const f: number[] = [e.ts[i], e.cpu[i], e.kind[i], e.currentTid[i]];
      forColumns(e, i, COLUMN_MASK[e.kind[i]], (v) => f.push(v));
      out.push(f.join(" "));
    }
    return out;
  };
  return {
    events: list(c.events),
    causes: c.forCauses ? list(c.forCauses) : null,
    omitted: c.omitted,
    cut: c.cut,
  };
}

// A long window with a limit keeps its full part, then the first and last of the rest. Read
// from its two ends only (the middle counted from the page index), it must be the copy read
// whole, and what it leaves out must be what trace-cmd lists in the span less what it kept.
for (const [dir, version] of [
  ["hackbench", "v7"],
  ["hackbench", "v6"],
  ["cpu-load", "v7"],
] as const) {
  describe(`long windows read from their two ends: ${dir} trace.${version}.dat`, () => {
    const ev = oracle(dir);
    const first = ev[0].ns;
    const last = ev[ev.length - 1].ns;
    const file = join(FIXTURES, dir, `trace.${version}.dat`);

    it("equal the copy read whole, and leave out trace-cmd's count less the kept events", async () => {
      const ends = await indexed(file);
      const whole = await indexed(file);
      whole.windows.endsOnly = false;
      try {
        const base = ends.src.info.tsBase;
        const rel = (ns: bigint) => Number(ns - base);
        let cases = 0;
        // [where the window opens, its length, where its full part ends], as shares of the trace
        for (const [at, len, full] of [
          [0.05, 0.6, 0.02], // a response: the middle after the full part
          [0.3, 0.5, 0.1],
          [0.1, 0.8, 0.78], // a scheduling latency of most of the window: the middle inside it
          [0.2, 0.7, 0.7],
        ] as const) {
          const span = Number(last - first);
          const from = first + BigInt(Math.floor(span * at));
          const to = from + BigInt(Math.floor(span * len));
          const fullUntil = from + BigInt(Math.floor(span * full));
          // the task: the one switched in most often in the span, on its last CPU
          const ins = new Map<number, { n: number; cpu: number }>();
          for (const e of ev) {
            if (e.ns < from || e.ns > to || e.name !== "sched_switch") continue;
            const m = /next_pid=(\d+)/.exec(e.line) ?? /==> [^:]*:(\d+)/.exec(e.line);
            if (!m || m[1] === "0") continue;
            const x = ins.get(Number(m[1])) ?? { n: 0, cpu: e.cpu };
            x.n++;
            x.cpu = e.cpu;
            ins.set(Number(m[1]), x);
          }
          const [tid, task] = [...ins.entries()].sort((a, b) => b[1].n - a[1].n)[0];
          for (const maxEvents of [16, 48]) {
            const limit: WindowLimit = { maxEvents, fullUntilTs: rel(fullUntil), tid, runCpu: task.cpu };
            const before = ends.windows.fromTwoEnds;
            const a = ends.windows.copyWindow([0, 1], rel(from), rel(to), limit);
            const b = whole.windows.copyWindow([0, 1], rel(from), rel(to), limit);
            const what = `window at ${at}, ${len} of the trace, full part to ${full}, limit ${maxEvents}`;
            assert.deepEqual(rows(a), rows(b), what);
            assert.equal(b.cut, false, what);
            // trace-cmd's events of the span, and per CPU the one before it
            const listed = expected(ev, from, to).length;
            assert.equal(a.omitted + a.events.length, listed, `${what}: kept + left out = trace-cmd's count`);
            if (ends.windows.fromTwoEnds > before) cases++;
          }
        }
        // the whole-window path was not what answered
        assert.ok(cases >= 4, `only ${cases} copies were read from their two ends`);
        assert.equal(whole.windows.fromTwoEnds, 0);
      } finally {
        ends.src.close();
        whole.src.close();
      }
    });

    it("with a flight recorder: the windows it holds come from it, the others from the file, all alike", async () => {
      // a recorder of about 1,000 events per CPU: it holds the end of the trace, not its start
      const rec = await indexed(file, {
        recorder: { maxBytesPerCpu: 96 * 1024, initialEvents: 1024 },
        recordFromStart: true,
      });
      const file2 = await indexed(file);
      try {
        const base = rec.src.info.tsBase;
        const rel = (ns: bigint) => Number(ns - base);
        const span = Number(last - first);
        for (const [at, lenUs] of [
          [0.9995, 100],
          [0.1, 2000],
          [0.5, 500],
        ] as const) {
          const from = first + BigInt(Math.floor(span * at));
          const to = from + BigInt(lenUs * 1000);
          assert.deepEqual(
            rows(rec.windows.copyWindow([0, 1], rel(from), rel(to))),
            rows(file2.windows.copyWindow([0, 1], rel(from), rel(to))),
            `window at ${at}`,
          );
        }
        assert.equal(rec.windows.fromRecorder, 1, "the window at the trace's end came from the recorder");
      } finally {
        rec.src.close();
        file2.src.close();
      }
    });
  });
}
