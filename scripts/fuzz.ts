// Fuzz campaign for rtscope's trace readers (not part of `npm test`: it runs for minutes).
//
//   node scripts/fuzz.ts [--count 2000] [--seed 1] [--jobs 2] [--mem-mb 1024] [--cpu-s 15]
//                        [--out /tmp/rtscope-fuzz] [--rtscope src/cli/main.ts] [--only FAMILY] [--resume]
//
// Seeds: the project's trace fixtures (test/fixtures/**: trace.dat v6/v7, ftrace text) and the
// shared public traces; v7 seeds are also converted to uncompressed v7 with trace-cmd (when
// installed) so that their sub-buffers can be mutated field by field. Each input (a mutant, see
// scripts/fuzz/mutations.ts) is run alone: `rtscope report INPUT --format json` in a child
// process, its resident memory watched (killed past --mem-mb) and killed past --cpu-s seconds of
// CPU time (CPU, not wall-clock time: on a loaded machine a normal input waits for minutes;
// a wall-clock limit of ten minutes stays as a backstop against a child stuck sleeping).
// Classes:
//   ok             exit 0, 3 or 4 (a report was made)
//   error-offset   exit 1/2 with one line naming the input file and a byte offset
//   error-plain    exit 1/2 with a message that names no file or no offset
//   crash          a stack trace, a fatal V8/Node error, a signal, or another exit status
//   hang           killed past the CPU time limit (or the wall-clock backstop)
//   oom            killed past the memory cap, or V8 heap exhaustion
// Writes OUT/results.jsonl (one line per input), OUT/summary.txt (counts by class and by
// mutation family, examples of each message shape), and keeps every input that is not ok or
// error-offset in OUT/keep/ for minimising into regression tests.

import { spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { basename, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { type DatSeed, loadDatSeed, type Mutant, mutateDat, mutateText, prng } from "./fuzz/mutations.ts";

const root = resolve(import.meta.dirname, "..");
const { values: args } = parseArgs({
  options: {
    count: { type: "string", default: "2000" },
    seed: { type: "string", default: "1" },
    jobs: { type: "string", default: "2" },
    "mem-mb": { type: "string", default: "1024" },
    "cpu-s": { type: "string", default: "15" },
    out: { type: "string", default: "/tmp/rtscope-fuzz" },
    rtscope: { type: "string", default: join(root, "src/cli/main.ts") },
    only: { type: "string" },
    resume: { type: "boolean", default: false },
  },
});
const COUNT = Number(args.count);
const SEED = Number(args.seed);
const JOBS = Math.max(1, Number(args.jobs));
const MEM_BYTES = Number(args["mem-mb"]) * 1024 * 1024;
const CPU_LIMIT_S = Number(args["cpu-s"]);
const WALL_LIMIT_MS = 600_000;
const OUT = resolve(args.out);
const RTSCOPE = resolve(args.rtscope);

type Klass = "ok" | "error-offset" | "error-plain" | "crash" | "hang" | "oom";
const CLASSES: Klass[] = ["ok", "error-offset", "error-plain", "crash", "hang", "oom"];

interface Seed {
  path: string;
  kind: "dat" | "text";
  bytes: Uint8Array;
  dat?: DatSeed;
}

function walk(dir: string, out: string[]): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else out.push(p);
  }
}

function isTraceFile(p: string): boolean {
  const b = basename(p);
  if (b.endsWith(".dat")) return true;
  if (b === "cyclictest.txt" || b === "recorded-with.info" || b.endsWith(".md") || b.endsWith(".json"))
    return false;
  return b.endsWith(".txt") || b.endsWith(".html");
}

/** Text seeds are cut to their first 256 KiB of whole lines: every line form is there, in a tenth of the time. */
function cutText(bytes: Uint8Array): Uint8Array {
  if (bytes.length <= 256 << 10 || bytes[0] === 0x3c /* HTML: keep the container whole */) return bytes;
  return bytes.subarray(0, bytes.lastIndexOf(10, 256 << 10) + 1);
}

