// A private tracefs instance, `instances/rtscope-<pid>` (SPEC §3): its own ring buffer,
// clock, events and filters, so rtscope never touches the top-level tracefs settings or
// another tool's instance. Every write names the path and the value when it fails.

import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { type CpuStats, readCpuStats } from "./cpu-stats.ts";
import { TracefsError } from "./tracefs-root.ts";

export const INSTANCE_PREFIX = "rtscope-";

/** Owner pid of an instance name `rtscope-<pid>[-suffix]`, or -1 when it is not ours. */
export function instanceOwner(name: string): number {
  const m = /^rtscope-(\d+)(?:-[A-Za-z0-9_]+)?$/.exec(name);
  return m ? Number(m[1]) : -1;
}

export class TracefsInstance {
  readonly root: string;
  readonly name: string;
  readonly path: string;
  private removed = false;

  private constructor(root: string, name: string) {
    this.root = root;
    this.name = name;
    this.path = `${root}/instances/${name}`;
  }

  /**
   * Creates `instances/rtscope-<pid>` (or `rtscope-<pid>-<suffix>` so one process can hold
   * several, e.g. tests). Throws when it exists: another live rtscope with our pid cannot
   * exist, so an existing one is stale and `removeStaleInstances` should have run first.
   */
  static create(root: string, suffix = ""): TracefsInstance {
    const name = `${INSTANCE_PREFIX}${process.pid}${suffix ? `-${suffix}` : ""}`;
    const inst = new TracefsInstance(root, name);
    try {
      mkdirSync(inst.path);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === "EEXIST")
        throw new TracefsError(inst.path, "instance already exists; run 'rtscope reset'");
      if (err.code === "EACCES" || err.code === "EPERM")
        throw new TracefsError(inst.path, "cannot create a tracefs instance: run rtscope as root");
      throw new TracefsError(inst.path, `cannot create the tracefs instance: ${err.message}`);
    }
    return inst;
  }

  get isRemoved(): boolean {
    return this.removed;
  }

  file(rel: string): string {
    return `${this.path}/${rel}`;
  }

  write(rel: string, value: string): void {
    const p = this.file(rel);
    try {
      writeFileSync(p, value);
    } catch (e) {
      let detail = (e as Error).message;
      if (rel.endsWith("/filter")) {
        try {
          const log = readFileSync(`${this.path}/error_log`, "utf8").trim().split("\n").slice(-3).join(" | ");
          if (log) detail += ` (error_log: ${log})`;
        } catch {
          // the error log is a nicety
        }
      }
      throw new TracefsError(p, `cannot write '${value.trim()}': ${detail}`);
    }
  }

  read(rel: string): string {
    const p = this.file(rel);
    try {
      return readFileSync(p, "utf8");
    } catch (e) {
      throw new TracefsError(p, `cannot read: ${(e as Error).message}`);
    }
  }

  /** CPUs with a per-CPU buffer (the possible CPUs), ascending. */
  cpus(): number[] {
    const out: number[] = [];
    for (const d of readdirSync(this.file("per_cpu"))) {
      const m = /^cpu(\d+)$/.exec(d);
      if (m) out.push(Number(m[1]));
    }
    return out.sort((a, b) => a - b);
  }

  /** Selects the trace clock ("mono" so timestamps share CLOCK_MONOTONIC with hrtimer expiries). */
  setClock(clock: string): void {
    this.write("trace_clock", clock);
    const now = /\[(\S+)\]/.exec(this.read("trace_clock"))?.[1];
    if (now !== clock)
      throw new TracefsError(this.file("trace_clock"), `clock is '${now}' after selecting '${clock}'`);
  }

  clock(): string {
    return /\[(\S+)\]/.exec(this.read("trace_clock"))?.[1] ?? "";
  }

  /** Per-CPU buffer size in KiB. */
  setBufferSizeKb(kb: number): void {
    this.write("buffer_size_kb", String(Math.max(1, Math.round(kb))));
  }

  bufferSizeKb(): number {
    return Number(this.read("buffer_size_kb").trim().split(/\s/)[0]);
  }

  /** Sub-buffer size in bytes (tracefs 6.8+ lets an instance change it; 4096 otherwise). */
  subBufferSize(): number {
    if (!existsSync(this.file("buffer_subbuf_size_kb"))) return 4096;
    return Number(this.read("buffer_subbuf_size_kb").trim()) * 1024;
  }

  hasEvent(system: string, event: string): boolean {
    return existsSync(this.file(`events/${system}/${event}/enable`));
  }

  /** Sets (or clears with "") an event's in-kernel filter. */
  setFilter(system: string, event: string, filter: string): void {
    this.write(`events/${system}/${event}/filter`, filter === "" ? "0" : filter);
  }

  enableEvent(system: string, event: string, on = true): void {
    this.write(`events/${system}/${event}/enable`, on ? "1" : "0");
  }

  setTracingOn(on: boolean): void {
    this.write("tracing_on", on ? "1" : "0");
  }

  cpuStats(cpu: number): CpuStats {
    const p = this.file(`per_cpu/cpu${cpu}/stats`);
    try {
      return readCpuStats(p);
    } catch (e) {
      throw new TracefsError(p, `cannot read: ${(e as Error).message}`);
    }
  }

  rawPipePath(cpu: number): string {
    return this.file(`per_cpu/cpu${cpu}/trace_pipe_raw`);
  }

  /**
   * Stops tracing and removes the instance. Synchronous so that it can run in an 'exit'
   * handler. Idempotent; open trace_pipe_raw descriptors must be closed first (EBUSY).
   */
  remove(): void {
    if (this.removed) return;
    removeInstanceDir(this.path);
    this.removed = true;
  }
}

