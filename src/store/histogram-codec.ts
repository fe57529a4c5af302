// The stored form of a metric's HDR histogram: HdrHistogram's standard "V2" encoding
// (uncompressed), so that any HdrHistogram implementation (Java, Go, Python, the
// hdr-histogram-js decoder) reads a stored histogram, and merged percentiles can be
// recomputed from stored runs (compare). Layout, big endian:
//
//   int32 cookie 0x1c849313 | int32 payload bytes | int32 normalizing offset (0)
//   int32 significant digits | int64 lowest | int64 highest | float64 int-to-double ratio (1.0)
//   payload: the counts array from index 0 to the max value's index, each count a ZigZag
//   LEB128 (64-bit, 9-byte variant) value; a run of N > 1 zero counts is written as -N.
//
// A 1 ns..10 s histogram with a few hundred occupied buckets takes a few hundred bytes.

import type { Histogram } from "hdr-histogram-js";
import {
  BucketReader,
  countsIndex,
  HIST_DIGITS,
  HIST_HIGHEST_NS,
  HIST_LOWEST_NS,
  newHistogram,
  recordTracked,
  trackBuckets,
} from "../analysis/histogram.ts";

const V2_COOKIE = 0x1c849313;
const HEADER_BYTES = 40;

/** The histogram internals the codec walks (hdr-histogram-js JsHistogram). */
interface HdrIndexing {
  countsArrayIndex(value: number): number;
  valueFromIndex(i: number): number;
}

/** ZigZag LEB128, HdrHistogram's 64-bit variant (the 9th byte carries 8 bits). */
function putZigZag(out: number[], value: number): void {
  let v = value >= 0 ? value * 2 : -value * 2 - 1;
  for (let i = 0; i < 8; i++) {
    if (v < 128) {
      out.push(v);
      return;
    }
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
}

/** `n` zero counts: one 0, or a run written as -n. */
function putZeros(out: number[], n: number): void {
  if (n > 0) putZigZag(out, n > 1 ? -n : 0);
}

/** HdrHistogram V2 encoding of `h` (an rtscope histogram: newHistogram's layout). */
export function encodeHistogram(h: Histogram): Uint8Array {
  const x = h as unknown as HdrIndexing;
  const payload: number[] = [];
  if (h.totalCount > 0) {
    const limit = x.countsArrayIndex(h.maxValue) + 1;
    // 32-bit buckets in place, a tracked packed histogram's untouched buckets skipped: a packed
    // array answers each index through its tree (~200 ns: 3 ms for one reaching milliseconds)
    const r = new BucketReader(h);
    // the counts from index 0 to the max's, each run of zeros between them as one number
    let next = 0;
    for (let i = r.next(0, limit); i < limit; i = r.next(i + 1, limit)) {
      const c = r.at(i);
      if (c === 0) continue;
      putZeros(payload, i - next);
      putZigZag(payload, c);
      next = i + 1;
    }
    putZeros(payload, limit - next);
  }
  return withHeader(payload);
}

/**
 * The encoding of a histogram holding the first `n` of `values` (integers 0..HIST_HIGHEST_NS),
 * byte for byte what encodeHistogram gives for it, without building it: a metric with few
 * samples keeps them instead of a histogram (MetricStats), and the packed copy it would make
 * took milliseconds to encode.
 */
export function encodeSamples(values: ArrayLike<number>, n: number): Uint8Array {
  const payload: number[] = [];
  if (n > 0) {
    const index = new Float64Array(n);
    for (let i = 0; i < n; i++) index[i] = countsIndex(values[i]);
    index.sort();
    let next = 0;
    for (let i = 0; i < n; ) {
      const at = index[i];
      let c = 0;
      while (i < n && index[i] === at) {
        c++;
        i++;
      }
      putZeros(payload, at - next);
      putZigZag(payload, c);
      next = at + 1;
    }
  }
  return withHeader(payload);
}

function withHeader(payload: number[]): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + payload.length);
  const dv = new DataView(out.buffer);
  dv.setInt32(0, V2_COOKIE);
  dv.setInt32(4, payload.length);
  dv.setInt32(8, 0);
  dv.setInt32(12, HIST_DIGITS);
  dv.setBigInt64(16, BigInt(HIST_LOWEST_NS));
  dv.setBigInt64(24, BigInt(HIST_HIGHEST_NS));
  dv.setFloat64(32, 1);
  out.set(payload, HEADER_BYTES);
  return out;
}

/**
 * The histogram `bytes` encode (encodeHistogram's output). `what` names the data in errors
 * ("run 3, task 2, latency"): a corrupt or foreign encoding is an error, never a wrong number.
 */
export function decodeHistogram(bytes: Uint8Array, what: string): Histogram {
  const bad = (why: string, offset: number): Error =>
    new Error(`${what}: stored histogram unreadable at byte ${offset}: ${why}`);
  if (bytes.byteLength < HEADER_BYTES) throw bad(`${bytes.byteLength} bytes, shorter than the header`, 0);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getInt32(0) !== V2_COOKIE)
    throw bad(`cookie 0x${(dv.getInt32(0) >>> 0).toString(16)}, expected 0x${V2_COOKIE.toString(16)}`, 0);
  const length = dv.getInt32(4);
  if (length < 0 || HEADER_BYTES + length > bytes.byteLength)
    throw bad(`payload of ${length} bytes past the end (${bytes.byteLength})`, 4);
  const digits = dv.getInt32(12);
  const lowest = Number(dv.getBigInt64(16));
  const highest = Number(dv.getBigInt64(24));
  if (digits !== HIST_DIGITS || lowest !== HIST_LOWEST_NS || highest !== HIST_HIGHEST_NS)
    throw bad(`layout ${lowest}..${highest} with ${digits} digits, expected rtscope's`, 12);
  const h = newHistogram("packed");
  const touched = trackBuckets(h);
  const x = h as unknown as HdrIndexing;
  const buckets = x.countsArrayIndex(HIST_HIGHEST_NS) + 1;
  const end = HEADER_BYTES + length;
  let pos = HEADER_BYTES;
  let index = 0;
  while (pos < end) {
    const at = pos;
    let v = 0;
    let scale = 1;
    for (let k = 0; ; k++) {
      if (pos >= end) throw bad("count cut by the end of the payload", at);
      const b = bytes[pos++];
      if (k === 8) {
        v += b * scale;
        break;
      }
      v += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) break;
      scale *= 128;
    }
    const count = v % 2 === 0 ? v / 2 : -(v + 1) / 2;
    if (count < 0) {
      index -= count;
      continue;
    }
    if (index >= buckets) throw bad(`bucket ${index} past the last one (${buckets - 1})`, at);
    if (count > 0) recordTracked(h, touched, x.valueFromIndex(index), count);
    index++;
  }
  return h;
}
