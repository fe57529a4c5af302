// The trace-cmd trace.dat container, versions 6 and 7 (FORMATS.md §3; upstream: trace-cmd's
// Documentation/trace-cmd/trace-cmd.dat.v6.5.txt and .v7.5.txt, lib/trace-cmd/trace-input.c).
// This module delivers the file structure: metadata texts (header_page, formats, kallsyms,
// printk, cmdlines), options, and where each CPU's sub-buffers are. It does not parse format
// files or sub-buffers (src/decode/*). Metadata is read section by section with positioned
// reads; trace data is read later, chunk by chunk, through CpuPageReader.

import { closeSync, fstatSync, openSync } from "node:fs";
import type { TextPlace } from "../decode/event-catalog.ts";
import { TraceFormatError } from "../model/source.ts";
import {
  BlockByteReader,
  type ByteReader,
  decodeText,
  FileByteReader,
  readExact,
  truncatedAt,
} from "./trace-dat/byte-reader.ts";
import { ChunkDecompressor, type CompressionName, parseCompressionName } from "./trace-dat/compression.ts";
import { CpuPageReader, type CpuPageReaderOptions } from "./trace-dat/cpu-page-reader.ts";
import {
  applyOption,
  type CpuData,
  MAX_CPUS,
  newOptionState,
  OptionId,
  type OptionState,
  type RawBufferOption,
  type Tsc2Nsec,
} from "./trace-dat/options.ts";

export type { CompressionName } from "./trace-dat/compression.ts";
export { CpuPageReader, type CpuPageReaderOptions, type TraceDatPage } from "./trace-dat/cpu-page-reader.ts";
export type { CpuData, Tsc2Nsec } from "./trace-dat/options.ts";

/** One ring buffer (the top instance, name "", or a `trace-cmd record -B` instance). */
export interface BufferInfo {
  /** "" = top instance */
  name: string;
  /** trace clock of this buffer ("" when unknown). v6 instances: their own clock text, else the top clock. */
  clock: string;
  /** sub-buffer size in bytes */
  pageSize: number;
  /** v7: the buffer section is compressed, each CPU's data is a chunk stream */
  compressed: boolean;
  /**
   * CPUs that have data, in file order. CPUs with size 0 are dropped in both versions (v6 lists
   * every CPU in its table; v7 lists only CPUs with data). `cpu` is the real CPU number: ids may
   * be sparse.
   */
  cpus: CpuData[];
  /** v6: offset of the "flyrecord" tag; v7: offset of the buffer section header */
  offset: number;
}

/** A v7 section header as found when scanning the file (FORMATS.md §3.4.2). */
export interface SectionInfo {
  id: number;
  flags: number;
  /** file offset of the 16-byte section header */
  offset: number;
  /** bytes of content after the header (compressed size when compressed) */
  size: number;
  /** description from the STRINGS sections, "" if none */
  description: string;
}

export interface TraceDatMeta {
  path: string;
  fileSize: number;
  version: 6 | 7;
  littleEndian: boolean;
  /** size of `long` of the recording tool (not the kernel: see header_page) */
  userLongSize: number;
  /** preamble page size: the top instance's sub-buffer size */
  pageSize: number;
  compression: { name: CompressionName; version: string };
  headerPage: string;
  headerEvent: string;
  /** texts of events/ftrace/<event>/format */
  ftraceFormats: string[];
  eventFormats: { system: string; text: string }[];
  /** where each text of ftraceFormats / eventFormats starts (for errors in them) */
  ftraceFormatPlaces: TextPlace[];
  eventFormatPlaces: TextPlace[];
  kallsyms: string;
  printk: string;
  cmdlines: string;
  /** number of CPUs of the traced machine (v6 header or CPUCOUNT; v7 CPUCOUNT, else highest id + 1) */
  cpuCount: number;
  /** active trace clock (the bracketed word), "" when unknown */
  clock: string;
  uname: string;
  /** "tid tgid" lines of a trace rtscope wrote (option RTSCOPE_TGIDS), "" when absent */
  savedTgids: string;
  traceCmdVersion: string;
  /** CPUSTAT option texts in file order (v7 and v6 with instances: a "Buffer: name" entry precedes each instance's) */
  cpuStats: string[];
  /** DATE option text, raw ("" if absent) */
  date: string;
  /** OFFSET option text, raw ("" if absent) */
  offset: string;
  tsc2nsec: Tsc2Nsec | null;
  traceId: bigint | null;
  buffers: BufferInfo[];
  /** text of a `latency` file (latency tracers) instead of flyrecord data */
  latencyText?: string;
  /** v7 sections found by scanning the file ([] for v6) */
  sections: SectionInfo[];
  /** oddities that trace-cmd also tolerates (e.g. a corrupt v6 clock text) */
  warnings: string[];
}

