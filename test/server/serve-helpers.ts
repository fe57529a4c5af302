// Shared by the daemon tests: start `rtscope serve` as a real process on a private socket
// and a free loopback port, raw HTTP requests (any method, header, body), and a
// cyclictest held before exec so that a daemon can track it from its first cycle.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { repoRoot } from "../helpers/paths.ts";
import { trackPid } from "../live/live-helpers.ts";

export const MAIN = join(repoRoot, "src/cli/main.ts");

export interface Served {
  child: ChildProcess;
  pid: number;
  socket: string;
  /** http://127.0.0.1:PORT, or "" with --listen off */
  url: string;
  port: number;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Starts a daemon and waits until it listens (its stderr names the addresses). */
export async function startServe(socket: string, extra: string[] = []): Promise<Served> {
  const args = [MAIN, "serve", "--socket", socket];
  if (!extra.includes("--listen")) args.push("--listen", "127.0.0.1:0");
  // never the system's database: one next to the socket
  if (!extra.includes("--db") && !extra.includes("--no-store"))
    args.push("--db", join(dirname(socket), "rtscope.db"));
  const child = spawn(process.execPath, [...args, ...extra], { stdio: ["ignore", "ignore", "pipe"] });
  if (child.pid) trackPid(child.pid);
  let err = "";
  child.stderr?.on("data", (d) => {
    err += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  const until = Date.now() + 60_000;
  while (!/listening on/.test(err)) {
    if (child.exitCode !== null || Date.now() > until) throw new Error(`rtscope serve did not start: ${err}`);
    await sleep(100);
  }
  const m = /http:\/\/[^\s:]+:(\d+)/.exec(err);
  const port = m ? Number(m[1]) : 0;
  return {
    child,
    pid: child.pid ?? -1,
    socket,
    url: m ? m[0] : "",
    port,
    stderr: () => err,
    exited,
  };
}

export async function stopServe(
  s: Served,
  signal: NodeJS.Signals = "SIGTERM",
): Promise<{ code: number | null }> {
  if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill(signal);
  return s.exited;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function waitFor(cond: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await cond()) return true;
    await sleep(100);
  }
  return cond();
}

/** A `sleep 600` child that is already inside its nanosleep: the wakeups and run time of
 * its exec and start-up are over, so a daemon tracking it sees its statistics stay still.
 * (A test that compares state before and after a request failed once in CI because the
 * task was added while `sleep` was still starting: one wakeup counted mid-test.) */
export async function sleepingProcess(): Promise<ChildProcess> {
  const child = spawn("sleep", ["600"], { stdio: "ignore" });
  const wchan = () => {
    try {
      return readFileSync(`/proc/${child.pid}/wchan`, "utf8");
    } catch {
      return "";
    }
  };
  if (!(await waitFor(() => wchan().includes("nanosleep"), 5000))) {
    child.kill("SIGKILL");
    throw new Error(`sleep ${child.pid} not in nanosleep after 5 s (wchan '${wchan()}')`);
  }
  return child;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: the tests read whatever JSON the API returns
  json: () => any;
}

export interface RawRequest {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  /** an object is sent as JSON; a string or buffer as is */
  body?: unknown;
  socket?: string;
  host?: string;
  port?: number;
}

/** One HTTP request with full control of headers and body (no client-side checks). */
export function raw(r: RawRequest): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...(r.headers ?? {}) };
    let payload: Buffer | undefined;
    if (r.body !== undefined) {
      payload = Buffer.isBuffer(r.body)
        ? r.body
        : Buffer.from(typeof r.body === "string" ? r.body : JSON.stringify(r.body));
      if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-type"))
        headers["content-type"] = "application/json";
    }
    const req = request(
      {
        socketPath: r.socket,
        host: r.socket ? "localhost" : (r.host ?? "127.0.0.1"),
        port: r.port,
        path: r.path,
        method: r.method ?? "GET",
        headers,
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d) => {
          text += d;
        });
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) }),
        );
      },
    );
    req.on("error", reject);
    if (payload) req.write(payload);
    req.end();
  });
}

/**
 * cyclictest held by a shell until `release()`: its pid (kept across exec) can be added to
 * a daemon before its first cycle, so the daemon sees all of them.
 */
export function heldCyclictest(args: string[]): {
  child: ChildProcess;
  pid: number;
  release: () => void;
  output: () => string;
  done: Promise<number | null>;
} {
  const child = spawn("/bin/sh", ["-c", 'read -r _; exec cyclictest "$@"', "held", ...args], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d) => {
    out += d;
  });
  child.stderr?.on("data", (d) => {
    out += d;
  });
  const done = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    child,
    pid: child.pid ?? -1,
    release: () => child.stdin?.end("go\n"),
    output: () => out,
    done,
  };
}

/** cyclictest's -q summary: per measuring thread its tid, cycles, min and max (us). */
export function cyclictestSummary(text: string): { tid: number; cycles: number; min: number; max: number }[] {
  const out: { tid: number; cycles: number; min: number; max: number }[] = [];
  const re =
    /T:\s*\d+\s*\(\s*(\d+)\)\s*P:\s*\d+\s*I:\s*\d+\s*C:\s*(\d+)\s*Min:\s*(\d+)\s*Act:\s*\d+\s*Avg:\s*\d+\s*Max:\s*(\d+)/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text))
    out.push({ tid: Number(m[1]), cycles: Number(m[2]), min: Number(m[3]), max: Number(m[4]) });
  return out;
}
