// Non-blocking reader of one CPU's `trace_pipe_raw` (FORMATS §1.1). Node has no poll() on
// files, so the live source calls `readPage` on a timer. Each successful read consumes and
// returns one sub-buffer; on this kernel (6.18) a read while the writer is still on the
// page returns the committed part (commit < data size) and the rest comes on later reads,
// so a quiet CPU still delivers its events promptly. EAGAIN means "nothing committed now".

import { closeSync, constants, openSync, readSync } from "node:fs";
import { TracefsError } from "./tracefs-root.ts";

export class RawCpuReader {
  readonly cpu: number;
  readonly path: string;
  private fd: number;

  constructor(path: string, cpu: number) {
    this.cpu = cpu;
    this.path = path;
    try {
      this.fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (e) {
      throw new TracefsError(path, `cannot open: ${(e as Error).message}`);
    }
  }

  /**
   * Reads one sub-buffer into `buf` (at least one sub-buffer long) at `offset`. Returns
   * the number of bytes (the sub-buffer size), or 0 when nothing is ready (EAGAIN/EOF).
   */
  readPage(buf: Uint8Array, offset: number, subBufferSize: number): number {
    if (this.fd < 0) return 0;
    try {
      return readSync(this.fd, buf, offset, subBufferSize, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EAGAIN" || code === "EWOULDBLOCK" || code === "EINTR") return 0;
      if (code === "ENODEV" || code === "ENOENT")
        throw new TracefsError(
          this.path,
          "the tracefs instance disappeared while reading (removed by someone else?)",
        );
      throw new TracefsError(this.path, `read failed: ${(e as Error).message}`);
    }
  }

  close(): void {
    if (this.fd >= 0) {
      try {
        closeSync(this.fd);
      } catch {
        // already gone
      }
      this.fd = -1;
    }
  }
}
