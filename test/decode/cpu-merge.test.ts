// The per-CPU merge (src/sources/cpu-merge.ts) over hand-built sub-buffers.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EventCatalog } from "../../src/decode/event-catalog.ts";
import { parseFormat } from "../../src/decode/format-file.ts";
import { Diagnostics } from "../../src/model/diagnostics.ts";
import type { EventRecord } from "../../src/model/event.ts";
import { EventKind } from "../../src/model/event-kind.ts";
import { CpuMerge, PageQueue, type PageRef, type PageSource } from "../../src/sources/cpu-merge.ts";
import { COMMON_FIELDS, layout64 } from "./common-fields.ts";
import { PageBuilder, record } from "./page-builder.ts";

const layout = layout64();
const FORMAT = `name: sched_waking
ID: 5
format:
${COMMON_FIELDS}
	field:char comm[16];	offset:8;	size:16;	signed:0;
	field:pid_t pid;	offset:24;	size:4;	signed:1;
	field:int prio;	offset:28;	size:4;	signed:1;
	field:int target_cpu;	offset:32;	size:4;	signed:1;

print fmt: "comm=%s pid=%d prio=%d target_cpu=%03d", REC->comm, REC->pid, REC->prio, REC->target_cpu
`;

/** A page with events at absolute times `times` (tid = the time, for checking). */
function page(times: number[], missed?: number | "unknown"): Uint8Array {
  const b = new PageBuilder({ littleEndian: true, longSize: 8 }).timestamp(BigInt(times[0] ?? 0));
  if (missed === "unknown") b.missed();
  else if (missed !== undefined) b.missed(missed);
  let t = times[0] ?? 0;
  for (const x of times) {
    const rest = new Uint8Array(28);
    new DataView(rest.buffer).setInt32(16, x, true);
    b.data(x - t, record(5, 1, rest, true));
    t = x;
  }
  return b.build();
}

class ListPages implements PageSource {
  private readonly pages: Uint8Array[];
  private i = 0;
  constructor(pages: Uint8Array[]) {
    this.pages = pages;
  }
  nextPage(): PageRef | null {
    const p = this.pages[this.i++];
    return p ? { data: p, start: 0, length: p.length, fileOffset: 0 } : null;
  }
}

function collect(out: string[]) {
  return {
    handle(r: EventRecord) {
      out.push(
        r.kind === EventKind.LostEvents
          ? `lost cpu${r.cpu}@${r.ts}..${r.lostUntil}:${r.lostCount}`
          : `cpu${r.cpu}@${r.ts}:${r.tid}`,
      );
    },
  };
}

function merge(inputs: { cpu: number; source: PageSource }[], diag = new Diagnostics()) {
  const catalog = new EventCatalog([parseFormat(FORMAT, "sched")], layout, "m.dat", diag);
  return new CpuMerge(inputs, layout, catalog, diag, "m.dat", 0n);
}

/** Two CPUs fed page by page (live), and what the merge emitted. */
function pushMerge() {
  const q0 = new PageQueue();
  const q1 = new PageQueue();
  const m = merge([
    { cpu: 0, source: q0 },
    { cpu: 1, source: q1 },
  ]);
  const out: string[] = [];
  return { q0, q1, m, out, sink: collect(out) };
}

