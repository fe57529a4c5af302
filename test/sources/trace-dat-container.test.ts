// trace.dat container reader against trace-cmd's own reading of every available file
// (`trace-cmd dump`), v6 and v7, uncompressed and zstd (trace-cmd convert makes the variants).
// zlib and big-endian files, which trace-cmd here cannot write, are built byte by byte in
// trace-dat-container-builder.test.ts.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, existsSync, mkdtempSync, openSync, readSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { bracketedClock, TraceDatFile, type TraceDatMeta } from "../../src/sources/trace-dat-container.ts";
import {
  fixturesDir,
  publicTraces,
  recordedTraces,
  sharedAvailable,
  skipWithoutShared,
  traceDatFiles,
} from "../helpers/paths.ts";
import { skipWithoutTraceCmd } from "../helpers/trace-cmd.ts";

function traceCmd(args: string[]): string {
  return execFileSync("trace-cmd", args, {
    encoding: "utf8",
    maxBuffer: 512 << 20,
    stdio: ["ignore", "pipe", "pipe"],
  });
}

// ------------------------------------------------------------------ parsing trace-cmd dump output

interface DumpCpu {
  cpu: number;
  offset: number;
  size: number;
}

interface DumpFacts {
  version: number;
  littleEndian: boolean;
  longSize: number;
  pageSize: number;
  compression: string;
  compressionVersion: string;
  headerPageBytes: number;
  headerEventBytes: number;
  ftraceCount: number;
  systems: number;
  kallsymsBytes: number;
  printkBytes: number;
  cmdlinesBytes: number;
  /** v6 header CPU count */
  cpus: number;
  options: { name: string; size: number; text: string }[];
  sections: { id: number; offset: number; desc: string; flags: number; size: number }[];
  sectionCount: number;
  /** v6: one table per "[Flyrecord tracing data]" (top first, then instances) */
  v6Tables: DumpCpu[][];
  /** v6: clock text after each table */
  v6Clocks: string[];
  /** v7: BUFFER options */
  v7Buffers: { name: string; clock: string; pageSize: number; cpus: DumpCpu[] }[];
}

function num(s: string | undefined): number {
  const t = (s ?? "").trim();
  return t === "" ? 0 : Number(t);
}

