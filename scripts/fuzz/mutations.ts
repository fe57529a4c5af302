// Mutations for the fuzz campaign (scripts/fuzz.ts). Blind ones (bit flips, overwrites,
// truncation) and field-aware ones that know where the ids, lengths and counts of a trace sit:
// trace.dat metadata (preamble, v6 counts and CPU table, v7 section headers, options,
// compressed-block and chunk headers), sub-buffer headers and event fields (common_pid, pids,
// CPUs) of uncompressed data, v7 metadata sections swapped for decompression bombs, and the
// numbers of ftrace text lines. Each mutation is a pure function of the seed bytes and a PRNG.

import { zstdCompressSync } from "node:zlib";
import { type PageLayout, parseHeaderPage } from "../../src/decode/header-page.ts";
import { SubBufferCursor } from "../../src/decode/page-decoder.ts";
import { TraceDatFile, type TraceDatMeta } from "../../src/sources/trace-dat-container.ts";

export type Rng = () => number;

/** mulberry32: small, fast, deterministic. */
export function prng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const int = (rng: Rng, n: number): number => Math.floor(rng() * n);
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[int(rng, xs.length)];

/** Values that break size and id checks: 0, ±1 around powers of two, the sign bit, all ones. */
const INTERESTING_32 = [
  0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 4194304,
  4194303, 99999999, 0x40000000, 0x07ffffff, 0x08000000,
];
const INTERESTING_64 = [
  0n,
  1n,
  0xffffffffn,
  0x100000001n, // 4294967297
  0x7fffffffffffffffn,
  0xffffffffffffffffn,
  1n << 53n,
  (1n << 53n) + 1n,
  0x1000000000n,
];

export interface Mutant {
  bytes: Uint8Array;
  /** mutation family, for the report */
  family: string;
  /** short description of what was changed (offsets, values) */
  detail: string;
}

/** What a trace.dat seed looks like, found once by reading it (structure for field-aware mutations). */
export interface DatSeed {
  path: string;
  bytes: Uint8Array;
  meta: TraceDatMeta;
  layout: PageLayout | null;
  /** file offsets of 4-byte words worth mutating: structure (counts, sizes, offsets, ids) */
  structWords: number[];
  /** file offsets of 8-byte structure fields (sizes, offsets) */
  structLongs: number[];
  /** uncompressed data: file offsets of sub-buffer commit words */
  commitWords: number[];
  /** uncompressed data: file offsets of event header words */
  eventHeaders: number[];
  /** uncompressed data: file offsets of id fields (common_pid, pids, CPUs) with their sizes */
  idFields: { at: number; size: number; name: string }[];
  /** v7: metadata sections (16..21) that can be replaced by a bomb: section header offset and id */
  metaSections: { offset: number; id: number }[];
}

/** Names of fields holding thread ids or CPU numbers. */
const ID_FIELD =
  /^(common_pid|pid|prev_pid|next_pid|child_pid|parent_pid|old_pid|target_cpu|orig_cpu|dest_cpu|cpu_id|cpu)$/;

/** Field offsets of id fields per event id, from the format texts. */
function idFieldsById(meta: TraceDatMeta): Map<number, { offset: number; size: number; name: string }[]> {
  const out = new Map<number, { offset: number; size: number; name: string }[]>();
  const texts = [...meta.ftraceFormats, ...meta.eventFormats.map((f) => f.text)];
  for (const text of texts) {
    const id = /^ID:\s*(\d+)/m.exec(text);
    if (!id) continue;
    const list: { offset: number; size: number; name: string }[] = [];
    for (const m of text.matchAll(/field:[^;]*?\b(\w+)\s*;\s*offset:(\d+);\s*size:(\d+);/g)) {
      if (ID_FIELD.test(m[1])) list.push({ name: m[1], offset: Number(m[2]), size: Number(m[3]) });
    }
    out.set(Number(id[1]), list);
  }
  return out;
}

