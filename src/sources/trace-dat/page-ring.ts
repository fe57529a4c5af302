// One CPU's pages handed from a decode worker (page-worker.ts) to the main thread through a
// SharedArrayBuffer ring: the worker reads and decompresses, the main thread's CPU merge
// decodes the pages where they lie in the ring (no copy, no message per page).
//
// The merge pulls pages synchronously (pull mode: the same merge and so the same report as
// without workers), so the consumer blocks in Atomics.wait while its ring is empty. A read
// error of the worker's page reader travels as a record in the page order and is thrown by
// nextPage() where the reader would have thrown it, as the same error class with the same
// file, offset and text: the merge treats it as it does today (skipped chunk, end of a CPU's
// data, or with --strict the error of the run).
//
// Layout: records aligned to 8 bytes; each a 40-byte header (kind, length, fileOffset,
// streamOffset, index, chunk, inChunk) and `length` bytes (a page, or an error as JSON). A
// record that does not fit before the end of the ring is preceded by a WRAP marker and starts
// at 0. Counters (int32, wrapping) in the worker's control array: bytes produced per ring,
// bytes released per ring, a release count the worker waits on, and a heartbeat.

import { SkippedDataError, TraceFormatError } from "../../model/source.ts";
import type { PageRef, PageSource } from "../cpu-merge.ts";
import type { PageIndex } from "../trace-dat-windows.ts";
import type { TraceDatPage } from "./cpu-page-reader.ts";

const PAGE = 1;
const WRAP = 2;
const ERROR = 3;
const END = 4;
const HEADER = 40;

/** control array: [0] releases (any ring), [1] heartbeat, then per ring produced, released */
export const CONTROL_RELEASES = 0;
export const CONTROL_HEARTBEAT = 1;
export const controlWords = (rings: number): number => 2 + 2 * rings;
const producedAt = (ring: number) => 2 + 2 * ring;
const releasedAt = (ring: number) => 3 + 2 * ring;

/** Longest error text carried (a record must fit in the ring many times over). */
const MAX_ERROR_CHARS = 4096;
/** Longest error record: texts beyond it are cut to 512 characters each (≤ 6 bytes a char in JSON). */
const MAX_ERROR_BYTES = 16 << 10;
/** How often a waiting consumer looks whether its worker failed. */
const WAIT_SLICE_MS = 100;

const align8 = (n: number) => (n + 7) & ~7;

/** Ring size for `pageSize` pages: room for at least 16 records, at most `budget` bytes. */
export function ringBytes(pageSize: number, budget: number): number {
  const record = align8(HEADER + Math.max(pageSize, MAX_ERROR_BYTES));
  return align8(Math.max(16 * record, budget));
}

interface ErrorRecord {
  cls: "skipped" | "format" | "other";
  file?: string;
  offset?: number;
  detail?: string;
  name?: string;
  message?: string;
  code?: string;
}

function describeError(e: unknown, max = MAX_ERROR_CHARS): ErrorRecord {
  const cut = (s: string) => (s.length > max ? `${s.slice(0, max)}...` : s);
  if (e instanceof TraceFormatError)
    return {
      cls: e instanceof SkippedDataError ? "skipped" : "format",
      file: cut(e.file),
      offset: e.offset,
      detail: cut(e.detail),
    };
  const err = e as { name?: unknown; message?: unknown; code?: unknown };
  return {
    cls: "other",
    name: typeof err?.name === "string" ? err.name : "Error",
    message: cut(typeof err?.message === "string" ? err.message : String(e)),
    code: typeof err?.code === "string" ? err.code : undefined,
  };
}

function errorOf(r: ErrorRecord): Error {
  if (r.cls === "skipped") return new SkippedDataError(r.file ?? "", r.offset ?? 0, r.detail ?? "");
  if (r.cls === "format") return new TraceFormatError(r.file ?? "", r.offset ?? 0, r.detail ?? "");
  const e = new Error(`decode worker: ${r.message ?? "unknown error"}`) as Error & { code?: string };
  if (r.name) e.name = r.name;
  if (r.code) e.code = r.code;
  return e;
}

