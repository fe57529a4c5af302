// Decode worker (started by page-workers.ts): reads and decompresses the pages of some CPUs of
// a trace.dat with the same CpuPageReader the main thread would use and writes them, and
// whatever the reader throws, into one ring per CPU (page-ring.ts). It fills the emptiest ring
// first: the merge consumes CPUs in timestamp order, and the one it waits for is then empty.

import { workerData } from "node:worker_threads";
import { SkippedDataError } from "../../model/source.ts";
import type { CompressionName } from "./compression.ts";
import { CpuPageReader, type TraceDatPage } from "./cpu-page-reader.ts";
import type { CpuData } from "./options.ts";
import { CONTROL_HEARTBEAT, CONTROL_RELEASES, RingWriter } from "./page-ring.ts";

export interface PageWorkerData {
  path: string;
  fd: number;
  fileSize: number;
  pageSize: number;
  algo: CompressionName;
  littleEndian: boolean;
  pagesPerRead: number | undefined;
  regions: CpuData[];
  rings: SharedArrayBuffer[];
  control: SharedArrayBuffer;
}

/** One CPU's state: what is read but not yet written, and whether it is done. */
interface Lane {
  writer: RingWriter;
  reader: CpuPageReader | null;
  page: TraceDatPage | null;
  error: unknown;
  /** the reader cannot go on: its end (or its last error) is the last record */
  last: "end" | "error" | null;
  done: boolean;
}

function run(d: PageWorkerData): void {
  const control = new Int32Array(d.control);
  const lanes: Lane[] = d.regions.map((region, i) => {
    const lane: Lane = {
      writer: new RingWriter(d.rings[i], control, i),
      reader: null,
      page: null,
      error: undefined,
      last: null,
      done: false,
    };
    try {
      lane.reader = new CpuPageReader(
        d.path,
        d.fd,
        d.fileSize,
        region,
        d.pageSize,
        d.algo,
        d.littleEndian,
        d.pagesPerRead ? { pagesPerRead: d.pagesPerRead } : undefined,
      );
    } catch (e) {
      lane.error = e;
      lane.last = "error";
    }
    return lane;
  });
  let left = lanes.length;
  while (left > 0) {
    let lane: Lane | undefined;
    for (const l of lanes) if (!l.done && (lane === undefined || l.writer.used < lane.writer.used)) lane = l;
    if (lane === undefined) break;
    const seen = Atomics.load(control, CONTROL_RELEASES);
    if (!step(lane)) {
      Atomics.wait(control, CONTROL_RELEASES, seen, 1000);
      continue;
    }
    Atomics.add(control, CONTROL_HEARTBEAT, 1);
    if (lane.done) {
      lane.reader?.close();
      left--;
    }
  }
}

/** Reads the lane's next item if need be and writes it; false when its ring has no room. */
function step(lane: Lane): boolean {
  if (lane.page === null && lane.error === undefined && lane.last === null) {
    try {
      lane.page = lane.reader!.nextPage();
      if (lane.page === null) lane.last = "end";
    } catch (e) {
      lane.error = e;
      // after a skipped chunk the reader goes on with the next one; after anything else the
      // merge reads no further from this CPU
      if (!(e instanceof SkippedDataError)) lane.last = "error";
    }
  }
  if (lane.page !== null) {
    if (!lane.writer.page(lane.page)) return false;
    lane.page = null;
    return true;
  }
  if (lane.error !== undefined) {
    if (!lane.writer.error(lane.error)) return false;
    lane.error = undefined;
    if (lane.last === "error") lane.done = true;
    return true;
  }
  if (!lane.writer.end()) return false;
  lane.done = true;
  return true;
}

run(workerData as PageWorkerData);