export function loadDatSeed(path: string, bytes: Uint8Array): DatSeed {
  const file = TraceDatFile.open(path);
  const meta = file.meta;
  const seed: DatSeed = {
    path,
    bytes,
    meta,
    layout: null,
    structWords: [],
    structLongs: [],
    commitWords: [],
    eventHeaders: [],
    idFields: [],
    metaSections: [],
  };
  try {
    const le = meta.littleEndian;
    seed.layout = parseHeaderPage(meta.headerPage, le);
    // preamble: version .. page size; v7: the first options offset
    seed.structWords.push(14); // page size (after magic 10, "6\0", endian, long)
    for (const s of meta.sections) {
      seed.structLongs.push(s.offset + 8);
      seed.structWords.push(s.offset, s.offset + 4);
      if (s.flags & 1) seed.structWords.push(s.offset + 16, s.offset + 20);
      if (s.id >= 16 && s.id <= 21) seed.metaSections.push({ offset: s.offset, id: s.id });
      if (s.id === 0 && (s.flags & 1) === 0) {
        // options: u16 id, u32 size, payload
        let p = s.offset + 16;
        const end = s.offset + 16 + s.size;
        const dv = new DataView(bytes.buffer, bytes.byteOffset);
        while (p + 6 <= end) {
          seed.structWords.push(p + 2);
          const size = dv.getUint32(p + 2, le);
          for (let q = p + 6; q + 4 <= Math.min(p + 6 + size, end) && q < p + 6 + 64; q += 4)
            seed.structWords.push(q);
          p += 6 + size;
        }
      }
    }
    if (meta.version === 6) {
      // the counts after the header blocks: scan for the structure near tags
      const text = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 1 << 20));
      for (const tag of ["header_page", "header_event", "options  ", "flyrecord"]) {
        const at = text.indexOf(tag);
        if (at >= 0) for (let q = at; q < at + 48; q += 4) seed.structWords.push(q);
      }
      for (const b of meta.buffers) {
        for (let q = b.offset; q < b.offset + 10 + 16 * meta.cpuCount + 16; q += 4) seed.structWords.push(q);
      }
    }
    for (const b of meta.buffers) {
      if (b.compressed) {
        for (const c of b.cpus) seed.structWords.push(c.offset, c.offset + 4, c.offset + 8);
        continue;
      }
      const layout = { ...seed.layout, subBufferSize: b.pageSize };
      const cursor = new SubBufferCursor(layout, path);
      const ids = idFieldsById(meta);
      for (const c of b.cpus) {
        for (let off = c.offset; off + b.pageSize <= c.offset + c.size; off += b.pageSize) {
          seed.commitWords.push(off + layout.commitOffset);
          if (seed.eventHeaders.length > 200000) continue;
          try {
            cursor.reset(bytes, off, b.pageSize, off, c.cpu);
            let prev = off + layout.dataOffset;
            while (cursor.next()) {
              seed.eventHeaders.push(prev);
              const p = cursor.payloadOffset;
              prev = p + cursor.payloadLength;
              const id = new DataView(bytes.buffer, bytes.byteOffset).getUint16(p, le);
              for (const f of ids.get(id) ?? []) {
                if (f.size === 4 || f.size === 8)
                  seed.idFields.push({ at: p + f.offset, size: f.size, name: f.name });
              }
            }
          } catch {
            // a seed page the reader rejects: leave it out
          }
        }
      }
    }
  } finally {
    file.close();
  }
  return seed;
}

function writeInt(bytes: Uint8Array, at: number, size: number, value: bigint, le: boolean): void {
  if (at < 0 || at + size > bytes.length) return;
  const dv = new DataView(bytes.buffer, bytes.byteOffset);
  if (size === 8) dv.setBigUint64(at, BigInt.asUintN(64, value), le);
  else if (size === 4) dv.setUint32(at, Number(BigInt.asUintN(32, value)), le);
  else if (size === 2) dv.setUint16(at, Number(BigInt.asUintN(16, value)), le);
  else bytes[at] = Number(BigInt.asUintN(8, value));
}

