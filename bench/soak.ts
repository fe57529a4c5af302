// Memory soak benchmark (not part of npm test; needs root, tracefs, cyclictest, hackbench):
// `rtscope record` (every thread, --no-store), `rtscope top` (every thread, table to
// /dev/null) and `rtscope serve` (the daemon tracking a load added with --trace and a bound
// it violates now and then, while a client reads /metrics and /api/tasks every 5 s and keeps
// an event stream open, as Prometheus and a dashboard would) run side by side under one light
// steady load: cyclictest (two SCHED_FIFO threads at 1 kHz) and a paced hackbench loop at
// nice 19 (a burst of 40 short-lived tasks every few seconds: thousands of tasks that come
// and go over the run). Every minute it prints each process's RSS (VmRSS); at the end the
// least-squares slope of RSS over the run (first minute, start-up and JIT, left out) and over
// its second half.
//
//   node bench/soak.ts [--minutes 30] [--modes record,top,serve] [--snapshots 5,25 --snapshot-dir DIR]
//                      [--probe DIR] [--pause 3]
//
// --snapshots: heap snapshots of record and top at those minutes (node's
// --heapsnapshot-signal), to diff what grows in Chrome DevTools; they pause the process.
// --probe: bench/mem-probe.ts preloaded into record and top, writing DIR/<mode>.jsonl every
// 10 s (CPU so far, JS heap, external, array buffers, V8 spaces, malloc arenas vs other anonymous memory).
// --pause: seconds between hackbench runs (default 3; 0 makes ~10x the exited threads a
// minute, to show what grows with them in a few minutes).
// The environment is passed on (e.g. MALLOC_ARENA_MAX=2 to compare glibc's arenas).

import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    minutes: { type: "string" },
    modes: { type: "string" },
    snapshots: { type: "string" },
    "snapshot-dir": { type: "string" },
    probe: { type: "string" },
    pause: { type: "string" },
  },
});
const minutes = Number(values.minutes ?? 30);
const modes = (values.modes ?? "record,top,serve").split(",");
const snapshotAt = new Set((values.snapshots ?? "").split(",").filter(Boolean).map(Number));
const main = join(import.meta.dirname, "../bin/rtscope.js");
const dir = mkdtempSync(join(tmpdir(), "rtscope-soak-"));
const snapDir = values["snapshot-dir"] ?? join(dir, "snapshots");
const socket = join(dir, "rtscope.sock");