function loadSeeds(): Seed[] {
  const files: string[] = [];
  walk(join(root, "test/fixtures"), files);
  walk(resolve(root, "../shared/traces/public"), files);
  const convDir = join(OUT, "seeds");
  mkdirSync(convDir, { recursive: true });
  const seeds: Seed[] = [];
  for (const f of files.filter(isTraceFile).sort()) {
    if (f.includes("/corrupt/")) continue; // the regression inputs are not seeds
    if (statSync(f).size > 8 << 20) continue;
    const bytes = new Uint8Array(readFileSync(f));
    if (f.endsWith(".dat")) {
      seeds.push({ path: f, kind: "dat", bytes, dat: loadDatSeed(f, bytes) });
      if (f.endsWith(".v7.dat")) {
        // an uncompressed v7 copy: its pages can be mutated in place
        const conv = join(convDir, `${basename(join(f, ".."))}.v7none.dat`);
        if (!existsSync(conv)) {
          spawnSync("trace-cmd", ["convert", "--compression", "none", "-i", f, "-o", conv], {
            stdio: "ignore",
          });
        }
        if (existsSync(conv)) {
          const cb = new Uint8Array(readFileSync(conv));
          seeds.push({ path: conv, kind: "dat", bytes: cb, dat: loadDatSeed(conv, cb) });
        }
      }
    } else seeds.push({ path: f, kind: "text", bytes: cutText(bytes) });
  }
  return seeds;
}

interface Result {
  i: number;
  seed: string;
  family: string;
  detail: string;
  klass: Klass;
  code: number | null;
  signal: string | null;
  ms: number;
  /** CPU seconds the child used (sampled) */
  cpuS: number;
  peakMb: number;
  message: string;
}

function rssBytes(pid: number): number {
  try {
    const s = readFileSync(`/proc/${pid}/status`, "utf8");
    const m = /VmRSS:\s+(\d+) kB/.exec(s);
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** CPU seconds (user + system) a process has used, from /proc/PID/stat (clock ticks of 10 ms). */
function cpuSeconds(pid: number): number {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
    // fields 14 and 15 of stat; f[0] is field 3
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}

/** Names a file and a byte offset: "<input>: at offset N", "... byte N ...". */
function namesFileAndOffset(message: string, input: string): boolean {
  if (!message.includes(input)) return false;
  if (/offset -\d/.test(message)) return false;
  return /\b(offset|byte|line) \d+/.test(message);
}

function classify(
  code: number | null,
  signal: string | null,
  stderr: string,
  input: string,
  killedFor: Klass | null,
): [Klass, string] {
  const lines = stderr.trim().split("\n");
  const message = lines.find((l) => l.startsWith("rtscope:")) ?? lines[0] ?? "";
  if (killedFor) return [killedFor, message];
  if (/heap out of memory|Allocation failed|Array buffer allocation failed/i.test(stderr))
    return ["oom", message];
  if (signal !== null) return ["crash", `signal ${signal}: ${message}`];
  if (/^\s+at .+:\d+:\d+\)?$/m.test(stderr) || /FATAL ERROR|Uncaught|node:internal/.test(stderr))
    return ["crash", message];
  if (code === 0 || code === 3 || code === 4) return ["ok", message];
  if (code === 1 || code === 2)
    return [namesFileAndOffset(message, input) ? "error-offset" : "error-plain", message];
  return ["crash", `exit ${code}: ${message}`];
}

function runOne(input: string): Promise<Omit<Result, "i" | "seed" | "family" | "detail">> {
  return new Promise((done) => {
    const t0 = performance.now();
    const heapMb = Math.max(256, Math.floor(MEM_BYTES / (1024 * 1024)));
    const child = spawn(
      process.execPath,
      [`--max-old-space-size=${heapMb}`, RTSCOPE, "report", input, "--format", "json"],
      // the compile cache keeps Node from type-stripping every module again for every input
      {
        stdio: ["ignore", "ignore", "pipe"],
        env: { ...process.env, NODE_COMPILE_CACHE: join(OUT, "compile-cache") },
      },
    );
    let stderr = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (d: string) => {
      if (stderr.length < 20000) stderr += d;
    });
    let peak = 0;
    let killedFor: Klass | null = null;
    let cpu = 0;
    const watch = setInterval(() => {
      const pid = child.pid ?? -1;
      const rss = rssBytes(pid);
      peak = Math.max(peak, rss);
      cpu = Math.max(cpu, cpuSeconds(pid));
      if (killedFor) return;
      if (rss > MEM_BYTES) killedFor = "oom";
      else if (cpu > CPU_LIMIT_S) killedFor = "hang";
      if (killedFor) child.kill("SIGKILL");
    }, 50);
    const timer = setTimeout(() => {
      if (!killedFor) {
        killedFor = "hang";
        child.kill("SIGKILL");
      }
    }, WALL_LIMIT_MS);
    child.on("close", (code, signal) => {
      clearInterval(watch);
      clearTimeout(timer);
      const [klass, message] = classify(code, signal, stderr, input, killedFor);
      done({
        klass,
        code,
        signal,
        ms: Math.round(performance.now() - t0),
        cpuS: cpu,
        peakMb: Math.round(peak / (1024 * 1024)),
        message: message.slice(0, 400),
      });
    });
  });
}

