// What tracing costs the load it measures (`node bench/live-overhead.ts`, root; never part of
// npm test). `stress-ng --switch N` (pipe ping-pong: every round trip is two context switches
// and a read and a write syscall each side, unpaced) runs for SECONDS under each tracer:
//   none | perf sched record | rtscope record --no-syscalls | rtscope record (default events)
// in an interleaved order, REPEATS times, and the medians are printed: stress-ng's own
// "nanosecs per context switch" (wall time per switch: includes waiting for a CPU, so it
// moves with the machine's other load) and its CPU time (usr + sys) per bogo op (less
// sensitive to others), and for rtscope the events it delivered and lost, the kernel's count
// written, and its own CPU time per event over the whole run (start-up and the final report
// included: `source.ownCpu` of the JSON report) and per delivered event.
//
//   node bench/live-overhead.ts [--seconds 10] [--repeats 3] [--switchers 2] [--json FILE]

import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    seconds: { type: "string" },
    repeats: { type: "string" },
    switchers: { type: "string" },
    json: { type: "string" },
  },
});
const SECONDS = Number(values.seconds ?? 10);
const REPEATS = Number(values.repeats ?? 3);
const SWITCHERS = Number(values.switchers ?? 2);
const MAIN = resolve(import.meta.dirname, "../bin/rtscope.js");
const TRACERS = ["none", "perf sched record", "rtscope --no-syscalls", "rtscope"] as const;
type Tracer = (typeof TRACERS)[number];

interface Run {
  tracer: Tracer;
  nsPerSwitch: number;
  cpuUsPerOp: number;
  bogoOps: number;
  /** rtscope only */
  events?: number;
  lost?: number;
  written?: number;
  ownCpuS?: number;
  tracerCpuS?: number;
}

function run(cmd: string, args: string[]): Promise<{ out: string; err: string; code: number | null }> {
  return new Promise((res) => {
    const c = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    c.stdout.on("data", (d) => {
      out += d;
    });
    c.stderr.on("data", (d) => {
      err += d;
    });
    c.on("exit", (code) => res({ out, err, code }));
  });
}

async function once(tracer: Tracer, tmp: string): Promise<Run> {
  const stress = ["stress-ng", "--switch", String(SWITCHERS), "--timeout", `${SECONDS}s`, "--metrics-brief"];
  const report = join(tmp, "report.json");
  // GNU time around the tracer: its CPU seconds (children included: the load's too, so
  // only used for perf minus the load's own usr+sys)
  let r: { out: string; err: string; code: number | null };
  if (tracer === "none") r = await run(stress[0], stress.slice(1));
  else if (tracer === "perf sched record")
    r = await run("/usr/bin/time", [
      "-f",
      "TRACERCPU %U %S",
      "perf",
      "sched",
      "record",
      "-o",
      join(tmp, "perf.data"),
      "--",
      ...stress,
    ]);
  else
    r = await run(process.execPath, [
      MAIN,
      "record",
      "--no-store",
      "--format",
      "json",
      "-o",
      report,
      ...(tracer === "rtscope --no-syscalls" ? ["--no-syscalls"] : []),
      "--",
      ...stress,
    ]);
  const text = r.out + r.err;
  const ns = /switch\s+([\d.]+) nanosecs per context switch/.exec(text);
  const m = /switch\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+[\d.]+/.exec(text);
  if (!ns || !m) throw new Error(`${tracer}: no stress-ng metrics in:\n${text.slice(-3000)}`);
  const ops = Number(m[1]);
  const loadCpu = Number(m[3]) + Number(m[4]);
  const out: Run = { tracer, nsPerSwitch: Number(ns[1]), cpuUsPerOp: (loadCpu / ops) * 1e6, bogoOps: ops };
  const t = /TRACERCPU ([\d.]+) ([\d.]+)/.exec(text);
  if (t) out.tracerCpuS = Number(t[1]) + Number(t[2]) - loadCpu;
  if (tracer.startsWith("rtscope")) {
    const j = JSON.parse(readFileSync(report, "utf8")) as {
      source: { events: number; lostEvents: number; written?: number; ownCpu?: number };
    };
    out.events = j.source.events;
    out.lost = j.source.lostEvents;
    out.written = j.source.written;
    out.ownCpuS = j.source.ownCpu;
  }
  return out;
}

const median = (xs: number[]) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length === 0
    ? Number.NaN
    : s.length % 2
      ? s[(s.length - 1) / 2]
      : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const tmp = mkdtempSync(join(tmpdir(), "rtscope-overhead-"));
const runs: Run[] = [];
try {
  for (let rep = 0; rep < REPEATS; rep++) {
    // a different order each round: a slow minute of the shared machine hits every tracer
    const order = TRACERS.map((_, i) => TRACERS[(i + rep) % TRACERS.length]);
    for (const tracer of order) {
      const x = await once(tracer, tmp);
      runs.push(x);
      process.stderr.write(
        `  ${tracer.padEnd(22)} ${x.nsPerSwitch.toFixed(0).padStart(7)} ns/switch ${x.cpuUsPerOp.toFixed(2).padStart(6)} us CPU/op${x.events !== undefined ? `  events ${x.events} lost ${x.lost} written ${x.written} rtscope CPU ${x.ownCpuS} s (${(((x.ownCpuS ?? 0) * 1e6) / x.events).toFixed(2)} us/event)` : ""}${x.tracerCpuS !== undefined ? `  perf CPU ~${x.tracerCpuS.toFixed(2)} s` : ""}\n`,
      );
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
console.log(`stress-ng --switch ${SWITCHERS} --timeout ${SECONDS}s, ${REPEATS} runs each, medians:`);
console.log(
  `${"tracer".padEnd(22)} ${"ns/switch".padStart(10)} ${"us CPU/op".padStart(10)} ${"events".padStart(10)} ${"lost".padStart(8)} ${"own CPU s".padStart(9)} ${"us/event".padStart(9)}`,
);
for (const tracer of TRACERS) {
  const rs = runs.filter((x) => x.tracer === tracer);
  const ev = median(rs.map((x) => x.events ?? Number.NaN));
  const cpu = median(rs.map((x) => x.ownCpuS ?? x.tracerCpuS ?? Number.NaN));
  const per = median(rs.map((x) => ((x.ownCpuS ?? Number.NaN) * 1e6) / (x.events ?? Number.NaN)));
  console.log(
    `${tracer.padEnd(22)} ${median(rs.map((x) => x.nsPerSwitch))
      .toFixed(0)
      .padStart(10)} ${median(rs.map((x) => x.cpuUsPerOp))
      .toFixed(2)
      .padStart(
        10,
      )} ${Number.isFinite(ev) ? String(ev).padStart(10) : "".padStart(10)} ${rs.some((x) => x.lost !== undefined) ? String(Math.max(...rs.map((x) => x.lost ?? 0))).padStart(8) : "".padStart(8)} ${Number.isFinite(cpu) ? cpu.toFixed(2).padStart(9) : "".padStart(9)} ${Number.isFinite(per) ? per.toFixed(2).padStart(9) : "".padStart(9)}`,
  );
}
if (values.json) writeFileSync(values.json, `${JSON.stringify(runs, null, 2)}\n`);
