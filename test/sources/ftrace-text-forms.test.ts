// The text fixtures recorded on this machine (test/fixtures/text, scripts/record-text-fixtures.sh):
// one recording printed by the kernel (`trace`) and by trace-cmd report in five forms must
// decode to the same event stream; lost-data markers, buffer overflow, integer clocks and
// TGID columns are read as the files state them.

import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import { EventKind } from "../../src/model/event-kind.ts";
import { absoluteTs } from "../../src/model/units.ts";
import { fixturesDir } from "../helpers/paths.ts";
import { collect, type Ev, oracleLines, oracleNs, readText } from "./ftrace-text-helpers.ts";

const dir = join(fixturesDir, "text");
const fx = (name: string) => join(dir, name);

const REPORT_FORMS = ["report-default.txt", "report-N.txt", "report-R.txt", "report-t.txt", "report-l.txt"];

/** What every form of one recording must agree on, per kind (fields a kind does not carry are left out). */
function key(e: Ev, tsBase: bigint, withMode: boolean): string {
  const us = (BigInt(absoluteTs(tsBase, e.ts)) + 500n) / 1000n;
  const head = [e.kind, e.cpu, us, e.currentTid];
  switch (e.kind) {
    case EventKind.SchedSwitch:
      return [...head, e.prevTid, e.prevPrio, e.prevState, e.comm, e.nextTid, e.nextPrio, e.comm2].join("|");
    case EventKind.SchedWakeup:
    case EventKind.SchedWaking:
    case EventKind.SchedWakeupNew:
      return [...head, e.tid, e.prio, e.targetCpu, e.comm].join("|");
    case EventKind.SchedMigrateTask:
      return [...head, e.tid, e.prio, e.origCpu, e.targetCpu, e.comm].join("|");
    case EventKind.SchedProcessFork:
      return [...head, e.parentTid, e.comm2, e.tid, e.comm].join("|");
    case EventKind.SchedProcessExec:
      return [...head, e.tid, e.parentTid, e.comm].join("|");
    case EventKind.SchedProcessExit:
      return [...head, e.tid, e.prio, e.comm].join("|");
    case EventKind.IrqHandlerEntry:
      return [...head, e.irq, e.irqName].join("|");
    case EventKind.IrqHandlerExit:
      return [...head, e.irq, e.irqRet].join("|");
    case EventKind.SoftirqEntry:
    case EventKind.SoftirqExit:
    case EventKind.SoftirqRaise:
      return [...head, e.vec].join("|");
    case EventKind.HrtimerStart:
      return [...head, e.timerFn, e.expires, e.softExpires, withMode ? e.timerMode : ""].join("|");
    case EventKind.HrtimerExpireEntry:
      return [...head, e.now].join("|");
    case EventKind.SysEnterSleep:
      return [...head, e.sleepClock, e.sleepFlags].join("|");
    case EventKind.SysExitSleep:
      return [...head, e.sysRet].join("|");
    case EventKind.LostEvents:
      return [...head, e.lostCount].join("|");
    default:
      return [...head, e.name].join("|");
  }
}

/** timer identity: the same object gets the same key within one file (pointers differ between forms) */
function timerIdentities(events: Ev[]): number[] {
  const ids = new Map<number, number>();
  const out: number[] = [];
  for (const e of events) {
    if (e.kind < EventKind.HrtimerStart || e.kind > EventKind.HrtimerCancel) continue;
    if (!ids.has(e.timerKey)) ids.set(e.timerKey, ids.size);
    out.push(ids.get(e.timerKey)!);
  }
  return out;
}

