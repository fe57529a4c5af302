// Worker threads that read and decompress a trace.dat's per-CPU pages (page-worker.ts) while the
// main thread merges, decodes and analyses them: one page source per CPU (page-ring.ts) for the
// same CPU merge as without workers. CPUs are dealt round-robin to at most `threads` workers.
// Each worker has a file descriptor of its own, closed once it has exited, so that a worker
// still in a read when it is stopped never reads through a descriptor the file has reused.

import { closeSync, openSync } from "node:fs";
import { Worker } from "node:worker_threads";
import type { PageIndex } from "../trace-dat-windows.ts";
import type { CompressionName } from "./compression.ts";
import type { CpuData } from "./options.ts";
import { controlWords, RingPages, ringBytes, STALL_MS } from "./page-ring.ts";
import type { PageWorkerData } from "./page-worker.ts";

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

  constructor(spec: PageWorkersSpec) {
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
            () =>
              `${spec.path}: the decode worker for CPU ${cpu} gave no pages for ${STALL_MS / 1000} s` +
              `${this.failures.length > 0 ? ` (${this.failures.join("; ")})` : ""}; --threads 0 reads without workers`,
          );
        });
        const fd = openSync(spec.path, "r");
        const data: PageWorkerData = {
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
          w = new Worker(new URL("./page-worker.ts", import.meta.url), { workerData: data });
        } catch (e) {
          closeSync(fd);
          throw e;
        }
        // heard only while the main thread is not blocked on a ring: the stall message names it
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

  /** Stops every worker (done ones at once); resolves once they have exited. */
  async stop(): Promise<void> {
    const workers = this.workers.splice(0);
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
