// Worker threads that read and decompress a trace.dat's per-CPU pages (page-worker.ts) while the
// main thread merges, decodes and analyses them: one page source per CPU (page-ring.ts) for the
// same CPU merge as without workers. CPUs are dealt round-robin to at most `threads` workers.
// Each worker has a file descriptor of its own, closed once it has exited, so that a worker
// still in a read when it is stopped never reads through a descriptor the file has reused.

import { closeSync, openSync } from "node:fs";
import module from "node:module";
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from "node:worker_threads";
import type { PageIndex } from "../trace-dat-windows.ts";
import type { CompressionName } from "./compression.ts";
import type { CpuData } from "./options.ts";
import { controlWords, RingPages, ringBytes } from "./page-ring.ts";
import type { PageWorkerData } from "./page-worker.ts";

/** A waiting main thread gives up on a worker that shows no sign of life for this long. */
const STALL_MS = 60_000;

/**
 * The worker's first code: the compile cache of this process (when on: the launcher turns it
 * on) also for the worker's modules, whose TypeScript would otherwise be stripped again in
 * each worker (~0.12 CPU s); and a failure to load or run them said on the port, which a
 * main thread blocked on a ring reads synchronously.
 */
const BOOT = `
const { workerData } = require("node:worker_threads");
if (workerData.cacheDir) require("node:module").enableCompileCache?.(workerData.cacheDir);
import(workerData.entry).catch((e) => workerData.port.postMessage(String((e && e.message) || e)));
`;

/** Ring memory for all CPUs together (each ring at least 16 pages). */
const RING_BUDGET = 16 << 20;
const RING_MAX = 2 << 20;

export interface PageWorkersSpec {
  path: string;
  fileSize: number;
  pageSize: number;
  algo: CompressionName;
  littleEndian: boolean;
  pagesPerRead: number | undefined;
  compressed: boolean;
  /** the buffer's CPUs with data, in the merge's order */
  regions: CpuData[];
  /** per region, the page index the stream fills (window read-back), if any */
  indexes: (PageIndex | undefined)[] | undefined;
  threads: number;
}

export class PageWorkers {
  /** per region, its pages */
  readonly sources: RingPages[];
  private readonly workers: Worker[] = [];
  private readonly failures: string[] = [];
  /** per worker, where it says that it failed */
  private readonly ports: MessagePort[] = [];
  private readonly path: string;

  constructor(spec: PageWorkersSpec) {
    this.path = spec.path;
    const n = Math.max(1, Math.min(spec.threads, spec.regions.length));
    const ringSize = ringBytes(
      spec.pageSize,
      Math.min(RING_MAX, Math.floor(RING_BUDGET / spec.regions.length)),
    );
    const groups: number[][] = Array.from({ length: n }, () => []);
    spec.regions.forEach((_, i) => {
      groups[i % n].push(i);
    });
    const sources: RingPages[] = new Array(spec.regions.length);
    try {
      for (const group of groups) {
        const control = new SharedArrayBuffer(controlWords(group.length) * 4);
        const { port1: port, port2: workerPort } = new MessageChannel();
        this.ports.push(port);
        const controlWords32 = new Int32Array(control);
        const rings = group.map(() => new SharedArrayBuffer(ringSize));
        group.forEach((r, j) => {
          const cpu = spec.regions[r].cpu;
          sources[r] = new RingPages(
            rings[j],
            controlWords32,
            j,
            spec.regions[r].offset,
            spec.compressed,
            spec.indexes?.[r],
            (quietMs) => this.watch(port, cpu, quietMs),
          );
        });
        const fd = openSync(spec.path, "r");
        const data: PageWorkerData & { entry: string; cacheDir: string | undefined; port: MessagePort } = {
          entry: new URL("./page-worker.ts", import.meta.url).href,
          cacheDir: module.getCompileCacheDir?.(),
          port: workerPort,
          path: spec.path,
          fd,
          fileSize: spec.fileSize,
          pageSize: spec.pageSize,
          algo: spec.algo,
          littleEndian: spec.littleEndian,
          pagesPerRead: spec.pagesPerRead,
          regions: group.map((r) => spec.regions[r]),
          rings,
          control,
        };
        let w: Worker;
        try {
          w = new Worker(BOOT, { eval: true, workerData: data, transferList: [workerPort] });
        } catch (e) {
          closeSync(fd);
          throw e;
        }
        // heard only while the main thread is not blocked on a ring
        w.on("error", (e) => this.failures.push(e.message));
        w.once("exit", () => closeSync(fd));
        // a worker never keeps the process alive on its own
        w.unref();
        this.workers.push(w);
      }
    } catch (e) {
      void this.stop();
      throw e;
    }
    this.sources = sources;
  }

  /** Throws when the worker behind `port` failed, or has shown no sign of life for too long. */
  private watch(port: MessagePort, cpu: number, quietMs: number): void {
    const said = receiveMessageOnPort(port);
    if (said !== undefined) this.failures.push(String(said.message));
    if (said === undefined && this.failures.length === 0 && quietMs < STALL_MS) return;
    const why =
      this.failures.length > 0 ? `: ${this.failures.join("; ")}` : ` (no pages for ${STALL_MS / 1000} s)`;
    throw new Error(
      `${this.path}: the decode worker for CPU ${cpu} stopped${why}; --threads 0 reads without workers`,
    );
  }

  /** Stops every worker (done ones at once); resolves once they have exited. */
  async stop(): Promise<void> {
    const workers = this.workers.splice(0);
    for (const p of this.ports.splice(0)) p.close();
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