function interesting(rng: Rng, size: number): bigint {
  if (size === 8 && rng() < 0.6) return pick(rng, INTERESTING_64);
  const v = BigInt(pick(rng, INTERESTING_32));
  return rng() < 0.15 ? v + BigInt(int(rng, 5)) - 2n : v;
}

function bitFlips(rng: Rng, src: Uint8Array, from: number, to: number, family: string): Mutant {
  const bytes = src.slice();
  const n = 1 + int(rng, 8);
  const at: number[] = [];
  for (let i = 0; i < n; i++) {
    const p = from + int(rng, Math.max(1, to - from));
    bytes[p] ^= 1 << int(rng, 8);
    at.push(p);
  }
  return { bytes, family, detail: `flipped bits at ${at.join(",")}` };
}

function truncate(rng: Rng, src: Uint8Array): Mutant {
  // mostly inside the metadata (first 64 KiB), sometimes anywhere
  const limit = rng() < 0.6 ? Math.min(src.length, 65536) : src.length;
  const n = int(rng, limit);
  return { bytes: src.slice(0, n), family: "truncate", detail: `cut at ${n}` };
}

function fieldWrite(rng: Rng, seed: DatSeed, list: number[], size: number, family: string): Mutant | null {
  if (list.length === 0) return null;
  const bytes = seed.bytes.slice();
  const at = pick(rng, list);
  const v = interesting(rng, size);
  writeInt(bytes, at, size, v, seed.meta.littleEndian);
  return { bytes, family, detail: `${size}-byte field at ${at} = ${v}` };
}

/** A v7 metadata section replaced by one that decompresses to `mib` MiB (appended; the option re-pointed). */
function bomb(rng: Rng, seed: DatSeed): Mutant | null {
  const meta = seed.meta;
  if (meta.version !== 7 || meta.compression.name !== "zstd" || seed.metaSections.length === 0) return null;
  const target = pick(rng, seed.metaSections);
  const mib = pick(rng, [48, 200, 400, 511]);
  const le = meta.littleEndian;
  const total = mib * 1024 * 1024;
  const body = Buffer.alloc(total);
  const line = Buffer.from("ffffffff81000000 T some_kernel_symbol_name\n");
  for (let o = 0; o < total; o += line.length) line.copy(body, o);
  // a length prefix the section's reader accepts: u32 (kallsyms, printk) or u64 (cmdlines)
  const dv = new DataView(body.buffer, body.byteOffset);
  if (target.id === 21) dv.setBigUint64(0, BigInt(total - 8), le);
  else dv.setUint32(0, target.id === 19 || target.id === 20 ? total - 4 : 1, le);
  const packed = zstdCompressSync(body);
  const header = new Uint8Array(16 + 8);
  const hv = new DataView(header.buffer);
  hv.setUint16(0, target.id, le);
  hv.setUint16(2, 1, le);
  hv.setUint32(4, 0xffffffff, le);
  hv.setBigUint64(8, BigInt(8 + packed.length), le);
  hv.setUint32(16, packed.length, le);
  hv.setUint32(20, total, le);
  const newAt = seed.bytes.length;
  const out = new Uint8Array(newAt + header.length + packed.length);
  out.set(seed.bytes);
  out.set(header, newAt);
  out.set(packed, newAt + header.length);
  // re-point the option (id = section id) in the uncompressed options sections
  const ov = new DataView(out.buffer);
  let patched = false;
  for (const s of meta.sections) {
    if (s.id !== 0 || (s.flags & 1) !== 0) continue;
    let p = s.offset + 16;
    const end = s.offset + 16 + s.size;
    while (p + 6 <= end) {
      const id = ov.getUint16(p, le);
      const size = ov.getUint32(p + 2, le);
      if (id === target.id && size >= 8) {
        ov.setBigUint64(p + 6, BigInt(newAt), le);
        patched = true;
      }
      p += 6 + size;
    }
  }
  if (!patched) return null;
  return { bytes: out, family: "v7-bomb", detail: `section ${target.id} -> ${mib} MiB at ${newAt}` };
}

