// rtscope doctor against what the system says through other channels (/proc, uname).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
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
    // the model in force on a dynamic kernel: the kernel log's last "Dynamic Preempt:" line,
    // read here by util-linux's dmesg (when debugfs answers, its verdict may differ: skip)
    const logged = [
      ...execFileSync("dmesg", { encoding: "utf8" }).matchAll(/Dynamic Preempt: (\w+)/g),
    ].pop()?.[1];
    if (logged && !existsSync("/sys/kernel/debug/sched/preempt")) {
      assert.match(by.get("preemption")!.detail, new RegExp(`^${logged}\\b.*from the kernel log`));
    }
    // CPU counts as getconf sees them
    const conf = execFileSync("getconf", ["_NPROCESSORS_CONF"], { encoding: "utf8" }).trim();
    const onln = execFileSync("getconf", ["_NPROCESSORS_ONLN"], { encoding: "utf8" }).trim();
    assert.match(by.get("CPUs")!.detail, new RegExp(`^${conf} CPUs .*online \\S+ \\(${onln}\\); isolated: `));
    assert.ok(by.has("fair server"));
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
