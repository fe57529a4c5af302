// Runs one command under GNU time (`/usr/bin/time -v`) with stdout discarded, and returns
// its wall time, CPU time and peak RSS. Without GNU time, wall time only (RSS unknown).

import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Measurement {
  wallS: number;
  /** user + system CPU seconds, NaN when unknown */
  cpuS: number;
  /** peak resident set size in KiB, NaN when unknown */
  maxRssKiB: number;
  exitCode: number;
  /** last lines of stderr, for error messages */
  stderrTail: string;
}

const GNU_TIME = "/usr/bin/time";

export function gnuTimeAvailable(): boolean {
  return existsSync(GNU_TIME);
}

/** "1:02.34" or "0:05.12" or "1:02:03" → seconds */
function parseElapsed(text: string): number {
  const parts = text.trim().split(":").map(Number);
  return parts.reduce((acc, p) => acc * 60 + p, 0);
}

export async function measure(cmd: string, args: string[]): Promise<Measurement> {
  const useTime = gnuTimeAvailable();
  const dir = mkdtempSync(join(tmpdir(), "rtscope-bench-"));
  const timeOut = join(dir, "time.txt");
  const argv = useTime ? ["-v", "-o", timeOut, cmd, ...args] : args;
  const bin = useTime ? GNU_TIME : cmd;
  const t0 = performance.now();
  let stderr = "";
  const exitCode = await new Promise<number>((resolve, reject) => {
    const child = spawn(bin, argv, { stdio: ["ignore", "ignore", "pipe"] });
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (d: string) => {
      stderr = (stderr + d).slice(-4000);
    });
    child.on("error", reject);
    child.on("close", (code) => resolve(code ?? 1));
  });
  const wallS = (performance.now() - t0) / 1000;
  const m: Measurement = {
    wallS,
    cpuS: Number.NaN,
    maxRssKiB: Number.NaN,
    exitCode,
    stderrTail: stderr.split("\n").slice(-6).join("\n"),
  };
  if (useTime && existsSync(timeOut)) {
    const text = readFileSync(timeOut, "utf8");
    const num = (re: RegExp) => {
      const x = re.exec(text);
      return x ? Number(x[1]) : Number.NaN;
    };
    const elapsed = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)/.exec(text);
    if (elapsed) m.wallS = parseElapsed(elapsed[1]);
    m.cpuS = num(/User time \(seconds\): ([\d.]+)/) + num(/System time \(seconds\): ([\d.]+)/);
    m.maxRssKiB = num(/Maximum resident set size \(kbytes\): (\d+)/);
    const exit = /Exit status: (\d+)/.exec(text);
    if (exit) m.exitCode = Number(exit[1]);
  }
  rmSync(dir, { recursive: true, force: true });
  return m;
}
