// Bounded, deterministic fuzzing of the trace.dat container reader: a seeded PRNG flips bits,
// writes odd integers, overwrites runs and truncates the shared trace.dat files in their first
// 64 KiB and in their metadata (v6 options and CPU tables, v7 section headers, options,
// strings and chunk headers). Reading the metadata and every page must either succeed or throw
// TraceFormatError: never another exception, never a hang.

import assert from "node:assert/strict";
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { after, test } from "node:test";
import { prng } from "../../scripts/fuzz/mutations.ts";
import { TraceFormatError } from "../../src/model/source.ts";
import { TraceDatFile, type TraceDatMeta } from "../../src/sources/trace-dat-container.ts";
import { publicTraces, recordedTraces, sharedAvailable } from "../helpers/paths.ts";
import { buildV6, buildV7, pages, textOpt } from "./trace-dat-container-builder.ts";

// Fixed for CI; RTSCOPE_FUZZ_SEED / RTSCOPE_FUZZ_N explore further by hand.
const SEED = Number(process.env.RTSCOPE_FUZZ_SEED ?? 0x5eed_2026);
const MUTATIONS_PER_FILE = Number(process.env.RTSCOPE_FUZZ_N ?? 60);
// A hang guard, not a benchmark: generous for a loaded 2-core CI machine.
const MAX_ITERATION_MS = 15000;

const files = [
  join(publicTraces, "lisa_example_rtapp.v6.dat"),
  join(publicTraces, "lisa_sched_load.v6.dat"),
  join(publicTraces, "trappy_trace_arm32_thermal.v6.dat"),
  join(publicTraces, "trappy_trace_idle.v6.dat"),
  join(recordedTraces, "stress-ng-cyclic.v7zstd.dat"),
];

/** [start, end) byte ranges worth mutating: the first 64 KiB and the structural metadata. */
function regions(meta: TraceDatMeta): [number, number][] {
  const out: [number, number][] = [[0, Math.min(65536, meta.fileSize)]];
  const add = (a: number, len: number) => out.push([a, Math.min(meta.fileSize, a + len)]);
  if (meta.version === 6) {
    // options block, tags, CPU table(s) and clock text sit just before the data
    for (const b of meta.buffers) add(Math.max(0, b.offset - 2048), 2048 + 16 * meta.cpuCount + 64);
  } else {
    for (const s of meta.sections) {
      // whole options and strings sections; header and block header of the others
      add(s.offset, s.id === 0 || s.id === 15 ? 16 + s.size : 48);
    }
  }
  for (const b of meta.buffers) for (const c of b.cpus) add(c.offset, 64);
  return out;
}

interface Mutation {
  describe: string;
  /** `xor`: the byte is XORed into the original instead of replacing it */
  writes: { at: number; bytes: Buffer; xor?: boolean }[];
  truncateTo?: number;
}

function mutation(rand: () => number, meta: TraceDatMeta, rs: [number, number][]): Mutation {
  const int = (n: number) => Math.floor(rand() * n);
  const [a, b] = rs[int(rs.length)];
  const at = a + int(Math.max(1, b - a));
  const kind = int(5);
  if (kind === 0) {
    const n = 1 + int(4);
    const writes: Mutation["writes"] = [];
    for (let i = 0; i < n; i++) {
      const p = a + int(Math.max(1, b - a));
      writes.push({ at: p, bytes: Buffer.from([1 << int(8)]), xor: true });
    }
    return { describe: `flip bits at ${writes.map((w) => w.at).join(",")}`, writes };
  }
  if (kind === 1 || kind === 2) {
    const width = kind === 1 ? 4 : 8;
    const candidates = [
      0,
      1,
      0x7fffffff,
      0xffffffff,
      meta.fileSize,
      meta.fileSize - 1,
      0x80000000,
      int(2 ** 32),
    ];
    const v = candidates[int(candidates.length)];
    const bytes = Buffer.alloc(width);
    if (width === 4) bytes.writeUInt32LE(v >>> 0);
    else bytes.writeBigUInt64LE(int(4) === 0 ? 0xffffffffffffffffn : BigInt(v));
    const p = at - (at % width);
    return { describe: `u${width * 8} ${bytes.toString("hex")} at ${p}`, writes: [{ at: p, bytes }] };
  }
  if (kind === 3) {
    const len = 1 + int(64);
    const bytes = Buffer.alloc(len);
    for (let i = 0; i < len; i++) bytes[i] = int(256);
    return { describe: `${len} random bytes at ${at}`, writes: [{ at, bytes }] };
  }
  return { describe: `truncate to ${at}`, writes: [], truncateTo: at };
}

