// Soak benchmark of `rtscope serve` (not part of npm test; needs root, tracefs, cyclictest):
// the daemon tracks a steady SCHED_FIFO load (cyclictest, two threads at 1 kHz) added with
// --trace and a bound it violates now and then, while a client reads /metrics and
// /api/tasks every 5 s and keeps an event stream open, as Prometheus and a dashboard would.
// Every minute it prints the daemon's RSS (VmRSS); at the end the least-squares slope of
// RSS over the run, with the first minute (start-up, JIT) left out.
//
//   node bench/soak.ts [--minutes 30]

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { minutes: { type: "string" } } });
const minutes = Number(values.minutes ?? 30);
const main = join(import.meta.dirname, "../src/cli/main.ts");
const dir = mkdtempSync(join(tmpdir(), "rtscope-soak-"));
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

function rssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) : Number.NaN;
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

let serve: ChildProcess | null = null;
let load: ChildProcess | null = null;
try {
  serve = spawn(process.execPath, [main, "serve", "--socket", socket, "--listen", "off"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let err = "";
  serve.stderr?.on("data", (d) => {
    err += d;
  });
  while (!/listening on/.test(err)) {
    if (serve.exitCode !== null) throw new Error(`serve did not start: ${err}`);
    await sleep(100);
  }
  load = spawn("cyclictest", ["-m", "-t2", "-p80", "-i1000", "-q"], { stdio: "ignore" });
  await sleep(500);
  if ((await post("/api/tasks", { pid: load.pid, trace: true })) !== 201) throw new Error("add failed");
  await post(`/api/tasks/${load.pid}/slo/timer`, { bound: "200us" }, "PUT");
  // an open event stream, read and discarded
  request({ socketPath: socket, path: "/api/stream" }, (res) => res.resume()).end();

  const serveRss = () => rssKiB(serve?.pid ?? -1);
  const t0 = Date.now();
  const xs: number[] = [];
  const ys: number[] = [];
  console.log(`soak: ${minutes} min, daemon pid ${serve.pid}, cyclictest pid ${load.pid}`);
  console.log("minute  rss_kib  events  lost  timer_samples");
  let nextMinute = 1;
  while (Date.now() - t0 < minutes * 60_000) {
    await sleep(5000);
    await get("/metrics");
    const tasks = JSON.parse((await get("/api/tasks")).body) as {
      tasks: { metrics: { timer?: { count: number } } }[];
    };
    if ((Date.now() - t0) / 60_000 >= nextMinute) {
      const health = JSON.parse((await get("/api/health")).body) as { events: number; lostEvents: number };
      const rss = serveRss();
      xs.push(nextMinute);
      ys.push(rss);
      console.log(
        `${String(nextMinute).padStart(6)}  ${String(rss).padStart(7)}  ${health.events}  ${health.lostEvents}  ${tasks.tasks[0]?.metrics.timer?.count ?? 0}`,
      );
      nextMinute++;
    }
  }
  // the first minutes are start-up (JIT, V8 heap growing to its working size): the slope
  // over the whole run and over its second half
  const from = xs.length > 2 ? 1 : 0;
  const half = Math.floor(xs.length / 2);
  const line = (a: number) =>
    `rss slope (minutes ${xs[a]}..${xs[xs.length - 1]}): ${slope(xs.slice(a), ys.slice(a)).toFixed(1)} KiB/min`;
  console.log(`${line(from)}; ${line(half)}; first ${ys[0]} KiB, last ${ys[ys.length - 1]} KiB`);
} finally {
  load?.kill("SIGTERM");
  serve?.kill("SIGTERM");
  await sleep(3000);
  rmSync(dir, { recursive: true, force: true });
}
