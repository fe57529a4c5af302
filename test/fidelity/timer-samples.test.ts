// Issue #11 items 1 and 4, against ground truth from outside rtscope: every timer sample that
// `rtscope report --samples` writes for the cyclictest fixtures (test/fixtures/trace-dat/,
// README there), checked
//  1. against the raw events read again here by a small reference reader (only the source's
//     decoding is shared): on the mono-clock fixtures each sample is sys_exit − the hrtimer's
//     softexpires to the nanosecond, its parts add up, and its IRQ part ends at this timer's
//     hrtimer_expire_entry; on the other clocks within the error bound the report states;
//  2. against cyclictest's own per-cycle values (-v -N), cycle by cycle: none more than 1 µs
//     above cyclictest's (its clock read comes after the syscall exit the trace sees), and the
//     share within 5 µs; the max at least the raw expiry → switch-in max, at most cyclictest's
//     + 1 µs and within 5 µs of it.
// cyclictest reads the clock in user space after clock_nanosleep returns. A cycle more than
// 5 µs below cyclictest's value is accepted only where the raw events show why: the thread's
// next clock_nanosleep entry comes at least that much after the sys_exit (the thread was
// preempted or the vCPU stalled between the syscall exit and cyclictest's clock read, which no
// tracepoint marks). The share of such cycles is printed per thread.

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import type { EventRecord } from "../../src/model/event.ts";
import { EventKind } from "../../src/model/event-kind.ts";
import type { EventSink, TraceSource } from "../../src/model/source.ts";
import { openSource } from "../../src/sources/open-source.ts";
import { rtscope } from "../helpers/cli.ts";
import { fixturesDir } from "../helpers/paths.ts";

/** the recorded cases; local-clock and realtime check the clock handling (README) */
const CASES = ["idle", "cpu-load", "hackbench", "fifo-hog", "local-clock", "realtime"];
const WITHIN = 5000;
const ABOVE = 1000;

interface Meta {
  traceClock?: string;
  cyclictest: string;
  threads: { thread: number; tid: number; cpu: number }[];
}

/** One clock_nanosleep cycle of a thread, from the raw events (trace timestamps, relative ns). */
interface Cycle {
  soft: number;
  entryTs: number;
  now: number;
  switchIn: number;
  exit: number;
  /** the thread's next clock_nanosleep entry after the sys_exit, NaN at the end */
  next: number;
}

class ThreadRef {
  inSleep = false;
  key = -1;
  soft = Number.NaN;
  entryTs = Number.NaN;
  now = Number.NaN;
  switchIn = Number.NaN;
  readonly cycles: Cycle[] = [];
}

/** Reference reader: written from SPEC §1 and the kernel's event semantics, not from src/analysis. */
class RawTimerCycles implements EventSink {
  readonly threads = new Map<number, ThreadRef>();
  private readonly wakeupFn: number;

  constructor(source: TraceSource, tids: number[]) {
    this.wakeupFn = source.symbols.hrtimerWakeupKey;
    for (const tid of tids) this.threads.set(tid, new ThreadRef());
  }

  handle(rec: EventRecord): void {
    const ts = rec.ts;
    if (rec.kind === EventKind.HrtimerExpireEntry) {
      for (const t of this.threads.values())
        if (t.key === rec.timerKey && Number.isNaN(t.entryTs)) {
          t.entryTs = ts;
          t.now = rec.now;
        }
    }
    if (rec.kind === EventKind.SchedSwitch) {
      const n = this.threads.get(rec.nextTid);
      if (n && !Number.isNaN(n.entryTs) && Number.isNaN(n.switchIn)) n.switchIn = ts;
    }
    const t = this.threads.get(rec.currentTid);
    if (t === undefined) return;
    // the thread runs: its switch-in was no later (CPU 1's switches out of idle are not recorded)
    if (!Number.isNaN(t.entryTs) && Number.isNaN(t.switchIn)) t.switchIn = ts;
    if (rec.kind === EventKind.SysEnterSleep) {
      const last = t.cycles.at(-1);
      if (last && Number.isNaN(last.next)) last.next = ts;
      t.inSleep = true;
      t.key = -1;
      t.entryTs = Number.NaN;
      t.switchIn = Number.NaN;
    } else if (rec.kind === EventKind.HrtimerStart && t.inSleep && rec.timerFn === this.wakeupFn) {
      t.key = rec.timerKey;
      t.soft = rec.softExpires !== 0 ? rec.softExpires : rec.expires;
    } else if (rec.kind === EventKind.SysExitSleep) {
      if (t.inSleep && !Number.isNaN(t.entryTs))
        t.cycles.push({
          soft: t.soft,
          entryTs: t.entryTs,
          now: t.now,
          switchIn: t.switchIn,
          exit: ts,
          next: Number.NaN,
        });
      t.inSleep = false;
      t.key = -1;
      t.entryTs = Number.NaN;
    }
  }
}