/** A message with its numbers and paths blanked: one "shape" per kind of error. */
function shape(message: string): string {
  return message
    .replace(/\/[^\s:"]+/g, "PATH")
    .replace(/0x[0-9a-f]+/gi, "N")
    .replace(/\d+/g, "N")
    .slice(0, 160);
}

async function main(): Promise<void> {
  mkdirSync(join(OUT, "inputs"), { recursive: true });
  mkdirSync(join(OUT, "keep"), { recursive: true });
  const seeds = loadSeeds();
  process.stderr.write(`fuzz: ${seeds.length} seeds, ${COUNT} inputs, rtscope ${RTSCOPE}\n`);
  const results: Result[] = [];
  const resultsPath = join(OUT, "results.jsonl");
  // --resume: the inputs are a function of (seed, index), so a stopped campaign carries on
  if (args.resume && existsSync(resultsPath)) {
    for (const line of readFileSync(resultsPath, "utf8").split("\n"))
      if (line.trim() !== "") results.push(JSON.parse(line) as Result);
  } else writeFileSync(resultsPath, "");
  const done = new Set(results.map((r) => r.i));
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= COUNT) return;
      if (done.has(i)) continue;
      const rng = prng(SEED * 1000003 + i);
      const seed = seeds[Math.floor(rng() * seeds.length)];
      let m: Mutant;
      do {
        m = seed.kind === "dat" ? mutateDat(rng, seed.dat!) : mutateText(rng, seed.bytes);
      } while (args.only !== undefined && m.family !== args.only);
      const input = join(OUT, "inputs", `${i}-${m.family}.${seed.kind === "dat" ? "dat" : "txt"}`);
      writeFileSync(input, m.bytes);
      const r = await runOne(input);
      const res: Result = { i, seed: seed.path, family: m.family, detail: m.detail, ...r };
      results.push(res);
      writeFileSync(resultsPath, `${JSON.stringify(res)}\n`, { flag: "a" });
      if (r.klass === "ok" || r.klass === "error-offset") rmSync(input);
      else renameSync(input, join(OUT, "keep", basename(input)));
      if (results.length % 100 === 0) process.stderr.write(`fuzz: ${results.length}/${COUNT}\n`);
    }
  };
  await Promise.all(Array.from({ length: JOBS }, worker));
  writeFileSync(join(OUT, "summary.txt"), summarize(results));
  process.stdout.write(summarize(results));
}

function summarize(results: Result[]): string {
  const out: string[] = [];
  const count = (rs: Result[], k: Klass) => rs.filter((r) => r.klass === k).length;
  out.push(`inputs: ${results.length}`);
  out.push(`class           ${CLASSES.map((k) => k.padStart(12)).join("")}`);
  out.push(`all             ${CLASSES.map((k) => String(count(results, k)).padStart(12)).join("")}`);
  const families = [...new Set(results.map((r) => r.family))].sort();
  for (const f of families) {
    const rs = results.filter((r) => r.family === f);
    out.push(`${f.padEnd(16)}${CLASSES.map((k) => String(count(rs, k)).padStart(12)).join("")}`);
  }
  const slow = results.filter((r) => r.peakMb > 512 || r.cpuS > 5);
  out.push("", `inputs over 512 MiB or 5 s of CPU: ${slow.length}`);
  for (const k of CLASSES.filter((c) => c !== "ok" && c !== "error-offset")) {
    const rs = results.filter((r) => r.klass === k);
    if (rs.length === 0) continue;
    out.push("", `== ${k} (${rs.length}): message shapes`);
    const shapes = new Map<string, Result[]>();
    for (const r of rs) {
      const s = shape(r.message);
      shapes.set(s, [...(shapes.get(s) ?? []), r]);
    }
    for (const [s, list] of [...shapes].sort((a, b) => b[1].length - a[1].length)) {
      const ex = list[0];
      out.push(`${String(list.length).padStart(5)}  ${s}`);
      out.push(
        `       e.g. #${ex.i} ${ex.family} ${basename(ex.seed)} (${ex.detail.slice(0, 100)}) ${ex.peakMb} MiB ${ex.cpuS} s CPU`,
      );
    }
  }
  return `${out.join("\n")}\n`;
}

await main();
