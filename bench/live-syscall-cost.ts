// What an enabled syscall tracepoint costs every syscall of every task (`node
// bench/live-syscall-cost.ts`, root; never part of npm test). Enabling any syscalls:* event
// sets the syscall-tracepoint work flag on every task, so every syscall of the machine takes
// the slow entry/exit path, whatever the event's filter. Measured with `perf bench syscall
// basic` (getppid() in a loop) by its CPU time (usr + sys from GNU time: the wall time on a
// shared machine is mostly waiting for a CPU), while
//   nothing traces | `rtscope record --no-syscalls` runs | `rtscope record` (default) runs,
// ROUNDS rounds in alternating order, REPEATS benchmark runs in each; medians printed.
//
//   node bench/live-syscall-cost.ts [--calls 1000000] [--rounds 2] [--repeats 3]

import { type ChildProcess, spawn } from "node:child_process";
import { resolve } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: { calls: { type: "string" }, rounds: { type: "string" }, repeats: { type: "string" } },
});
const CALLS = Number(values.calls ?? 1_000_000);
const ROUNDS = Number(values.rounds ?? 2);
const REPEATS = Number(values.repeats ?? 3);
const MAIN = resolve(import.meta.dirname, "../bin/rtscope.js");
const CONFIGS = ["none", "rtscope --no-syscalls", "rtscope"] as const;

function output(cmd: string, args: string[]): Promise<string> {
  return new Promise((res) => {
    const c = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    c.stdout.on("data", (d) => {
      out += d;
    });
    c.stderr.on("data", (d) => {
      out += d;
    });
    c.on("exit", () => res(out));
  });
}

async function nsPerCall(): Promise<number> {
  const out = await output("/usr/bin/time", [
    "-f",
    "CPU %U %S",
    "perf",
    "bench",
    "syscall",
    "basic",
    "-l",
    String(CALLS),
  ]);
  const m = /CPU ([\d.]+) ([\d.]+)/.exec(out);
  if (!m) throw new Error(`no GNU time line in: ${out}`);
  return ((Number(m[1]) + Number(m[2])) / CALLS) * 1e9;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const results = new Map<string, number[]>(CONFIGS.map((c) => [c, []]));
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? CONFIGS : [...CONFIGS].reverse();
  for (const config of order) {
    let tracer: ChildProcess | null = null;
    if (config !== "none") {
      tracer = spawn(
        process.execPath,
        [MAIN, "record", "--no-store", "-o", "/dev/null", ...(config === "rtscope" ? [] : ["--no-syscalls"])],
        { stdio: ["ignore", "ignore", "pipe"] },
      );
      let err = "";
      tracer.stderr?.on("data", (d) => {
        err += d;
      });
      // tracing is on once the start-up line is out
      while (!/reading \d+ CPUs/.test(err)) {
        if (tracer.exitCode !== null) throw new Error(`rtscope did not start: ${err}`);
        await sleep(100);
      }
      await sleep(500);
    }
    try {
      for (let i = 0; i < REPEATS; i++) {
        const ns = await nsPerCall();
        results.get(config)?.push(ns);
        process.stderr.write(`  ${config.padEnd(22)} ${ns.toFixed(0)} ns CPU per getppid()\n`);
      }
    } finally {
      if (tracer) {
        const ended = new Promise((r) => tracer?.on("exit", r));
        tracer.kill("SIGINT");
        await ended;
      }
    }
  }
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
console.log(`perf bench syscall basic -l ${CALLS}: CPU ns per getppid(), median of ${ROUNDS * REPEATS}`);
for (const c of CONFIGS) {
  const xs = results.get(c) ?? [];
  console.log(
    `${c.padEnd(22)} ${median(xs).toFixed(0).padStart(6)}  (${xs.map((x) => x.toFixed(0)).join(" ")})`,
  );
}
