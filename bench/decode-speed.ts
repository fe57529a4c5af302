// Decode speed of a recorded trace: openSource + run() into a no-op sink (file reads,
// decompression, page decoding, merge, EventCatalog.fill; no analysis). Each run is a fresh
// process, as a CLI run is (JIT warm-up included); CPU time (process.cpuUsage, all threads)
// is given beside wall time because the machine is shared. With --in-memory, also the merge +
// fill loop alone over pages already decompressed in memory (steady state, after warm-up).
//
// Usage: npx node bench/decode-speed.ts [trace.dat] [--runs N] [--in-memory]
// Default file: bench/data/trace.v7.dat when present (npm run bench records it), else the
// shared recorded trace.

import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { PerformanceObserver } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { EventCatalog } from "../src/decode/event-catalog.ts";
import { parseHeaderPage } from "../src/decode/header-page.ts";
import { Diagnostics } from "../src/model/diagnostics.ts";
import type { EventRecord } from "../src/model/event.ts";
import { CpuMerge, type PageRef, type PageSource } from "../src/sources/cpu-merge.ts";
import { openSource } from "../src/sources/open-source.ts";
import { TraceDatFile } from "../src/sources/trace-dat-container.ts";

interface RunResult {
  events: number;
  openS: number;
  wallS: number;
  cpuS: number;
  gcs: number;
  gcMs: number;
}

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** One end-to-end decode in this process. */
async function decodeOnce(file: string): Promise<RunResult> {
  let gcs = 0;
  let gcMs = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcs++;
      gcMs += e.duration;
    }
  });
  obs.observe({ entryTypes: ["gc"] });
  let sink = 0;
  const c0 = cpuSeconds();
  const t0 = performance.now();
  const src = await openSource(file);
  const openS = (performance.now() - t0) / 1000;
  let events = 0;
  await src.run(
    {
      handle(rec: EventRecord) {
        events++;
        sink += rec.kind;
      },
    },
    { onProgress: () => {} },
  );
  src.close();
  const wallS = (performance.now() - t0) / 1000;
  const cpuS = cpuSeconds() - c0;
  await new Promise((r) => setTimeout(r, 20)); // let the GC entries arrive
  obs.disconnect();
  if (sink < 0) console.log(sink);
  return { events, openS, wallS, cpuS, gcs, gcMs };
}

/** One page source over a CPU's pages copied into one buffer. */
class MemoryPages implements PageSource {
  private readonly data: Uint8Array;
  private readonly pageSize: number;
  private pos = 0;
  private readonly ref: PageRef;
  constructor(data: Uint8Array, pageSize: number) {
    this.data = data;
    this.pageSize = pageSize;
    this.ref = { data, start: 0, length: pageSize, fileOffset: 0 };
  }
  rewind(): void {
    this.pos = 0;
  }
  nextPage(): PageRef | null {
    if (this.pos >= this.data.length) return null;
    this.ref.start = this.pos;
    this.ref.length = Math.min(this.pageSize, this.data.length - this.pos);
    this.ref.fileOffset = this.pos;
    this.pos += this.pageSize;
    return this.ref;
  }
}

/** Merge + fill over decompressed pages: events per CPU second of each pass. */
function inMemoryPasses(file: string, passes: number): number[] {
  const tf = TraceDatFile.open(file);
  const meta = tf.meta;
  const buffer = meta.buffers.find((b) => b.cpus.length > 0);
  if (!buffer) throw new Error(`${file}: no CPU data`);
  const layout = { ...parseHeaderPage(meta.headerPage, meta.littleEndian), subBufferSize: buffer.pageSize };
  const texts = [
    ...meta.ftraceFormats.map((text) => ({ system: "ftrace", text })),
    ...meta.eventFormats.map((f) => ({ system: f.system, text: f.text })),
  ];
  let base = -1n;
  const cpus = buffer.cpus.map((c) => {
    const r = tf.cpuPages(buffer, c.cpu);
    const pages: Uint8Array[] = [];
    for (let p = r.nextPage(); p; p = r.nextPage()) {
      const page = new Uint8Array(buffer.pageSize);
      page.set(p.page);
      pages.push(page);
    }
    const all = new Uint8Array(pages.length * buffer.pageSize);
    pages.forEach((p, i) => {
      all.set(p, i * buffer.pageSize);
    });
    if (all.length >= 8) {
      const ts = new DataView(all.buffer).getBigUint64(0, meta.littleEndian);
      if (base < 0n || ts < base) base = ts;
    }
    return { cpu: c.cpu, source: new MemoryPages(all, buffer.pageSize) };
  });
  tf.close();
  const diag = new Diagnostics();
  const catalog = new EventCatalog(texts, layout, file, diag);
  let sink = 0;
  const noop = {
    handle(rec: EventRecord) {
      sink += rec.kind;
    },
  };
  const rates: number[] = [];
  for (let i = 0; i < passes; i++) {
    for (const c of cpus) c.source.rewind();
    const c0 = cpuSeconds();
    const merge = new CpuMerge(cpus, layout, catalog, diag, file, base);
    merge.run(noop);
    rates.push(merge.events / (cpuSeconds() - c0));
  }
  if (sink < 0) console.log(sink);
  return rates;
}

const args = process.argv.slice(2);
const self = fileURLToPath(import.meta.url);
if (args[0] === "--child") {
  process.stdout.write(JSON.stringify(await decodeOnce(args[1])));
} else {
  const runsAt = args.indexOf("--runs");
  const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : 3;
  const positional = args.filter((a, i) => !a.startsWith("--") && (runsAt < 0 || i !== runsAt + 1));
  const benchData = new URL("data/trace.v7.dat", import.meta.url).pathname;
  const shared = new URL("../../shared/traces/recorded/stress-ng-cyclic.v7zstd.dat", import.meta.url)
    .pathname;
  const file = resolve(positional[0] ?? (existsSync(benchData) ? benchData : shared));
  console.log(`file: ${file}`);
  console.log("openSource + run() into a no-op sink, each run a fresh process:");
  const results: RunResult[] = [];
  for (let i = 0; i < runs; i++) {
    // process.execPath: the Node running this script (24, type stripping)
    const out = execFileSync(process.execPath, [self, "--child", file], { encoding: "utf8" });
    const r = JSON.parse(out) as RunResult;
    results.push(r);
    console.log(
      `  run ${i + 1}: ${r.events} events, CPU ${r.cpuS.toFixed(2)} s (${(r.events / r.cpuS / 1e6).toFixed(2)} M events/CPU-s), wall ${r.wallS.toFixed(2)} s (${(r.events / r.wallS / 1e6).toFixed(2)} M events/s), open ${(r.openS * 1000).toFixed(0)} ms, ${r.gcs} GCs (${r.gcMs.toFixed(0)} ms)`,
    );
  }
  const best = results.reduce((a, b) => (b.cpuS < a.cpuS ? b : a));
  const median = [...results].sort((a, b) => a.cpuS - b.cpuS)[results.length >> 1];
  console.log(
    `end-to-end decode: median ${(median.events / median.cpuS / 1e6).toFixed(2)} M events/CPU-s (CPU ${median.cpuS.toFixed(2)} s, wall ${median.wallS.toFixed(2)} s); best ${(best.events / best.cpuS / 1e6).toFixed(2)} M events/CPU-s`,
  );
  if (args.includes("--in-memory")) {
    const rates = inMemoryPasses(file, 6);
    console.log(
      `merge + fill, pages in memory, per pass: ${rates.map((r) => (r / 1e6).toFixed(1)).join(" ")} M events/CPU-s (first pass cold)`,
    );
  }
}
