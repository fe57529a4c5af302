// Cursor over one ring-buffer sub-buffer (FORMATS.md §1; libtraceevent kbuffer-parse.c
// for the type_len cases). Reads the header (timestamp, commit word with the missed-events
// flags), then walks the events, reconstructing timestamps relative to a stream base.
//
// Hot path: numbers only. A BigInt is made once per page (header timestamp) and once per
// type-31 absolute timestamp; nothing is allocated per event. Every length is checked against
// the committed data; a bad page throws TraceFormatError with the absolute file offset.

import { TraceFormatError } from "../model/source.ts";
import { DOUBLE_ZERO } from "../model/units.ts";
import type { PageLayout } from "./header-page.ts";

const TYPE_PADDING = 29;
const TYPE_TIME_EXTEND = 30;
const TS_SHIFT_MUL = 134217728; // 1 << 27
const MISSED_EVENTS = 0x80000000;
const MISSED_STORED = 0x40000000;
const TS_MSB = 0xf8n << 56n;
const TS_ROLL = 1n << 59n;

export class SubBufferCursor {
  readonly layout: PageLayout;
  /** file name for errors */
  readonly file: string;
  private readonly le: boolean;

  /** buffer holding the current page (may hold more pages: chunks) */
  data: Uint8Array = new Uint8Array(0);
  view: DataView = new DataView(new ArrayBuffer(0));
  /** start of the current page in `data` */
  pageStart = 0;
  /** file offset of the page start (for errors) */
  fileOffset = 0;
  cpu = 0;

  /** page header timestamp, absolute */
  pageTimestamp = 0n;
  /** events lost before this page: -1 unknown count, 0 none, n */
  missedEvents = 0;
  /** valid data bytes in this page (commit size) */
  commitSize = 0;

  /** current event: timestamp relative to the base, payload offset in `data` and length */
  ts = DOUBLE_ZERO;
  payloadOffset = 0;
  payloadLength = 0;

  /** the page was decompressed: `fileOffset` is its chunk's, errors give the byte within the page */
  private inChunk = false;

  get inChunkPage(): boolean {
    return this.inChunk;
  }
  private base = 0n;
  private pos = 0;
  private end = 0;

  constructor(layout: PageLayout, file: string) {
    this.layout = layout;
    this.file = file;
    this.le = layout.littleEndian;
  }

  /** Timestamps of following pages are relative to this absolute value. */
  setBase(base: bigint): void {
    this.base = base;
  }

  /**
   * Points the cursor at the page at `data[start..]` (`available` bytes, at most one
   * sub-buffer) and reads its header. Throws TraceFormatError for an impossible header.
   */
  reset(
    data: Uint8Array,
    start: number,
    available: number,
    fileOffset: number,
    cpu: number,
    inChunk = false,
  ): void {
    this.inChunk = inChunk;
    if (data !== this.data) {
      this.data = data;
      this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    }
    const L = this.layout;
    this.pageStart = start;
    this.fileOffset = fileOffset;
    this.cpu = cpu;
    const pageLen = Math.min(available, L.subBufferSize, data.length - start);
    if (pageLen < L.dataOffset) {
      throw new TraceFormatError(
        this.file,
        fileOffset,
        `CPU ${cpu}: sub-buffer of ${pageLen} bytes is shorter than its ${L.dataOffset}-byte header`,
      );
    }
    const v = this.view;
    this.pageTimestamp = v.getBigUint64(start, this.le);
    // flags are bits 31/30 of the whole kernel long: on 64-bit take the low half
    let commit: number;
    if (L.kernelLongSize === 8) commit = v.getUint32(start + L.commitOffset + (this.le ? 0 : 4), this.le);
    else commit = v.getUint32(start + L.commitOffset, this.le);
    const size = commit & 0x07ffffff;
    const end = L.dataOffset + size;
    if (end > pageLen) {
      throw new TraceFormatError(
        this.file,
        inChunk ? fileOffset : fileOffset + L.commitOffset,
        `CPU ${cpu}:${this.chunkNote(L.commitOffset)} sub-buffer commit size ${size} runs past the end of the ${pageLen}-byte sub-buffer`,
      );
    }
    this.commitSize = size;
    this.missedEvents = 0;
    if (commit & MISSED_EVENTS) {
      this.missedEvents = -1;
      if (commit & MISSED_STORED && end + L.kernelLongSize <= pageLen) {
        const at = start + end;
        if (L.kernelLongSize === 8) {
          const lo = v.getUint32(at + (this.le ? 0 : 4), this.le);
          const hi = v.getUint32(at + (this.le ? 4 : 0), this.le);
          this.missedEvents = hi * 4294967296 + lo;
        } else {
          this.missedEvents = v.getUint32(at, this.le);
        }
      }
    }
    this.pos = start + L.dataOffset;
    this.end = start + end;
    this.ts = Number(this.pageTimestamp - this.base);
    this.payloadOffset = 0;
    this.payloadLength = 0;
  }

