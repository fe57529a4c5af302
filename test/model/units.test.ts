// absoluteTs: the number fast path gives exactly what BigInt arithmetic gives, and a
// bigint only past 2^53.
import assert from "node:assert/strict";
import { test } from "node:test";
import { absoluteTs, parseDuration } from "../../src/model/units.ts";

function reference(tsBase: bigint, rel: number): number | bigint {
  const abs = tsBase + BigInt(Math.round(rel));
  return abs <= BigInt(Number.MAX_SAFE_INTEGER) && abs >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(abs) : abs;
}

test("absoluteTs equals tsBase + rel computed with BigInt, on either side of 2^53", () => {
  const max = BigInt(Number.MAX_SAFE_INTEGER);
  const bases = [0n, 1_772_026_519_807n, max - 1000n, max, max + 1n, 2n ** 60n, -5n, 1n << 53n];
  const rels = [0, 1, -1, 999.5, -2.5, 2.5, 1e9, -1e9, 1e12, 4_000, -4_000, 0.4];
  for (const b of bases) for (const r of rels) assert.equal(absoluteTs(b, r), reference(b, r), `${b} + ${r}`);
  // alternate bases (the fast path caches the last one)
  for (let i = 0; i < 20; i++) {
    const b = bases[i % bases.length];
    assert.equal(absoluteTs(b, 7), reference(b, 7));
  }
  assert.equal(typeof absoluteTs(max, 1), "bigint");
  assert.equal(absoluteTs(max, 1), max + 1n);
});

test("parseDuration reads units and refuses junk", () => {
  assert.equal(parseDuration("50us"), 50_000);
  assert.equal(parseDuration("1.5s"), 1.5e9);
  assert.equal(parseDuration("1200"), 1200);
  assert.throws(() => parseDuration("fast"), /invalid duration 'fast'/);
});