/** What both sides of one ring hold: views of its buffer, the control array, its number. */
class RingSide {
  protected readonly bytes: Uint8Array;
  protected readonly i32: Int32Array;
  protected readonly f64: Float64Array;
  protected readonly control: Int32Array;
  protected readonly cap: number;
  protected readonly ring: number;

  constructor(buffer: SharedArrayBuffer, control: Int32Array, ring: number) {
    this.bytes = new Uint8Array(buffer);
    this.i32 = new Int32Array(buffer);
    this.f64 = new Float64Array(buffer);
    this.control = control;
    this.cap = buffer.byteLength;
    this.ring = ring;
  }
}

/** Worker side of one ring. */
export class RingWriter extends RingSide {
  private write = 0;
  private produced = 0;
  /** size of the record being written, WRAP tail included */
  private pendingBytes = 0;

  /** Bytes written and not yet released by the consumer. */
  get used(): number {
    return (this.produced - Atomics.load(this.control, releasedAt(this.ring))) | 0;
  }

  /** Appends a page; false when the ring has no room for it now. */
  page(p: TraceDatPage): boolean {
    const at = this.reserve(p.page.length);
    if (at < 0) return false;
    this.header(at, PAGE, p.page.length, p.fileOffset, p.streamOffset, p.index, p.chunk, p.inChunk);
    this.bytes.set(p.page, at + HEADER);
    this.commit();
    return true;
  }

  /** Appends the error the page reader threw; false when there is no room now. */
  error(e: unknown): boolean {
    let text = new TextEncoder().encode(JSON.stringify(describeError(e)));
    if (text.length > MAX_ERROR_BYTES) text = new TextEncoder().encode(JSON.stringify(describeError(e, 512)));
    const at = this.reserve(text.length);
    if (at < 0) return false;
    this.header(at, ERROR, text.length, 0, 0, 0, 0, 0);
    this.bytes.set(text, at + HEADER);
    this.commit();
    return true;
  }

  /** Appends the end of the data; false when there is no room now. */
  end(): boolean {
    const at = this.reserve(0);
    if (at < 0) return false;
    this.header(at, END, 0, 0, 0, 0, 0, 0);
    this.commit();
    return true;
  }

  /** Where a record of `length` bytes goes (a WRAP marker written first if need be), or -1. */
  private reserve(length: number): number {
    const need = align8(HEADER + length);
    const tail = this.cap - this.write;
    const wrap = need > tail ? tail : 0;
    if (this.cap - this.used < need + wrap) return -1;
    if (wrap > 0) {
      this.i32[this.write >> 2] = WRAP;
      this.write = 0;
    }
    this.pendingBytes = wrap + need;
    const at = this.write;
    this.write += need;
    if (this.write === this.cap) this.write = 0;
    return at;
  }

  private header(
    at: number,
    kind: number,
    length: number,
    fileOffset: number,
    streamOffset: number,
    index: number,
    chunk: number,
    inChunk: number,
  ): void {
    const i = at >> 2;
    this.i32[i] = kind;
    this.i32[i + 1] = length;
    this.f64[(at + 8) >> 3] = fileOffset;
    this.f64[(at + 16) >> 3] = streamOffset;
    this.i32[i + 6] = index;
    this.i32[i + 7] = chunk;
    this.i32[i + 8] = inChunk;
  }

  /** Publishes the record (Atomics orders the bytes before the counter). */
  private commit(): void {
    this.produced = (this.produced + this.pendingBytes) | 0;
    const c = this.control;
    Atomics.store(c, producedAt(this.ring), this.produced);
    Atomics.notify(c, producedAt(this.ring));
  }
}

/**
 * Main-thread side of one ring: the CPU's pages as a PageSource for the merge, with the
 * consumed file bytes for progress and the page index for the window read-back, as
 * ReaderPages keeps them for a reader on this thread.
 */
export class RingPages extends RingSide implements PageSource {
  consumed = 0;
  private readonly regionOffset: number;
  private readonly compressed: boolean;
  private readonly index: PageIndex | undefined;
  private readonly ref: PageRef;
  private readonly page: TraceDatPage;
  private read = 0;
  /** bytes read (int32, wrapping like the producer's counter) */
  private readTotal = 0;
  /** bytes read but not yet given back (the current page stays valid until the next call) */
  private unreleased = 0;
  private held = 0;
  private ended = false;
  /** called while waiting, with the time since the worker's last sign of life: throws to give up */
  private readonly watch: (quietMs: number) => void;