describe("one recording, six forms", () => {
  test("the kernel's trace text parses completely, with the oracle's pid, cpu and time on every line", async () => {
    const path = fx("tracefs-mono.txt");
    const { src, events } = await collect(path);
    const lines = oracleLines(readText(path));
    assert.ok(events.length > 300, `only ${events.length} events`);
    assert.equal(events.length, lines.length);
    for (let i = 0; i < lines.length; i++) {
      assert.equal(events[i].currentTid, lines[i].pid);
      assert.equal(events[i].cpu, lines[i].cpu);
      assert.equal(BigInt(absoluteTs(src.info.tsBase, events[i].ts)), oracleNs(lines[i]));
    }
    assert.deepEqual(src.diagnostics.list(), []);
    assert.equal(src.info.format, "ftrace text (tracefs)");
    assert.equal(src.info.cpus, 2);
    assert.equal(src.info.tsResolutionNs, 1000);
    // the recording holds every event kind the workload makes
    const kinds = new Set(events.map((e) => e.kind));
    for (const k of [
      EventKind.SchedSwitch,
      EventKind.SchedWakeup,
      EventKind.SchedWaking,
      EventKind.SchedWakeupNew,
      EventKind.SchedProcessFork,
      EventKind.SchedProcessExec,
      EventKind.SchedProcessExit,
      EventKind.HrtimerStart,
      EventKind.SysEnterSleep,
      EventKind.SysExitSleep,
    ])
      assert.ok(kinds.has(k), `kind ${k} missing`);
  });

  for (const form of REPORT_FORMS) {
    test(`${form} gives the same events as the kernel's text`, async () => {
      const base = await collect(fx("tracefs-mono.txt"));
      const other = await collect(fx(form));
      assert.deepEqual(other.src.diagnostics.list(), []);
      assert.equal(other.src.info.format, "trace-cmd report");
      assert.equal(other.src.info.cpus, 2);
      const withMode = form !== "report-default.txt" && form !== "report-t.txt" && form !== "report-l.txt";
      const a = base.events.map((e) => key(e, base.src.info.tsBase, withMode));
      const b = other.events.map((e) => key(e, other.src.info.tsBase, withMode));
      assert.equal(b.length, a.length);
      for (let i = 0; i < a.length; i++) assert.equal(b[i], a[i], `event ${i}`);
      assert.deepEqual(timerIdentities(other.events), timerIdentities(base.events));
    });
  }

  test("-t: nanoseconds exactly as trace-cmd printed them, rounding to the kernel's microseconds", async () => {
    const t = await collect(fx("report-t.txt"));
    assert.equal(t.src.info.tsResolutionNs, 1);
    const tLines = oracleLines(readText(fx("report-t.txt")));
    const kLines = oracleLines(readText(fx("tracefs-mono.txt")));
    assert.equal(tLines.length, t.events.length);
    assert.equal(kLines.length, t.events.length);
    for (let i = 0; i < tLines.length; i++) {
      assert.equal(tLines[i].frac.length, 9);
      const ns = BigInt(absoluteTs(t.src.info.tsBase, t.events[i].ts));
      assert.equal(ns, oracleNs(tLines[i]));
      // the kernel prints (ns + 500) / 1000
      assert.equal((ns + 500n) / 1000n, oracleNs(kLines[i]) / 1000n, `event ${i}`);
    }
  });

  test("a comm with spaces, a dash and digits (`rt-test 2-1`) keeps its pid", async () => {
    const { events } = await collect(fx("tracefs-mono.txt"));
    const text = readText(fx("tracefs-mono.txt"));
    const m = /rt-test 2-1-(\d+)\s+\[/.exec(text);
    assert.ok(m, "fixture lacks the rt-test 2-1 comm");
    const pid = Number(m[1]);
    assert.ok(events.some((e) => e.currentTid === pid));
    assert.ok(
      events.some((e) => e.kind === EventKind.SchedSwitch && e.comm === "rt-test 2-1" && e.prevTid === pid),
    );
    const exec = events.find((e) => e.kind === EventKind.SchedProcessExec && e.comm.endsWith("/rt-test 2-1"));
    assert.ok(exec, "exec of a filename with a space");
  });

  test("timer sleeps: hrtimer_wakeup is the interned key the symbol table names", async () => {
    const src = await collect(fx("report-default.txt"));
    const starts = src.events.filter(
      (e) => e.kind === EventKind.HrtimerStart && e.timerFn === "hrtimer_wakeup",
    );
    assert.ok(starts.length >= 50, `${starts.length} hrtimer_wakeup starts`);
    assert.equal(src.src.symbols.name(src.src.symbols.hrtimerWakeupKey), "hrtimer_wakeup");
    // cyclictest's clock_nanosleep: CLOCK_MONOTONIC (1), TIMER_ABSTIME (1), returns 0
    const enters = src.events.filter((e) => e.kind === EventKind.SysEnterSleep && e.sleepClock === 1);
    assert.ok(enters.length >= 50);
    assert.ok(enters.every((e) => e.sleepFlags === 1));
  });
});

describe("IRQ recording in three forms", () => {
  test("tracefs, trace-cmd default and -R agree on irq, name, ret and vec", async () => {
    const base = await collect(fx("tracefs-irq.txt"));
    const lines = oracleLines(readText(fx("tracefs-irq.txt")));
    assert.equal(base.events.length, lines.length);
    assert.ok(base.events.some((e) => e.kind === EventKind.IrqHandlerEntry && e.irqName.length > 0));
    assert.ok(base.events.some((e) => e.kind === EventKind.IrqHandlerExit && e.irqRet === 1));
    assert.ok(base.events.some((e) => e.kind === EventKind.SoftirqEntry && e.vec >= 0));
    for (const form of ["report-irq-default.txt", "report-irq-R.txt"]) {
      const other = await collect(fx(form));
      assert.deepEqual(other.src.diagnostics.list(), []);
      const a = base.events.map((e) => key(e, base.src.info.tsBase, false));
      const b = other.events.map((e) => key(e, other.src.info.tsBase, false));
      assert.deepEqual(b, a, form);
    }
    // irq= and name= by the oracle
    for (let i = 0; i < lines.length; i++) {
      const m = /^irq=(\d+) name=(.*)$/.exec(lines[i].payload);
      if (!m) continue;
      assert.equal(base.events[i].irq, Number(m[1]));
      assert.equal(base.events[i].irqName, m[2]);
    }
  });
});

describe("lost data", () => {
  for (const [file, re] of [
    ["tracefs-pipe-lost.txt", /^CPU:(\d+) \[LOST (\d+) EVENTS\]$/],
    ["report-dropped.txt", /^\S+: CPU:(\d+) \[(\d+) EVENTS DROPPED\]$/],
  ] as const) {
    test(`${file}: a LostEvents record per marker, at the next event's time`, async () => {
      const text = readText(fx(file));
      const expected: { cpu: number; count: number; line: number }[] = [];
      const all = text.split("\n");
      all.forEach((l, i) => {
        const m = re.exec(l);
        if (m) expected.push({ cpu: Number(m[1]), count: Number(m[2]), line: i });
      });
      assert.ok(expected.length > 0, "fixture has no lost-data marker");
      const { src, events } = await collect(fx(file));
      const lost = events.map((e, i) => ({ e, i })).filter((x) => x.e.kind === EventKind.LostEvents);
      assert.deepEqual(
        lost.map((x) => [x.e.cpu, x.e.lostCount]),
        expected.map((x) => [x.cpu, x.count]),
      );
      for (const x of lost) {
        const next = events[x.i + 1];
        if (next) assert.equal(x.e.ts, next.ts);
      }
      const total = expected.reduce((s, x) => s + x.count, 0);
      assert.equal(src.diagnostics.total("lost_events"), total);
      for (const x of expected)
        assert.equal(src.diagnostics.get("lost_events", x.cpu)?.severity, "data-loss");
      // everything else still parses
      assert.equal(events.length - lost.length, oracleLines(text).length);
      assert.equal(src.diagnostics.get("unparsed_lines"), undefined);
    });
  }

  test("tracefs-overflow.txt: entries-in-buffer < entries-written is a data-loss diagnostic", async () => {
    const text = readText(fx("tracefs-overflow.txt"));
    const m = /entries-in-buffer\/entries-written: (\d+)\/(\d+)/.exec(text);
    assert.ok(m);
    const kept = Number(m[1]);
    const written = Number(m[2]);
    assert.ok(kept < written);
    const { src, events } = await collect(fx("tracefs-overflow.txt"));
    assert.equal(events.length, kept);
    const d = src.diagnostics.get("buffer_overflow");
    assert.ok(d);
    assert.equal(d.count, written - kept);
    assert.equal(d.severity, "data-loss");
  });
});

describe("integer clock and TGID column", () => {
  test("tracefs-counter-tgid.txt: counter ticks, not ns; pid before the (tgid)", async () => {
    const path = fx("tracefs-counter-tgid.txt");
    const { src, events } = await collect(path);
    const lines = oracleLines(readText(path));
    assert.equal(events.length, lines.length);
    assert.equal(src.info.clockIsNs, false);
    assert.equal(src.info.tsResolutionNs, 1);
    for (let i = 0; i < lines.length; i++) {
      assert.equal(lines[i].frac, "");
      assert.equal(BigInt(absoluteTs(src.info.tsBase, events[i].ts)), BigInt(lines[i].sec));
      assert.equal(events[i].currentTid, lines[i].pid);
    }
    assert.deepEqual(src.diagnostics.list(), []);
  });
});

describe("chunk boundaries", () => {
  const files = [
    "tracefs-mono.txt",
    "report-default.txt",
    "report-R.txt",
    "report-t.txt",
    "report-l.txt",
    "tracefs-pipe-lost.txt",
    "tracefs-counter-tgid.txt",
  ];
  for (const f of files) {
    test(`${f} read in 97-byte chunks gives the same stream`, async () => {
      const whole = await collect(fx(f));
      const small = await collect(fx(f), { chunkSize: 97 });
      assert.deepEqual(small.events, whole.events);
      assert.deepEqual(small.src.diagnostics.list(), whole.src.diagnostics.list());
    });
  }
});
