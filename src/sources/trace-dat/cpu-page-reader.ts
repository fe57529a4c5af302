// Yields one CPU's sub-buffers ("pages") in file order (FORMATS.md §3.2 step 14, §3.4.5).
// Uncompressed data is read N pages at a time into one reused buffer; compressed v7 data
// (u32 chunk count, then per chunk u32 compressed size, u32 uncompressed size, bytes) is read
// and decompressed one chunk at a time, read ahead up to 1 MiB at a time. Memory: one read
// buffer plus one decompressed chunk.

import { SkippedDataError, TraceFormatError } from "../../model/source.ts";
import { readExact, truncatedAt } from "./byte-reader.ts";
import { ChunkDecompressor, type CompressionName } from "./compression.ts";
import type { CpuData } from "./options.ts";

/** Limit on one decompressed chunk (trace-cmd writes 10 sub-buffers per chunk). */
const MAX_CHUNK_BYTES = 256 * 1024 * 1024;
/**
 * Compressed data are read up to this much at a time and the chunk headers and bodies taken
 * from memory: chunks are ~2 KiB, and three reads per chunk cost more than decoding it. The
 * first read is 64 KiB, doubling after each, so that a peek at the first pages stays cheap.
 */
const CHUNK_READ_BYTES = 1 << 20;
const FIRST_CHUNK_READ_BYTES = 64 << 10;

const EMPTY = new Uint8Array(0);

export interface CpuPageReaderOptions {
  /** uncompressed data: sub-buffers per read (default 64) */
  pagesPerRead?: number;
}

/**
 * One sub-buffer. The object and the bytes are reused: both stay valid only until the next
 * nextPage() call on the same reader (copy what you keep).
 */
export interface TraceDatPage {
  /**
   * The sub-buffer bytes: `pageSize` long, except the last page of a region (or of a chunk)
   * whose stored size is not a multiple of the page size. trace-cmd reads such a tail as a
   * whole page, taking whatever bytes follow in the file; we yield only the stored bytes, so
   * a decoder must check the commit length against `page.length`.
   */
  page: Uint8Array;
  /**
   * Uncompressed data: file offset of this page. Compressed data: file offset of the chunk
   * (its u32 compressed-size field) that holds the page.
   */
  fileOffset: number;
  /** 0-based number of this page in the CPU's stream */
  index: number;
  /** byte offset of this page within the CPU's uncompressed stream */
  streamOffset: number;
  /** compressed data: number of the chunk holding the page (-1 uncompressed) */
  chunk: number;
  /** compressed data: byte offset of the page within its decompressed chunk */
  inChunk: number;
}

/** Where a page starts, for CpuPageReader.seek (the fields of a TraceDatPage yielded before). */
export type PagePosition = Pick<TraceDatPage, "fileOffset" | "index" | "streamOffset" | "chunk" | "inChunk">;

export class CpuPageReader {
  readonly cpu: number;
  readonly pageSize: number;
  /** uncompressed bytes yielded so far */
  bytesYielded = 0;
  /** pages shorter than pageSize yielded so far (see TraceDatPage.page) */
  partialPages = 0;
  private readonly path: string;
  private readonly fd: number;
  private readonly fileSize: number;
  private readonly region: CpuData;
  private readonly algo: CompressionName;
  private readonly pagesPerRead: number;
  private readonly out: TraceDatPage;
  // Current block (a read of pages or a decompressed chunk) and the position inside it.
  private block: Uint8Array = new Uint8Array(0);
  private blockPos = 0;
  private blockFileOffset = 0;
  private readonly compressed: boolean;
  /** byte order of the chunk headers (the file's) */
  private readonly littleEndian: boolean;
  // Uncompressed: next file offset to read. Compressed: next chunk header offset.
  private next: number;
  private readonly end: number;
  private readBuf: Uint8Array | null = null;
  private chunksLeft = -1;
  private chunkIndex = 0;
  /** chunks of this CPU (-1: count not read yet) */
  private chunkCount = -1;
  /** number of the chunk in `block` */
  private blockChunk = -1;
  /** compressed data read ahead: file bytes [windowAt, windowAt + windowLength) */
  private window = new Uint8Array(0);
  private windowView = new DataView(this.window.buffer);
  private windowAt = 0;
  private windowLength = 0;
  private readAheadBytes = FIRST_CHUNK_READ_BYTES;
  /** one native context for all of this CPU's chunks (freed at the end of the data) */
  private decompressor: ChunkDecompressor | null = null;