interface CsvTimer {
  start: bigint;
  end: bigint;
  value: number;
  irq: number;
  thread: number;
}

function readSamples(csv: string): Map<number, CsvTimer[]> {
  const lines = csv.trimEnd().split("\n");
  assert.equal(
    lines[0],
    "tid,tgid,comm,metric,start,end,value,irq,thread,hardirq,wakeup,handling,inferred,cut",
  );
  const out = new Map<number, CsvTimer[]>();
  for (const line of lines.slice(1)) {
    const f = line.split(",");
    if (f[3] !== "timer") continue;
    const tid = Number(f[0]);
    if (!out.has(tid)) out.set(tid, []);
    out.get(tid)?.push({
      start: BigInt(f[4]),
      end: BigInt(f[5]),
      value: Number(f[6]),
      irq: Number(f[7]),
      thread: Number(f[8]),
    });
  }
  return out;
}

/** cyclictest -v -N: "thread: cycle: latency_ns" (a latency of 8 digits leaves no space after the colon). */
function cyclictestCycles(text: string): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const m of text.matchAll(/^\s*(\d+):\s*(\d+):\s*(\d+)\s*$/gm)) {
    const th = Number(m[1]);
    if (!out.has(th)) out.set(th, []);
    const list = out.get(th) ?? [];
    assert.equal(Number(m[2]), list.length, `cyclictest thread ${th}: cycle out of order`);
    list.push(Number(m[3]));
  }
  return out;
}

const work = mkdtempSync(join(tmpdir(), "rtscope-samples-"));
after(() => rmSync(work, { recursive: true, force: true }));