const MAGIC = [0x17, 0x08, 0x44];
const TRACING = "tracing";
/** Limit on the number of formats / systems / events per system. */
const MAX_FORMATS = 100000;
const MiB = 1024 * 1024;
/**
 * What each metadata text can sensibly be, with a wide margin: a corrupt size (or a v7 section
 * that decompresses to hundreds of MiB from a few KiB) must not cost GiB of memory.
 * header_page + header_event are under 4 KiB on every kernel; one event format a few KiB; all
 * the formats of a kernel with its modules a few MB; the kallsyms of a large distribution
 * kernel with its modules tens of MB; printk_formats about 1 MB; saved_cmdlines at most 32768
 * lines of a few dozen bytes.
 */
const LIMIT = {
  headerInfo: 1 * MiB,
  format: 1 * MiB,
  ftraceEvents: 16 * MiB,
  eventFormats: 64 * MiB,
  kallsyms: 64 * MiB,
  printk: 32 * MiB,
  cmdlines: 16 * MiB,
  options: 64 * MiB,
  strings: 16 * MiB,
  /** latency text (BUFFER_TEXT): the output of a latency tracer */
  latencyText: 256 * MiB,
} as const;

/** Limit on a section's (decompressed) content, by section id. */
function sectionLimit(id: number): number {
  switch (id) {
    case OptionId.HEADER_INFO:
      return LIMIT.headerInfo;
    case OptionId.FTRACE_EVENTS:
      return LIMIT.ftraceEvents;
    case OptionId.EVENT_FORMATS:
      return LIMIT.eventFormats;
    case OptionId.KALLSYMS:
      return LIMIT.kallsyms;
    case OptionId.PRINTK:
      return LIMIT.printk;
    case OptionId.CMDLINES:
      return LIMIT.cmdlines;
    case OptionId.STRINGS:
      return LIMIT.strings;
    default:
      return LIMIT.options;
  }
}
const MAX_SECTIONS = 100000;
const MAX_OPTION_SECTIONS = 10000;

/**
 * Reads a trace.dat's metadata (never its trace data). Throws TraceFormatError for anything
 * that is not a readable trace.dat v6/v7.
 */
export function readTraceDatMeta(path: string): TraceDatMeta {
  const file = TraceDatFile.open(path);
  const meta = file.meta;
  file.close();
  return meta;
}

/** An open trace.dat: metadata plus per-CPU page readers sharing one file descriptor. */
export class TraceDatFile {
  readonly meta: TraceDatMeta;
  private fd: number;

  private constructor(fd: number, meta: TraceDatMeta) {
    this.fd = fd;
    this.meta = meta;
  }