  constructor(
    path: string,
    fd: number,
    fileSize: number,
    region: CpuData,
    pageSize: number,
    algo: CompressionName,
    littleEndian: boolean,
    opts?: CpuPageReaderOptions,
  ) {
    this.littleEndian = littleEndian;
    this.path = path;
    this.fd = fd;
    this.fileSize = fileSize;
    this.region = region;
    this.cpu = region.cpu;
    this.pageSize = pageSize;
    this.algo = algo;
    this.compressed = algo !== "none";
    const n = opts?.pagesPerRead ?? 64;
    const wanted = Number.isInteger(n) && n >= 1 ? n : 64;
    // At most 16 MiB per read (but always one page).
    this.pagesPerRead = Math.max(1, Math.min(wanted, Math.floor((16 << 20) / pageSize)));
    this.next = region.offset;
    // trace-cmd's per-CPU size of a chunk stream leaves out the leading u32 chunk count
    // (observed: size = sum of 8 + compressed size over the chunks).
    this.end = region.offset + region.size + (this.compressed ? 4 : 0);
    this.out = { page: this.block, fileOffset: 0, index: -1, streamOffset: 0, chunk: -1, inChunk: 0 };
    if (this.end > fileSize)
      throw truncatedAt(
        path,
        fileSize,
        region.offset,
        this.end - region.offset,
        `the data of CPU ${region.cpu}`,
      );
  }

  /** The next sub-buffer, or null at the end of this CPU's data. */
  nextPage(): TraceDatPage | null {
    if (this.blockPos >= this.block.length && !this.loadBlock()) return null;
    const len = Math.min(this.pageSize, this.block.length - this.blockPos);
    const out = this.out;
    out.page = this.block.subarray(this.blockPos, this.blockPos + len);
    out.fileOffset = this.compressed ? this.blockFileOffset : this.blockFileOffset + this.blockPos;
    out.chunk = this.blockChunk;
    out.inChunk = this.blockPos;
    out.index++;
    out.streamOffset = this.bytesYielded;
    this.blockPos += len;
    this.bytesYielded += len;
    if (len < this.pageSize) this.partialPages++;
    return out;
  }

  /**
   * Goes to a page yielded before (by this reader or another over the same data): the next
   * nextPage() returns it again. Reads at most the page's chunk.
   */
  seek(at: PagePosition): void {
    if (this.compressed && at.chunk === this.blockChunk && this.block.length > at.inChunk) {
      // the page's chunk is the one in hand (a window next to the last one read back): no read
      // and no decompression; reading goes on after this chunk as it would have
      this.blockPos = at.inChunk;
      this.out.index = at.index - 1;
      this.bytesYielded = at.streamOffset;
      return;
    }
    this.block = EMPTY;
    this.blockPos = 0;
    this.windowLength = 0;
    this.readAheadBytes = FIRST_CHUNK_READ_BYTES;
    this.out.index = at.index - 1;
    this.bytesYielded = at.streamOffset;
    if (!this.compressed) {
      this.next = at.fileOffset;
      return;
    }
    if (this.chunkCount < 0) this.loadChunkCount();
    this.next = at.fileOffset;
    this.chunkIndex = at.chunk;
    this.chunksLeft = this.chunkCount - at.chunk;
    if (!this.loadChunk()) this.fail(at.fileOffset, `no chunk ${at.chunk} to go back to`);
    this.blockPos = at.inChunk;
  }

  /** Frees the decompression context now (it is freed at the end of the data anyway). */
  close(): void {
    this.decompressor?.close();
    this.decompressor = null;
  }

  private loadBlock(): boolean {
    return this.compressed ? this.loadChunk() : this.loadPages();
  }

