// Bounds-checked readers for trace.dat metadata: one over the file (positioned reads through a
// small window, never the whole file) and one over an in-memory block (a decompressed v7
// section). Every size read from the file is checked against what is left before anything is
// allocated, and every failure is a TraceFormatError naming the file and a file offset.

import { readSync } from "node:fs";
import type { TextPlace } from "../../decode/event-catalog.ts";
import { TraceFormatError } from "../../model/source.ts";

export function decodeText(bytes: Uint8Array): string {
  // Buffer's native UTF-8 decoding is several times faster than TextDecoder on MB-sized kallsyms.
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("utf8");
}

/** Text of a NUL-terminated option payload (stops at the first NUL, if any). */
export function cText(bytes: Uint8Array): string {
  const nul = bytes.indexOf(0);
  return decodeText(nul < 0 ? bytes : bytes.subarray(0, nul));
}

/**
 * The error for a read of `length` bytes at `position` that the file is too short for: it says
 * where the file ends and what was being read, as a file cut short (a copy interrupted, a full
 * disk) is the usual cause; a corrupt length before it is the other.
 */
export function truncatedAt(
  path: string,
  fileSize: number,
  position: number,
  length: number,
  what: string,
): TraceFormatError {
  return new TraceFormatError(
    path,
    Math.min(position, fileSize),
    `truncated at byte ${fileSize} while reading ${what} (${length} bytes needed from offset ${position}; the file was cut short, or a length before it is corrupt)`,
  );
}

/** Reads exactly `length` bytes at `position` of an open file into `into` (or a new array). */
export function readExact(
  path: string,
  fd: number,
  fileSize: number,
  position: number,
  length: number,
  what: string,
  into?: Uint8Array,
): Uint8Array {
  if (position + length > fileSize) throw truncatedAt(path, fileSize, position, length, what);
  const buf = into ?? new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, done, length - done, position + done);
    if (n <= 0) {
      throw new TraceFormatError(path, position + done, `${what}: unexpected end of file`);
    }
    done += n;
  }
  return buf;
}

/** Sequential little/big-endian reader; subclasses supply bytes. */
export abstract class ByteReader {
  littleEndian = true;
  readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  /** File offset used in error messages for the next byte. */
  abstract where(): number;
  /** Bytes left in this reader's extent (file or block). */
  abstract remaining(): number;
  /** Next `n` bytes (a view valid until the next call); throws if fewer are left. */
  protected abstract takeRaw(n: number): Uint8Array;
  /** Describes the position for errors, e.g. " (byte 12 of decompressed kallsyms)". */
  protected abstract context(): string;

  fail(message: string): never {
    throw new TraceFormatError(this.path, this.where(), `${message}${this.context()}`);
  }

  take(n: number, what: string): Uint8Array {
    if (!Number.isSafeInteger(n) || n < 0) this.fail(`${what}: invalid length ${n}`);
    if (n > this.remaining()) this.short(what, n);
    return this.takeRaw(n);
  }

  /** Fails for a read of `need` bytes past the end of this reader's extent. */
  protected abstract short(what: string, need: number): never;

  skip(n: number, what: string): void {
    this.take(n, what);
  }

  u8(what: string): number {
    return this.take(1, what)[0];
  }

  u16(what: string): number {
    const b = this.take(2, what);
    return this.littleEndian ? b[0] | (b[1] << 8) : (b[0] << 8) | b[1];
  }

  u32(what: string): number {
    const b = this.take(4, what);
    return this.littleEndian
      ? (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0
      : ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
  }

  u64big(what: string): bigint {
    const b = this.take(8, what);
    const dv = new DataView(b.buffer, b.byteOffset, 8);
    return dv.getBigUint64(0, this.littleEndian);
  }

  /** A u64 that must fit a JS number (sizes, offsets). */
  u64(what: string): number {
    const at = this.where();
    const v = this.u64big(what);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new TraceFormatError(this.path, at, `${what}: value ${v} is absurd${this.context()}`);
    }
    return Number(v);
  }

  /**
   * u32/u64 length followed by that many bytes of text, at most `limit` bytes (what the text
   * can sensibly be: a corrupt length must not make a string of hundreds of MiB).
   */
  sizedText(lengthBytes: 4 | 8, what: string, limit: number): string {
    const at = this.where();
    const n = lengthBytes === 4 ? this.u32(`${what} length`) : this.u64(`${what} length`);
    if (n > limit) {
      throw new TraceFormatError(
        this.path,
        at,
        `${what} of ${n} bytes: more than it can be (at most ${limit}): corrupt file${this.context()}`,
      );
    }
    return decodeText(this.take(n, what));
  }

  /** NUL-terminated string of at most `maxLength` bytes. */
  abstract cstring(what: string, maxLength: number): string;