describe("timer samples (--samples) vs the raw events and cyclictest -v", () => {
  for (const name of CASES) {
    test(name, async (t) => {
      const dir = join(fixturesDir, "trace-dat", name);
      const file = join(dir, "trace.v7.dat");
      const meta = JSON.parse(readFileSync(join(dir, "case.json"), "utf8")) as Meta;
      const tids = meta.threads.map((x) => x.tid);
      const csvPath = join(work, `${name}.csv`);
      const args = ["report", file, "--windows", "none", "--format", "json", "--samples", csvPath];
      for (const tid of tids) args.push("--pid", String(tid));
      const r = rtscope(...args);
      assert.equal(r.code, 0, r.stderr);
      const report = JSON.parse(r.stdout);
      const clock = report.source.timerClock;
      const samples = readSamples(readFileSync(csvPath, "utf8"));
      const exact = (meta.traceClock ?? "mono") === "mono" && !meta.cyclictest.includes("--clock=1");
      assert.equal(clock.mode, exact ? "direct" : "estimated");
      const bound = clock.errorBound;
      // 1.5 and 2.5 us here: 1 us allowed for the smallest delay, the rest seen in the events
      if (!exact) assert.ok(bound > 1000 && bound < 3000, `error bound ${bound} ns`);

      const source = await openSource(file);
      const raw = new RawTimerCycles(source, tids);
      try {
        await source.run(raw);
      } finally {
        source.close();
      }
      const base = source.info.tsBase;
      const ct = cyclictestCycles(readFileSync(join(dir, "cyclictest.txt"), "utf8"));

      for (const th of meta.threads) {
        const where = `${name} thread ${th.thread} (tid ${th.tid})`;
        const cycles = raw.threads.get(th.tid)?.cycles ?? [];
        const ours = samples.get(th.tid) ?? [];
        const theirs = ct.get(th.thread) ?? [];
        assert.ok(
          theirs.length > 0 && cycles.length >= theirs.length,
          `${where}: raw cycles ${cycles.length}`,
        );
        assert.equal(ours.length, cycles.length, `${where}: one timer sample per raw cycle`);
        // the reference's own offset for other clocks: in hindsight, the lowest ts − now of
        // this thread's expiries (high by that smallest delay itself)
        let offset = 0;
        if (!exact) {
          offset = Number.POSITIVE_INFINITY;
          for (const c of cycles) offset = Math.min(offset, c.entryTs - c.now);
        }
        const byEnd = new Map(ours.map((s) => [s.end, s]));
        let switchInMax = 0;
        let within = 0;
        let stalls = 0;
        const unexplained: string[] = [];
        for (let k = 0; k < cycles.length; k++) {
          const c = cycles[k];
          const s = byEnd.get(base + BigInt(c.exit));
          assert.ok(s, `${where}: cycle ${k}: no timer sample ending at its sys_exit`);
          const expiry = c.soft + offset;
          const want = c.exit - expiry;
          switchInMax = Math.max(switchInMax, c.switchIn - expiry);
          assert.equal(s.irq + s.thread, s.value, `${where}: cycle ${k}: parts`);
          assert.equal(s.thread, c.exit - c.entryTs, `${where}: cycle ${k}: thread part`);
          if (exact) {
            assert.equal(s.value, want, `${where}: cycle ${k}: sys_exit − softexpires`);
            assert.equal(s.start, base + BigInt(c.soft), `${where}: cycle ${k}: start at the expiry`);
          } else {
            // the reference's offset is high by its smallest delay; rtscope's may be higher by its bound
            assert.ok(
              Math.abs(s.value - want) <= bound + 1000,
              `${where}: cycle ${k}: ${s.value} vs ${want}`,
            );
          }
          if (k >= theirs.length) continue;
          const v = theirs[k];
          assert.ok(
            s.value <= v + ABOVE,
            `${where}: cycle ${k}: rtscope ${s.value} ns > cyclictest ${v} ns + 1 µs`,
          );
          if (v - s.value <= WITHIN) within++;
          else if (Number.isNaN(c.next) || c.next - c.exit >= v - s.value - WITHIN) stalls++;
          else
            unexplained.push(
              `cycle ${k}: rtscope ${s.value}, cyclictest ${v}, next clock_nanosleep ${c.next - c.exit} ns after sys_exit`,
            );
        }
        const max = Math.max(...ours.map((s) => s.value));
        const ctMax = Math.max(...theirs);
        const ctMaxAt = theirs.indexOf(ctMax);
        const share = within / theirs.length;
        t.diagnostic(
          `${where}: ${theirs.length} cycles, ${within} (${(share * 100).toFixed(1)} %) within 5 µs of cyclictest, ${stalls} more after a stall past sys_exit; max ${max} ns, raw expiry → switch-in ${switchInMax} ns, cyclictest ${ctMax} ns`,
        );
        assert.deepEqual(
          unexplained.slice(0, 5),
          [],
          `${where}: cycles > 5 µs below cyclictest with no stall in the events`,
        );
        assert.ok(
          max >= switchInMax - (exact ? 0 : bound),
          `${where}: max ${max} < expiry → switch-in ${switchInMax}`,
        );
        assert.ok(max <= ctMax + ABOVE, `${where}: max ${max} > cyclictest ${ctMax} + 1 µs`);
        // within 5 µs of cyclictest's max unless cyclictest's worst cycle is one of the stalls
        const ctWorstOurs = byEnd.get(base + BigInt(cycles[ctMaxAt].exit))?.value ?? 0;
        if (ctMax - ctWorstOurs <= WITHIN)
          assert.ok(ctMax - max <= WITHIN, `${where}: max ${max} vs cyclictest ${ctMax}`);
        else
          t.diagnostic(
            `${where}: cyclictest's worst cycle ${ctMaxAt} (${ctMax} ns) is ${ctMax - ctWorstOurs} ns past sys_exit`,
          );
        assert.ok(
          share >= 0.99 || within + stalls === theirs.length,
          `${where}: ${within} of ${theirs.length}`,
        );
      }
    });
  }
});