  private loadPages(): boolean {
    const left = this.end - this.next;
    if (left <= 0) return false;
    const want = Math.min(left, this.pagesPerRead * this.pageSize);
    if (!this.readBuf)
      this.readBuf = new Uint8Array(Math.min(this.pagesPerRead * this.pageSize, this.region.size));
    const buf = want === this.readBuf.length ? this.readBuf : this.readBuf.subarray(0, want);
    readExact(this.path, this.fd, this.fileSize, this.next, want, `CPU ${this.cpu} data`, buf);
    this.block = buf;
    this.blockPos = 0;
    this.blockFileOffset = this.next;
    this.next += want;
    return true;
  }

  private loadChunk(): boolean {
    while (true) {
      if (this.chunksLeft < 0) {
        if (this.region.size === 0) return false;
        this.loadChunkCount();
        this.chunksLeft = this.chunkCount;
        this.next += 4;
      }
      if (this.chunksLeft === 0) {
        this.close();
        return false;
      }
      const at = this.next;
      if (at + 8 > this.end) this.fail(at, `chunk ${this.chunkIndex}: header runs past the CPU's data`);
      const csize = this.u32(at);
      const usize = this.u32(at + 4);
      if (at + 8 + csize > this.end) {
        this.fail(
          at,
          `chunk ${this.chunkIndex}: ${csize} compressed bytes run past the CPU's data (ends at ${this.end})`,
        );
      }
      const index = this.chunkIndex;
      this.blockChunk = index;
      // the chunk's framing is sound: whatever is wrong inside it, the next chunk is found
      this.next = at + 8 + csize;
      this.chunksLeft--;
      this.chunkIndex++;
      this.blockPos = 0;
      this.blockFileOffset = at;
      this.block = EMPTY;
      if (usize > MAX_CHUNK_BYTES) this.skipped(at, `chunk ${index}: uncompressed size ${usize} is absurd`);
      const from = this.readAhead(at + 8, csize);
      const input = this.window.subarray(from, from + csize);
      const what = `CPU ${this.cpu} chunk ${index}`;
      this.decompressor ??= new ChunkDecompressor(this.algo);
      try {
        this.block = this.decompressor.decompress(input, usize, this.path, at, what);
      } catch (e) {
        if (e instanceof TraceFormatError) throw new SkippedDataError(this.path, e.offset, e.detail);
        throw e;
      }
      if (this.block.length > 0) return true;
    }
  }

  /** Reads the chunk count at the start of the CPU's data. */
  private loadChunkCount(): void {
    const at = this.region.offset;
    if (at + 4 > this.end) this.fail(at, "chunk count runs past the CPU's data");
    const n = this.u32(at);
    // Each chunk needs at least its 8-byte header.
    if (n * 8 > this.end - at - 4)
      this.fail(at, `chunk count ${n} is absurd for ${this.region.size} bytes of data`);
    this.chunkCount = n;
  }

  private u32(at: number): number {
    const i = this.readAhead(at, 4); // may replace the window (and its view)
    return this.windowView.getUint32(i, this.littleEndian);
  }

  /**
   * Makes file bytes [at, at + n) (within this CPU's data: callers check) available in the
   * read-ahead window, reading up to CHUNK_READ_BYTES from `at` when they are not; returns
   * their index in the window. One buffer per reader, grown to the largest chunk.
   */
  private readAhead(at: number, n: number): number {
    if (at >= this.windowAt && at + n <= this.windowAt + this.windowLength) return at - this.windowAt;
    const length = Math.min(Math.max(n, this.readAheadBytes), this.end - at);
    this.readAheadBytes = Math.min(this.readAheadBytes * 2, CHUNK_READ_BYTES);
    if (this.window.length < length) {
      this.window = new Uint8Array(length);
      this.windowView = new DataView(this.window.buffer);
    }
    readExact(
      this.path,
      this.fd,
      this.fileSize,
      at,
      length,
      `CPU ${this.cpu} compressed data`,
      this.window.subarray(0, length),
    );
    this.windowAt = at;
    this.windowLength = length;
    return 0;
  }

  /** A chunk stepped over: reading goes on with the next one. */
  private skipped(at: number, message: string): never {
    throw new SkippedDataError(this.path, at, `CPU ${this.cpu}: ${message}`);
  }

  private fail(at: number, message: string): never {
    throw new TraceFormatError(this.path, at, `CPU ${this.cpu}: ${message}`);
  }
}