  /** Advances to the next data event of the page; false at the end of the page. */
  next(): boolean {
    const v = this.view;
    const le = this.le;
    const end = this.end;
    let pos = this.pos;
    while (pos < end) {
      if (pos + 4 > end)
        this.fail(pos, `event header at ${pos - this.pageStart} runs past the committed data`);
      const w = v.getUint32(pos, le);
      let typeLen: number;
      let delta: number;
      if (le) {
        typeLen = w & 0x1f;
        delta = w >>> 5;
      } else {
        typeLen = w >>> 27;
        delta = w & 0x07ffffff;
      }
      if (typeLen >= 1 && typeLen <= 28) {
        const len = typeLen << 2;
        if (pos + 4 + len > end) this.fail(pos, `event of ${len} bytes runs past the committed data`);
        this.ts += delta;
        this.payloadOffset = pos + 4;
        this.payloadLength = len;
        this.pos = pos + 4 + len;
        return true;
      }
      if (typeLen === 0) {
        if (pos + 8 > end) this.fail(pos, "long-form event header runs past the committed data");
        const a0 = v.getUint32(pos + 4, le);
        if (a0 < 4) this.fail(pos, `long-form event with length word ${a0} (< 4)`);
        const len = a0 - 4;
        const next = pos + 8 + ((len + 3) & ~3);
        if (pos + 8 + len > end || next > end + 3) {
          this.fail(pos, `long-form event of ${len} bytes runs past the committed data`);
        }
        this.ts += delta;
        this.payloadOffset = pos + 8;
        this.payloadLength = len;
        this.pos = next;
        return true;
      }
      if (typeLen === TYPE_PADDING) {
        // null padding: nothing valid follows in this sub-buffer
        if (delta === 0) break;
        if (pos + 8 > end) this.fail(pos, "padding event header runs past the committed data");
        const a0 = v.getUint32(pos + 4, le);
        if (pos + 4 + a0 > end) this.fail(pos, `padding of ${a0} bytes runs past the committed data`);
        // libtraceevent (hence trace-cmd) adds a padding's delta; so do we
        this.ts += delta;
        pos += 4 + a0;
        continue;
      }
      if (pos + 8 > end) this.fail(pos, "time event runs past the committed data");
      const a0 = v.getUint32(pos + 4, le);
      if (typeLen === TYPE_TIME_EXTEND) {
        this.ts += a0 * TS_SHIFT_MUL + delta;
      } else {
        // type 31, time stamp: 59-bit absolute value, top bits restored from the running time
        let abs = (BigInt(a0) << 27n) | BigInt(delta);
        const prev = this.base + BigInt(this.ts);
        const msb = prev & TS_MSB;
        if (msb !== 0n) {
          abs |= msb;
          if (abs < prev) abs += TS_ROLL;
        }
        this.ts = Number(abs - this.base);
      }
      pos += 8;
    }
    this.pos = end;
    return false;
  }

  private fail(pos: number, message: string): never {
    const within = pos - this.pageStart;
    throw new TraceFormatError(
      this.file,
      this.inChunk ? this.fileOffset : this.fileOffset + within,
      `CPU ${this.cpu}:${this.chunkNote(within)} ${message}`,
    );
  }

  private chunkNote(within: number): string {
    return this.inChunk ? ` (byte ${within} of a sub-buffer decompressed from the chunk at this offset)` : "";
  }
}
