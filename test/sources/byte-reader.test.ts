// The trace.dat metadata readers over hand-built bytes: values in both byte orders (written
// here with DataView, the expected numbers literal), strings across the file reader's 64 KiB
// window, and every failure a TraceFormatError at the offset worked out by hand.
import assert from "node:assert/strict";
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { TraceFormatError } from "../../src/model/source.ts";
import { BlockByteReader, cText, FileByteReader } from "../../src/sources/trace-dat/byte-reader.ts";

function withFile(bytes: Uint8Array, f: (r: FileByteReader) => void, position = 0): void {
  const dir = mkdtempSync(join(tmpdir(), "rtscope-bytes-"));
  const path = join(dir, "t.dat");
  writeFileSync(path, bytes);
  const fd = openSync(path, "r");
  try {
    f(new FileByteReader(path, fd, bytes.length, position));
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true });
  }
}

function fails(f: () => unknown, offset: number, message: RegExp): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof TraceFormatError, String(e));
    assert.equal(e.offset, offset);
    assert.match(e.message, message);
    return true;
  });
}

const NUMBERS = Uint8Array.from([
  0x01, // u8
  0x34,
  0x12, // u16 LE 0x1234
  0x78,
  0x56,
  0x34,
  0x12, // u32 LE 0x12345678
  0xff,
  0xff,
  0xff,
  0xff, // u32 LE 0xffffffff (unsigned)
  0x08,
  0x07,
  0x06,
  0x05,
  0x04,
  0x03,
  0x02,
  0x01, // u64 LE 0x0102030405060708
]);

test("reads little- and big-endian numbers as the bytes spell them", () => {
  const r = new BlockByteReader("x.dat", NUMBERS, 1000, "test block", true);
  assert.equal(r.u8("a"), 1);
  assert.equal(r.u16("b"), 0x1234);
  assert.equal(r.u32("c"), 0x12345678);
  assert.equal(r.u32("d"), 4294967295);
  assert.equal(r.u64big("e"), 0x0102030405060708n);
  assert.equal(r.remaining(), 0);
  const be = new BlockByteReader(
    "x.dat",
    Uint8Array.from([0x12, 0x34, 0xde, 0xad, 0xbe, 0xef]),
    0,
    "b",
    false,
  );
  assert.equal(be.u16("x"), 0x1234);
  assert.equal(be.u32("y"), 0xdeadbeef);
  withFile(NUMBERS, (f) => {
    assert.equal(f.u8("a"), 1);
    assert.equal(f.u16("b"), 0x1234);
    f.skip(8, "c d");
    assert.equal(f.where(), 11);
    assert.equal(f.u64big("e"), 0x0102030405060708n);
  });
});

test("a u64 beyond 2^53, a count beyond its limit or beyond the bytes left: errors at the value's offset", () => {
  const big = new Uint8Array(12);
  new DataView(big.buffer).setBigUint64(4, 2n ** 53n, true);
  withFile(
    big,
    (f) => fails(() => f.u64("section size"), 4, /section size: value 9007199254740992 is absurd/),
    4,
  );
  const counts = new Uint8Array(8);
  new DataView(counts.buffer).setUint32(0, 70_000, true);
  new DataView(counts.buffer).setUint32(4, 3, true);
  withFile(counts, (f) =>
    fails(() => f.count("events", 65_536, 4), 0, /events is 70000: absurd \(limit 65536\)/),
  );
  // 3 items of at least 4 bytes after offset 8: 12 bytes needed, none left
  withFile(
    counts,
    (f) =>
      fails(() => f.count("events", 10, 4), 8, /truncated at byte 8 while reading the 3 items of "events"/),
    4,
  );
});

test("sized text: the length is checked against its limit before anything is read", () => {
  const b = new Uint8Array(4 + 5);
  new DataView(b.buffer).setUint32(0, 5, true);
  b.set(new TextEncoder().encode("hello"), 4);
  assert.equal(new BlockByteReader("x.dat", b, 0, "s", true).sizedText(4, "name", 16), "hello");
  fails(
    () => new BlockByteReader("x.dat", b, 200, "s", true).sizedText(4, "name", 4),
    200,
    /name of 5 bytes: more than it can be \(at most 4\).*\(at byte 4 of s\)/,
  );
  // a block reader names its block and the byte in it
  fails(
    () => new BlockByteReader("x.dat", b.subarray(0, 6), 300, "kallsyms", true).sizedText(4, "name", 16),
    300,
    /name: 5 bytes needed but the kallsyms ends 2 bytes further/,
  );
});

test("C strings: one that crosses the file reader's 64 KiB window, one never terminated, one too long", () => {
  const n = 70_000;
  const b = new Uint8Array(n).fill(0x61); // 'a'
  const start = 65_530; // the string runs from here across the window's end at 65,536
  b[start - 1] = 0;
  b[start + 10] = 0;
  withFile(b, (f) => {
    f.seek(start);
    assert.equal(f.cstring("name", 64), "aaaaaaaaaa");
    assert.equal(f.where(), start + 11);
    // from there, 'a' up to the end of the file: not terminated
    fails(
      () => f.cstring("name", 100_000),
      n,
      /truncated at byte 70000 while reading name \(a NUL-terminated string from offset 65541\)/,
    );
    f.seek(start + 11);
    fails(() => f.cstring("name", 100), start + 11, /name: string longer than 100 bytes/);
  });
  const block = Uint8Array.from([0x62, 0x63, 0x00, 0x64, 0x65]);
  const r = new BlockByteReader("x.dat", block, 50, "strings", true);
  assert.equal(r.cstring("s", 8), "bc");
  fails(() => r.cstring("s", 8), 50, /s: string not terminated before end of strings/);
  assert.equal(cText(Uint8Array.from([0x6f, 0x6b, 0, 0x78])), "ok");
  assert.equal(cText(Uint8Array.from([0x6f, 0x6b])), "ok");
});

test("reads past the end of the file are truncation errors naming where the file ends", () => {
  withFile(NUMBERS, (f) => {
    f.seek(17);
    fails(
      () => f.u32("header"),
      17,
      /truncated at byte 19 while reading header \(4 bytes needed from offset 17/,
    );
    fails(() => f.take(-1, "x"), 17, /x: invalid length -1/);
  });
});
