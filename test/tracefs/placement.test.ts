// Where and at what priority the live reader runs by default, and the default buffer size.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defaultBufferSizeKb, maxPollFor, stallCoverS } from "../../src/sources/tracefs-live.ts";
import { DEFAULT_READER_PRIORITY, readerPlacement } from "../../src/tracefs/capture-session.ts";

const cpus = { online: [0, 1, 2, 3], isolated: [] as number[], nohzFull: [] as number[] };

describe("reader placement", () => {
  it("as root, by default: SCHED_FIFO above every normal task, no pinning without isolation", () => {
    const p = readerPlacement({ isRoot: true, ...cpus });
    assert.equal(p.priority, DEFAULT_READER_PRIORITY);
    assert.equal(p.cpuList, null);
    assert.ok(DEFAULT_READER_PRIORITY >= 1 && DEFAULT_READER_PRIORITY < 50, "below IRQ threads (50)");
  });

  it("an RT reader stays off isolated and nohz_full CPUs", () => {
    const p = readerPlacement({ isRoot: true, ...cpus, isolated: [2], nohzFull: [3] });
    assert.equal(p.cpuList, "0,1");
    assert.match(p.notes.join(), /isolated/);
  });

  it("--priority normal, --priority N and --cpu are obeyed", () => {
    assert.equal(
      readerPlacement({ isRoot: true, priority: "normal", ...cpus, isolated: [2] }).priority,
      null,
    );
    assert.equal(readerPlacement({ isRoot: true, priority: "normal", ...cpus, isolated: [2] }).cpuList, null);
    assert.equal(readerPlacement({ isRoot: true, priority: 20, ...cpus }).priority, 20);
    assert.equal(readerPlacement({ isRoot: true, cpuList: "3", ...cpus, isolated: [3] }).cpuList, "3");
  });

  it("not root: normal priority (no RT without privileges)", () => {
    assert.equal(readerPlacement({ isRoot: false, ...cpus }).priority, null);
  });
});

describe("default buffer size", () => {
  it("covers a 1 s stall at 100 k events/s per CPU, within 1/64 of memory, at least 1 MiB", () => {
    const kb = defaultBufferSizeKb(2, 24 * 1024 * 1024);
    assert.ok(stallCoverS(kb, 100_000) >= 1 && stallCoverS(kb, 100_000) < 1.01);
    // a 512 MiB board with 4 CPUs: 2 MiB per CPU at most
    assert.equal(defaultBufferSizeKb(4, 512 * 1024), 2048);
    assert.equal(defaultBufferSizeKb(64, 256 * 1024), 1024);
  });
});

describe("the reader's longest sleep", () => {
  it("is at most half the time a buffer takes to fill at 0.5 M events/s per CPU, 50..200 ms", () => {
    for (const kb of [1024, 2048, 4096, defaultBufferSizeKb(2, 24 * 1024 * 1024), 16384, 1 << 20]) {
      const ms = maxPollFor(kb);
      assert.ok(ms >= 50 && ms <= 200, `${kb} KiB: ${ms} ms`);
      // the 50 ms floor is the bound every buffer had before; above it, half the fill time
      if (ms > 50) assert.ok(ms <= (stallCoverS(kb, 500_000) * 1000) / 2 + 0.5, `${kb} KiB: ${ms} ms`);
    }
    assert.equal(maxPollFor(defaultBufferSizeKb(2, 24 * 1024 * 1024)), 100);
  });
});
