import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, rmdirSync } from "node:fs";
import { describe, it } from "node:test";
import { emptySelection } from "../../src/model/selection.ts";
import { parseCpuStats, statsLost } from "../../src/tracefs/cpu-stats.ts";
import { planEvents } from "../../src/tracefs/event-plan.ts";
import { instanceOwner, removeStaleInstances, TracefsInstance } from "../../src/tracefs/instance.ts";
import { tracefsMounts } from "../../src/tracefs/tracefs-root.ts";
import { checkNoLeftoversAtEnd, skipLive } from "../live/live-helpers.ts";

checkNoLeftoversAtEnd();
const ROOT = "/sys/kernel/tracing";

describe("tracefs helpers (no kernel needed)", () => {
  it("reads per-CPU stats as the kernel prints them", () => {
    const text =
      "entries: 12\noverrun: 639\ncommit overrun: 2\nbytes: 4080\noldest event ts:  1.000000\nnow ts:   733.316673\ndropped events: 5\nread events: 900\n";
    const s = parseCpuStats(text);
    assert.deepEqual(s, {
      entries: 12,
      overrun: 639,
      commitOverrun: 2,
      bytes: 4080,
      droppedEvents: 5,
      readEvents: 900,
    });
    assert.equal(statsLost(s), 646);
  });
  it("recognises only rtscope-<pid> instance names", () => {
    assert.equal(instanceOwner("rtscope-1234"), 1234);
    assert.equal(instanceOwner("rtscope-1234-test"), 1234);
    assert.equal(instanceOwner("rtscope-x"), -1);
    assert.equal(instanceOwner("perf-1234"), -1);
  });
  it("finds tracefs mounts in /proc/mounts text", () => {
    const m = tracefsMounts(
      "sysfs /sys sysfs rw 0 0\nnodev /mnt/t tracefs rw 0 0\nnodev /sys/kernel/tracing tracefs rw 0 0\n",
    );
    assert.deepEqual(m, ["/sys/kernel/tracing", "/mnt/t"]);
  });
  it("filters wakeups by pid only for a fixed thread list", () => {
    const fixed = { ...emptySelection(), tids: [42, 43] };
    const p = planEvents({
      selection: fixed,
      wakeupEvent: "wakeup",
      syscalls: false,
      hrtimerWakeupAddr: "0xffffffff8142cab0",
    });
    assert.equal(p.find((e) => e.event === "sched_wakeup")?.filter, "pid == 42 || pid == 43");
    assert.equal(p.find((e) => e.event === "sched_switch")?.filter, "");
    assert.equal(p.find((e) => e.event === "hrtimer_start")?.filter, "function == 0xffffffff8142cab0");
    const growing = { ...emptySelection(), tids: [42], tgids: [7] };
    const g = planEvents({
      selection: growing,
      wakeupEvent: "waking",
      syscalls: true,
      hrtimerWakeupAddr: "",
    });
    assert.equal(g.find((e) => e.event === "sched_wakeup")?.filter, "");
    assert.ok(g.some((e) => e.event === "sched_waking" && e.required));
    assert.ok(g.some((e) => e.event === "sys_exit_clock_nanosleep"));
  });
});

describe("tracefs instances (live kernel)", { skip: skipLive }, () => {
  it("creates a private instance with the mono clock, filters and events, and removes it", () => {
    const topClock = readFileSync(`${ROOT}/trace_clock`, "utf8");
    const inst = TracefsInstance.create(ROOT, "t1");
    try {
      assert.equal(inst.name, `rtscope-${process.pid}-t1`);
      inst.setClock("mono");
      assert.equal(inst.clock(), "mono");
      inst.setBufferSizeKb(64);
      // the kernel rounds up to whole sub-buffers
      assert.ok(inst.bufferSizeKb() >= 64 && inst.bufferSizeKb() < 80, `buffer ${inst.bufferSizeKb()} KiB`);
      inst.setFilter("sched", "sched_wakeup", "pid == 1");
      inst.enableEvent("sched", "sched_wakeup");
      assert.match(inst.read("events/sched/sched_wakeup/filter"), /pid == 1/);
      assert.equal(inst.read("events/sched/sched_wakeup/enable").trim(), "1");
      // the top level is untouched
      assert.equal(readFileSync(`${ROOT}/trace_clock`, "utf8"), topClock);
      assert.equal(inst.cpus().length > 0, true);
    } finally {
      inst.remove();
    }
    assert.equal(existsSync(inst.path), false);
  });

  it("removes stale instances of dead owners, keeps live ones and never touches others", () => {
    const deadPid = 4_000_000; // above pid_max's default ceiling: never a live process
    const stale = `${ROOT}/instances/rtscope-${deadPid}`;
    const other = `${ROOT}/instances/not-rtscope-${process.pid}`;
    const mine = TracefsInstance.create(ROOT, "keep");
    mkdirSync(stale);
    mkdirSync(other);
    try {
      const r = removeStaleInstances(ROOT);
      assert.deepEqual(r.removed, [`rtscope-${deadPid}`]);
      assert.ok(r.kept.includes(mine.name));
      assert.equal(existsSync(stale), false);
      assert.equal(existsSync(other), true);
      assert.equal(existsSync(mine.path), true);
    } finally {
      mine.remove();
      if (existsSync(stale)) rmdirSync(stale);
      rmdirSync(other);
    }
  });

  it("refuses a bad filter with the path and the kernel's error log", () => {
    const inst = TracefsInstance.create(ROOT, "t2");
    try {
      assert.throws(
        () => inst.setFilter("sched", "sched_wakeup", "nosuchfield == 3"),
        /sched_wakeup\/filter: cannot write/,
      );
    } finally {
      inst.remove();
    }
  });
});
