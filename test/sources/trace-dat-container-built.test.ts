// trace.dat container reader on files built byte by byte (trace-dat-container-builder.ts):
// the v6 quirks, v7 with zlib and zstd in both byte orders, sparse CPU ids, unknown options
// and sections, partial pages, and one test per kind of bad input.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { TraceFormatError } from "../../src/model/source.ts";
import { readTraceDatMeta, TraceDatFile, type TraceDatMeta } from "../../src/sources/trace-dat-container.ts";
import {
  type Algo,
  ByteWriter,
  buildV6,
  buildV7,
  pages,
  SAMPLE_META,
  textOpt,
  type V6Spec,
  type V7Spec,
} from "./trace-dat-container-builder.ts";

const tmp = mkdtempSync(join(tmpdir(), "rtscope-tdc-built-"));
after(() => rmSync(tmp, { recursive: true, force: true }));
let fileNo = 0;

function put(bytes: Uint8Array | string): string {
  const p = join(tmp, `f${fileNo++}.dat`);
  writeFileSync(p, bytes);
  return p;
}

interface Read {
  meta: TraceDatMeta;
  /** per "buffer/cpu": concatenated pages, page lengths and file offsets */
  data: Map<string, { bytes: Buffer; lengths: number[]; offsets: number[] }>;
}

function readAll(bytes: Uint8Array, pagesPerRead?: number): Read {
  const file = TraceDatFile.open(put(bytes));
  try {
    const data = new Map<string, { bytes: Buffer; lengths: number[]; offsets: number[] }>();
    for (const b of file.meta.buffers) {
      for (const c of b.cpus) {
        const r = file.cpuPages(b, c.cpu, { pagesPerRead });
        const parts: Buffer[] = [];
        const lengths: number[] = [];
        const offsets: number[] = [];
        for (let p = r.nextPage(); p; p = r.nextPage()) {
          parts.push(Buffer.from(p.page));
          lengths.push(p.page.length);
          offsets.push(p.fileOffset);
        }
        data.set(`${b.name}/${c.cpu}`, { bytes: Buffer.concat(parts), lengths, offsets });
      }
    }
    return { meta: file.meta, data };
  } finally {
    file.close();
  }
}

