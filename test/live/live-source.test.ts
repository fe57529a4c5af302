// The live source against the kernel's own accounting: every event the kernel says was
// read (per-CPU stats "read events") reaches the sink, in time order; a forced loss (tiny
// buffer, slow reader, hackbench) shows up as LostEvents records and a lost count that
// matches the kernel's overrun counter.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { EventKind } from "../../src/model/event-kind.ts";
import { emptySelection } from "../../src/model/selection.ts";
import { LiveSource } from "../../src/sources/tracefs-live.ts";
import { checkNoLeftoversAtEnd, skipLive } from "./live-helpers.ts";

checkNoLeftoversAtEnd();

function load(seconds: number): Promise<void> {
  // hackbench: many context switches and wakeups on every CPU
  // in a process group of its own: its 20 sender and receiver processes go with it (killing
  // the parent alone left them running, loading the machine for minutes)
  return new Promise((resolve) => {
    const c = spawn("hackbench", ["-s", "64", "-l", "100000", "-g", "2", "-f", "5"], {
      stdio: "ignore",
      detached: true,
    });
    const t = setTimeout(() => {
      try {
        process.kill(-c.pid!, "SIGKILL");
      } catch {
        // already gone
      }
    }, seconds * 1000);
    c.on("exit", () => {
      clearTimeout(t);
      resolve();
    });
  });
}

/** The kernel's own account of the instance, every CPU: events read, and lost (overwritten, dropped). */
function kernelAccount(src: LiveSource): { read: number; lost: number } {
  let read = 0;
  let lost = 0;
  for (const cpu of src.instance.cpus()) {
    const st = src.instance.cpuStats(cpu);
    read += st.readEvents;
    lost += st.overrun + st.droppedEvents + st.commitOverrun;
  }
  return { read, lost };
}

describe("live source", { skip: skipLive }, () => {
  it("delivers every event the kernel handed out, in time order", async () => {
    const src = LiveSource.open({ selection: emptySelection(), instanceSuffix: "count" });
    try {
      let n = 0;
      let last = Number.NEGATIVE_INFINITY;
      let backwards = 0;
      let switches = 0;
      const perCpu = new Map<number, number>();
      const loadDone = load(1);
      setTimeout(() => src.stop(), 1500);
      await src.run({
        handle(r) {
          n++;
          if (r.kind !== EventKind.LostEvents) perCpu.set(r.cpu, (perCpu.get(r.cpu) ?? 0) + 1);
          if (r.ts < last) backwards++;
          last = r.ts;
          if (r.kind === EventKind.SchedSwitch) switches++;
        },
      });
      await loadDone;
      const { read: kernelRead, lost: kernelLost } = kernelAccount(src);
      assert.equal(kernelLost, 0, "default buffer must not lose events under hackbench");
      assert.equal(n, kernelRead);
      assert.equal(backwards, 0);
      assert.ok(switches > 1000, `only ${switches} switches`);
      assert.equal(src.stats().outOfOrder, 0);
      assert.equal(src.lostEvents, 0);
      // the account every live report's source carries, per CPU, against the stats file
      // read here: written = entries + overrun + read events; events = what the sink got
      const accounts = src.cpuAccounts();
      assert.deepEqual(
        accounts.map((a) => a.cpu),
        src.instance.cpus(),
      );
      for (const a of accounts) {
        const text = readFileSync(`${src.instance.path}/per_cpu/cpu${a.cpu}/stats`, "utf8");
        const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)$`, "m").exec(text)![1]);
        assert.equal(a.written, field("entries") + field("overrun") + field("read events"), `CPU ${a.cpu}`);
        assert.equal(a.events, perCpu.get(a.cpu) ?? 0, `CPU ${a.cpu}`);
        assert.equal(a.events, field("read events"), `CPU ${a.cpu}`);
        assert.equal(a.lost, 0);
      }
      assert.equal(src.stats().written, n);
    } finally {
      src.close();
    }
    assert.equal(existsSync(src.instance.path), false);
  });

  it("counts forced losses from page flags and kernel stats", async () => {
    const src = LiveSource.open({
      selection: emptySelection(),
      instanceSuffix: "loss",
      bufferSizeKb: 8,
      minPollMs: 300,
      maxPollMs: 300,
    });
    try {
      let lostRecords = 0;
      let lostSum = 0;
      const loadDone = load(1);
      setTimeout(() => src.stop(), 1200);
      await src.run({
        handle(r) {
          if (r.kind === EventKind.LostEvents) {
            lostRecords++;
            lostSum += r.lostCount;
          }
        },
      });
      await loadDone;
      const kernelLost = kernelAccount(src).lost;
      assert.ok(kernelLost > 0, "the kernel should have overwritten events");
      assert.ok(lostRecords > 0);
      assert.equal(src.lostEvents, kernelLost);
      assert.equal(lostSum, kernelLost);
    } finally {
      src.close();
    }
  });
});
