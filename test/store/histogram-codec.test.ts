// The stored histogram encoding against hdr-histogram-js's own V2 encoder and decoder (an
// independent implementation of the format): each reads what the other writes, bucket by
// bucket.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { test } from "node:test";
import type { Histogram } from "hdr-histogram-js";
import { newHistogram } from "../../src/analysis/histogram.ts";
import { decodeHistogram, encodeHistogram, encodeSamples } from "../../src/store/histogram-codec.ts";

const require = createRequire(import.meta.url);
// the library's encoding module (not loaded by rtscope itself: it pulls in pako and base64-js)
const lib = require("hdr-histogram-js/dist/JsHistogram.encoding.js") as {
  doDecode(data: Uint8Array): Histogram;
  decompress(data: Uint8Array): Uint8Array;
};

interface Cells {
  countsArrayLength: number;
  getCountAtIndex(i: number): number;
}

function cells(h: Histogram): Map<number, number> {
  const x = h as unknown as Cells;
  const out = new Map<number, number>();
  for (let i = 0; i < x.countsArrayLength; i++) {
    const c = x.getCountAtIndex(i);
    if (c !== 0) out.set(i, c);
  }
  return out;
}

/** Deterministic log-spread values 1 ns .. 10 s, with repeats and a few huge counts. */
function filled(bucket: "packed" | 32): Histogram {
  const h = newHistogram(bucket);
  let seed = 12345;
  for (let i = 0; i < 5000; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    h.recordValue(Math.floor(10 ** ((seed / 2147483648) * 10)));
  }
  h.recordValueWithCount(812, 3_000_000_000); // a count past 2^31
  h.recordValue(10e9);
  h.recordValue(0);
  return h;
}

test("the library decodes what rtscope encodes, bucket for bucket", () => {
  for (const bucket of ["packed", 32] as const) {
    const h = filled(bucket);
    const back = lib.doDecode(encodeHistogram(h));
    assert.deepEqual(cells(back), cells(h));
    assert.equal(back.totalCount, h.totalCount);
    assert.equal(back.getValueAtPercentile(100), h.getValueAtPercentile(100));
  }
});

test("rtscope decodes what the library encodes", () => {
  const h = filled("packed");
  const b64 = (h as unknown as { encodeIntoCompressedBase64(): string }).encodeIntoCompressedBase64();
  const v2 = lib.decompress(new Uint8Array(Buffer.from(b64, "base64")));
  const back = decodeHistogram(v2, "library");
  assert.deepEqual(cells(back), cells(h));
  assert.equal(back.getValueAtPercentile(99), h.getValueAtPercentile(99));
});

test("an empty histogram round-trips", () => {
  const h = newHistogram();
  const bytes = encodeHistogram(h);
  assert.equal(bytes.byteLength, 40);
  assert.equal(decodeHistogram(bytes, "empty").totalCount, 0);
});

test("corrupt encodings are errors naming the data and byte offset", () => {
  const good = encodeHistogram(filled("packed"));
  assert.throws(() => decodeHistogram(good.subarray(0, 20), "run 1"), /run 1: .*byte 0: 20 bytes/);
  const cookie = good.slice();
  cookie[0] = 0;
  assert.throws(() => decodeHistogram(cookie, "run 2"), /run 2: .*byte 0: cookie/);
  const cut = good.slice(0, good.byteLength - 1);
  assert.throws(() => decodeHistogram(cut, "run 3"), /run 3: .*byte 4: payload of \d+ bytes past the end/);
  const digits = good.slice();
  new DataView(digits.buffer).setInt32(12, 2);
  assert.throws(() => decodeHistogram(digits, "run 4"), /byte 12: layout 1\.\.10000000000 with 2 digits/);
  // a count whose last byte says "more follows" at the end of the payload
  const open = good.slice();
  open[open.byteLength - 1] |= 0x80;
  assert.throws(() => decodeHistogram(open, "run 5"), /run 5: .*count cut by the end of the payload/);
});

test("a metric's few samples encode as the histogram holding them would, byte for byte", () => {
  let seed = 777;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const sets: number[][] = [
    [],
    [0],
    [1],
    [10e9],
    [5_000_000_000, 4_294_967_295, 4_294_967_296, 2047, 2048, 2049],
  ];
  for (let k = 0; k < 40; k++) {
    const n = 1 + Math.floor(rand() * 64);
    // log-spread values with repeats (a sub-bucket holding several samples)
    const v = Array.from({ length: n }, () => Math.floor(10 ** (rand() * 10)));
    for (let i = 0; i < n / 4; i++) v.push(v[Math.floor(rand() * n)]);
    sets.push(v);
  }
  for (const values of sets) {
    const h = newHistogram("packed");
    for (const x of values) h.recordValue(x);
    const fromSamples = encodeSamples(Float64Array.from(values), values.length);
    assert.deepEqual(fromSamples, encodeHistogram(h), `values ${values.slice(0, 8).join(",")}...`);
    assert.deepEqual(cells(lib.doDecode(fromSamples)), cells(h));
  }
  // only the first n of a longer buffer count
  assert.deepEqual(
    encodeSamples(Float64Array.from([5, 7, 900]), 2),
    encodeSamples(Float64Array.from([7, 5]), 2),
  );
});

test("32-bit buckets read in place encode as packed ones do", () => {
  const a = filled(32);
  const b = filled("packed");
  assert.deepEqual(encodeHistogram(a), encodeHistogram(b));
});
