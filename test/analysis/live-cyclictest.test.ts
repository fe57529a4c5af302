// Live end to end: the analysis fed by the live tracefs source while cyclictest runs, checked
// against cyclictest's own per-cycle latencies (-v -N). Needs root, tracefs and cyclictest;
// skips otherwise. Uses a private instance (rtscope-<pid>-analysis-test), removed by close().
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { test } from "node:test";
import { Analysis, defaultAnalysisOptions, sourceAnalysisOptions } from "../../src/analysis/analyze.ts";
import { Pipeline } from "../../src/analysis/analyzer.ts";
import { emptySelection } from "../../src/model/selection.ts";
import { repoRoot } from "../helpers/paths.ts";

const LOOPS = 1000;

function onPath(bin: string): boolean {
  return (process.env.PATH ?? "").split(":").some((d) => d !== "" && existsSync(resolve(d, bin)));
}

const skip =
  process.getuid?.() !== 0
    ? "needs root"
    : !existsSync("/sys/kernel/tracing/instances")
      ? "no tracefs at /sys/kernel/tracing"
      : !onPath("cyclictest")
        ? "cyclictest not installed"
        : !existsSync(resolve(repoRoot, "src/sources/tracefs-live.ts"))
          ? "no live source yet"
          : false;

test("live: cyclictest's timer latency, cycle by cycle", { skip, timeout: 60_000 }, async () => {
  const { LiveSource } = await import(resolve(repoRoot, "src/sources/tracefs-live.ts"));
  const selection = { ...emptySelection(), comms: [/^cyclictest$/] };
  const source = LiveSource.open({ selection, syscalls: true, instanceSuffix: "analysis-test" });
  try {
    // other sessions may run cyclictest too: track only the one launched here (its
    // descendants), added at run time like `record -- cmd` does
    const analysis = new Analysis({
      ...defaultAnalysisOptions(emptySelection()),
      emptyMeansAll: false,
      ...sourceAnalysisOptions(source),
      worstN: 100_000,
    });
    const pipeline = new Pipeline(analysis.analyzers);
    const running = source.run(pipeline);
    await new Promise((r) => setTimeout(r, 200));
    // one SCHED_FIFO 80 thread, 1 ms period, absolute clock_nanosleep, latencies in ns
    const out = await new Promise<string>((resolvePromise, reject) => {
      const child = spawn("cyclictest", ["-t1", "-p80", "-i1000", `-l${LOOPS}`, "-m", "-v", "-N"], {
        stdio: ["ignore", "pipe", "ignore"],
      });
      analysis.addSelection({ ...emptySelection(), descendantsOf: [child.pid ?? -1] });
      let text = "";
      child.stdout.on("data", (d: Buffer) => {
        text += d.toString();
      });
      child.on("error", reject);
      child.on("close", () => resolvePromise(text));
    });
    await new Promise((r) => setTimeout(r, 100));
    source.stop();
    await running;
    pipeline.finish();

    // cycle number → latency; cyclictest's printer thread may leave a few cycles unprinted
    const printed = new Map<number, number>();
    for (const m of out.matchAll(/^\s*0:\s+(\d+):\s+(\d+)\s*$/gm)) printed.set(Number(m[1]), Number(m[2]));
    assert.ok(printed.size >= LOOPS * 0.9, `${printed.size} cyclictest cycles printed`);
    const measuring = analysis.snapshot().find((t) => t.kernelPrio === 19 && t.metrics.timer !== undefined);
    assert.ok(measuring, "the FIFO 80 cyclictest thread (kernel prio 19) with timer samples");
    const lost = analysis.lostEvents();
    if (lost !== 0) {
      // a loaded machine can make the reader fall behind: the cut activations are counted,
      // the per-cycle comparison is meaningless
      console.log(`live: ${lost} events lost, ${measuring.counters.incomplete} activations incomplete`);
      return;
    }
    const samples = (measuring.worstList?.timer ?? [])
      .slice()
      .sort((a, b) => (BigInt(a.end) < BigInt(b.end) ? -1 : 1))
      .map((s) => s.value);
    assert.equal(samples.length, LOOPS, "one timer sample per cycle");
    const gaps: number[] = [];
    for (const [i, theirs] of printed) {
      // cyclictest reads the clock after the syscall returns: never below ours
      assert.ok(theirs >= samples[i], `cycle ${i}: cyclictest ${theirs} < ours ${samples[i]}`);
      gaps.push(theirs - samples[i]);
    }
    gaps.sort((a, b) => a - b);
    const median = gaps[gaps.length >> 1];
    const within5us = gaps.filter((g) => g <= 5000).length;
    const maxTheirs = Math.max(...printed.values());
    const maxOurs = measuring.metrics.timer?.max ?? 0;
    console.log(
      `live: ${samples.length} cycles (${printed.size} printed), median gap ${median} ns, ${((within5us / samples.length) * 100).toFixed(0)} % within 5 us, max ours ${maxOurs} vs cyclictest ${maxTheirs}`,
    );
    // The gap is the return to user space plus cyclictest's clock read, after the last event
    // any trace can see; live it also holds the sys_exit tracepoint's own cost, and on this
    // shared 2-CPU VM (load ~10 from other sessions) preemption and vCPU stalls there: the
    // recorded fixtures show a 1-4 us median, live runs here 5-10 us. Bounds with margin:
    assert.ok(median <= 20_000, `median gap ${median} ns`);
    // (the max cycle may be one cyclictest did not print: then ours can be above theirs)
    if (Math.max(...samples) === Math.max(...[...printed.keys()].map((i) => samples[i])))
      assert.ok(maxOurs <= maxTheirs && maxOurs >= maxTheirs * 0.9, `max ${maxOurs} vs ${maxTheirs}`);
  } finally {
    source.close();
  }
});