  constructor(
    buffer: SharedArrayBuffer,
    control: Int32Array,
    ring: number,
    regionOffset: number,
    compressed: boolean,
    index: PageIndex | undefined,
    watch: (quietMs: number) => void,
  ) {
    super(buffer, control, ring);
    this.regionOffset = regionOffset;
    this.compressed = compressed;
    this.index = index;
    this.watch = watch;
    this.ref = { data: this.bytes, start: 0, length: 0, fileOffset: 0, inChunk: compressed };
    this.page = { page: this.bytes, fileOffset: 0, index: 0, streamOffset: 0, chunk: -1, inChunk: 0 };
  }

  nextPage(): PageRef | null {
    if (this.ended) return null;
    this.unreleased += this.held;
    this.held = 0;
    // giving back in batches keeps the worker's wake-ups few
    if (this.unreleased >= this.cap >> 3) this.release();
    for (;;) {
      this.await();
      const at = this.read;
      const i = at >> 2;
      const kind = this.i32[i];
      if (kind === WRAP) {
        this.advance(this.cap - at);
        continue;
      }
      const length = this.i32[i + 1];
      this.advance(align8(HEADER + length));
      if (kind === PAGE) {
        const fileOffset = this.f64[(at + 8) >> 3];
        const r = this.ref;
        r.start = at + HEADER;
        r.length = length;
        r.fileOffset = fileOffset;
        this.consumed = fileOffset - this.regionOffset + (this.compressed ? 0 : length);
        if (this.index !== undefined) {
          const p = this.page;
          p.page = this.bytes.subarray(at + HEADER, at + HEADER + length);
          p.fileOffset = fileOffset;
          p.streamOffset = this.f64[(at + 16) >> 3];
          p.index = this.i32[i + 6];
          p.chunk = this.i32[i + 7];
          p.inChunk = this.i32[i + 8];
          this.index.add(p);
        }
        return r;
      }
      if (kind === END) {
        this.ended = true;
        this.release();
        return null;
      }
      if (kind === ERROR) {
        const text = new TextDecoder().decode(this.bytes.slice(at + HEADER, at + HEADER + length));
        const record = JSON.parse(text) as ErrorRecord;
        // the worker reads on only after a skipped chunk
        if (record.cls !== "skipped") this.ended = true;
        throw errorOf(record);
      }
      throw new Error(`decode worker ring: unknown record kind ${kind} at ${at}`);
    }
  }

  /** Moves past a record of `size` bytes; it is released at the next call. */
  private advance(size: number): void {
    this.held += size;
    this.readTotal = (this.readTotal + size) | 0;
    this.read += size;
    if (this.read >= this.cap) this.read = 0;
  }

  private release(): void {
    this.unreleased += this.held;
    this.held = 0;
    if (this.unreleased === 0) return;
    const c = this.control;
    Atomics.add(c, releasedAt(this.ring), this.unreleased);
    this.unreleased = 0;
    Atomics.add(c, CONTROL_RELEASES, 1);
    Atomics.notify(c, CONTROL_RELEASES);
  }

  /** Blocks until the ring holds a record not yet read. */
  private await(): void {
    const c = this.control;
    const at = producedAt(this.ring);
    if (Atomics.load(c, at) !== this.readTotal) return;
    // everything read is given back first: the worker may be waiting for the room
    this.release();
    let beat = Atomics.load(c, CONTROL_HEARTBEAT);
    let since = performance.now();
    while (Atomics.load(c, at) === this.readTotal) {
      // a worker that failed cannot wake this thread: look at it every slice
      if (Atomics.wait(c, at, this.readTotal, WAIT_SLICE_MS) !== "timed-out") continue;
      const now = Atomics.load(c, CONTROL_HEARTBEAT);
      if (now !== beat) {
        beat = now;
        since = performance.now();
      }
      if (Atomics.load(c, at) === this.readTotal) this.watch(performance.now() - since);
    }
  }
}
