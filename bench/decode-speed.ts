// Decode speed of the merge + fill loop (pages already in memory, no-op sink), and of the
// whole trace.dat source (file reads and decompression included).
// Usage: npx node bench/decode-speed.ts [trace.dat] [seconds]

import { resolve } from "node:path";
import { EventCatalog } from "../src/decode/event-catalog.ts";
import { parseFormat } from "../src/decode/format-file.ts";
import { parseHeaderPage } from "../src/decode/header-page.ts";
import { Diagnostics } from "../src/model/diagnostics.ts";
import type { EventRecord } from "../src/model/event.ts";
import { CpuMerge, type PageRef, type PageSource } from "../src/sources/cpu-merge.ts";
import { openTraceDat, type TraceDatSource } from "../src/sources/trace-dat.ts";
import { TraceDatFile } from "../src/sources/trace-dat-container.ts";

const file = resolve(
  process.argv[2] ??
    new URL("../../shared/traces/recorded/stress-ng-cyclic.v7zstd.dat", import.meta.url).pathname,
);
const seconds = Number(process.argv[3] ?? 3);

/** One CPU's pages, all in one buffer. */
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

// load the buffer the source would read
const probe = (await openTraceDat(file)) as TraceDatSource;
const buffer = probe.buffer;
probe.close();
const tf = TraceDatFile.open(file);
const meta = tf.meta;
const layout = { ...parseHeaderPage(meta.headerPage, meta.littleEndian), subBufferSize: buffer.pageSize };
const formats = [
  ...meta.ftraceFormats.map((t) => parseFormat(t, "ftrace")),
  ...meta.eventFormats.map((f) => parseFormat(f.text, f.system)),
];
const cpus = buffer.cpus.map((c) => {
  const r = tf.cpuPages(buffer, c.cpu);
  const parts: Uint8Array[] = [];
  for (let p = r.nextPage(); p; p = r.nextPage()) {
    const page = new Uint8Array(buffer.pageSize);
    page.set(p.page);
    parts.push(page);
  }
  const all = new Uint8Array(parts.length * buffer.pageSize);
  parts.forEach((p, i) => {
    all.set(p, i * buffer.pageSize);
  });
  return { cpu: c.cpu, source: new MemoryPages(all, buffer.pageSize) };
});
tf.close();
let base = -1n;
for (const c of cpus) {
  const ts = new DataView(c.source.nextPage()!.data.buffer).getBigUint64(0, meta.littleEndian);
  if (base < 0n || ts < base) base = ts;
  c.source.rewind();
}

let sink = 0;
const noop = {
  handle(rec: EventRecord) {
    sink += rec.kind;
  },
};

const diag = new Diagnostics();
const catalog = new EventCatalog(formats, layout, file, diag);

function pass(): number {
  for (const c of cpus) c.source.rewind();
  const merge = new CpuMerge(cpus, layout, catalog, diag, file, base);
  merge.run(noop);
  return merge.events;
}

// warm up, then measure
for (let i = 0; i < 20; i++) pass();
// CPU time as well as wall time: on a loaded machine the wall-clock rate understates
function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}
let events = 0;
const t0 = performance.now();
const c0 = cpuSeconds();
while (performance.now() - t0 < seconds * 1000) events += pass();
const mergeRate = events / ((performance.now() - t0) / 1000);
const mergeCpuRate = events / (cpuSeconds() - c0);

let e2eEvents = 0;
let openMs = 0;
let runMs = 0;
const t1 = performance.now();
const c1 = cpuSeconds();
while (!process.env.BENCH_MERGE_ONLY && performance.now() - t1 < seconds * 1000) {
  const a = performance.now();
  const src = await openTraceDat(file);
  const b = performance.now();
  await src.run({ handle: () => e2eEvents++ });
  runMs += performance.now() - b;
  openMs += b - a;
  src.close();
}
const e2eRate = e2eEvents / ((openMs + runMs) / 1000);
const runRate = e2eEvents / (runMs / 1000);
const e2eCpuRate = e2eEvents / (cpuSeconds() - c1);

console.log(`file: ${file} (${buffer.cpus.length} CPUs, buffer "${buffer.name}")`);
const m = (v: number) => `${(v / 1e6).toFixed(2)} M events/s`;
console.log(
  `merge + fill (pages in memory, no-op sink): ${m(mergeRate)} wall, ${m(mergeCpuRate)} per CPU second`,
);
if (e2eEvents > 0) {
  console.log(`trace.dat source run() (read, decompress, decode, merge): ${m(runRate)} wall`);
  console.log(
    `trace.dat source end to end incl. open (metadata, ${formats.length} formats): ${m(e2eRate)} wall, ${m(e2eCpuRate)} per CPU second; open ${openMs.toFixed(0)} ms over the runs`,
  );
}
if (sink < 0) console.log(sink);
