import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { PageLayout } from "../../src/decode/header-page.ts";
import { SubBufferCursor } from "../../src/decode/page-decoder.ts";
import { TraceFormatError } from "../../src/model/source.ts";
import { PageBuilder, record } from "./page-builder.ts";

function layout(le: boolean, longSize: 4 | 8, subBufferSize = 4096): PageLayout {
  return {
    littleEndian: le,
    kernelLongSize: longSize,
    commitOffset: 8,
    dataOffset: 8 + longSize,
    subBufferSize,
  };
}

interface Ev {
  ts: number;
  id: number;
  len: number;
  off: number;
}

function decode(
  page: Uint8Array,
  l: PageLayout,
  base = 0n,
  fileOffset = 0,
): { events: Ev[]; missed: number; c: SubBufferCursor } {
  const c = new SubBufferCursor(l, "test.dat");
  c.setBase(base);
  c.reset(page, 0, page.length, fileOffset, 0);
  const events: Ev[] = [];
  while (c.next()) {
    events.push({
      ts: c.ts,
      id: c.view.getUint16(c.payloadOffset, l.littleEndian),
      len: c.payloadLength,
      off: c.payloadOffset,
    });
  }
  return { events, missed: c.missedEvents, c };
}

const combos: [boolean, 4 | 8][] = [
  [true, 8],
  [false, 8],
  [true, 4],
  [false, 4],
];