  static open(path: string): TraceDatFile {
    let fd: number;
    try {
      fd = openSync(path, "r");
    } catch (e) {
      throw new TraceFormatError(path, 0, `cannot open: ${(e as Error).message}`);
    }
    try {
      const size = fstatSync(fd).size;
      return new TraceDatFile(fd, readMeta(path, fd, size));
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  /** Pages of one CPU of one buffer (`cpu` is the CPU number, not an index). */
  cpuPages(buffer: BufferInfo, cpu: number, opts?: CpuPageReaderOptions): CpuPageReader {
    if (this.fd < 0) throw new Error("TraceDatFile is closed");
    const data = buffer.cpus.find((c) => c.cpu === cpu);
    const region = data ?? { cpu, offset: 0, size: 0 };
    return new CpuPageReader(
      this.meta.path,
      this.fd,
      this.meta.fileSize,
      region,
      buffer.pageSize,
      buffer.compressed ? this.meta.compression.name : "none",
      this.meta.littleEndian,
      opts,
    );
  }

  /** Closes the file; page readers made from it must not be used afterwards. */
  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

function readMeta(path: string, fd: number, fileSize: number): TraceDatMeta {
  const r = new FileByteReader(path, fd, fileSize, 0);
  checkMagic(path, fd, fileSize);
  r.skip(10, "magic");
  const verAt = r.where();
  const verText = r.cstring("version", 16);
  if (!/^\d+$/.test(verText)) throw new TraceFormatError(path, verAt, `bad version string "${verText}"`);
  const version = Number(verText);
  if (version !== 6 && version !== 7) {
    throw new TraceFormatError(
      path,
      verAt,
      `unsupported trace.dat version ${version}: rtscope reads versions 6 and 7` +
        (version < 6 ? " (re-record with trace-cmd >= 2.x)" : ""),
    );
  }
  const endianAt = r.where();
  const endian = r.u8("endianness");
  if (endian > 1)
    throw new TraceFormatError(path, endianAt, `bad endianness byte ${endian} (0 or 1 expected)`);
  r.littleEndian = endian === 0;
  const longAt = r.where();
  const userLongSize = r.u8("long size");
  if (userLongSize !== 4 && userLongSize !== 8) {
    throw new TraceFormatError(path, longAt, `bad long size ${userLongSize} (4 or 8 expected)`);
  }
  const pageAt = r.where();
  const pageSize = r.u32("page size");
  checkPageSize(path, pageAt, pageSize);

  const meta: TraceDatMeta = {
    path,
    fileSize,
    version,
    littleEndian: r.littleEndian,
    userLongSize,
    pageSize,
    compression: { name: "none", version: "" },
    headerPage: "",
    headerEvent: "",
    ftraceFormats: [],
    eventFormats: [],
    ftraceFormatPlaces: [],
    eventFormatPlaces: [],
    kallsyms: "",
    printk: "",
    cmdlines: "",
    cpuCount: 0,
    clock: "",
    uname: "",
    savedTgids: "",
    traceCmdVersion: "",
    cpuStats: [],
    date: "",
    offset: "",
    tsc2nsec: null,
    traceId: null,
    buffers: [],
    sections: [],
    warnings: [],
  };
  const st = version === 6 ? readV6(r, meta) : readV7(r, meta);
  meta.uname = st.uname;
  meta.savedTgids = st.savedTgids;
  meta.traceCmdVersion = st.version;
  meta.cpuStats = st.cpuStats;
  meta.date = st.date;
  meta.offset = st.offset;
  meta.tsc2nsec = st.tsc2nsec;
  meta.traceId = st.traceId;
  meta.warnings.push(...st.warnings);
  return meta;
}

function checkPageSize(path: string, at: number, pageSize: number): void {
  // Kernel sub-buffers are a power-of-two number of pages.
  if (pageSize < 512 || pageSize > 64 * 1024 * 1024 || (pageSize & (pageSize - 1)) !== 0) {
    throw new TraceFormatError(
      path,
      at,
      `bad page size ${pageSize} (a power of two from 512 to 64 MiB expected)`,
    );
  }
}

function checkMagic(path: string, fd: number, fileSize: number): void {
  const n = Math.min(fileSize, 64);
  const head = readExact(path, fd, fileSize, 0, n, "file start");
  const ok = n >= 10 && MAGIC.every((b, i) => head[i] === b) && decodeText(head.subarray(3, 10)) === TRACING;
  if (ok) return;
  throw new TraceFormatError(path, 0, `not a trace-cmd trace.dat file: ${describeContent(head, fileSize)}`);
}

/** Says what a file that is not a trace.dat looks like, to point the user to the right reader. */
function describeContent(head: Uint8Array, fileSize: number): string {
  if (fileSize === 0) return "the file is empty";
  const b = head;
  if (b[0] === 0x1f && b[1] === 0x8b) return "it is gzip-compressed; decompress it first (gunzip)";
  if (b[0] === 0x28 && b[1] === 0xb5 && b[2] === 0x2f && b[3] === 0xfd) {
    return "it is a zstd-compressed file; decompress it first (unzstd)";
  }
  if (b[0] === 0xfd && decodeText(b.subarray(1, 5)) === "7zXZ")
    return "it is xz-compressed; decompress it first (unxz)";
  const start = decodeText(b.subarray(0, Math.min(b.length, 16)));
  if (start.startsWith("PERFILE2") || start.startsWith("PERFFILE")) {
    return 'it is a perf.data file; record with trace-cmd, or convert with "perf script" to text';
  }
  if (MAGIC.every((x, i) => b[i] === x))
    return 'it starts with the trace.dat magic but not the word "tracing"';
  let printable = 0;
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (c === 9 || c === 10 || c === 13 || (c >= 32 && c < 127) || c >= 0xc0) printable++;
  }
  if (printable === b.length) {
    const text = decodeText(b).trimStart().toLowerCase();
    if (text.startsWith("<!doctype html") || text.startsWith("<html")) {
      return "it is an HTML file (systrace?); open it as a text trace";
    }
    return `it is text (starts with ${JSON.stringify(decodeText(b.subarray(0, 24)))}); open it as an ftrace text trace`;
  }
  const hex = Array.from(b.subarray(0, 8), (x) => x.toString(16).padStart(2, "0")).join(" ");
  return `unknown content (first bytes ${hex})`;
}

// ---------------------------------------------------------------------------------------------
// Metadata blocks shared by v6 (read in sequence from the file) and v7 (one block per section).

function readHeaderInfo(r: ByteReader, meta: TraceDatMeta): void {
  expectTag(r, "header_page", 12);
  meta.headerPage = r.sizedText(8, "header_page", LIMIT.headerInfo);
  expectTag(r, "header_event", 13);
  meta.headerEvent = r.sizedText(8, "header_event", LIMIT.headerInfo);
}

function expectTag(r: ByteReader, tag: string, len: number): void {
  const at = r.where();
  const got = r.take(len, `"${tag}" tag`);
  const want = `${tag}\0`;
  const text = decodeText(got);
  if (text.slice(0, want.length) !== want) {
    throw new TraceFormatError(r.path, at, `expected the "${tag}" tag, found ${JSON.stringify(text)}`);
  }
}

function readFtraceFormats(r: ByteReader, meta: TraceDatMeta): void {
  const n = r.count("number of ftrace formats", MAX_FORMATS, 8);
  for (let i = 0; i < n; i++) {
    const [text, place] = placedText(r, `ftrace format ${i}`);
    meta.ftraceFormats.push(text);
    meta.ftraceFormatPlaces.push(place);
  }
}

function readEventFormats(r: ByteReader, meta: TraceDatMeta): void {
  const systems = r.count("number of event systems", MAX_FORMATS, 5);
  for (let s = 0; s < systems; s++) {
    const system = r.cstring("event system name", 4096);
    const n = r.count(`number of events of system "${system}"`, MAX_FORMATS, 8);
    for (let i = 0; i < n; i++) {
      if (meta.eventFormats.length >= MAX_FORMATS) r.fail(`more than ${MAX_FORMATS} event formats: absurd`);
      const [text, place] = placedText(r, `format ${i} of system "${system}"`);
      meta.eventFormats.push({ system, text });
      meta.eventFormatPlaces.push(place);
    }
  }
}

/** A u64-length-prefixed text and where it starts. */
function placedText(r: ByteReader, what: string): [string, TextPlace] {
  const at = r.where();
  const n = r.u64(`${what} length`);
  if (n > LIMIT.format)
    r.fail(`${what} of ${n} bytes at ${at}: more than a format can be (at most ${LIMIT.format})`);
  const place = r.place();
  return [decodeText(r.take(n, what)), place];
}

// ---------------------------------------------------------------------------------------------
// Version 6: everything in sequence (FORMATS.md §3.2).

function readV6(r: FileByteReader, meta: TraceDatMeta): OptionState {
  const path = meta.path;
  readHeaderInfo(r, meta);
  readFtraceFormats(r, meta);
  readEventFormats(r, meta);
  meta.kallsyms = r.sizedText(4, "kallsyms", LIMIT.kallsyms);
  meta.printk = r.sizedText(4, "printk formats", LIMIT.printk);
  meta.cmdlines = r.sizedText(8, "saved cmdlines", LIMIT.cmdlines);
  const cpusAt = r.where();
  const headerCpus = r.u32("number of CPUs");
  if (headerCpus > MAX_CPUS) throw new TraceFormatError(path, cpusAt, `number of CPUs ${headerCpus}: absurd`);

  const st = newOptionState();
  let tagAt = r.where();
  let tag = readTag10(r);
  if (tag === "options") {
    readOptionsV6(r, st);
    tagAt = r.where();
    tag = readTag10(r);
  }
  // trace-cmd lets a CPUCOUNT option override the header count (the table then has that many entries).
  meta.cpuCount = st.cpuCount ?? headerCpus;
  if (tag === "latency") {
    meta.latencyText = decodeText(r.take(r.remaining(), "latency text"));
    return st;
  }
  if (tag !== "flyrecord") {
    throw new TraceFormatError(
      path,
      tagAt,
      `expected "options", "latency" or "flyrecord", found ${JSON.stringify(tag)}`,
    );
  }
  const top = readFlyrecordTableV6(r, meta, meta.cpuCount, "");
  const hasClock = st.traceClockText !== null;
  let clockText = "";
  if (hasClock) clockText = readClockTextV6(r, meta, "top instance");
  meta.clock = bracketedClock(st.traceClockText ?? "") || bracketedClock(clockText);
  top.clock = meta.clock;
  meta.buffers.push(top);

  for (const b of st.buffers) {
    if (b.offset >= meta.fileSize) {
      throw new TraceFormatError(
        path,
        b.optionOffset,
        `BUFFER option "${b.name}" points past the end of the file (${b.offset})`,
      );
    }
    r.seek(b.offset);
    const at = r.where();
    const t = readTag10(r);
    if (t !== "flyrecord") {
      throw new TraceFormatError(
        path,
        at,
        `instance "${b.name}": expected the "flyrecord" tag, found ${JSON.stringify(t)}`,
      );
    }
    const info = readFlyrecordTableV6(r, meta, meta.cpuCount, b.name);
    info.offset = b.offset;
    info.clock = (hasClock && bracketedClock(readClockTextV6(r, meta, `instance "${b.name}"`))) || meta.clock;
    meta.buffers.push(info);
  }
  return st;
}

function readTag10(r: ByteReader): string {
  const raw = r.take(10, "section tag");
  return cTextTrim(raw);
}

function cTextTrim(raw: Uint8Array): string {
  const nul = raw.indexOf(0);
  return decodeText(nul < 0 ? raw : raw.subarray(0, nul)).trimEnd();
}

function readOptionsV6(r: FileByteReader, st: OptionState): void {
  while (true) {
    const id = r.u16("option id");
    if (id === OptionId.DONE) return;
    const size = r.u32(`option ${id} size`);
    const at = r.where();
    const payload = r.take(size, `option ${id} payload`);
    // The window view is overwritten by the next read: copy small payloads before use.
    applyOption(st, id, payload.slice(), at, 6, r.path, r.littleEndian);
  }
}

function readFlyrecordTableV6(r: ByteReader, meta: TraceDatMeta, cpus: number, name: string): BufferInfo {
  const at = r.where();
  if (cpus * 16 > r.remaining())
    throw truncatedAt(r.path, meta.fileSize, at, cpus * 16, `the table of ${cpus} CPUs`);
  const list: CpuData[] = [];
  for (let cpu = 0; cpu < cpus; cpu++) {
    const entryAt = r.where();
    const offset = r.u64(`CPU ${cpu} data offset`);
    const size = r.u64(`CPU ${cpu} data size`);
    if (size === 0) continue;
    checkRegion(meta, entryAt, name, cpu, offset, size);
    list.push({ cpu, offset, size });
  }
  return { name, clock: "", pageSize: meta.pageSize, compressed: false, cpus: list, offset: at - 10 };
}

function checkRegion(
  meta: TraceDatMeta,
  at: number,
  name: string,
  cpu: number,
  offset: number,
  size: number,
): void {
  if (offset + size > meta.fileSize) {
    const inst = name === "" ? "" : ` of instance "${name}"`;
    throw truncatedAt(
      meta.path,
      meta.fileSize,
      offset,
      size,
      `the data of CPU ${cpu}${inst} (listed at offset ${at})`,
    );
  }
}

/**
 * The v6 clock text after a CPU table (present only when the TRACECLOCK option was). trace-cmd
 * once wrote it corrupt; like trace-cmd we then fall back (here: to the option's text) and warn.
 */
function readClockTextV6(r: ByteReader, meta: TraceDatMeta, what: string): string {
  const at = r.where();
  try {
    const size = r.u64("trace clock text length");
    if (size > 65536) r.fail(`trace clock text length ${size}: absurd`);
    return decodeText(r.take(size, "trace clock text"));
  } catch (e) {
    if (!(e instanceof TraceFormatError)) throw e;
    meta.warnings.push(
      `${what}: unreadable trace clock text at offset ${at} (${e.message}); clock taken from the options`,
    );
    return "";
  }
}

/** "[local] global counter" -> "local"; a bare clock name is taken as is. */
export function bracketedClock(text: string): string {
  const m = /\[([^\]\s]+)\]/.exec(text);
  if (m) return m[1];
  const t = text.trim();
  return /^[A-Za-z0-9_-]+$/.test(t) ? t : "";
}

// ---------------------------------------------------------------------------------------------
// Version 7: sections (FORMATS.md §3.4).

interface SectionHeader {
  id: number;
  flags: number;
  desc: number;
  size: number;
  /** offset of the header */
  offset: number;
}

function readSectionHeader(r: FileByteReader, offset: number, what: string): SectionHeader {
  if (offset + 16 > r.fileSize) throw truncatedAt(r.path, r.fileSize, offset, 16, `the ${what} header`);
  const h = readSectionFields(r, offset);
  if (offset + 16 + h.size > r.fileSize)
    throw truncatedAt(r.path, r.fileSize, offset + 16, h.size, `the ${what} (id ${h.id})`);
  return h;
}

/** The 16-byte v7 section header at `offset` (u16 id, u16 flags, u32 description, u64 size), unchecked. */
function readSectionFields(r: FileByteReader, offset: number): SectionHeader {
  r.seek(offset);
  const id = r.u16("section id");
  const flags = r.u16("section flags");
  const desc = r.u32("section description");
  const size = r.u64("section size");
  return { id, flags, desc, size, offset };
}

/** Content of a metadata/options/strings section, decompressed when flagged. */
function readSectionContent(
  r: FileByteReader,
  h: SectionHeader,
  algo: CompressionName,
  what: string,
): Uint8Array {
  const dataAt = h.offset + 16;
  const limit = sectionLimit(h.id);
  r.seek(dataAt);
  if ((h.flags & 1) === 0) {
    if (h.size > limit) tooLarge(r.path, h.offset, what, h.size, limit);
    return r.take(h.size, what).slice();
  }
  if (h.size < 8) r.fail(`${what}: compressed section of ${h.size} bytes is too small for its block header`);
  const csize = r.u32(`${what} compressed size`);
  const usize = r.u32(`${what} uncompressed size`);
  if (csize > h.size - 8) {
    throw new TraceFormatError(
      r.path,
      dataAt,
      `${what}: compressed size ${csize} exceeds the section (${h.size - 8} bytes)`,
    );
  }
  if (usize > limit) tooLarge(r.path, dataAt, what, usize, limit);
  const input = r.take(csize, what).slice();
  // one output buffer of the declared size, filled in place (no growing and joining of pieces)
  const d = new ChunkDecompressor(algo);
  try {
    return d.decompress(input, usize, r.path, dataAt, what);
  } finally {
    d.close();
  }
}

function tooLarge(path: string, at: number, what: string, size: number, limit: number): never {
  throw new TraceFormatError(
    path,
    at,
    `${what} declares ${size} bytes: more than it can sensibly hold (at most ${limit}): corrupt file`,
  );
}

function readV7(r: FileByteReader, meta: TraceDatMeta): OptionState {
  const path = meta.path;
  const compAt = r.where();
  const compName = r.cstring("compression name", 64);
  const compVersion = r.cstring("compression version", 64);
  meta.compression = { name: parseCompressionName(compName, path, compAt), version: compVersion };
  const algo = meta.compression.name;
  const optAt = r.where();
  const firstOptions = r.u64("first options section offset");
  const firstSection = r.where();
  const le = r.littleEndian;

  // 1. Scan the contiguous sections for the string tables (descriptions).
  const headers: SectionHeader[] = [];
  const strings: Uint8Array[] = [];
  let pos = firstSection;
  while (pos + 16 <= meta.fileSize) {
    if (headers.length >= MAX_SECTIONS) {
      meta.warnings.push(`more than ${MAX_SECTIONS} sections: scan stopped`);
      break;
    }
    const h = readSectionFields(r, pos);
    if (pos + 16 + h.size > meta.fileSize) {
      meta.warnings.push(
        `section scan: section at ${pos} (id ${h.id}, ${h.size} bytes) runs past the end of the file`,
      );
      break;
    }
    headers.push(h);
    if (h.id === OptionId.STRINGS) strings.push(readSectionContent(r, h, algo, "strings section"));
    pos += 16 + h.size;
  }
  if (pos < meta.fileSize && pos + 16 > meta.fileSize) {
    meta.warnings.push(
      `section scan: ${meta.fileSize - pos} bytes at ${pos} are too few for a section header`,
    );
  }
  let stringBytes = 0;
  for (const s of strings) stringBytes += s.length;
  const table = new Uint8Array(stringBytes);
  let o = 0;
  for (const s of strings) {
    table.set(s, o);
    o += s.length;
  }
  const describe = (desc: number): string => {
    if (desc >= table.length) return "";
    const end = table.indexOf(0, desc);
    return decodeText(table.subarray(desc, end < 0 ? table.length : end));
  };
  meta.sections = headers.map((h) => ({
    id: h.id,
    flags: h.flags,
    offset: h.offset,
    size: h.size,
    description: describe(h.desc),
  }));

  // 2. Follow the options chain.
  const st = newOptionState();
  if (firstOptions === 0) throw new TraceFormatError(path, optAt, "no options section (offset 0)");
  const seen = new Set<number>();
  let next = firstOptions;
  let from = optAt;
  while (next !== 0) {
    if (seen.has(next))
      throw new TraceFormatError(path, from, `options sections form a loop (offset ${next} again)`);
    if (seen.size >= MAX_OPTION_SECTIONS) throw new TraceFormatError(path, from, "too many options sections");
    seen.add(next);
    const h = readSectionHeader(r, next, "options section");
    if (h.id !== OptionId.DONE) {
      throw new TraceFormatError(path, next, `expected an options section (id 0), found section id ${h.id}`);
    }
    const content = readSectionContent(r, h, algo, "options section");
    const compressed = (h.flags & 1) !== 0;
    const br = new BlockByteReader(path, content, h.offset + 16, "options section", le);
    from = h.offset;
    next = -1;
    while (br.remaining() > 0) {
      const id = br.u16("option id");
      const size = br.u32(`option ${id} size`);
      const payloadAt = compressed ? h.offset : h.offset + 16 + br.position();
      const payload = br.take(size, `option ${id} payload`);
      if (id === OptionId.DONE) {
        if (size < 8) br.fail(`DONE option of ${size} bytes (8 expected)`);
        next = new BlockByteReader(path, payload, payloadAt, "DONE option", le).u64("next options offset");
        break;
      }
      applyOption(st, id, payload, payloadAt, 7, path, le);
    }
    if (next < 0) throw new TraceFormatError(path, h.offset, "options section ends without a DONE option");
  }

  // 3. Metadata sections.
  const section = (id: number, what: string, required: boolean): BlockByteReader | null => {
    const off = st.sectionOffsets.get(id);
    if (off === undefined) {
      if (required) throw new TraceFormatError(path, firstOptions, `no ${what} section in the options`);
      return null;
    }
    const h = readSectionHeader(r, off, `${what} section`);
    if (h.id !== id)
      throw new TraceFormatError(path, off, `expected the ${what} section (id ${id}), found id ${h.id}`);
    const content = readSectionContent(r, h, algo, `${what} section`);
    return new BlockByteReader(path, content, off + 16, `${what} section`, le);
  };
  readHeaderInfo(section(OptionId.HEADER_INFO, "header info", true)!, meta);
  const ft = section(OptionId.FTRACE_EVENTS, "ftrace events", false);
  if (ft) readFtraceFormats(ft, meta);
  const ev = section(OptionId.EVENT_FORMATS, "event formats", false);
  if (ev) readEventFormats(ev, meta);
  const ks = section(OptionId.KALLSYMS, "kallsyms", false);
  if (ks) meta.kallsyms = ks.sizedText(4, "kallsyms", LIMIT.kallsyms);
  const pk = section(OptionId.PRINTK, "printk", false);
  if (pk) meta.printk = pk.sizedText(4, "printk formats", LIMIT.printk);
  const cl = section(OptionId.CMDLINES, "cmdlines", false);
  if (cl) meta.cmdlines = cl.sizedText(8, "saved cmdlines", LIMIT.cmdlines);

  // 4. Buffers.
  let maxCpu = -1;
  for (const b of st.buffers) meta.buffers.push(bufferV7(r, meta, b, (c) => (maxCpu = Math.max(maxCpu, c))));
  meta.cpuCount = st.cpuCount ?? maxCpu + 1;
  if (maxCpu >= meta.cpuCount) {
    meta.warnings.push(`CPU ${maxCpu} has data but CPUCOUNT says ${meta.cpuCount} CPUs; using ${maxCpu + 1}`);
    meta.cpuCount = maxCpu + 1;
  }
  const top = meta.buffers.find((b) => b.name === "");
  meta.clock = bracketedClock(st.traceClockText ?? "") || top?.clock || "";

  // 5. Latency text (BUFFER_TEXT), if any.
  for (const lb of st.latencyBuffers) {
    const h = readSectionHeader(r, lb.offset, "latency section");
    if (h.id !== OptionId.BUFFER_TEXT) {
      throw new TraceFormatError(path, lb.offset, `expected a latency section (id 22), found id ${h.id}`);
    }
    const text =
      (h.flags & 1) === 0 ? r.take(h.size, "latency text").slice() : readChunkStreamAll(r, meta, h, algo);
    meta.latencyText = (meta.latencyText ?? "") + decodeText(text);
  }
  return st;
}

function bufferV7(
  r: FileByteReader,
  meta: TraceDatMeta,
  b: RawBufferOption,
  onCpu: (cpu: number) => void,
): BufferInfo {
  const what = `buffer "${b.name}"`;
  const h = readSectionHeader(r, b.offset, `${what} section`);
  if (h.id !== OptionId.BUFFER) {
    throw new TraceFormatError(
      meta.path,
      b.offset,
      `${what}: expected a buffer section (id 3), found id ${h.id}`,
    );
  }
  checkPageSize(meta.path, b.optionOffset, b.pageSize);
  const seen = new Set<number>();
  const cpus: CpuData[] = [];
  for (const c of b.cpus) {
    if (c.cpu >= MAX_CPUS)
      throw new TraceFormatError(meta.path, b.optionOffset, `${what}: CPU id ${c.cpu} is absurd`);
    if (seen.has(c.cpu))
      throw new TraceFormatError(meta.path, b.optionOffset, `${what}: CPU ${c.cpu} listed twice`);
    seen.add(c.cpu);
    onCpu(c.cpu);
    if (c.size === 0) continue;
    // A compressed stream's size leaves out its leading u32 chunk count (see CpuPageReader).
    const stored = (h.flags & 1) !== 0 ? c.size + 4 : c.size;
    checkRegion(meta, b.optionOffset, b.name, c.cpu, c.offset, stored);
    cpus.push(c);
  }
  return {
    name: b.name,
    clock: b.clock,
    pageSize: b.pageSize,
    compressed: (h.flags & 1) !== 0,
    cpus,
    offset: b.offset,
  };
}

/** Whole content of a compressed chunk stream section (used for small latency text only). */
function readChunkStreamAll(
  r: FileByteReader,
  meta: TraceDatMeta,
  h: SectionHeader,
  algo: CompressionName,
): Uint8Array {
  const reader = new CpuPageReader(
    meta.path,
    r.fd,
    meta.fileSize,
    // the section holds the whole stream; CpuPageReader adds the u32 count to a stream size
    { cpu: -1, offset: h.offset + 16, size: Math.max(0, h.size - 4) },
    LIMIT.latencyText,
    algo,
    meta.littleEndian,
  );
  const parts: Uint8Array[] = [];
  let total = 0;
  for (let p = reader.nextPage(); p; p = reader.nextPage()) {
    total += p.page.length;
    if (total > LIMIT.latencyText)
      throw new TraceFormatError(meta.path, h.offset, "latency text is absurdly large");
    parts.push(p.page.slice());
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
