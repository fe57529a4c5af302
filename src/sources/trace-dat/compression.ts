// Decompression of trace.dat v7 blocks with Node built-ins (FORMATS.md §3.4.3, §3.4.5).
// trace-cmd writes zlib blocks with compress2() (RFC 1950 zlib streams, not gzip) and zstd
// blocks as complete frames. Each block declares its uncompressed size; we decompress with that
// size as the output limit (so a lying block cannot make us allocate more) and then insist on
// an exact match.

import { constants, createInflate, createZstdDecompress, inflateSync, zstdDecompressSync } from "node:zlib";
import { TraceFormatError } from "../../model/source.ts";

export type CompressionName = "none" | "zlib" | "zstd";

export function parseCompressionName(name: string, path: string, offset: number): CompressionName {
  if (name === "none" || name === "zlib" || name === "zstd") return name;
  throw new TraceFormatError(
    path,
    offset,
    `unsupported compression "${name.slice(0, 40)}": rtscope reads none, zlib and zstd; ` +
      `convert the file with "trace-cmd convert --compression none"`,
  );
}

/**
 * Decompresses one block to exactly `expectedSize` bytes. `offset` (the block's file offset)
 * and `what` name it in errors.
 */
export function decompressBlock(
  algo: CompressionName,
  input: Uint8Array,
  expectedSize: number,
  path: string,
  offset: number,
  what: string,
): Uint8Array {
  if (algo === "none") {
    throw new TraceFormatError(
      path,
      offset,
      `${what} is flagged compressed but the file declares no compression`,
    );
  }
  if (expectedSize === 0) {
    if (input.length === 0) return new Uint8Array(0);
  }
  let out: Buffer;
  try {
    // One extra byte of room so that "more than declared" is told apart from "exactly".
    // chunkSize up to 8 MiB: usually one output buffer instead of 16 KiB pieces to concatenate,
    // and never a large allocation driven by an unverified declared size.
    const opts = {
      maxOutputLength: expectedSize + 1,
      chunkSize: Math.max(64, Math.min(expectedSize + 1, 8 << 20)),
    };
    out = algo === "zlib" ? inflateSync(input, opts) : zstdDecompressSync(input, opts);
  } catch (e) {
    const err = e as { code?: string; message?: string };
    if (err.code === "ERR_BUFFER_TOO_LARGE") {
      throw new TraceFormatError(
        path,
        offset,
        `${what}: ${algo} data decompress to more than the declared ${expectedSize} bytes`,
      );
    }
    throw new TraceFormatError(
      path,
      offset,
      `${what}: corrupt ${algo} data (${input.length} bytes): ${err.message ?? String(e)}`,
    );
  }
  if (out.length !== expectedSize) {
    throw new TraceFormatError(
      path,
      offset,
      `${what}: ${algo} data decompress to ${out.length} bytes, but ${expectedSize} were declared`,
    );
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/** The native side of a Node zlib stream (not public API: see ChunkDecompressor). */
interface NativeHandle {
  writeSync(
    flush: number,
    input: Uint8Array,
    inOffset: number,
    inLength: number,
    output: Uint8Array,
    outOffset: number,
    outLength: number,
  ): void;
  reset(): void;
  close(): void;
  onerror: (message: string, errno: number, code?: string) => void;
}

/**
 * Decompresses chunk after chunk with ONE native context and ONE output buffer.
 * zstdDecompressSync/inflateSync build a fresh context per call (for zstd a window of
 * ~128 KiB set up each time) and a fresh output Buffer: on 10-page chunks that was 3-5x the
 * decompression itself (bench/README.md, "decode path"). Node has no public synchronous
 * streaming API, so this drives the stream's native handle (`_handle.writeSync`, the call
 * zlib.js's own *Sync functions make); when a Node version lacks it, every chunk goes through
 * decompressBlock instead. The returned bytes stay valid until the next call.
 */
export class ChunkDecompressor {
  private readonly algo: CompressionName;
  private handle: NativeHandle | null = null;
  /** [output bytes left, input bytes left] after the last writeSync */
  private writeState: Uint32Array | null = null;
  private out = new Uint8Array(0);
  private error: string | null = null;
  /** the native handle is unusable on this Node: one-shot calls */
  private oneShot = false;

  constructor(algo: CompressionName, opts: { oneShot?: boolean } = {}) {
    this.algo = algo;
    this.oneShot = opts.oneShot === true || algo === "none";
  }

  /** Same contract as decompressBlock, but the result is overwritten by the next call. */
  decompress(
    input: Uint8Array,
    expectedSize: number,
    path: string,
    offset: number,
    what: string,
  ): Uint8Array {
    if (this.oneShot || (this.handle === null && !this.open()))
      return decompressBlock(this.algo, input, expectedSize, path, offset, what);
    const handle = this.handle!;
    const state = this.writeState!;
    // one spare byte tells "more than declared" from "exactly"
    if (this.out.length < expectedSize + 1) this.out = new Uint8Array(Math.max(expectedSize + 1, 65536));
    const out = this.out;
    this.error = null;
    // A zstd context is ready for the next frame once one has ended (every successful call
    // ends one: Node reports an unfinished frame as an error), and resetting it costs more than
    // decompressing a small chunk. An inflate context must be reset after its stream end.
    if (this.algo === "zlib") handle.reset();
    handle.writeSync(
      this.algo === "zstd" ? constants.ZSTD_e_end : constants.Z_FINISH,
      input,
      0,
      input.length,
      out,
      0,
      expectedSize + 1,
    );
    if (this.error !== null) {
      const message = this.error;
      this.discard();
      throw new TraceFormatError(
        path,
        offset,
        `${what}: corrupt ${this.algo} data (${input.length} bytes): ${message}`,
      );
    }
    const produced = expectedSize + 1 - state[0];
    if (produced > expectedSize) {
      this.discard(); // the stream did not end: its state is unknown
      throw new TraceFormatError(
        path,
        offset,
        `${what}: ${this.algo} data decompress to more than the declared ${expectedSize} bytes`,
      );
    }
    if (produced !== expectedSize) {
      this.discard();
      throw new TraceFormatError(
        path,
        offset,
        `${what}: ${this.algo} data decompress to ${produced} bytes, but ${expectedSize} were declared`,
      );
    }
    // bytes after the end of the stream are ignored, as the one-shot calls (and zlib's
    // uncompress) do; the context then starts afresh in case it took some of them in
    if (state[1] > 0) handle.reset();
    return out.subarray(0, expectedSize);
  }

  /** Frees the native context. */
  close(): void {
    this.discard();
  }

  private open(): boolean {
    const stream = (this.algo === "zstd" ? createZstdDecompress() : createInflate()) as unknown as {
      _handle?: Partial<NativeHandle>;
      _writeState?: unknown;
    };
    const handle = stream._handle;
    const state = stream._writeState;
    if (
      typeof handle?.writeSync !== "function" ||
      typeof handle.reset !== "function" ||
      typeof handle.close !== "function" ||
      !(state instanceof Uint32Array)
    ) {
      this.oneShot = true;
      return false;
    }
    // errors arrive through this callback during writeSync; the stream object is bypassed
    handle.onerror = (message: string) => {
      this.error = message;
    };
    this.handle = handle as NativeHandle;
    this.writeState = state;
    return true;
  }

  /** Drops the context after an error (its state is unknown); the next call opens a new one. */
  private discard(): void {
    if (this.handle !== null) this.handle.close();
    this.handle = null;
    this.writeState = null;
  }
}
