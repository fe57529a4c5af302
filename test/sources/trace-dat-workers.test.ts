// trace.dat pages read and decompressed in worker threads (--threads N,
// src/sources/trace-dat/page-workers.ts): the events, diagnostics and reports are the same as
// with everything on the main thread, on the fixtures and the shared traces; a read error in
// a worker reaches the caller as the error the main-thread reader throws (same class, file,
// offset and text), or as the same counted loss without --strict.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { analyzeTrace } from "../../src/cli/analyze-trace.ts";
import { parseReportArgs } from "../../src/cli/report.ts";
import type { EventRecord } from "../../src/model/event.ts";
import { SkippedDataError, TraceFormatError } from "../../src/model/source.ts";
import type { TraceDatPage } from "../../src/sources/trace-dat/cpu-page-reader.ts";
import { controlWords, RingPages, RingWriter, ringBytes } from "../../src/sources/trace-dat/page-ring.ts";
import { TraceDatSource } from "../../src/sources/trace-dat.ts";
import {
  fixturesDir,
  publicTraces,
  recordedTraces,
  skipWithoutShared,
  traceDatFiles,
} from "../helpers/paths.ts";

const dir = mkdtempSync(join(tmpdir(), "rtscope-workers-"));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Decoded {
  events: number;
  digest: string;
  diagnostics: string;
}

/** Every record's fields and payload bytes, hashed; the diagnostics as JSON. */
async function decode(path: string, opts: { threads: number; strict?: boolean; pagesPerRead?: number }) {
  const src = new TraceDatSource(path, opts);
  const hash = createHash("sha256");
  let events = 0;
  const line = (r: EventRecord) => {
    const payload =
      r.data === null ? "" : Buffer.from(r.data.subarray(r.offset, r.offset + r.length)).toString("hex");
    return `${r.kind} ${r.id} ${r.cpu} ${r.ts} ${r.currentTid} ${r.flags} ${r.preemptCount} ${r.tid} ${r.prio} ${r.targetCpu} ${r.prevTid} ${r.prevPrio} ${r.prevState} ${r.nextTid} ${r.nextPrio} ${r.irq} ${r.vec} ${r.timerKey} ${r.expires} ${r.lostCount} ${r.lostUntil} ${payload}\n`;
  };
  try {
    await src.run({
      handle(r) {
        events++;
        hash.update(line(r));
      },
    });
  } finally {
    src.close();
  }
  return {
    events,
    digest: hash.digest("hex"),
    diagnostics: JSON.stringify(src.diagnostics.list()),
  } as Decoded;
}

async function report(path: string, threads: number): Promise<string> {
  const o = parseReportArgs([path, "--rt", "--slo", "latency=50us", "--worst", "3"]);
  assert.ok(o !== "help");
  const { report: r } = await analyzeTrace(path, {
    selection: o.selection,
    slo: o.slo,
    worstN: o.worstN,
    wakeupEvent: o.wakeupEvent,
    windows: true,
    threads,
  });
  return JSON.stringify(r);
}

describe("decode workers: the same events and reports", () => {
  for (const f of traceDatFiles(join(fixturesDir, "trace-dat"))) {
    const name = f.slice(fixturesDir.length + 1);
    it(`${name}: events, diagnostics and --rt report with 0, 1 and 2 workers`, async () => {
      const base = await decode(f, { threads: 0 });
      assert.deepEqual(await decode(f, { threads: 1 }), base);
      assert.deepEqual(await decode(f, { threads: 2 }), base);
      // one page per read for uncompressed data: the most records through the ring
      assert.deepEqual(await decode(f, { threads: 1, pagesPerRead: 1 }), base);
      assert.equal(await report(f, 1), await report(f, 0));
    });
  }
  for (const f of [...traceDatFiles(publicTraces), ...traceDatFiles(recordedTraces)]) {
    const name = f.slice(f.lastIndexOf("/") + 1);
    it(`shared ${name}: events, diagnostics and --rt report with and without workers`, {
      skip: skipWithoutShared,
    }, async () => {
      const base = await decode(f, { threads: 0 });
      assert.ok(base.events > 0);
      assert.deepEqual(await decode(f, { threads: 1 }), base);
      assert.deepEqual(await decode(f, { threads: 2 }), base);
      assert.equal(await report(f, 1), await report(f, 0));
    });
  }
});

/** zstd frame starts in the file (each chunk of a v7 CPU stream is one frame). */
function frames(file: Buffer): number[] {
  const magic = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
  const at: number[] = [];
  for (let i = file.indexOf(magic); i >= 0; i = file.indexOf(magic, i + 1)) at.push(i);
  return at;
}

async function failure(path: string, threads: number): Promise<TraceFormatError> {
  try {
    await decode(path, { threads, strict: true });
  } catch (e) {
    assert.ok(e instanceof TraceFormatError, `a TraceFormatError, not ${String(e)}`);
    return e;
  }
  assert.fail("expected the strict read to fail");
}

