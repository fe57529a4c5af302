// Builds small trace.dat files byte by byte from FORMATS.md §3 (not from the reader), in either
// byte order, for the container tests: v6 with or without an options block, the TRACECLOCK
// quirk, latency files and instances; v7 with zlib/zstd metadata and chunk streams, sparse CPU
// ids, unknown options and sections. Every field is written explicitly so a test can name the
// byte it breaks.

import { deflateSync, zstdCompressSync } from "node:zlib";

export class ByteWriter {
  private buf = new Uint8Array(1024);
  length = 0;
  readonly littleEndian: boolean;

  constructor(littleEndian = true) {
    this.littleEndian = littleEndian;
  }

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.length + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  bytes(b: Uint8Array | number[]): this {
    const a = b instanceof Uint8Array ? b : Uint8Array.from(b);
    this.room(a.length);
    this.buf.set(a, this.length);
    this.length += a.length;
    return this;
  }

  u8(v: number): this {
    return this.bytes([v & 0xff]);
  }

  u16(v: number): this {
    const b = new Uint8Array(2);
    new DataView(b.buffer).setUint16(0, v, this.littleEndian);
    return this.bytes(b);
  }

  u32(v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v >>> 0, this.littleEndian);
    return this.bytes(b);
  }

  u64(v: number | bigint): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(v), this.littleEndian);
    return this.bytes(b);
  }

  /** ASCII/UTF-8 text, optionally NUL-terminated. */
  str(s: string, nul = true): this {
    this.bytes(new TextEncoder().encode(s));
    if (nul) this.u8(0);
    return this;
  }

  padTo(multiple: number): this {
    const rem = this.length % multiple;
    if (rem) this.bytes(new Uint8Array(multiple - rem));
    return this;
  }

  patchU64(at: number, v: number): void {
    new DataView(this.buf.buffer).setBigUint64(at, BigInt(v), this.littleEndian);
  }

  patchU32(at: number, v: number): void {
    new DataView(this.buf.buffer).setUint32(at, v >>> 0, this.littleEndian);
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

export interface Meta {
  headerPage: string;
  headerEvent: string;
  ftrace: string[];
  systems: { name: string; events: string[] }[];
  kallsyms: string;
  printk: string;
  cmdlines: string;
}

export const SAMPLE_META: Meta = {
  headerPage:
    "\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n" +
    "\tfield: local_t commit;\toffset:8;\tsize:8;\tsigned:1;\n" +
    "\tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;\n" +
    "\tfield: char data;\toffset:16;\tsize:4080;\tsigned:1;\n",
  headerEvent:
    "# compressed entry header\n\ttype_len    :    5 bits\n\ttime_delta  :   27 bits\n\tarray       :   32 bits\n",
  ftrace: ["name: function\nID: 1\nformat:\n", "name: print\nID: 5\nformat:\n"],
  systems: [
    {
      name: "sched",
      events: ["name: sched_switch\nID: 316\nformat:\n", "name: sched_wakeup\nID: 318\nformat:\n"],
    },
    { name: "irq", events: ["name: irq_handler_entry\nID: 100\nformat:\n"] },
  ],
  kallsyms: "ffffffff81000000 T _stext\nffffffff81100000 t hrtimer_wakeup\n",
  printk: '0xffffffff82000000 : "hello %d\\n"\n',
  cmdlines: "1 systemd\n42 cyclictest\n",
};

export interface Opt {
  id: number;
  payload: Uint8Array;
}

export function textOpt(id: number, text: string): Opt {
  return { id, payload: new ByteWriter().str(text).result() };
}

function writeHeaderInfo(w: ByteWriter, m: Meta): void {
  w.str("header_page").u64(Buffer.byteLength(m.headerPage)).str(m.headerPage, false);
  w.str("header_event").u64(Buffer.byteLength(m.headerEvent)).str(m.headerEvent, false);
}

function writeFtrace(w: ByteWriter, m: Meta): void {
  w.u32(m.ftrace.length);
  for (const f of m.ftrace) w.u64(Buffer.byteLength(f)).str(f, false);
}

function writeEvents(w: ByteWriter, m: Meta): void {
  w.u32(m.systems.length);
  for (const s of m.systems) {
    w.str(s.name).u32(s.events.length);
    for (const e of s.events) w.u64(Buffer.byteLength(e)).str(e, false);
  }
}

function writePreamble(w: ByteWriter, version: string, pageSize: number, longSize = 8): void {
  w.bytes([0x17, 0x08, 0x44]).str("tracing", false).str(version);
  w.u8(w.littleEndian ? 0 : 1)
    .u8(longSize)
    .u32(pageSize);
}

// ------------------------------------------------------------------------------------------ v6

export interface V6Spec {
  littleEndian?: boolean;
  pageSize?: number;
  longSize?: number;
  meta?: Meta;
  cpus: number;
  /** null = no options block at all; [] = empty block */
  options: Opt[] | null;
  /** "flyrecord" (default) or "latency" */
  tag?: "flyrecord" | "latency";
  latencyText?: string;
  /** per CPU data (length = cpus); empty = no data */
  cpuData?: Uint8Array[];
  /** text after the CPU table; written only when given (the reader expects it iff option 4 is present) */
  clockText?: string;
  instances?: { name: string; cpuData: Uint8Array[]; clockText?: string }[];
}

export function buildV6(spec: V6Spec): Uint8Array {
  const w = new ByteWriter(spec.littleEndian ?? true);
  const pageSize = spec.pageSize ?? 4096;
  const m = spec.meta ?? SAMPLE_META;
  writePreamble(w, "6", pageSize, spec.longSize ?? 8);
  writeHeaderInfo(w, m);
  writeFtrace(w, m);
  writeEvents(w, m);
  w.u32(Buffer.byteLength(m.kallsyms)).str(m.kallsyms, false);
  w.u32(Buffer.byteLength(m.printk)).str(m.printk, false);
  w.u64(Buffer.byteLength(m.cmdlines)).str(m.cmdlines, false);
  w.u32(spec.cpus);
  const bufferOffsetFields: number[] = [];
  if (spec.options) {
    w.str("options  ");
    for (const o of spec.options) w.u16(o.id).u32(o.payload.length).bytes(o.payload);
    for (const inst of spec.instances ?? []) {
      w.u16(3).u32(8 + Buffer.byteLength(inst.name) + 1);
      bufferOffsetFields.push(w.length);
      w.u64(0).str(inst.name);
    }
    w.u16(0);
  }
  if (spec.tag === "latency") {
    w.str("latency  ").str(spec.latencyText ?? "", false);
    return w.result();
  }
  // Tables first (offsets patched), then page-aligned data, like trace-cmd.
  const tables: { entries: number[]; data: Uint8Array[] }[] = [];
  const table = (data: Uint8Array[], clockText?: string): void => {
    w.str("flyrecord");
    const entries: number[] = [];
    for (let c = 0; c < spec.cpus; c++) {
      entries.push(w.length);
      w.u64(0).u64(0);
    }
    if (clockText !== undefined) w.u64(Buffer.byteLength(clockText)).str(clockText, false);
    tables.push({ entries, data });
  };
  table(spec.cpuData ?? [], spec.clockText);
  (spec.instances ?? []).forEach((inst, i) => {
    w.patchU64(bufferOffsetFields[i], w.length);
    table(inst.cpuData, inst.clockText);
  });
  for (const t of tables) {
    for (let c = 0; c < spec.cpus; c++) {
      const d = t.data[c];
      if (!d || d.length === 0) continue;
      w.padTo(pageSize);
      w.patchU64(t.entries[c], w.length);
      w.patchU64(t.entries[c] + 8, d.length);
      w.bytes(d);
    }
  }
  return w.result();
}

// ------------------------------------------------------------------------------------------ v7

export type Algo = "none" | "zlib" | "zstd";

export function compress(algo: Algo, data: Uint8Array): Uint8Array {
  if (algo === "zlib") return new Uint8Array(deflateSync(data));
  if (algo === "zstd") return new Uint8Array(zstdCompressSync(data));
  throw new Error("no compression");
}

export interface V7Buffer {
  name: string;
  clock: string;
  pageSize?: number;
  /** listed CPUs (ids may be sparse); data empty = listed with size 0 */
  cpus: { cpu: number; data: Uint8Array }[];
  /** sub-buffers per compressed chunk (trace-cmd: 10) */
  chunkPages?: number;
}

export interface V7Spec {
  littleEndian?: boolean;
  pageSize?: number;
  meta?: Meta;
  algo: Algo;
  /** compress metadata sections (default: algo !== "none") */
  compressMeta?: boolean;
  /** compress buffer data (default: algo !== "none") */
  compressData?: boolean;
  compressionVersion?: string;
  /** options written in the first options section (after the metadata offsets) */
  options?: Opt[];
  buffers: V7Buffer[];
  /** add a section with an id the reader does not know */
  unknownSection?: boolean;
  /** write the strings (descriptions) section compressed */
  compressStrings?: boolean;
  /** a latency section (id 22) with this text and its BUFFER_TEXT option */
  latencyText?: string;
}

export function buildV7(spec: V7Spec): Uint8Array {
  const w = new ByteWriter(spec.littleEndian ?? true);
  const pageSize = spec.pageSize ?? 4096;
  const m = spec.meta ?? SAMPLE_META;
  const algo = spec.algo;
  const compressMeta = spec.compressMeta ?? algo !== "none";
  const compressData = spec.compressData ?? algo !== "none";
  writePreamble(w, "7", pageSize);
  w.str(algo).str(spec.compressionVersion ?? (algo === "none" ? "" : "1.0"));
  const firstOptionsField = w.length;
  w.u64(0);

  const strings: string[] = [];
  let stringsLen = 0;
  const desc = (s: string): number => {
    const at = stringsLen;
    strings.push(s);
    stringsLen += Buffer.byteLength(s) + 1;
    return at;
  };
  const section = (id: number, description: string, content: Uint8Array, compressed: boolean): number => {
    const at = w.length;
    let body = content;
    if (compressed) {
      const c = compress(algo, content);
      body = new ByteWriter(w.littleEndian).u32(c.length).u32(content.length).bytes(c).result();
    }
    w.u16(id)
      .u16(compressed ? 1 : 0)
      .u32(desc(description))
      .u64(body.length)
      .bytes(body);
    return at;
  };
  const block = (fill: (b: ByteWriter) => void): Uint8Array => {
    const b = new ByteWriter(w.littleEndian);
    fill(b);
    return b.result();
  };
  const metaOffsets: [number, number][] = [];
  metaOffsets.push([
    16,
    section(
      16,
      "headers",
      block((b) => writeHeaderInfo(b, m)),
      compressMeta,
    ),
  ]);
  metaOffsets.push([
    17,
    section(
      17,
      "ftrace events",
      block((b) => writeFtrace(b, m)),
      compressMeta,
    ),
  ]);
  metaOffsets.push([
    18,
    section(
      18,
      "events format",
      block((b) => writeEvents(b, m)),
      compressMeta,
    ),
  ]);
  metaOffsets.push([
    19,
    section(
      19,
      "kallsyms",
      block((b) => b.u32(Buffer.byteLength(m.kallsyms)).str(m.kallsyms, false)),
      compressMeta,
    ),
  ]);
  metaOffsets.push([
    20,
    section(
      20,
      "printk",
      block((b) => b.u32(Buffer.byteLength(m.printk)).str(m.printk, false)),
      compressMeta,
    ),
  ]);
  metaOffsets.push([
    21,
    section(
      21,
      "command lines",
      block((b) => b.u64(Buffer.byteLength(m.cmdlines)).str(m.cmdlines, false)),
      compressMeta,
    ),
  ]);

  // First options section: metadata offsets, given options, DONE -> second.
  w.patchU64(firstOptionsField, w.length);
  const opts1 = new ByteWriter(w.littleEndian);
  for (const [id, off] of metaOffsets) opts1.u16(id).u32(8).u64(off);
  for (const o of spec.options ?? []) opts1.u16(o.id).u32(o.payload.length).bytes(o.payload);
  opts1.u16(0).u32(8);
  const done1Field = opts1.length;
  opts1.u64(0);
  const opts1At = w.length;
  const opts1Bytes = opts1.result();
  w.u16(0).u16(0).u32(desc("options")).u64(opts1Bytes.length);
  const opts1Body = w.length;
  w.bytes(opts1Bytes);

  // Buffer sections.
  const bufferOptions: Opt[] = [];
  for (const b of spec.buffers) {
    const ps = b.pageSize ?? pageSize;
    const secAt = w.length;
    w.u16(3)
      .u16(compressData ? 1 : 0)
      .u32(desc(`buffer flyrecord ${b.name}`))
      .u64(0);
    const start = w.length;
    const listed: { cpu: number; offset: number; size: number }[] = [];
    for (const c of b.cpus) {
      if (c.data.length === 0) {
        listed.push({ cpu: c.cpu, offset: 0, size: 0 });
        continue;
      }
      w.padTo(ps);
      const offset = w.length;
      if (!compressData) {
        w.bytes(c.data);
        listed.push({ cpu: c.cpu, offset, size: c.data.length });
        continue;
      }
      const per = (b.chunkPages ?? 10) * ps;
      const nChunks = Math.ceil(c.data.length / per);
      w.u32(nChunks);
      for (let i = 0; i < nChunks; i++) {
        const part = c.data.subarray(i * per, Math.min(c.data.length, (i + 1) * per));
        const z = compress(algo, part);
        w.u32(z.length).u32(part.length).bytes(z);
      }
      // trace-cmd's size leaves out the u32 chunk count.
      listed.push({ cpu: c.cpu, offset, size: w.length - offset - 4 });
    }
    w.patchU64(secAt + 8, w.length - start);
    const p = new ByteWriter(w.littleEndian).u64(secAt).str(b.name).str(b.clock).u32(ps).u32(listed.length);
    for (const l of listed) p.u32(l.cpu).u64(l.offset).u64(l.size);
    bufferOptions.push({ id: 3, payload: p.result() });
  }

  if (spec.latencyText !== undefined) {
    const text = new TextEncoder().encode(spec.latencyText);
    const secAt = w.length;
    w.u16(22)
      .u16(compressData ? 1 : 0)
      .u32(desc("buffer latency"))
      .u64(0);
    const start = w.length;
    if (!compressData) w.bytes(text);
    else {
      // chunk stream of 4 KiB pieces, as trace-cmd's copy_file_compress
      const n = Math.ceil(text.length / 4096);
      w.u32(n);
      for (let i = 0; i < n; i++) {
        const part = text.subarray(i * 4096, Math.min(text.length, (i + 1) * 4096));
        const z = compress(algo, part);
        w.u32(z.length).u32(part.length).bytes(z);
      }
    }
    w.patchU64(secAt + 8, w.length - start);
    bufferOptions.push({
      id: 22,
      payload: new ByteWriter(w.littleEndian).u64(secAt).str("").str("local").result(),
    });
  }

  // Second options section: BUFFER options, DONE 0.
  const opts2At = w.length;
  new DataView(opts1Bytes.buffer).setBigUint64(done1Field, BigInt(opts2At), w.littleEndian);
  const o2 = new ByteWriter(w.littleEndian);
  for (const o of bufferOptions) o2.u16(o.id).u32(o.payload.length).bytes(o.payload);
  o2.u16(0).u32(8).u64(0);
  const o2Bytes = o2.result();
  w.u16(0).u16(0).u32(desc("options")).u64(o2Bytes.length).bytes(o2Bytes);
  // re-write options section 1 with the patched DONE offset
  const final = w.result();
  final.set(opts1Bytes, opts1Body);
  void opts1At;
  const tail = new ByteWriter(w.littleEndian).bytes(final);
  if (spec.unknownSection) {
    const junk = new TextEncoder().encode("future section content");
    tail.u16(77).u16(0).u32(desc("future")).u64(junk.length).bytes(junk);
  }
  const strDesc = desc("strings");
  const table = new ByteWriter(w.littleEndian);
  for (const s of strings) table.str(s);
  const tbytes = table.result();
  if (spec.compressStrings) {
    const c = compress(algo, tbytes);
    tail
      .u16(15)
      .u16(1)
      .u32(strDesc)
      .u64(8 + c.length)
      .u32(c.length)
      .u32(tbytes.length)
      .bytes(c);
  } else {
    tail.u16(15).u16(0).u32(strDesc).u64(tbytes.length).bytes(tbytes);
  }
  return tail.result();
}

/** `n` pages of `pageSize` bytes, each starting with its index (u32 LE) and filled with `seed`. */
export function pages(n: number, pageSize: number, seed: number, tail = 0): Uint8Array {
  const out = new Uint8Array(n * pageSize + tail);
  for (let i = 0; i < out.length; i++) out[i] = (seed + i * 7) & 0xff;
  for (let p = 0; p < n; p++) new DataView(out.buffer).setUint32(p * pageSize, p, true);
  return out;
}
