// Decompression of trace.dat v7 blocks with Node built-ins (FORMATS.md §3.4.3, §3.4.5).
// trace-cmd writes zlib blocks with compress2() (RFC 1950 zlib streams, not gzip) and zstd
// blocks as complete frames. Each block declares its uncompressed size; we decompress with that
// size as the output limit (so a lying block cannot make us allocate more) and then insist on
// an exact match.

import { inflateSync, zstdDecompressSync } from "node:zlib";
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