function parseDump(text: string): DumpFacts {
  const f: DumpFacts = {
    version: -1,
    littleEndian: true,
    longSize: 0,
    pageSize: 0,
    compression: "none",
    compressionVersion: "",
    headerPageBytes: -1,
    headerEventBytes: -1,
    ftraceCount: -1,
    systems: -1,
    kallsymsBytes: -1,
    printkBytes: -1,
    cmdlinesBytes: -1,
    cpus: -1,
    options: [],
    sections: [],
    sectionCount: -1,
    v6Tables: [],
    v6Clocks: [],
    v7Buffers: [],
  };
  const lines = text.split("\n");
  const last = <T>(a: T[]): T => a[a.length - 1];
  // One rule per kind of line, tried in order; the first that matches handles the line.
  const rules: [RegExp, (m: RegExpExecArray, i: number) => void][] = [
    [
      /^\t\t(\S*)\t\[(Version|Little endian|Bytes in a long|Page size, bytes|Compression algorithm|Compression version)\]/,
      (m) => {
        const v = m[1];
        if (m[2] === "Version") f.version = Number(v);
        else if (m[2] === "Little endian") f.littleEndian = v === "0";
        else if (m[2] === "Bytes in a long") f.longSize = Number(v);
        else if (m[2] === "Page size, bytes") f.pageSize = Number(v);
        else if (m[2] === "Compression algorithm") f.compression = v;
        else f.compressionVersion = v;
      },
    ],
    [/^\t\[Header page, (\d+) bytes\]/, (m) => (f.headerPageBytes = Number(m[1]))],
    [/^\t\[Header event, (\d+) bytes\]/, (m) => (f.headerEventBytes = Number(m[1]))],
    [/^\t\[Ftrace format, (\d+) events\]/, (m) => (f.ftraceCount = Number(m[1]))],
    [/^\t\[Events format, (\d+) systems\]/, (m) => (f.systems = Number(m[1]))],
    [/^\t\[Kallsyms, (\d+) bytes\]/, (m) => (f.kallsymsBytes = Number(m[1]))],
    [/^\t\[Trace printk, (\d+) bytes\]/, (m) => (f.printkBytes = Number(m[1]))],
    [/^\t\[Saved command lines, (\d+) bytes\]/, (m) => (f.cmdlinesBytes = Number(m[1]))],
    [/^\t(\d+) \[CPUs with tracing data\]/, (m) => (f.cpus = Number(m[1]))],
    [
      /^\t\t\[Option (.+), (\d+) bytes\]/,
      (m, i) => f.options.push({ name: m[1], size: Number(m[2]), text: lines[i + 1] ?? "" }),
    ],
    [
      /\[Section (\d+) @ (\d+): "([^"]*)", flags 0x([0-9a-f]+), (\d+) bytes\]/,
      (m) =>
        f.sections.push({
          id: Number(m[1]),
          offset: Number(m[2]),
          desc: m[3],
          flags: parseInt(m[4], 16),
          size: Number(m[5]),
        }),
    ],
    [/^\t\[(\d+) sections\]/, (m) => (f.sectionCount = Number(m[1]))],
    [/^\t\[Flyrecord tracing data\]$/, () => f.v6Tables.push([])],
    [
      // fixed columns: 11-character offset and size, blank when 0
      /^\t(.{11})(.{11})\t\[offset, size of cpu (\d+)\]/,
      (m) => last(f.v6Tables).push({ cpu: Number(m[3]), offset: num(m[1]), size: num(m[2]) }),
    ],
    [/^\t\[Tracing clock\]$/, (_m, i) => f.v6Clocks.push((lines[i + 1] ?? "").trim())],
    [/^"(.*)" \[name\]$/, (m) => f.v7Buffers.push({ name: m[1], clock: "", pageSize: 0, cpus: [] })],
    [/^"(.*)" \[clock\]$/, (m) => (last(f.v7Buffers).clock = m[1])],
    [/^(\d+) \[Page size, bytes\]$/, (m) => (last(f.v7Buffers).pageSize = Number(m[1]))],
    [
      /^\s+(\d+) (\d+)\t(\d+)\t\[id, data offset and size\]/,
      (m) => last(f.v7Buffers).cpus.push({ cpu: Number(m[1]), offset: Number(m[2]), size: Number(m[3]) }),
    ],
  ];
  for (let i = 0; i < lines.length; i++) {
    for (const [re, handle] of rules) {
      const m = re.exec(lines[i]);
      if (m) {
        handle(m, i);
        break;
      }
    }
  }
  return f;
}

function dumpFacts(path: string): DumpFacts {
  return parseDump(traceCmd(["dump", "-i", path, "--summary", "--options", "--flyrecord", "--clock"]));
}

// ------------------------------------------------------------------ files

