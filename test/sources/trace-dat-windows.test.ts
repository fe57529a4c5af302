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
): Promise<{ src: TraceDatSource; windows: ReturnType<TraceDatSource["windowSource"]> }> {
  const src = new TraceDatSource(file);
  const windows = src.windowSource();
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
