// The preemption verdict from each source, on made-up inputs and on this VM's own (a
// PREEMPT_DYNAMIC kernel whose debugfs file is unreadable and whose log says "none").
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decidePreemption, type PreemptSources } from "../../src/tracefs/preemption-model.ts";

const DYNAMIC_NONE_CONFIG = "CONFIG_PREEMPT_NONE=y\n# CONFIG_PREEMPT is not set\nCONFIG_PREEMPT_DYNAMIC=y\n";

function sources(o: Partial<PreemptSources>): PreemptSources {
  return {
    debugfs: null,
    debugfsError: "EPERM",
    kernelLog: [],
    cmdline: "console=ttyS0 quiet",
    config: null,
    unameVersion: "#1 SMP PREEMPT_DYNAMIC @0",
    ...o,
  };
}

describe("preemption model", () => {
  it("never names a model from uname -v alone on a dynamic kernel", () => {
    const v = decidePreemption(sources({}));
    assert.equal(v.model, "unknown");
    assert.match(v.detail, /EPERM/);
  });

  it("takes the last 'Dynamic Preempt:' line of the kernel log (run-time changes are logged)", () => {
    const v = decidePreemption(
      sources({
        kernelLog: ["Linux version 6.18", "Dynamic Preempt: none", "rcu: x", "Dynamic Preempt: lazy"],
        cmdline: "preempt=none",
      }),
    );
    assert.equal(v.model, "lazy");
    assert.match(v.from, /kernel log/);
  });

  it("this VM's inputs: EPERM on debugfs, log says none, config default none", () => {
    const v = decidePreemption(
      sources({
        kernelLog: ["Dynamic Preempt: none"],
        config: { text: DYNAMIC_NONE_CONFIG, path: "/proc/config.gz" },
      }),
    );
    assert.equal(v.model, "none");
    assert.match(v.detail, /EPERM/);
  });

  it("debugfs, when readable, decides", () => {
    const v = decidePreemption(
      sources({
        debugfs: "none voluntary (full) lazy\n",
        debugfsError: "",
        kernelLog: ["Dynamic Preempt: none"],
      }),
    );
    assert.equal(v.model, "full");
    assert.equal(v.from, "/sys/kernel/debug/sched/preempt");
  });

  it("without the log line: the boot choice, then the config default, each saying a change would not show", () => {
    const boot = decidePreemption(sources({ cmdline: "quiet preempt=voluntary", kernelLog: null }));
    assert.equal(boot.model, "voluntary");
    assert.match(boot.from, /cmdline/);
    assert.match(boot.detail, /not readable.*would not show/);
    const dflt = decidePreemption(sources({ config: { text: DYNAMIC_NONE_CONFIG, path: "/boot/config-x" } }));
    assert.equal(dflt.model, "none");
    assert.equal(dflt.from, "/boot/config-x");
    assert.match(dflt.detail, /default.*would not show/);
  });

  it("static kernels: the config, PREEMPT_RT, or uname's PREEMPT", () => {
    assert.equal(
      decidePreemption(sources({ unameVersion: "#1 SMP PREEMPT_RT", kernelLog: null })).model,
      "rt",
    );
    assert.equal(decidePreemption(sources({ unameVersion: "#1 SMP PREEMPT" })).model, "full");
    const v = decidePreemption(
      sources({ unameVersion: "#1 SMP", config: { text: "CONFIG_PREEMPT_VOLUNTARY=y\n", path: "/boot/c" } }),
    );
    assert.deepEqual([v.model, v.from], ["voluntary", "/boot/c"]);
    assert.equal(decidePreemption(sources({ unameVersion: "#1 SMP" })).model, "unknown");
  });
});