const tmp = mkdtempSync(join(tmpdir(), "rtscope-tdc-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

const sharedFiles = sharedAvailable()
  ? [...traceDatFiles(publicTraces), ...traceDatFiles(recordedTraces)]
  : [];
const fixtureFiles = traceDatFiles(join(fixturesDir, "trace-dat")).concat(
  traceDatFiles(join(fixturesDir, "causes")),
);

/** Variants made by trace-cmd convert: [source, output name, convert args]. */
const conversions: [string, string, string[]][] = [
  [join(recordedTraces, "stress-ng-cyclic.v7zstd.dat"), "rec.v7none.dat", ["--compression", "none"]],
  [
    join(recordedTraces, "stress-ng-cyclic.v7zstd.dat"),
    "rec.v6.dat",
    ["--file-version", "6", "--compression", "none"],
  ],
  [
    join(publicTraces, "trappy_trace_idle.v6.dat"),
    "idle.v7zstd.dat",
    ["--file-version", "7", "--compression", "zstd"],
  ],
  [
    join(publicTraces, "trappy_trace_idle.v6.dat"),
    "idle.v7none.dat",
    ["--file-version", "7", "--compression", "none"],
  ],
  [
    join(publicTraces, "lisa_example_rtapp.v6.dat"),
    "rtapp.v7zstd.dat",
    ["--file-version", "7", "--compression", "zstd"],
  ],
  [
    join(publicTraces, "lisa_example_rtapp.v6.dat"),
    "rtapp.v7none.dat",
    ["--file-version", "7", "--compression", "none"],
  ],
  [
    join(publicTraces, "trappy_trace_arm32_thermal.v6.dat"),
    "arm32.v7zstd.dat",
    ["--file-version", "7", "--compression", "zstd"],
  ],
];

function converted(name: string): string {
  const c = conversions.find((x) => x[1] === name)!;
  const out = join(tmp, name);
  if (!existsSync(out)) traceCmd(["convert", "-i", c[0], "-o", out, ...c[2]]);
  return out;
}

// ------------------------------------------------------------------ comparison with trace-cmd

function checkAgainstDump(path: string): TraceDatMeta {
  const d = dumpFacts(path);
  const file = TraceDatFile.open(path);
  try {
    const m = file.meta;
    assert.equal(m.version, d.version, "version");
    assert.equal(m.littleEndian, d.littleEndian, "byte order");
    assert.equal(m.userLongSize, d.longSize, "long size");
    assert.equal(m.pageSize, d.pageSize, "page size");
    assert.equal(m.compression.name, d.compression, "compression");
    assert.equal(m.compression.version, d.compressionVersion, "compression version");
    assert.equal(Buffer.byteLength(m.headerPage), d.headerPageBytes, "header_page size");
    assert.equal(Buffer.byteLength(m.headerEvent), d.headerEventBytes, "header_event size");
    assert.equal(m.ftraceFormats.length, d.ftraceCount, "ftrace formats");
    assert.equal(new Set(m.eventFormats.map((e) => e.system)).size, d.systems, "event systems");
    assert.equal(Buffer.byteLength(m.kallsyms), d.kallsymsBytes, "kallsyms size");
    assert.equal(Buffer.byteLength(m.printk), d.printkBytes, "printk size");
    assert.equal(Buffer.byteLength(m.cmdlines), d.cmdlinesBytes, "cmdlines size");

    const opt = (name: string) => d.options.filter((o) => o.name === name);
    const uname = opt("UNAME")[0];
    assert.equal(m.uname, uname ? uname.text : "", "uname");
    const ver = opt("VERSION")[0];
    assert.equal(m.traceCmdVersion, ver ? ver.text : "", "trace-cmd version");
    assert.equal(m.cpuStats.length, opt("CPUSTAT").length, "CPUSTAT options");
    const cpucount = opt("CPUCOUNT")[0];

    if (m.version === 6) {
      assert.equal(m.cpuCount, cpucount ? Number(cpucount.text) : d.cpus, "CPU count");
      assert.equal(m.sections.length, 0);
      // Top table plus one per instance, in order; we drop size-0 CPUs.
      assert.equal(m.buffers.length, d.v6Tables.length, "number of CPU tables");
      d.v6Tables.forEach((t, i) => {
        assert.equal(t.length, m.cpuCount, "table entries");
        const want = t.filter((c) => c.size > 0);
        assert.deepEqual(m.buffers[i].cpus, want, `buffer ${i} CPU table`);
        assert.equal(m.buffers[i].pageSize, d.pageSize);
        assert.equal(m.buffers[i].compressed, false);
      });
      const clock0 = d.v6Clocks[0] ?? "";
      const want = clock0.startsWith("No tracing clock") ? "" : bracketedClock(clock0);
      assert.equal(m.clock, want, "clock");
      const clockOpt = opt("TRACECLOCK")[0];
      assert.equal(d.v6Clocks.length > 0 && !clock0.startsWith("No tracing clock"), clockOpt !== undefined);
      d.v6Clocks.slice(1).forEach((c, i) => {
        assert.equal(m.buffers[i + 1].clock, bracketedClock(c));
      });
    } else {
      if (cpucount) assert.equal(m.cpuCount, Number(cpucount.text), "CPU count");
      assert.equal(m.sections.length, d.sectionCount, "sections found");
      for (const s of d.sections) {
        const mine = m.sections.find((x) => x.offset === s.offset);
        assert.ok(mine, `section at ${s.offset}`);
        assert.deepEqual(
          { id: mine.id, offset: mine.offset, desc: mine.description, flags: mine.flags, size: mine.size },
          s,
        );
      }
      assert.deepEqual(
        m.buffers.map((b) => b.name),
        d.v7Buffers.map((b) => b.name),
        "buffer names",
      );
      d.v7Buffers.forEach((b, i) => {
        const mine = m.buffers[i];
        assert.equal(mine.clock, b.clock, "buffer clock");
        assert.equal(mine.pageSize, b.pageSize, "buffer page size");
        assert.deepEqual(
          mine.cpus,
          b.cpus.filter((c) => c.size > 0),
          `buffer "${b.name}" CPUs`,
        );
        const sec = d.sections.find((s) => s.offset === mine.offset);
        assert.ok(sec, "buffer section");
        assert.equal(mine.compressed, (sec.flags & 1) === 1);
      });
      const clockOpt = opt("TRACECLOCK")[0];
      const top = d.v7Buffers.find((b) => b.name === "");
      // A converted v6 file keeps an empty TRACECLOCK option: the top buffer's clock then applies.
      assert.equal(m.clock, (clockOpt ? bracketedClock(clockOpt.text) : "") || (top?.clock ?? ""), "clock");
    }
    assert.deepEqual(m.warnings, []);
    return m;
  } finally {
    file.close();
  }
}

/** sha256 and length of each CPU's pages, per buffer name. */
function pageDigests(path: string, pagesPerRead?: number): Map<string, { bytes: number; sha: string }> {
  const file = TraceDatFile.open(path);
  const out = new Map<string, { bytes: number; sha: string }>();
  try {
    for (const b of file.meta.buffers) {
      for (const c of b.cpus) {
        const r = file.cpuPages(b, c.cpu, { pagesPerRead });
        const h = createHash("sha256");
        let bytes = 0;
        let expectIndex = 0;
        for (let p = r.nextPage(); p; p = r.nextPage()) {
          assert.equal(p.index, expectIndex++);
          assert.equal(p.streamOffset, bytes);
          assert.equal(p.page.length, b.pageSize, "whole pages only in trace-cmd files");
          h.update(p.page);
          bytes += p.page.length;
        }
        assert.equal(r.bytesYielded, bytes);
        assert.equal(r.partialPages, 0);
        out.set(`${b.name}/${c.cpu}`, { bytes, sha: h.digest("hex") });
      }
    }
  } finally {
    file.close();
  }
  return out;
}

/** Same digests computed straight from the file at trace-cmd's offsets (uncompressed files only). */
function rawDigests(path: string, meta: TraceDatMeta): Map<string, { bytes: number; sha: string }> {
  const fd = openSync(path, "r");
  const out = new Map<string, { bytes: number; sha: string }>();
  try {
    for (const b of meta.buffers) {
      for (const c of b.cpus) {
        const buf = Buffer.alloc(c.size);
        readSync(fd, buf, 0, c.size, c.offset);
        out.set(`${b.name}/${c.cpu}`, { bytes: c.size, sha: createHash("sha256").update(buf).digest("hex") });
      }
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

describe("trace.dat container vs trace-cmd dump", { skip: skipWithoutTraceCmd }, () => {
  for (const path of [...sharedFiles, ...fixtureFiles]) {
    test(path.replace(/.*\/(traces|fixtures)\//, ""), () => {
      const m = checkAgainstDump(path);
      if (m.compression.name === "none") {
        // Pages are the bytes at trace-cmd's offsets, whatever the read size.
        const raw = rawDigests(path, m);
        assert.deepEqual(pageDigests(path, 1), raw);
        assert.deepEqual(pageDigests(path), raw);
      }
    });
  }

  for (const [src, name] of conversions) {
    test(`trace-cmd convert -> ${name}`, {
      skip: skipWithoutShared || (existsSync(src) ? false : `${src} missing`),
    }, () => {
      checkAgainstDump(converted(name));
    });
  }

  // its zstd sources are the shared traces (the fixtures only add to them)
  test("compressed pages equal trace-cmd's uncompressed conversion, CPU by CPU", {
    skip: skipWithoutShared,
  }, () => {
    const pairs: [string, string][] = [
      [join(recordedTraces, "stress-ng-cyclic.v7zstd.dat"), converted("rec.v7none.dat")],
      [converted("idle.v7zstd.dat"), converted("idle.v7none.dat")],
      [converted("rtapp.v7zstd.dat"), converted("rtapp.v7none.dat")],
    ];
    for (const f of fixtureFiles.filter((p) => p.endsWith("trace.v7.dat"))) {
      const out = join(tmp, `fixture-${f.split("/").at(-2)}.v7none.dat`);
      traceCmd(["convert", "-i", f, "-o", out, "--compression", "none"]);
      pairs.push([f, out]);
    }
    let cpusCompared = 0;
    for (const [zstd, plain] of pairs) {
      const plainMeta = TraceDatFile.open(plain);
      plainMeta.close();
      const want = rawDigests(plain, plainMeta.meta);
      const got = pageDigests(zstd);
      assert.deepEqual(got, want, `${zstd} vs ${plain}`);
      // The uncompressed sizes are what trace-cmd dump reports for the converted file.
      const d = dumpFacts(plain);
      for (const b of d.v7Buffers) {
        for (const c of b.cpus) if (c.size > 0) assert.equal(got.get(`${b.name}/${c.cpu}`)?.bytes, c.size);
      }
      cpusCompared += got.size;
    }
    assert.ok(cpusCompared >= 7, `compared ${cpusCompared} CPUs`);
  });
});

describe("known facts of the shared files", { skip: skipWithoutShared }, () => {
  const open = (p: string) => {
    const f = TraceDatFile.open(p);
    f.close();
    return f.meta;
  };
  test("arm32 thermal: 32-bit user long, TRACECLOCK of size 0 with the clock text after the table", () => {
    const m = open(join(publicTraces, "trappy_trace_arm32_thermal.v6.dat"));
    assert.equal(m.userLongSize, 4);
    assert.equal(m.cpuCount, 8);
    assert.equal(m.clock, "local");
    assert.equal(m.ftraceFormats.length + m.eventFormats.length, 650);
  });
  test("trappy idle: empty options block, no clock, CPU 4 without data dropped", () => {
    const m = open(join(publicTraces, "trappy_trace_idle.v6.dat"));
    assert.equal(m.cpuCount, 6);
    assert.equal(m.clock, "");
    assert.deepEqual(
      m.buffers[0].cpus.map((c) => c.cpu),
      [0, 1, 2, 3, 5],
    );
  });
  test("lisa sched_load: no TRACECLOCK, zero padding after the table is not read as a clock", () => {
    const m = open(join(publicTraces, "lisa_sched_load.v6.dat"));
    assert.equal(m.clock, "");
    assert.equal(m.cpuStats.length, 0);
    assert.equal(m.buffers[0].cpus.length, 6);
  });
  test("recorded v7 zstd: empty top buffer and instance 'shrec'", () => {
    const m = open(join(recordedTraces, "stress-ng-cyclic.v7zstd.dat"));
    assert.deepEqual(
      m.buffers.map((b) => [b.name, b.cpus.length, b.compressed]),
      [
        ["", 0, true],
        ["shrec", 2, true],
      ],
    );
    assert.equal(m.compression.name, "zstd");
    assert.equal(m.cpuCount, 2);
    assert.equal(m.uname, "Linux vm 6.18.44-fc-v657 x86_64");
  });
});
