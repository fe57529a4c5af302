// Streams a text file in chunks and hands every trace line to a callback as a byte range of
// one reused buffer (no string per line). Lines that are not trace text are dropped here:
// for systrace HTML, everything outside the ftrace `trace-data` block; for the legacy
// container, everything outside the `linuxPerfData` string (whose lines may end in `\n\`).

import type { FileHandle } from "node:fs/promises";
import {
  type Container,
  LINUX_PERF_DATA,
  SCRIPT_END,
  TRACE_DATA_CLASS,
  TRACE_DATA_CLASS_SQ,
} from "./container.ts";
import { indexOfBytes } from "./field-scanner.ts";

export interface LineCallback {
  /** A trace line b[s, e) (no newline, trailing spaces and CR removed). Return true to stop reading. */
  line(b: Buffer, s: number, e: number, lineNo: number, offset: number): boolean;
  /** A trace line that was dropped unread (too long to hold). */
  skipped(lineNo: number, offset: number, why: string): void;
}

export type ReadProgress = (bytesRead: number) => void;

const NL = 10;
const CR = 13;
const SPACE = 32;
const TAB = 9;
const BACKSLASH = 92;

/** A trace line longer than this is dropped (and reported) rather than held in memory. */
const MAX_LINE_BYTES = 16 << 20;
/** Bytes kept from a dropped partial line outside the trace text, for a marker cut in two. */
const KEEP_TAIL = 32;

const State = { Outside: 0, BlockFirst: 1, Inside: 2, Skip: 3, Legacy: 4 } as const;

export class LineReader {
  private readonly container: Container;
  private state: number;
  lineNo = 0;
  /** number of bytes read from the file so far */
  bytesRead = 0;
  private stopped = false;
  /** the rest of an over-long trace line is being dropped up to its newline */
  private discarding = false;

  constructor(container: Container) {
    this.container = container;
    this.state = container === "tracefs" || container === "trace-cmd" ? State.Inside : State.Outside;
  }

  async run(
    fh: FileHandle,
    chunkSize: number,
    cb: LineCallback,
    onChunk?: (bytesRead: number) => void,
  ): Promise<void> {
    let buf = Buffer.allocUnsafe(Math.max(chunkSize, 64));
    let used = 0; // bytes of buf holding data (a partial line at the front, then the new chunk)
    let bufFileOffset = 0; // file offset of buf[0]
    let filePos = 0;
    for (;;) {
      if (used === buf.length) {
        // a line longer than the buffer
        if (this.state === State.BlockFirst) {
          const f = this.firstNonSpace(buf, 0, used);
          if (f < used - 2 && this.isForeignBlock(buf, f)) this.state = State.Skip;
        }
        if ((this.state === State.Skip || this.state === State.Outside) && !this.hasMarker(buf, used)) {
          // outside the trace text (a JSON block, the viewer): only a marker straddling the
          // cut matters, so keep the tail and drop the rest instead of holding the whole line
          buf.copy(buf, 0, used - KEEP_TAIL, used);
          bufFileOffset += used - KEEP_TAIL;
          used = KEEP_TAIL;
        } else if (used >= MAX_LINE_BYTES && this.state !== State.Skip && this.state !== State.Outside) {
          this.lineNo++;
          cb.skipped(this.lineNo, bufFileOffset, `a line longer than ${MAX_LINE_BYTES >> 20} MiB`);
          this.discarding = true;
          bufFileOffset += used;
          used = 0;
        } else {
          const bigger = Buffer.allocUnsafe(buf.length * 2);
          buf.copy(bigger, 0, 0, used);
          buf = bigger;
        }
      }
      const { bytesRead } = await fh.read(buf, used, buf.length - used, filePos);
      filePos += bytesRead;
      this.bytesRead = filePos;
      const end = used + bytesRead;
      let pos = 0;
      if (bytesRead === 0) {
        if (used > 0 && !this.discarding) this.rawLine(buf, 0, used, bufFileOffset, cb);
        return;
      }
      for (;;) {
        let nl = buf.indexOf(NL, pos);
        if (nl < 0 || nl >= end) nl = -1;
        if (nl < 0) break;
        if (this.discarding) this.discarding = false;
        else this.rawLine(buf, pos, nl, bufFileOffset + pos, cb);
        if (this.stopped) return;
        pos = nl + 1;
      }
      if (this.discarding) {
        // still inside an over-long line: drop what was read of it
        bufFileOffset += end;
        used = 0;
      } else {
        // keep the partial last line
        if (pos > 0) buf.copy(buf, 0, pos, end);
        used = end - pos;
        bufFileOffset += pos;
      }
      onChunk?.(filePos);
    }
  }

