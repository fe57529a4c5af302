// ChunkDecompressor (one native context reused across chunks) against the one-shot
// decompressBlock and the bytes compressed by Node's own zlib/zstd: same output, same errors,
// and a context that keeps working after a corrupt chunk.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { deflateSync, zstdCompressSync } from "node:zlib";
import { TraceFormatError } from "../../src/model/source.ts";
import { ChunkDecompressor, decompressBlock } from "../../src/sources/trace-dat/compression.ts";

function pages(n: number, seed: number): Uint8Array {
  const data = new Uint8Array(n * 4096);
  for (let i = 0; i < data.length; i++) data[i] = ((i * seed) >> 3) & 0x7f;
  return data;
}

for (const algo of ["zstd", "zlib"] as const) {
  const compress = (d: Uint8Array) => new Uint8Array(algo === "zstd" ? zstdCompressSync(d) : deflateSync(d));
  for (const oneShot of [false, true]) {
    describe(`ChunkDecompressor ${algo}${oneShot ? " (one-shot fallback)" : ""}`, () => {
      it("decompresses chunk after chunk of different sizes", () => {
        const d = new ChunkDecompressor(algo, { oneShot });
        for (const [n, seed] of [
          [10, 3],
          [1, 5],
          [10, 7],
          [3, 11],
        ]) {
          const raw = pages(n, seed);
          const out = d.decompress(compress(raw), raw.length, "f.dat", 100, "chunk");
          assert.deepEqual(out, raw);
        }
        d.close();
      });

      it("gives the one-shot errors for a wrong declared size, corrupt and truncated data, then works again", () => {
        const d = new ChunkDecompressor(algo, { oneShot });
        const raw = pages(10, 3);
        const c = compress(raw);
        const bad = c.slice();
        bad[5] ^= 0x55;
        bad[bad.length >> 1] ^= 0xff;
        const cases: [Uint8Array, number, RegExp][] = [
          [
            c,
            raw.length - 1,
            /decompress to (more than the declared 40959 bytes|40960 bytes, but 40959 were declared)/,
          ],
          [c, raw.length + 5, /decompress to 40960 bytes, but 40965 were declared/],
          [bad, raw.length, new RegExp(`corrupt ${algo} data \\(${bad.length} bytes\\)`)],
          [c.subarray(0, c.length - 10), raw.length, /corrupt .* data .*unexpected end of file/],
        ];
        for (const [input, size, re] of cases) {
          for (const f of [
            () => d.decompress(input, size, "f.dat", 100, "CPU 0 chunk 3"),
            () => decompressBlock(algo, input, size, "f.dat", 100, "CPU 0 chunk 3"),
          ]) {
            assert.throws(f, (e: unknown) => {
              assert.ok(e instanceof TraceFormatError);
              assert.equal(e.offset, 100);
              assert.match(e.message, /CPU 0 chunk 3: /);
              assert.match(e.message, re);
              return true;
            });
          }
          assert.deepEqual(d.decompress(c, raw.length, "f.dat", 100, "chunk"), raw);
        }
      });
    });
  }
}