for (const [le, longSize] of combos) {
  describe(`sub-buffer ${le ? "little" : "big"}-endian, ${longSize}-byte long`, () => {
    const l = layout(le, longSize);
    it("short-form events (type_len 1..28) with deltas", () => {
      const b = new PageBuilder({ littleEndian: le, longSize }).timestamp(1_000_000n);
      b.data(0, record(1, 10, [1, 2, 3, 4], le)); // 12 bytes: type_len 3
      b.data(5, record(2, 11, [], le)); // 8 bytes: type_len 2
      b.data(0x7ffffff, record(3, 12, new Array(104).fill(7), le)); // 112 bytes: type_len 28, max delta
      const { events, missed } = decode(b.build(), l);
      assert.equal(missed, 0);
      assert.deepEqual(
        events.map((e) => [e.ts, e.id, e.len]),
        [
          [1_000_000, 1, 12],
          [1_000_005, 2, 8],
          [1_000_005 + 0x7ffffff, 3, 112],
        ],
      );
      assert.equal(events[0].off, 8 + longSize + 4);
    });

    it("long-form events (type_len 0): payload at +8, length array[0]-4", () => {
      const b = new PageBuilder({ littleEndian: le, longSize }).timestamp(500n);
      b.longData(3, record(9, 1, new Array(192).fill(1), le)); // 200-byte payload
      b.longData(4, record(8, 1, [1, 2], le)); // 10 bytes: rounded to 12 when skipping
      b.data(1, record(7, 1, [], le));
      const { events } = decode(b.build(), l);
      assert.deepEqual(
        events.map((e) => [e.ts, e.id, e.len, e.off]),
        [
          [503, 9, 200, 8 + longSize + 8],
          [507, 8, 10, 8 + longSize + 8 + 200 + 8],
          [508, 7, 8, 8 + longSize + 8 + 200 + 8 + 12 + 4],
        ],
      );
    });

    it("padding (type 29): non-zero delta is skipped and added; delta 0 stops the page", () => {
      const b = new PageBuilder({ littleEndian: le, longSize }).timestamp(100n);
      b.data(1, record(1, 1, [], le));
      b.padding(7, 12); // discarded event: 4 + 12 bytes, delta added like libtraceevent
      b.data(2, record(2, 1, [], le));
      b.nullPadding();
      b.raw(new Uint8Array(16).fill(0xff)); // garbage after null padding, inside commit
      const { events } = decode(b.build(), l);
      assert.deepEqual(
        events.map((e) => [e.ts, e.id]),
        [
          [101, 1],
          [110, 2],
        ],
      );
    });

    it("time extend (type 30) adds (array[0] << 27) + delta", () => {
      const big = 5_000_000_000n; // 5 s: needs an extend
      const b = new PageBuilder({ littleEndian: le, longSize }).timestamp(1000n);
      b.data(0, record(1, 1, [], le));
      b.extend(big);
      b.data(0, record(2, 1, [], le));
      b.extend(1n << 27n); // array[0] = 1, delta 0
      b.data(3, record(3, 1, [], le));
      const { events } = decode(b.build(), l);
      assert.deepEqual(
        events.map((e) => e.ts),
        [1000, 1000 + 5_000_000_000, 1000 + 5_000_000_000 + 2 ** 27 + 3],
      );
    });

    it("absolute timestamp (type 31) replaces the running time", () => {
      const b = new PageBuilder({ littleEndian: le, longSize }).timestamp(1_000_000n);
      b.data(10, record(1, 1, [], le));
      b.absolute(2_000_000n);
      b.data(0, record(2, 1, [], le));
      b.data(5, record(3, 1, [], le));
      const { events } = decode(b.build(), l, 1_000_000n);
      assert.deepEqual(
        events.map((e) => e.ts),
        [10, 1_000_000, 1_000_005],
      );
    });

    it("absolute timestamp: TS_MSB fix-up restores the top bits (tai clock)", () => {
      // tai ns since 1970 have bits above 2^59: 1.75e18 = 0x184A...
      const page = 1_750_000_000_000_000_000n;
      const b = new PageBuilder({ littleEndian: le, longSize }).timestamp(page);
      b.data(0, record(1, 1, [], le));
      b.absolute(page + 123_456n); // low 59 bits stored only
      b.data(0, record(2, 1, [], le));
      // top bits roll over: the running time just below a 2^59 boundary
      const edge = (4n << 59n) - 10n;
      const b2 = new PageBuilder({ littleEndian: le, longSize }).timestamp(edge);
      b2.data(0, record(1, 1, [], le));
      b2.absolute(edge + 30n); // crosses into the next 2^59 block: stored value is tiny
      b2.data(0, record(2, 1, [], le));
      assert.deepEqual(
        decode(b.build(), l, page).events.map((e) => e.ts),
        [0, 123_456],
      );
      assert.deepEqual(
        decode(b2.build(), l, edge).events.map((e) => e.ts),
        [0, 30],
      );
    });

    it("missed events: flag without count = -1, with stored count = n", () => {
      const a = new PageBuilder({ littleEndian: le, longSize }).timestamp(1n).missed();
      a.data(0, record(1, 1, [], le));
      assert.equal(decode(a.build(), l).missed, -1);
      const b = new PageBuilder({ littleEndian: le, longSize }).timestamp(1n).missed(639);
      b.data(0, record(1, 1, [], le));
      const r = decode(b.build(), l);
      assert.equal(r.missed, 639);
      assert.equal(r.events.length, 1);
      const none = new PageBuilder({ littleEndian: le, longSize }).timestamp(1n);
      none.data(0, record(1, 1, [], le));
      assert.equal(decode(none.build(), l).missed, 0);
    });

    it("8192-byte sub-buffer: events past 4096 are read", () => {
      const l8 = layout(le, longSize, 8192);
      const b = new PageBuilder({ littleEndian: le, longSize, subBufferSize: 8192 }).timestamp(0n);
      const n = 500; // 500 * 16 bytes > 4096
      for (let i = 0; i < n; i++) b.data(1, record(i % 100, i, [0, 0, 0, 0], le));
      const { events } = decode(b.build(), l8);
      assert.equal(events.length, n);
      assert.equal(events[n - 1].ts, n);
      assert.ok(events[n - 1].off > 4096);
    });

    it("corrupt: commit larger than the page", () => {
      const b = new PageBuilder({ littleEndian: le, longSize }).timestamp(0n).commit(5000);
      b.data(0, record(1, 1, [], le));
      assert.throws(
        () => decode(b.build(), l, 0n, 0x10000),
        (e: unknown) =>
          e instanceof TraceFormatError && e.offset === 0x10008 && /commit size 5000/.test(e.message),
      );
    });

    it("corrupt: long-form array[0] runs past the committed data", () => {
      const b = new PageBuilder({ littleEndian: le, longSize }).timestamp(0n);
      b.data(0, record(1, 1, [], le));
      const at = b.offset;
      b.longData(0, record(2, 1, [], le));
      const page = b.build();
      new DataView(page.buffer).setUint32(at + 4, 3000, le); // array[0] claims 3000 bytes
      assert.throws(
        () => decode(page, l, 0n, 4096),
        (e: unknown) =>
          e instanceof TraceFormatError && e.offset === 4096 + at && /runs past/.test(e.message),
      );
    });

    it("corrupt: padding array[0] runs past the committed data", () => {
      const b = new PageBuilder({ littleEndian: le, longSize }).timestamp(0n);
      const at = b.offset;
      b.padding(1, 8);
      const page = b.build();
      new DataView(page.buffer).setUint32(at + 4, 400, le);
      assert.throws(
        () => decode(page, l),
        (e: unknown) => e instanceof TraceFormatError && e.offset === at,
      );
    });

    it("corrupt: commit cuts an event in half", () => {
      const b = new PageBuilder({ littleEndian: le, longSize }).timestamp(0n);
      b.data(0, record(1, 1, [1, 2, 3, 4, 5, 6, 7, 8], le));
      b.commit(10);
      assert.throws(() => decode(b.build(), l), TraceFormatError);
    });

    it("truncated page shorter than the header", () => {
      const c = new SubBufferCursor(l, "t.dat");
      assert.throws(
        () => c.reset(new Uint8Array(6), 0, 6, 77, 3),
        (e: unknown) => e instanceof TraceFormatError && e.offset === 77,
      );
    });
  });
}

describe("sub-buffer: big-endian 64-bit commit word", () => {
  it("reads flags from the whole long (bits 31/30 sit in the second 4 bytes)", () => {
    const b = new PageBuilder({ littleEndian: false, longSize: 8 }).timestamp(1n).missed(5);
    b.data(0, record(1, 1, [], false));
    const page = b.build();
    // high half of the long is zero: reading only the first 4 bytes would miss the flags
    assert.deepEqual([...page.subarray(8, 12)], [0, 0, 0, 0]);
    assert.equal(decode(page, layout(false, 8)).missed, 5);
  });
});

describe("sub-buffer: pages inside a larger chunk", () => {
  it("decodes a page at a non-zero start and reports file offsets from it", () => {
    const l = layout(true, 8);
    const b = new PageBuilder({ littleEndian: true, longSize: 8 }).timestamp(42n);
    b.data(1, record(5, 1, [], true));
    const chunk = new Uint8Array(3 * 4096);
    chunk.set(b.build(), 4096);
    const c = new SubBufferCursor(l, "x");
    c.reset(chunk, 4096, 4096, 8192, 1);
    assert.equal(c.next(), true);
    assert.equal(c.ts, 43);
    assert.equal(c.payloadOffset, 4096 + 16 + 4);
    assert.equal(c.next(), false);
  });
});