function get(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, path, method: "GET" }, (res) => {
      let body = "";
      res.on("data", (d) => {
        body += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

function post(path: string, body: unknown, method = "POST"): Promise<number> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = request(
      { socketPath: socket, path, method, headers: { "content-type": "application/json" } },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.end(data);
  });
}

function rssKiB(pid: number | undefined): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Soaked {
  mode: string;
  proc: ChildProcess;
  rss: number[];
  stderr: string;
}

function launch(mode: string, args: string[], stdout: "ignore" | "pipe" = "ignore"): Soaked {
  const node =
    snapshotAt.size > 0 && mode !== "serve"
      ? [`--heapsnapshot-signal=SIGUSR2`, `--diagnostic-dir=${snapDir}`]
      : [];
  const probe = values.probe !== undefined && mode !== "serve";
  if (probe) node.push("--import", join(import.meta.dirname, "mem-probe.ts"));
  const env = probe
    ? { ...process.env, MEM_PROBE_FILE: join(values.probe as string, `${mode}.jsonl`) }
    : process.env;
  const proc = spawn(process.execPath, [...node, main, ...args], { stdio: ["ignore", stdout, "pipe"], env });
  const s: Soaked = { mode, proc, rss: [], stderr: "" };
  proc.stderr?.on("data", (d) => {
    s.stderr += d;
    if (s.stderr.length > 1e5) s.stderr = s.stderr.slice(-5e4);
  });
  return s;
}

// Ctrl-C or a kill ends the soak early, still through the cleanup below (children, instances,
// load): without it a killed soak left rtscope, cyclictest and the hackbench loop running
let interrupted = false;
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.on(signal, () => {
    interrupted = true;
  });

const running: Soaked[] = [];
const loads: ChildProcess[] = [];
try {
  if (snapshotAt.size > 0) mkdirSync(snapDir, { recursive: true });
  if (values.probe !== undefined) mkdirSync(values.probe, { recursive: true });
  const load = spawn("cyclictest", ["-m", "-t2", "-p80", "-i1000", "-q"], { stdio: "ignore" });
  loads.push(load);
  loads.push(
    spawn(
      "nice",
      [
        "-n",
        "19",
        "sh",
        "-c",
        `while :; do hackbench -l 200 -g 1 >/dev/null 2>&1; sleep ${Number(values.pause ?? 3)}; done`,
      ],
      {
        stdio: "ignore",
        detached: true,
      },
    ),
  );
  const duration = `${minutes * 60 + 120}s`;
  if (modes.includes("record"))
    running.push(
      launch("record", ["record", "--no-store", "--duration", duration, "-o", join(dir, "record.txt")]),
    );
  if (modes.includes("top")) running.push(launch("top", ["top", "--duration", duration]));
  if (modes.includes("serve")) {
    const s = launch("serve", ["serve", "--socket", socket, "--listen", "off", "--no-store"]);
    running.push(s);
    while (!/listening on/.test(s.stderr)) {
      if (s.proc.exitCode !== null) throw new Error(`serve did not start: ${s.stderr}`);
      await sleep(100);
    }
    await sleep(500);
    if ((await post("/api/tasks", { pid: load.pid, trace: true })) !== 201) throw new Error("add failed");
    await post(`/api/tasks/${load.pid}/slo/timer`, { bound: "200us" }, "PUT");
    // an open event stream, read and discarded
    request({ socketPath: socket, path: "/api/stream" }, (res) => res.resume()).end();
  }

  const t0 = Date.now();
  const xs: number[] = [];
  console.log(
    `soak: ${minutes} min, ${running.map((s) => `${s.mode} pid ${s.proc.pid}`).join(", ")}, cyclictest pid ${load.pid}`,
  );
  console.log(
    `minute  ${running.map((s) => `${s.mode}_rss_kib`.padStart(16)).join("  ")}  serve_events  serve_lost`,
  );
  let nextMinute = 1;
  while (Date.now() - t0 < minutes * 60_000 && !interrupted) {
    await sleep(5000);
    for (const s of running)
      if (s.proc.exitCode !== null)
        throw new Error(`${s.mode} exited (${s.proc.exitCode}): ${s.stderr.slice(-2000)}`);
    let health = { events: 0, lostEvents: 0 };
    if (modes.includes("serve")) {
      await get("/metrics");
      await get("/api/tasks");
    }
    if ((Date.now() - t0) / 60_000 >= nextMinute) {
      if (modes.includes("serve"))
        health = JSON.parse((await get("/api/health")).body) as { events: number; lostEvents: number };
      xs.push(nextMinute);
      for (const s of running) s.rss.push(rssKiB(s.proc.pid));
      console.log(
        `${String(nextMinute).padStart(6)}  ${running.map((s) => String(s.rss[s.rss.length - 1]).padStart(16)).join("  ")}  ${health.events}  ${health.lostEvents}`,
      );
      if (snapshotAt.has(nextMinute)) for (const s of running) if (s.mode !== "serve") s.proc.kill("SIGUSR2");
      nextMinute++;
    }
  }
  // the first minutes are start-up (JIT, V8 heap growing to its working size): the slope
  // over the whole run and over its second half
  const from = xs.length > 2 ? 1 : 0;
  const half = Math.floor(xs.length / 2);
  for (const s of running) {
    const line = (a: number) =>
      `minutes ${xs[a]}..${xs[xs.length - 1]}: ${slope(xs.slice(a), s.rss.slice(a)).toFixed(1)} KiB/min`;
    console.log(
      `${s.mode} rss slope ${line(from)}; ${line(half)}; first ${s.rss[0]} KiB, max ${Math.max(...s.rss)} KiB, last ${s.rss[s.rss.length - 1]} KiB`,
    );
  }
  if (snapshotAt.size > 0) console.log(`heap snapshots in ${snapDir}: ${readdirSync(snapDir).join(" ")}`);
} finally {
  for (const s of running) s.proc.kill("SIGTERM");
  for (const l of loads) {
    if (l.spawnargs[0] === "nice" && l.pid !== undefined) {
      try {
        process.kill(-l.pid, "SIGTERM");
      } catch {
        // already gone
      }
    } else l.kill("SIGTERM");
  }
  await sleep(5000);
  rmSync(join(dir, "rtscope.sock"), { force: true });
  if (snapshotAt.size === 0) rmSync(dir, { recursive: true, force: true });
}