const tmp = mkdtempSync(join(tmpdir(), "rtscope-tdc-fuzz-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

function readEverything(path: string): void {
  const f = TraceDatFile.open(path);
  try {
    for (const b of f.meta.buffers) {
      for (const c of b.cpus) {
        const r = f.cpuPages(b, c.cpu);
        while (r.nextPage()) {
          // just walk
        }
      }
    }
  } finally {
    f.close();
  }
}

const missing = !sharedAvailable() || !files.every(existsSync);

test(`fuzz: ${MUTATIONS_PER_FILE} mutations of each shared trace.dat, seed ${SEED.toString(16)}`, {
  skip: missing ? "shared traces missing" : false,
  timeout: 120_000,
}, () => {
  const rand = prng(SEED);
  let ok = 0;
  let refused = 0;
  let slowest = 0;
  for (const src of files) {
    const original = readFileSync(src);
    const meta = TraceDatFile.open(src);
    meta.close();
    const rs = regions(meta.meta);
    const copy = join(tmp, basename(src));
    copyFileSync(src, copy);
    for (let i = 0; i < MUTATIONS_PER_FILE; i++) {
      const m = mutation(rand, meta.meta, rs);
      // Writes stay inside the file (they must not grow it).
      for (const w of m.writes) w.bytes = w.bytes.subarray(0, Math.max(0, original.length - w.at));
      const fd = openSync(copy, "r+");
      for (const w of m.writes) {
        const bytes = Buffer.from(w.bytes);
        if (w.xor) bytes[0] ^= original[w.at];
        writeSync(fd, bytes, 0, bytes.length, w.at);
      }
      closeSync(fd);
      if (m.truncateTo !== undefined) truncateSync(copy, m.truncateTo);
      const t0 = performance.now();
      try {
        readEverything(copy);
        ok++;
      } catch (e) {
        if (!(e instanceof TraceFormatError)) {
          assert.fail(`${basename(src)} mutation ${i} (${m.describe}): ${(e as Error).stack ?? String(e)}`);
        }
        refused++;
      }
      const ms = performance.now() - t0;
      slowest = Math.max(slowest, ms);
      assert.ok(
        ms < MAX_ITERATION_MS,
        `${basename(src)} mutation ${i} (${m.describe}) took ${ms.toFixed(0)} ms`,
      );
      // restore
      const rfd = openSync(copy, "r+");
      for (const w of m.writes) writeSync(rfd, original, w.at, w.bytes.length, w.at);
      if (m.truncateTo !== undefined) {
        writeSync(rfd, original, m.truncateTo, original.length - m.truncateTo, m.truncateTo);
      }
      closeSync(rfd);
    }
  }
  // Both outcomes must occur, or the mutations are not reaching the structure.
  assert.ok(refused > 50, `refused ${refused}`);
  assert.ok(ok > 10, `read ${ok}`);
  console.log(`fuzz: ${ok} read, ${refused} refused with TraceFormatError, slowest ${slowest.toFixed(0)} ms`);
});

test(`fuzz: small byte-built v6/v7 files (zlib, zstd, big-endian), seed ${SEED.toString(16)}`, () => {
  const rand = prng(SEED ^ 0xb17);
  const int = (n: number) => Math.floor(rand() * n);
  const d = pages(3, 4096, 7);
  const inputs = [
    buildV6({
      littleEndian: false,
      cpus: 2,
      options: [textOpt(4, "[local]"), textOpt(2, "CPU: 0\n")],
      clockText: "[local]",
      cpuData: [d, d.subarray(0, 4096)],
      instances: [{ name: "i", cpuData: [d.subarray(0, 8192), new Uint8Array(0)], clockText: "[mono]" }],
    }),
    ...(["zlib", "zstd"] as const).map((algo) =>
      buildV7({
        littleEndian: algo === "zlib",
        algo,
        compressStrings: true,
        buffers: [{ name: "rt", clock: "mono", chunkPages: 1, cpus: [{ cpu: 3, data: d }] }],
      }),
    ),
  ];
  let ok = 0;
  let refused = 0;
  for (const [k, input] of inputs.entries()) {
    // Mutate the structure, not the page bytes (the reader does not look inside pages).
    const metaEnd = input.length - (k === 0 ? 4 * 4096 : 0);
    for (let i = 0; i < MUTATIONS_PER_FILE * 2; i++) {
      let bytes = input.slice();
      const at = int(metaEnd);
      const kind = int(4);
      if (kind === 0) bytes[at] ^= 1 << int(8);
      else if (kind === 1)
        new DataView(bytes.buffer).setUint32(
          Math.min(at, bytes.length - 4),
          [0, 0xffffffff, bytes.length, 1 << 31][int(4)],
        );
      else if (kind === 2) for (let j = 0; j < 16 && at + j < bytes.length; j++) bytes[at + j] = int(256);
      else bytes = bytes.subarray(0, at);
      const p = join(tmp, `built-${k}.dat`);
      writeFileSync(p, bytes);
      try {
        readEverything(p);
        ok++;
      } catch (e) {
        if (!(e instanceof TraceFormatError))
          assert.fail(`input ${k} mutation ${i} (kind ${kind} at ${at}): ${(e as Error).stack}`);
        refused++;
      }
    }
  }
  assert.ok(refused > 50 && ok > 10, `read ${ok}, refused ${refused}`);
  console.log(`fuzz (built): ${ok} read, ${refused} refused with TraceFormatError`);
});