function expectError(bytes: Uint8Array | string, re: RegExp): TraceFormatError {
  let caught: unknown;
  try {
    readAll(typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof TraceFormatError, `expected TraceFormatError, got ${String(caught)}`);
  assert.match(caught.message, re);
  assert.match(caught.message, /^\/.*: at offset \d+ \(0x[0-9a-f]+\): /, "names file and offset");
  return caught;
}

const PS = 4096;
const cpu0 = pages(3, PS, 1);
const cpu2 = pages(1, PS, 2);

function v6(extra: Partial<V6Spec> = {}): Uint8Array {
  return buildV6({ cpus: 3, options: null, cpuData: [cpu0, new Uint8Array(0), cpu2], ...extra });
}

/** Offset of the u32 ftrace format count in a v6 file made with SAMPLE_META. */
function ftraceCountOffset(): number {
  return (
    18 +
    12 +
    8 +
    Buffer.byteLength(SAMPLE_META.headerPage) +
    13 +
    8 +
    Buffer.byteLength(SAMPLE_META.headerEvent)
  );
}

function checkSampleMeta(m: TraceDatMeta): void {
  assert.equal(m.headerPage, SAMPLE_META.headerPage);
  assert.equal(m.headerEvent, SAMPLE_META.headerEvent);
  assert.deepEqual(m.ftraceFormats, SAMPLE_META.ftrace);
  assert.deepEqual(
    m.eventFormats,
    SAMPLE_META.systems.flatMap((s) => s.events.map((text) => ({ system: s.name, text }))),
  );
  assert.equal(m.kallsyms, SAMPLE_META.kallsyms);
  assert.equal(m.printk, SAMPLE_META.printk);
  assert.equal(m.cmdlines, SAMPLE_META.cmdlines);
}

describe("v6 layouts", () => {
  for (const littleEndian of [true, false]) {
    const order = littleEndian ? "little-endian" : "big-endian";
    test(`${order}, no options block: metadata, CPU table (size-0 CPU dropped), pages`, () => {
      for (const ppr of [1, 2, undefined]) {
        const { meta, data } = readAll(v6({ littleEndian }), ppr);
        assert.equal(meta.version, 6);
        assert.equal(meta.littleEndian, littleEndian);
        assert.equal(meta.pageSize, PS);
        assert.equal(meta.cpuCount, 3);
        assert.equal(meta.clock, "");
        checkSampleMeta(meta);
        assert.equal(meta.buffers.length, 1);
        assert.deepEqual(
          meta.buffers[0].cpus.map((c) => [c.cpu, c.size]),
          [
            [0, 3 * PS],
            [2, PS],
          ],
        );
        assert.ok(data.get("/0")!.bytes.equals(cpu0));
        assert.ok(data.get("/2")!.bytes.equals(cpu2));
        const c0 = meta.buffers[0].cpus[0];
        assert.deepEqual(data.get("/0")!.offsets, [c0.offset, c0.offset + PS, c0.offset + 2 * PS]);
      }
    });
  }

  test("empty options block", () => {
    const { meta } = readAll(v6({ options: [] }));
    assert.equal(meta.clock, "");
    assert.deepEqual(meta.cpuStats, []);
    assert.equal(meta.buffers[0].cpus.length, 2);
  });

  test("TRACECLOCK of size 0: the clock text after the CPU table gives the clock (trace-cmd 2.x)", () => {
    const { meta, data } = readAll(
      v6({
        options: [{ id: 4, payload: new Uint8Array(0) }],
        clockText: "[global] local counter uptime perf\n",
      }),
    );
    assert.equal(meta.clock, "global");
    assert.ok(data.get("/0")!.bytes.equals(cpu0));
  });

  test("TRACECLOCK with text and [clock] after the table (trace-cmd 3.x)", () => {
    const { meta } = readAll(
      v6({ options: [textOpt(4, "local global [mono] boot\n")], clockText: "[mono]" }),
    );
    assert.equal(meta.clock, "mono");
  });

  test("no TRACECLOCK: bytes after the table are not read as a clock", () => {
    // The builder writes no clock text; the data follow after zero padding.
    const { meta } = readAll(v6({ options: [textOpt(5, "Linux host 6.1 x86_64")] }));
    assert.equal(meta.clock, "");
    assert.equal(meta.uname, "Linux host 6.1 x86_64");
  });

  test("TRACECLOCK present but the clock text is corrupt: warning, clock from the option (as trace-cmd)", () => {
    const spec: V6Spec = { cpus: 1, options: [textOpt(4, "[x86-tsc] local")], cpuData: [cpu2] };
    const ok = buildV6({ ...spec, clockText: "[x86-tsc]" });
    // Replace the clock text's u64 length (right after the 16-byte table entry) by a huge value.
    const bad = ok.slice();
    const tableAt = Buffer.from(bad).indexOf("flyrecord\0") + 10;
    new DataView(bad.buffer).setBigUint64(tableAt + 16, 1n << 40n, true);
    const { meta, data } = readAll(bad);
    assert.equal(meta.clock, "x86-tsc");
    assert.equal(meta.warnings.length, 1);
    assert.match(meta.warnings[0], /unreadable trace clock text/);
    assert.ok(data.get("/0")!.bytes.equals(cpu2));
  });

  test("options kept raw: DATE, OFFSET, TSC2NSEC, CPUSTAT, VERSION; unknown ids skipped", () => {
    const tsc = new ByteWriter().u32(5).u32(3).u64(123456789n).result();
    const { meta } = readAll(
      v6({
        options: [
          textOpt(1, "0x1234"),
          textOpt(7, "-500"),
          { id: 14, payload: tsc },
          textOpt(2, "CPU: 0\nentries: 0\n"),
          textOpt(2, "CPU: 1\nentries: 0\n"),
          textOpt(9, "3.1.6"),
          { id: 999, payload: new Uint8Array([1, 2, 3]) },
        ],
      }),
    );
    assert.equal(meta.date, "0x1234");
    assert.equal(meta.offset, "-500");
    assert.deepEqual(meta.tsc2nsec, { mult: 5, shift: 3, offset: 123456789n });
    assert.deepEqual(meta.cpuStats, ["CPU: 0\nentries: 0\n", "CPU: 1\nentries: 0\n"]);
    assert.equal(meta.traceCmdVersion, "3.1.6");
  });

  test("latency file: text exposed, no buffers", () => {
    const text = "# tracer: wakeup_rt\n#  latency: 42 us\n";
    const { meta } = readAll(v6({ options: [], tag: "latency", latencyText: text }));
    assert.equal(meta.latencyText, text);
    assert.deepEqual(meta.buffers, []);
  });

  for (const littleEndian of [true, false]) {
    test(`instances (BUFFER option) with their own tables and clock texts, ${littleEndian ? "LE" : "BE"}`, () => {
      const inst = [pages(2, PS, 9), new Uint8Array(0), pages(1, PS, 10)];
      const { meta, data } = readAll(
        v6({
          littleEndian,
          options: [
            textOpt(4, "[local] global"),
            { id: 8, payload: new ByteWriter(littleEndian).u32(3).result() },
          ],
          clockText: "[local]",
          instances: [{ name: "rt", cpuData: inst, clockText: "[mono]" }],
        }),
      );
      assert.deepEqual(
        meta.buffers.map((b) => [b.name, b.clock, b.cpus.map((c) => c.cpu)]),
        [
          ["", "local", [0, 2]],
          ["rt", "mono", [0, 2]],
        ],
      );
      assert.ok(data.get("rt/0")!.bytes.equals(inst[0]));
      assert.ok(data.get("rt/2")!.bytes.equals(inst[2]));
      assert.ok(data.get("/0")!.bytes.equals(cpu0));
    });
  }

  test("32-bit recording tool (long size 4)", () => {
    assert.equal(readAll(v6({ longSize: 4 })).meta.userLongSize, 4);
  });

  test("a region that is not a whole number of pages: the last page is shorter", () => {
    const odd = pages(2, PS, 3, 100);
    for (const ppr of [1, 64]) {
      const { data } = readAll(buildV6({ cpus: 1, options: null, cpuData: [odd] }), ppr);
      assert.deepEqual(data.get("/0")!.lengths, [PS, PS, 100]);
      assert.ok(data.get("/0")!.bytes.equals(odd));
    }
  });
});

describe("v7 layouts", () => {
  const algos: Algo[] = ["none", "zlib", "zstd"];
  for (const algo of algos) {
    for (const littleEndian of [true, false]) {
      test(`${algo}, ${littleEndian ? "LE" : "BE"}: sections, options chain, sparse CPUs, chunks`, () => {
        const a = pages(5, PS, 4);
        const b = pages(1, PS, 5);
        const spec: V7Spec = {
          littleEndian,
          algo,
          compressStrings: algo !== "none",
          unknownSection: true,
          options: [
            textOpt(4, "[boot] local global"),
            textOpt(5, "Linux vm 6.18 x86_64"),
            { id: 8, payload: new ByteWriter(littleEndian).u32(8).result() },
            { id: 250, payload: new Uint8Array(17) },
          ],
          buffers: [
            { name: "", clock: "boot", cpus: [] },
            {
              name: "rtscope-x",
              clock: "mono",
              chunkPages: 2,
              cpus: [
                { cpu: 1, data: a },
                { cpu: 4, data: new Uint8Array(0) },
                { cpu: 6, data: b },
              ],
            },
          ],
        };
        const bytes = buildV7(spec);
        const { meta, data } = readAll(bytes);
        assert.equal(meta.version, 7);
        assert.equal(meta.littleEndian, littleEndian);
        assert.equal(meta.compression.name, algo);
        checkSampleMeta(meta);
        assert.equal(meta.cpuCount, 8);
        assert.equal(meta.clock, "boot");
        assert.equal(meta.uname, "Linux vm 6.18 x86_64");
        assert.deepEqual(meta.warnings, []);
        assert.deepEqual(
          meta.buffers.map((x) => [x.name, x.clock, x.compressed, x.cpus.map((c) => c.cpu)]),
          [
            ["", "boot", algo !== "none", []],
            ["rtscope-x", "mono", algo !== "none", [1, 6]],
          ],
        );
        assert.deepEqual(
          meta.sections.map((s) => [s.id, s.description]),
          [
            [16, "headers"],
            [17, "ftrace events"],
            [18, "events format"],
            [19, "kallsyms"],
            [20, "printk"],
            [21, "command lines"],
            [0, "options"],
            [3, "buffer flyrecord "],
            [3, "buffer flyrecord rtscope-x"],
            [0, "options"],
            [77, "future"],
            [15, "strings"],
          ],
        );
        const got = data.get("rtscope-x/1")!;
        assert.ok(got.bytes.equals(a));
        assert.deepEqual(got.lengths, [PS, PS, PS, PS, PS]);
        const c1 = meta.buffers[1].cpus[0];
        if (algo === "none") {
          assert.deepEqual(
            got.offsets,
            [0, 1, 2, 3, 4].map((i) => c1.offset + i * PS),
          );
        } else {
          // Pages of a chunk share the chunk's file offset: chunks of 2, 2 and 1 pages.
          const o = got.offsets;
          assert.equal(o[0], c1.offset + 4);
          assert.equal(o[1], o[0]);
          assert.ok(o[2] > o[1] && o[3] === o[2] && o[4] > o[3]);
        }
        assert.ok(data.get("rtscope-x/6")!.bytes.equals(b));
      });
    }
  }

  test("zstd chunk whose size is not a whole number of pages: last page of the chunk is shorter", () => {
    const odd = pages(1, PS, 6, 10);
    const { data } = readAll(
      buildV7({ algo: "zstd", buffers: [{ name: "", clock: "local", cpus: [{ cpu: 0, data: odd }] }] }),
    );
    assert.deepEqual(data.get("/0")!.lengths, [PS, 10]);
    assert.ok(data.get("/0")!.bytes.equals(odd));
  });

  for (const algo of ["none", "zstd"] as Algo[]) {
    test(`latency section (BUFFER_TEXT), ${algo}`, () => {
      const text = `# tracer: wakeup_rt\n${"x".repeat(9000)}\n`;
      const { meta } = readAll(buildV7({ algo, buffers: [], latencyText: text }));
      assert.equal(meta.latencyText, text);
      assert.deepEqual(meta.buffers, []);
    });
  }

  test("compressed data with uncompressed metadata", () => {
    const d = pages(3, PS, 8);
    const { meta, data } = readAll(
      buildV7({
        algo: "zlib",
        compressMeta: false,
        buffers: [{ name: "", clock: "x", cpus: [{ cpu: 0, data: d }] }],
      }),
    );
    checkSampleMeta(meta);
    assert.equal(meta.cpuCount, 1);
    assert.ok(data.get("/0")!.bytes.equals(d));
  });
});

// --------------------------------------------------------------------------- bad input

/** Section headers of a v7 file, walked by hand (test-side, independent of the reader). */
function sectionsOf(bytes: Uint8Array, le = true): { id: number; at: number; size: number; flags: number }[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  let p = 18;
  p = bytes.indexOf(0, p) + 1; // compression name
  p = bytes.indexOf(0, p) + 1; // compression version
  p += 8;
  const out = [];
  while (p + 16 <= bytes.length) {
    const id = dv.getUint16(p, le);
    const flags = dv.getUint16(p + 2, le);
    const size = Number(dv.getBigUint64(p + 8, le));
    out.push({ id, at: p, size, flags });
    p += 16 + size;
  }
  return out;
}

function patch(bytes: Uint8Array, at: number, f: (dv: DataView) => void): Uint8Array {
  const copy = bytes.slice();
  f(new DataView(copy.buffer, at));
  return copy;
}

describe("bad input: TraceFormatError naming file and offset", () => {
  test("not a trace.dat: says what the file looks like", () => {
    assert.match(expectError("", /empty/).message, /not a trace-cmd trace.dat/);
    expectError("# tracer: nop\n#\n# entries-in-buffer/entries-written: 5/5   #P:2\n", /text .*ftrace text/);
    expectError("<!DOCTYPE html>\n<html><head>", /HTML/);
    expectError(new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2]), /gzip/);
    expectError(new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0, 0, 0, 0]), /zstd-compressed/);
    expectError("PERFILE2\0\0\0\0\0\0\0\0", /perf.data/);
    expectError(new Uint8Array([0x17, 0x08, 0x44, 0x74, 0x72, 0x61]), /not a trace-cmd/);
    expectError(
      new Uint8Array([0, 1, 2, 3, 200, 201, 202, 203, 9, 9, 9, 9]),
      /unknown content \(first bytes 00 01/,
    );
  });

  test("unsupported or bad version, byte order, long size, page size", () => {
    const ok = v6();
    const withVersion = (v: string) => {
      const w = new ByteWriter().bytes(ok.subarray(0, 10)).str(v).bytes(ok.subarray(12));
      return w.result();
    };
    assert.equal(expectError(withVersion("5"), /unsupported trace.dat version 5/).offset, 10);
    expectError(withVersion("8"), /unsupported trace.dat version 8: rtscope reads versions 6 and 7/);
    expectError(withVersion("x"), /bad version string/);
    assert.equal(
      expectError(
        patch(ok, 12, (d) => d.setUint8(0, 2)),
        /endianness/,
      ).offset,
      12,
    );
    expectError(
      patch(ok, 13, (d) => d.setUint8(0, 3)),
      /long size 3/,
    );
    assert.equal(
      expectError(
        patch(ok, 14, (d) => d.setUint32(0, 0, true)),
        /page size 0/,
      ).offset,
      14,
    );
    expectError(
      patch(ok, 14, (d) => d.setUint32(0, 1000, true)),
      /page size 1000/,
    );
  });

  test("wrong tags", () => {
    const ok = v6();
    expectError(
      patch(ok, 18, (d) => d.setUint8(0, 0x48)),
      /expected the "header_page" tag/,
    );
    const flyAt = Buffer.from(ok).indexOf("flyrecord\0");
    const err = expectError(
      patch(ok, flyAt, (d) => d.setUint8(0, 0x46)),
      /expected "options", "latency" or "flyrecord"/,
    );
    assert.equal(err.offset, flyAt);
  });

  test("absurd counts and sizes are refused before any allocation", () => {
    const ok = v6();
    const at = ftraceCountOffset();
    const e = expectError(
      patch(ok, at, (d) => d.setUint32(0, 0xffffffff, true)),
      /number of ftrace formats is 4294967295: absurd/,
    );
    assert.equal(e.offset, at);
    // a format length larger than the file
    expectError(
      patch(ok, at + 4, (d) => d.setBigUint64(0, 1n << 40n, true)),
      /ftrace format 0 of \d+ bytes at \d+: more than a format can be/,
    );
    // a u64 beyond 2^53
    expectError(
      patch(ok, at + 4, (d) => d.setBigUint64(0, 1n << 60n, true)),
      /absurd/,
    );
  });

  test("truncated v6 file: every cut through the first 700 bytes, then every 37th, is refused", () => {
    const ok = v6({ options: [textOpt(4, "[local]")], clockText: "[local]" });
    for (let cut = 0; cut < ok.length; cut += cut < 700 ? 1 : 37) {
      expectError(ok.subarray(0, cut), /./);
    }
    // A cut in the data says where the file ends and names the CPU region it cuts.
    expectError(ok.subarray(0, ok.length - 1), /truncated at byte \d+ while reading the data of CPU 2/);
  });

  test("truncated v7 files: refused or, when only the trailing strings are lost, read without descriptions", () => {
    for (const algo of ["none", "zstd"] as Algo[]) {
      const ok = buildV7({ algo, buffers: [{ name: "", clock: "local", cpus: [{ cpu: 0, data: cpu0 }] }] });
      const strings = sectionsOf(ok).find((s) => s.id === 15)!;
      for (let cut = 0; cut < ok.length; cut += cut < 900 ? 1 : 41) {
        try {
          const { meta } = readAll(ok.subarray(0, cut));
          assert.ok(cut >= strings.at, `cut ${cut} accepted`);
          assert.equal(meta.warnings.length, 1);
        } catch (e) {
          assert.ok(e instanceof TraceFormatError, `cut ${cut}: ${String(e)}`);
        }
      }
    }
  });

  test("v7: bad compression name", () => {
    const ok = buildV7({ algo: "none", buffers: [] });
    const bad = new ByteWriter()
      .bytes(ok.subarray(0, 18))
      .str("lz4")
      .str("")
      .bytes(ok.subarray(18 + 6))
      .result();
    assert.equal(expectError(bad, /unsupported compression "lz4"/).offset, 18);
  });

  test("v7: section larger than the file, options loop, options without DONE, wrong section id", () => {
    const ok = buildV7({
      algo: "none",
      buffers: [{ name: "", clock: "local", cpus: [{ cpu: 0, data: cpu2 }] }],
    });
    const secs = sectionsOf(ok);
    const headers = secs.find((s) => s.id === 16)!;
    const opts = secs.find((s) => s.id === 0)!;
    const e = expectError(
      patch(ok, headers.at + 8, (d) => d.setBigUint64(0, BigInt(ok.length), true)),
      /truncated at byte \d+ while reading the header info section \(id 16\)/,
    );
    assert.equal(e.offset, headers.at + 16);
    // DONE of the first options section pointing at itself
    const doneAt = opts.at + 16 + opts.size - 8;
    expectError(
      patch(ok, doneAt, (d) => d.setBigUint64(0, BigInt(opts.at), true)),
      /options sections form a loop/,
    );
    // DONE id turned into an unknown id: the section ends without DONE
    expectError(
      patch(ok, doneAt - 6, (d) => d.setUint16(0, 300, true)),
      /options section ends without a DONE option/,
    );
    // HEADER_INFO option pointing at the kallsyms section
    const kallsyms = secs.find((s) => s.id === 19)!;
    const optAt = opts.at + 16 + 6; // first option (id 16) payload
    expectError(
      patch(ok, optAt, (d) => d.setBigUint64(0, BigInt(kallsyms.at), true)),
      /expected the header info section \(id 16\), found id 19/,
    );
  });

  for (const algo of ["zlib", "zstd"] as Algo[]) {
    test(`v7 ${algo}: corrupt metadata, size mismatch, corrupt chunk`, () => {
      const d = pages(3, PS, 11);
      const ok = buildV7({ algo, buffers: [{ name: "", clock: "local", cpus: [{ cpu: 0, data: d }] }] });
      const secs = sectionsOf(ok);
      const events = secs.find((s) => s.id === 18)!;
      // garble the middle of the compressed block
      const garbled = patch(ok, events.at + 16 + 8 + 4, (dv) => {
        for (let i = 0; i < 12; i++) dv.setUint8(i, 0xa5 ^ i);
      });
      const e = expectError(
        garbled,
        new RegExp(`event formats section: (corrupt ${algo} data|${algo} data decompress)`),
      );
      assert.equal(e.offset, events.at + 16);
      // declared uncompressed size one less / one more than the truth
      const usizeAt = events.at + 16 + 4;
      const usize = new DataView(ok.buffer).getUint32(usizeAt, true);
      expectError(
        patch(ok, usizeAt, (dv) => dv.setUint32(0, usize - 1, true)),
        // one byte more reads as a size mismatch, more than that hits the output limit
        new RegExp(
          `decompress to (more than the declared ${usize - 1}|${usize} bytes, but ${usize - 1} were declared)`,
        ),
      );
      expectError(
        patch(ok, usizeAt, (dv) => dv.setUint32(0, usize + 1, true)),
        new RegExp(`decompress to ${usize} bytes, but ${usize + 1} were declared`),
      );
      // absurd uncompressed size
      expectError(
        patch(ok, usizeAt, (dv) => dv.setUint32(0, 0xffffffff, true)),
        /event formats section declares 4294967295 bytes: more than it can sensibly hold/,
      );
      // chunk data: garble the first chunk, then make its compressed size run past the region
      const meta = readTraceDatMeta(put(ok));
      const region = meta.buffers[0].cpus[0];
      const chunk0 = region.offset + 4;
      const bad = patch(ok, chunk0 + 8 + 2, (dv) => {
        for (let i = 0; i < 8; i++) dv.setUint8(i, 0x5a + i);
      });
      const ce = expectError(bad, /CPU 0 chunk 0: (corrupt|.*decompress)/);
      assert.equal(ce.offset, chunk0);
      expectError(
        patch(ok, chunk0, (dv) => dv.setUint32(0, region.size, true)),
        /chunk 0: \d+ compressed bytes run past the CPU's data/,
      );
      expectError(
        patch(ok, region.offset, (dv) => dv.setUint32(0, 1e6, true)),
        /chunk count 1000000 is absurd/,
      );
    });
  }

  test("v7: CPU listed twice, data past the end of the file", () => {
    const dup = buildV7({
      algo: "none",
      buffers: [
        {
          name: "",
          clock: "local",
          cpus: [
            { cpu: 1, data: cpu2 },
            { cpu: 1, data: cpu2 },
          ],
        },
      ],
    });
    expectError(dup, /CPU 1 listed twice/);
    const ok = buildV7({
      algo: "none",
      buffers: [{ name: "", clock: "local", cpus: [{ cpu: 0, data: cpu0 }] }],
    });
    const meta = readTraceDatMeta(put(ok));
    const c = meta.buffers[0].cpus[0];
    // Grow the listed size in the BUFFER option payload (search the offset, size pair).
    const needle = new ByteWriter().u32(0).u64(c.offset).u64(c.size).result();
    const at = Buffer.from(ok).indexOf(Buffer.from(needle));
    assert.ok(at > 0);
    expectError(
      patch(ok, at + 12, (dv) => dv.setBigUint64(0, BigInt(ok.length), true)),
      /truncated at byte \d+ while reading the data of CPU 0/,
    );
  });

  test("v6: instance BUFFER option pointing past the file or at something else", () => {
    const ok = v6({
      options: [],
      instances: [{ name: "i", cpuData: [cpu2, new Uint8Array(0), new Uint8Array(0)] }],
    });
    const optAt = Buffer.from(ok).indexOf("options  \0") + 10 + 6;
    expectError(
      patch(ok, optAt, (d) => d.setBigUint64(0, 1n << 40n, true)),
      /BUFFER option "i" points past the end/,
    );
    expectError(
      patch(ok, optAt, (d) => d.setBigUint64(0, 20n, true)),
      /instance "i": expected the "flyrecord" tag/,
    );
  });
});