  /** Does a partial line hold a marker that changes the container state? */
  private hasMarker(b: Buffer, used: number): boolean {
    if (this.state === State.Skip) return indexOfBytes(b, 0, used, SCRIPT_END) >= 0;
    return (
      indexOfBytes(b, 0, used, TRACE_DATA_CLASS) >= 0 ||
      indexOfBytes(b, 0, used, TRACE_DATA_CLASS_SQ) >= 0 ||
      indexOfBytes(b, 0, used, LINUX_PERF_DATA) >= 0
    );
  }

  private rawLine(b: Buffer, s: number, e: number, offset: number, cb: LineCallback): void {
    this.lineNo++;
    while (e > s && (b[e - 1] === CR || b[e - 1] === SPACE || b[e - 1] === TAB)) e--;
    switch (this.state) {
      case State.Inside:
        if (this.container !== "tracefs" && this.container !== "trace-cmd" && this.isScriptEnd(b, s, e)) {
          this.state = State.Outside;
          return;
        }
        break;
      case State.Outside: {
        let t = indexOfBytes(b, s, e, TRACE_DATA_CLASS);
        if (t < 0) t = indexOfBytes(b, s, e, TRACE_DATA_CLASS_SQ);
        if (t >= 0) {
          this.state = State.BlockFirst;
          // data may start on the tag's own line, after '>'
          let g = t;
          while (g < e && b[g] !== 62) g++;
          if (g + 1 < e) this.rawLineAgain(b, g + 1, e, offset + (g + 1 - s), cb);
          return;
        }
        if (indexOfBytes(b, s, e, LINUX_PERF_DATA) >= 0) this.state = State.Legacy;
        return;
      }
      case State.BlockFirst: {
        const f = this.firstNonSpace(b, s, e);
        if (f === e) return;
        if (this.isScriptEnd(b, s, e)) {
          this.state = State.Outside;
          return;
        }
        // JSON trace events or a process dump: not ftrace text
        if (this.isForeignBlock(b, f)) {
          // (a one-line block may end on its own line)
          this.state = indexOfBytes(b, f, e, SCRIPT_END) >= 0 ? State.Outside : State.Skip;
          return;
        }
        this.state = State.Inside;
        break;
      }
      case State.Skip:
        if (indexOfBytes(b, s, e, SCRIPT_END) >= 0) this.state = State.Outside;
        return;
      case State.Legacy: {
        const f = this.firstNonSpace(b, s, e);
        if ((f < e && b[f] === 34) /* " */ || this.isScriptEnd(b, s, e)) {
          this.state = State.Outside;
          return;
        }
        // JavaScript string continuation: `...\n\` or `...\`
        if (e > s && b[e - 1] === BACKSLASH) e--;
        if (e - 1 > s && b[e - 2] === BACKSLASH && b[e - 1] === 110 /* n */) e -= 2;
        while (e > s && b[e - 1] === SPACE) e--;
        break;
      }
    }
    if (e > s && cb.line(b, s, e, this.lineNo, offset)) this.stopped = true;
  }

  /** Same physical line, the part after a `<script ...>` tag. */
  private rawLineAgain(b: Buffer, s: number, e: number, offset: number, cb: LineCallback): void {
    this.lineNo--;
    this.rawLine(b, s, e, offset, cb);
  }

  /** JSON trace events (`{`, `[`) or a `PROCESS DUMP`: a trace-data block that is not ftrace text. */
  private isForeignBlock(b: Buffer, f: number): boolean {
    const c = b[f];
    return c === 123 || c === 91 || (c === 80 && b[f + 1] === 82 && b[f + 2] === 79);
  }

  private firstNonSpace(b: Buffer, s: number, e: number): number {
    while (s < e && (b[s] === SPACE || b[s] === TAB)) s++;
    return s;
  }

  private isScriptEnd(b: Buffer, s: number, e: number): boolean {
    const f = this.firstNonSpace(b, s, e);
    return f + 1 < e && b[f] === 60 && b[f + 1] === 47 && indexOfBytes(b, f, e, SCRIPT_END) === f;
  }
}
