// rtscope doctor against what the system says through other channels (/proc, uname).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { CheckResult } from "../../src/tracefs/doctor-checks.ts";
import { repoRoot } from "../helpers/paths.ts";
import { checkNoLeftoversAtEnd, skipLive } from "../live/live-helpers.ts";

checkNoLeftoversAtEnd();

describe("rtscope doctor", { skip: skipLive }, () => {
  it("prints one check per line with advice, agreeing with /proc and uname", () => {
    const json = execFileSync(process.execPath, [join(repoRoot, "src/cli/main.ts"), "doctor", "--json"], {
      encoding: "utf8",
    });
    const checks = JSON.parse(json) as CheckResult[];
    const by = new Map(checks.map((c) => [c.name, c]));
    for (const name of [
      "tracefs",
      "permissions",
      "events",
      "preemption",
      "threaded IRQs",
      "RT throttling",
      "CPU isolation",
      "cpu_dma_latency",
      "clock source",
    ])
      assert.ok(by.has(name), `missing check ${name}`);
    assert.equal(by.get("tracefs")?.status, "ok");
    assert.equal(by.get("permissions")?.status, "ok");
    const rt = readFileSync("/proc/sys/kernel/sched_rt_runtime_us", "utf8").trim();
    if (rt === "-1") assert.equal(by.get("RT throttling")?.status, "ok");
    else {
      assert.equal(by.get("RT throttling")?.status, "warn");
      assert.match(by.get("RT throttling")!.detail, new RegExp(`${rt} us`));
      assert.match(by.get("RT throttling")!.advice, /sched_rt_runtime_us=-1/);
    }
    const uname = execFileSync("uname", ["-v"], { encoding: "utf8" });
    if (!/PREEMPT_RT/.test(uname)) assert.notEqual(by.get("preemption")?.status, "ok");
    const cs = readFileSync(
      "/sys/devices/system/clocksource/clocksource0/current_clocksource",
      "utf8",
    ).trim();
    assert.match(by.get("clock source")!.detail, new RegExp(cs));
    // the text form: one line per check
    const text = execFileSync(process.execPath, [join(repoRoot, "src/cli/main.ts"), "doctor"], {
      encoding: "utf8",
    });
    assert.equal(text.trim().split("\n").length, checks.length);
  });
});