/** Open file descriptors of this process (each worker has one, closed once it has exited). */
const openFds = () => readdirSync("/proc/self/fd").length;

describe("decode workers: errors", () => {
  const V7 = join(fixturesDir, "trace-dat/hackbench/trace.v7.dat");

  it("the workers have exited once run() is over, after the end of the data or an error", async () => {
    const before = openFds();
    await decode(V7, { threads: 2 });
    assert.equal(openFds(), before, "after a whole read");
    const file = Buffer.from(readFileSync(V7));
    const all = frames(file);
    file[all[all.length - 5]] ^= 0xff;
    const path = join(dir, "bad-chunk-fds.v7.dat");
    writeFileSync(path, file);
    await failure(path, 2);
    assert.equal(openFds(), before, "after a failed read");
  });

  it("a chunk that does not decompress: the same SkippedDataError with --strict, the same loss without", async () => {
    const file = Buffer.from(readFileSync(V7));
    const all = frames(file);
    // a chunk in the middle of the last CPU's stream (past the pages read at open)
    const victim = all[all.length - 5];
    file[victim] ^= 0xff;
    const path = join(dir, "bad-chunk.v7.dat");
    writeFileSync(path, file);
    const inMain = await failure(path, 0);
    const inWorker = await failure(path, 1);
    assert.ok(inWorker instanceof SkippedDataError);
    assert.equal(inWorker.constructor, inMain.constructor);
    assert.equal(inWorker.message, inMain.message);
    assert.equal(inWorker.file, path);
    assert.equal(inWorker.offset, victim - 8, "the chunk's header offset");
    const loose = await decode(path, { threads: 0 });
    assert.match(loose.diagnostics, /corrupt_subbuffer/);
    assert.deepEqual(await decode(path, { threads: 1 }), loose);
  });

  it("a chunk running past its CPU's data: the same TraceFormatError, the CPU's data end there without --strict", async () => {
    const file = Buffer.from(readFileSync(V7));
    const all = frames(file);
    const victim = all[all.length - 3] - 8;
    file.writeUInt32LE(0x7fff_0000, victim); // compressed size
    const path = join(dir, "long-chunk.v7.dat");
    writeFileSync(path, file);
    const inMain = await failure(path, 0);
    const inWorker = await failure(path, 2);
    assert.ok(!(inWorker instanceof SkippedDataError));
    assert.equal(inWorker.message, inMain.message);
    assert.equal(inWorker.offset, victim);
    assert.match(inWorker.message, /long-chunk\.v7\.dat: at offset \d+ .*run past the CPU's data/);
    const loose = await decode(path, { threads: 0 });
    assert.deepEqual(await decode(path, { threads: 1 }), loose);
  });
});

describe("page ring", () => {
  it("carries pages of any length across the ring's end, in order, and errors of other classes", () => {
    const size = ringBytes(4096, 0);
    const buffer = new SharedArrayBuffer(size);
    const control = new Int32Array(new SharedArrayBuffer(controlWords(1) * 4));
    const writer = new RingWriter(buffer, control, 0);
    const pages = new RingPages(buffer, control, 0, 100, false, undefined, () => "stalled");
    const sent: number[] = [];
    let next = 0;
    let got = 0;
    const page = (n: number): TraceDatPage => {
      const bytes = new Uint8Array(1 + ((n * 977) % 4096)).fill(n & 0xff);
      return {
        page: bytes,
        fileOffset: 100 + n * 4096,
        index: n,
        streamOffset: n * 4096,
        chunk: -1,
        inChunk: 0,
      };
    };
    // the writer never blocks: fill until full, then read some, many times round the ring
    while (got < 2000) {
      while (next < 2000 && writer.page(page(next))) sent.push(next++);
      if (next === 2000 && sent.length === got) break;
      for (let k = 0; k < 3 && got < next; k++, got++) {
        const r = pages.nextPage();
        assert.ok(r !== null);
        const want = page(got);
        assert.equal(r.length, want.page.length);
        assert.equal(r.fileOffset, want.fileOffset);
        assert.ok(r.data.subarray(r.start, r.start + r.length).every((b) => b === (got & 0xff)));
        assert.equal(pages.consumed, want.fileOffset - 100 + want.page.length);
      }
    }
    assert.equal(got, 2000);
    const io = Object.assign(new Error("EIO: i/o error, read"), { code: "EIO" });
    assert.ok(writer.error(io));
    assert.throws(
      () => pages.nextPage(),
      (e: Error & { code?: string }) =>
        !(e instanceof TraceFormatError) &&
        e.code === "EIO" &&
        /decode worker: EIO: i\/o error/.test(e.message),
    );
    assert.equal(pages.nextPage(), null, "nothing is read after an error that ends the data");
  });
});