/** Disables tracing in an instance directory and removes it (no error when it is already gone). */
export function removeInstanceDir(path: string): void {
  if (!existsSync(path)) return;
  try {
    writeFileSync(`${path}/tracing_on`, "0");
    writeFileSync(`${path}/events/enable`, "0");
  } catch {
    // removing is what matters; rmdir also tears the events down
  }
  let lastErr: Error | undefined;
  // EBUSY while a reader still holds a pipe open: retry briefly
  for (let i = 0; i < 50; i++) {
    try {
      rmdirSync(path);
      return;
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === "ENOENT") return;
      lastErr = err;
      if (err.code !== "EBUSY") break;
      const until = Date.now() + 20;
      while (Date.now() < until) {
        // busy-wait: this may run inside an 'exit' handler where timers do not fire
      }
    }
  }
  throw new TracefsError(
    path,
    `cannot remove the instance: ${lastErr?.message}; close readers and run 'rtscope reset'`,
  );
}

/** Is the process that owns an instance alive (and plausibly rtscope, not a reused pid)? */
export function ownerAlive(pid: number): boolean {
  if (pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ESRCH") return false;
  }
  // pid exists: a reused pid of another program does not keep an instance alive
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return /rtscope|node/.test(cmdline);
  } catch {
    return existsSync(`/proc/${pid}`);
  }
}

/** rtscope instances under `root` (names). Never lists or touches other instances. */
export function listRtscopeInstances(root: string): string[] {
  const dir = `${root}/instances`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => instanceOwner(n) > 0 && statSync(`${dir}/${n}`).isDirectory()).sort();
}

export interface StaleCleanup {
  removed: string[];
  /** instances whose owner is alive */
  kept: string[];
  failed: { name: string; error: string }[];
}

/**
 * One line per instance `removeStaleInstances` removed or failed to remove, for stderr: an
 * instance may belong to a run in another terminal, so the user is told which went and why.
 */
export function staleCleanupNotices(root: string, r: StaleCleanup): string[] {
  const out: string[] = [];
  for (const n of r.removed)
    out.push(
      `removed stale tracefs instance ${root}/instances/${n}: its rtscope (pid ${instanceOwner(n)}) is no longer running`,
    );
  for (const f of r.failed)
    out.push(`could not remove stale instance ${root}/instances/${f.name}: ${f.error}`);
  return out;
}

/** Removes rtscope instances whose owner is dead (or every rtscope instance with `all`). */
export function removeStaleInstances(root: string, all = false): StaleCleanup {
  const out: StaleCleanup = { removed: [], kept: [], failed: [] };
  for (const name of listRtscopeInstances(root)) {
    const owner = instanceOwner(name);
    if (owner === process.pid) {
      out.kept.push(name);
      continue;
    }
    if (!all && ownerAlive(owner)) {
      out.kept.push(name);
      continue;
    }
    try {
      removeInstanceDir(`${root}/instances/${name}`);
      out.removed.push(name);
    } catch (e) {
      out.failed.push({ name, error: (e as Error).message });
    }
  }
  return out;
}