/** One mutant of a trace.dat seed. */
export function mutateDat(rng: Rng, seed: DatSeed): Mutant {
  for (;;) {
    const r = rng();
    let m: Mutant | null = null;
    if (r < 0.15) m = bitFlips(rng, seed.bytes, 0, Math.min(seed.bytes.length, 65536), "bitflip-meta");
    else if (r < 0.25) m = bitFlips(rng, seed.bytes, 0, seed.bytes.length, "bitflip-any");
    else if (r < 0.37) m = truncate(rng, seed.bytes);
    else if (r < 0.5)
      m =
        rng() < 0.7
          ? fieldWrite(rng, seed, seed.structWords, 4, "field-struct")
          : fieldWrite(rng, seed, seed.structLongs, 8, "field-struct");
    else if (r < 0.6) m = fieldWrite(rng, seed, seed.commitWords, 4, "field-commit");
    else if (r < 0.7) m = fieldWrite(rng, seed, seed.eventHeaders, 4, "field-event-header");
    else if (r < 0.94) {
      if (seed.idFields.length > 0) {
        const f = pick(rng, seed.idFields);
        const bytes = seed.bytes.slice();
        const v = interesting(rng, f.size);
        writeInt(bytes, f.at, f.size, v, seed.meta.littleEndian);
        m = { bytes, family: "field-id", detail: `${f.name} at ${f.at} = ${v}` };
      }
    } else m = bomb(rng, seed);
    if (m) return m;
  }
}

const TEXT_NUMBER =
  /(\bpid=|\bprev_pid=|\bnext_pid=|\btarget_cpu=|\borig_cpu=|\bdest_cpu=|\bchild_pid=|\bprio=|\bcpu=|-)(\d+)|\[(\d+)\]/g;

/** One mutant of an ftrace text seed. */
export function mutateText(rng: Rng, src: Uint8Array): Mutant {
  const r = rng();
  if (r < 0.15) return bitFlips(rng, src, 0, src.length, "bitflip-any");
  if (r < 0.3) return truncate(rng, src);
  const text = Buffer.from(src.buffer, src.byteOffset, src.length).toString("latin1");
  const lines = text.split("\n");
  if (r < 0.4) {
    // duplicate, drop or swap lines (order and balance of events)
    const i = int(rng, lines.length);
    const j = int(rng, lines.length);
    const k = int(rng, 3);
    if (k === 0) lines.splice(i, 1);
    else if (k === 1) lines.splice(i, 0, lines[j]);
    else [lines[i], lines[j]] = [lines[j], lines[i]];
    return {
      bytes: Buffer.from(lines.join("\n"), "latin1"),
      family: "text-lines",
      detail: `op ${k} ${i} ${j}`,
    };
  }
  // numbers of event lines: ids, CPUs, prios
  const edits: string[] = [];
  const n = 1 + int(rng, 3);
  for (let e = 0; e < n; e++) {
    for (let tries = 0; tries < 20; tries++) {
      const i = int(rng, lines.length);
      const matches = [...lines[i].matchAll(TEXT_NUMBER)];
      if (matches.length === 0) continue;
      const m = pick(rng, matches);
      const v = String(
        rng() < 0.7 ? pick(rng, INTERESTING_32) : pick(rng, [4294967297, 2147483648, 99999999, 1e15, 1e20]),
      );
      const at = m.index ?? 0;
      const replaced = m[3] !== undefined ? `[${v}]` : `${m[1]}${v}`;
      lines[i] = lines[i].slice(0, at) + replaced + lines[i].slice(at + m[0].length);
      edits.push(`line ${i + 1}: ${m[0]} -> ${replaced}`);
      break;
    }
  }
  return { bytes: Buffer.from(lines.join("\n"), "latin1"), family: "text-field", detail: edits.join("; ") };
}