  /** Where the next byte is, for errors found later in what is read from here. */
  abstract place(): TextPlace;

  /** Reads a u32 count and checks it against a hard limit and the bytes left. */
  count(what: string, limit: number, minBytesEach: number): number {
    const at = this.where();
    const n = this.u32(what);
    if (n > limit) {
      throw new TraceFormatError(this.path, at, `${what} is ${n}: absurd (limit ${limit})${this.context()}`);
    }
    // a plausible count the rest cannot hold: the data end early
    if (n * minBytesEach > this.remaining()) this.short(`the ${n} items of "${what}"`, n * minBytesEach);
    return n;
  }
}

const WINDOW = 64 * 1024;

/** Reads a file sequentially from a position through a 64 KiB window. */
export class FileByteReader extends ByteReader {
  readonly fd: number;
  readonly fileSize: number;
  private pos: number;
  private win = new Uint8Array(WINDOW);
  private winStart = 0;
  private winLen = 0;

  constructor(path: string, fd: number, fileSize: number, position: number) {
    super(path);
    this.fd = fd;
    this.fileSize = fileSize;
    this.pos = position;
  }

  where(): number {
    return this.pos;
  }

  remaining(): number {
    return this.fileSize - this.pos;
  }

  seek(position: number): void {
    this.pos = position;
  }

  place(): TextPlace {
    return { offset: this.pos };
  }

  protected context(): string {
    return "";
  }

  protected short(what: string, need: number): never {
    throw truncatedAt(this.path, this.fileSize, this.pos, need, what);
  }

  protected takeRaw(n: number): Uint8Array {
    const start = this.pos;
    this.pos += n;
    if (n > WINDOW / 2) return readExact(this.path, this.fd, this.fileSize, start, n, "read");
    if (start < this.winStart || start + n > this.winStart + this.winLen) this.fill(start);
    return this.win.subarray(start - this.winStart, start - this.winStart + n);
  }

  private fill(start: number): void {
    const len = Math.min(WINDOW, this.fileSize - start);
    readExact(this.path, this.fd, this.fileSize, start, len, "read", this.win);
    this.winStart = start;
    this.winLen = len;
  }

  cstring(what: string, maxLength: number): string {
    const start = this.pos;
    let scanned = 0;
    while (true) {
      if (this.pos >= this.fileSize) this.short(`${what} (a NUL-terminated string from offset ${start})`, 1);
      if (this.pos < this.winStart || this.pos >= this.winStart + this.winLen) this.fill(this.pos);
      const from = this.pos - this.winStart;
      const nul = this.win.subarray(from, this.winLen).indexOf(0);
      const len = nul < 0 ? this.winLen - from : nul;
      scanned += len;
      if (scanned > maxLength) {
        throw new TraceFormatError(this.path, start, `${what}: string longer than ${maxLength} bytes`);
      }
      if (nul >= 0) {
        this.pos = start;
        const text = decodeText(this.take(scanned, what));
        this.pos += 1;
        return text;
      }
      this.pos += len;
    }
  }
}

/** Reads an in-memory block; errors point at the block's file offset. */
export class BlockByteReader extends ByteReader {
  private readonly bytes: Uint8Array;
  private pos = 0;
  private readonly fileOffset: number;
  private readonly label: string;

  /** `fileOffset`: where the block's data start in the file; `label` names it in errors. */
  constructor(path: string, bytes: Uint8Array, fileOffset: number, label: string, littleEndian: boolean) {
    super(path);
    this.bytes = bytes;
    this.fileOffset = fileOffset;
    this.label = label;
    this.littleEndian = littleEndian;
  }

  where(): number {
    return this.fileOffset;
  }

  position(): number {
    return this.pos;
  }

  place(): TextPlace {
    return { offset: this.fileOffset, section: this.label, byte: this.pos };
  }

  remaining(): number {
    return this.bytes.length - this.pos;
  }

  protected context(): string {
    return ` (at byte ${this.pos} of ${this.label})`;
  }

  protected short(what: string, need: number): never {
    this.fail(
      `${what}: ${need} bytes needed but the ${this.label} ends ${this.remaining()} bytes further: corrupt file`,
    );
  }

  protected takeRaw(n: number): Uint8Array {
    const v = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  cstring(what: string, maxLength: number): string {
    const rel = this.bytes.subarray(this.pos, this.pos + maxLength + 1).indexOf(0);
    if (rel < 0) {
      if (this.remaining() <= maxLength)
        this.fail(`${what}: string not terminated before end of ${this.label}`);
      this.fail(`${what}: string longer than ${maxLength} bytes`);
    }
    const text = decodeText(this.bytes.subarray(this.pos, this.pos + rel));
    this.pos += rel + 1;
    return text;
  }
}