describe("CPU merge", () => {
  it("orders by timestamp, lowest CPU first on ties", () => {
    const out: string[] = [];
    merge([
      { cpu: 2, source: new ListPages([page([10, 20, 30]), page([40])]) },
      { cpu: 0, source: new ListPages([page([20, 25]), page([50])]) },
      { cpu: 1, source: new ListPages([page([5, 20])]) },
    ]).run(collect(out));
    assert.deepEqual(out, [
      "cpu1@5:5",
      "cpu2@10:10",
      "cpu0@20:20",
      "cpu1@20:20",
      "cpu2@20:20",
      "cpu0@25:25",
      "cpu2@30:30",
      "cpu2@40:40",
      "cpu0@50:50",
    ]);
  });

  it("emits LostEvents at the start of the gap (after the CPU's last event), with its end, and counts them", () => {
    const out: string[] = [];
    const diag = new Diagnostics();
    merge(
      [
        { cpu: 0, source: new ListPages([page([1, 2]), page([100, 101], 639)]) },
        { cpu: 1, source: new ListPages([page([50], "unknown"), page([])]) },
      ],
      diag,
    ).run(collect(out));
    // CPU 0 lost events between 2 and 100: the record comes right after its event at 2,
    // before CPU 1's event at 50 (inside the gap). CPU 1's first page is flagged: nothing was
    // read from it before, so the record only marks where its data begins.
    assert.deepEqual(out, [
      "cpu0@1:1",
      "cpu0@2:2",
      "lost cpu0@2..100:639",
      "lost cpu1@50..50:-1",
      "cpu1@50:50",
      "cpu0@100:100",
      "cpu0@101:101",
    ]);
    assert.equal(diag.get("lost_events", 0)?.count, 639);
    assert.equal(diag.get("lost_events", 1)?.count, -1);
    assert.equal(diag.get("lost_events", 0)?.severity, "data-loss");
  });

  it("passes on an event earlier than its own CPU's previous one where it stands, and counts it per CPU with its offset", () => {
    // page i of a CPU at file offset 4096 * i: a page header is 16 bytes (u64 timestamp, u64
    // commit), an event header 4 (delta 0 here), so the first event's payload is at +20
    class FilePages implements PageSource {
      private i = 0;
      private readonly pages: Uint8Array[];
      constructor(pages: Uint8Array[]) {
        this.pages = pages;
      }
      nextPage(): PageRef | null {
        const p = this.pages[this.i];
        return p ? { data: p, start: 0, length: p.length, fileOffset: 4096 * this.i++ } : null;
      }
    }
    const out: string[] = [];
    const diag = new Diagnostics();
    merge(
      [
        { cpu: 0, source: new FilePages([page([10, 20, 30]), page([25, 40])]) },
        { cpu: 1, source: new FilePages([page([22, 35])]) },
      ],
      diag,
    ).run(collect(out));
    assert.deepEqual(out, [
      "cpu0@10:10",
      "cpu0@20:20",
      "cpu1@22:22",
      "cpu0@30:30",
      "cpu0@25:25",
      "cpu1@35:35",
      "cpu0@40:40",
    ]);
    const d = diag.get("cpu_events_out_of_order", 0);
    assert.equal(d?.count, 1);
    assert.deepEqual(d?.details, ["offset 4116: 5 ns before the CPU's previous event"]);
    assert.equal(diag.total("cpu_events_out_of_order"), 1);
    assert.ok(d?.remedy);
  });

  it("push mode: drains up to the watermark; a quiet CPU does not stall the others", () => {
    const { q0, q1, m, out, sink } = pushMerge();
    q0.append(page([10, 20, 30]));
    assert.equal(m.drain(sink, 25), 2); // CPU 1 has nothing: CPU 0 still flows up to the watermark
    assert.deepEqual(out, ["cpu0@10:10", "cpu0@20:20"]);
    q1.append(page([26, 40]));
    m.drain(sink, 35);
    assert.deepEqual(out.slice(2), ["cpu1@26:26", "cpu0@30:30"]);
    q0.append(page([45]));
    m.drain(sink, Number.POSITIVE_INFINITY);
    assert.deepEqual(out.slice(4), ["cpu1@40:40", "cpu0@45:45"]);
    assert.equal(m.hasPending, false);
  });

  it("push mode: a loss read later is placed at the last time already emitted, never before it", () => {
    const { q0, q1, m, out, sink } = pushMerge();
    q0.append(page([10, 20]));
    q1.append(page([15, 22]));
    m.drain(sink, 25);
    q0.append(page([40, 50], 7));
    q1.append(page([30]));
    m.drain(sink, Number.POSITIVE_INFINITY);
    assert.deepEqual(out, [
      "cpu0@10:10",
      "cpu1@15:15",
      "cpu0@20:20",
      "cpu1@22:22",
      "lost cpu0@22..40:7",
      "cpu1@30:30",
      "cpu0@40:40",
      "cpu0@50:50",
    ]);
  });

  it("128 CPUs: heap merge stays fast and ordered", () => {
    const inputs = [];
    const perCpu = 40;
    for (let c = 0; c < 128; c++) {
      const pages = [];
      for (let p = 0; p < 5; p++) {
        const times = [];
        for (let i = 0; i < perCpu; i++) times.push((p * perCpu + i) * 1000 + ((c * 7919) % 997));
        pages.push(page(times));
      }
      inputs.push({ cpu: c, source: new ListPages(pages) });
    }
    let last = -1;
    let n = 0;
    let bad = 0;
    const t0 = performance.now();
    merge(inputs).run({
      handle(r: EventRecord) {
        if (r.ts < last) bad++;
        last = r.ts;
        n++;
      },
    });
    assert.equal(n, 128 * 5 * perCpu);
    assert.equal(bad, 0);
    assert.ok(performance.now() - t0 < 5000);
  });
});
