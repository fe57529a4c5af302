// Changes made to a live capture's instance from outside rtscope (tracing_on switched off,
// an event disabled, the buffer resized) are noticed: a data-loss diagnostic whose span
// covers the stretch the test itself made (its own CLOCK_MONOTONIC readings around the
// writes, the clock of the `mono` trace clock), a notice on stderr, and `top` says so in its
// next frame. Each rtscope run has its own instance (rtscope-<its pid>), removed at its exit.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { Report } from "../../src/model/report.ts";
import { checkNoLeftoversAtEnd, type Ran, runRtscope, skipLive, untilReading } from "./live-helpers.ts";

checkNoLeftoversAtEnd();

const tmp = mkdtempSync(join(tmpdir(), "rtscope-watch-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mono = () => Number(process.hrtime.bigint());

/** Runs rtscope; `during(instancePath, stdout)` acts on its instance once it reads. */
async function rtscope(
  args: string[],
  during: (inst: string, out: () => string) => Promise<void>,
): Promise<Ran> {
  let acting: Promise<void> = Promise.resolve();
  const ran = await runRtscope(args, {
    onSpawn: (c, out) => {
      acting = untilReading(c.pid!).then((inst) => during(inst, out));
    },
  });
  await acting;
  return ran;
}

describe("a live capture watches its instance", { skip: skipLive }, () => {
  it("record: tracing switched off and on, an event disabled, the buffer resized", async () => {
    const out = join(tmp, "watch.json");
    let offAt = 0;
    let onAt = 0;
    let disabledAt = 0;
    const r = await rtscope(
      ["record", "--no-store", "--duration", "5s", "--format", "json", "-o", out],
      async (inst) => {
        await sleep(800);
        offAt = mono();
        writeFileSync(`${inst}/tracing_on`, "0");
        await sleep(1000);
        // the time before the write: rtscope's check on the other CPU may see it before this
        // thread reads the clock again
        onAt = mono();
        writeFileSync(`${inst}/tracing_on`, "1");
        await sleep(800);
        disabledAt = mono();
        writeFileSync(`${inst}/events/sched/sched_switch/enable`, "0");
        await sleep(500);
        writeFileSync(`${inst}/buffer_size_kb`, "1024");
      },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /tracing was switched off/);
    assert.match(r.stderr, /events were disabled: sched:sched_switch/);
    const report = JSON.parse(readFileSync(out, "utf8")) as Report;
    const gap = report.diagnostics.find((d) => d.key === "live_capture_gap");
    assert.ok(gap, `no live_capture_gap in ${JSON.stringify(report.diagnostics)}`);
    assert.equal(gap.severity, "data-loss");
    assert.equal(gap.count, 2);
    const [off, disabled] = gap.spans!;
    // each span holds the stretch the test made (the change happened after the span's start)
    assert.ok(off.from <= offAt, `off span starts ${off.from} after the write at ${offAt}`);
    assert.ok(off.to >= onAt, `off span ends ${off.to} before tracing was back on at ${onAt}`);
    assert.ok(off.to <= disabledAt, "the off span ends before the next change");
    assert.ok(disabled.from <= disabledAt && disabled.from >= onAt);
    assert.ok(disabled.to > disabledAt);
    assert.match(gap.details.join(" | "), /sched:sched_switch.*the end/);
    const resized = report.diagnostics.find((d) => d.key === "live_buffer_resized");
    assert.ok(resized, "no live_buffer_resized diagnostic");
    assert.match(resized.details.join(" | "), /→ 10\d\d KiB/); // the kernel rounds to whole pages
  });

  it("top shows at once that tracing was switched off", async () => {
    let before = "";
    const r = await rtscope(
      ["top", "--duration", "4s", "--interval", "200ms", "--metrics", "latency"],
      async (inst, out) => {
        await sleep(500);
        before = out();
        writeFileSync(`${inst}/tracing_on`, "0");
      },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(before, /NOT RECORDING/);
    // each frame starts with the title line; the last one is printed after the end
    const frames = r.stdout.split(/^(?=rtscope top — )/m);
    const firstBad = frames.findIndex((f) => /NOT RECORDING: tracing was switched off/.test(f));
    assert.ok(firstBad > 0, "no frame said that tracing is off");
    assert.ok(firstBad < frames.length - 1, "only the final frame said it");
  });
});
