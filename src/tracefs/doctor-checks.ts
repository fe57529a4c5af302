// The checks behind `rtscope doctor` (SPEC §2): one result per check, each with what to
// do when it is not fine. Every check reads the system as it is and never changes it
// (the permission check creates and removes a private instance, nothing else).

import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync } from "node:fs";
import { release, version } from "node:os";
import { emptySelection } from "../model/selection.ts";
import { parseCpuList } from "./cpu-list.ts";
import { planEvents } from "./event-plan.ts";
import { INSTANCE_PREFIX, removeInstanceDir } from "./instance.ts";
import { decidePreemption, readPreemptSources } from "./preemption-model.ts";
import { findTracefs } from "./tracefs-root.ts";

export type CheckStatus = "ok" | "warn" | "fail" | "info";

export interface CheckResult {
  name: string;
  status: CheckStatus;
  /** what was found */
  detail: string;
  /** what to do ("" when nothing) */
  advice: string;
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

/** The preemption model in force and the source that decided it (see preemption-model.ts). */
export function preemptionModel(): { model: string; from: string } {
  const v = decidePreemption(readPreemptSources());
  return { model: v.model, from: v.from };
}

function cpuList(text: string | null): string {
  return (text ?? "").trim();
}

function cpuCount(list: string): number | "?" {
  return list ? parseCpuList(list).length : "?";
}

const FAIR_SERVER = "/sys/kernel/debug/sched/fair_server";

/** The fair server's runtime and period (ns) per CPU, or why they cannot be read. */
export function fairServer(cpus: number[]): {
  perCpu: { cpu: number; runtime: number; period: number }[];
  why: string;
  advice: string;
} {
  const perCpu: { cpu: number; runtime: number; period: number }[] = [];
  for (const cpu of cpus) {
    const runtime = readText(`${FAIR_SERVER}/cpu${cpu}/runtime`);
    const period = readText(`${FAIR_SERVER}/cpu${cpu}/period`);
    if (runtime === null || period === null) continue;
    perCpu.push({ cpu, runtime: Number(runtime.trim()), period: Number(period.trim()) });
  }
  if (perCpu.length > 0) return { perCpu, why: "", advice: "" };
  const major = release().split(".").map(Number);
  const before612 = major[0] < 6 || (major[0] === 6 && major[1] < 12);
  if (before612)
    return { perCpu, why: "none (kernel before 6.12: RT throttling alone bounds RT tasks)", advice: "" };
  const mounted = existsSync("/sys/kernel/debug/sched");
  return {
    perCpu,
    why: mounted
      ? `${FAIR_SERVER} not readable`
      : `unknown: ${FAIR_SERVER} needs debugfs (not mounted); the default is 50 ms per 1 s on every CPU`,
    advice: mounted ? "run as root" : "mount -t debugfs none /sys/kernel/debug to read it",
  };
}

export function runDoctorChecks(): CheckResult[] {
  const out: CheckResult[] = [];
  const add = (name: string, status: CheckStatus, detail: string, advice = "") =>
    out.push({ name, status, detail, advice });

  add("kernel", "info", `${release()} ${version()}`);

  // tracefs
  let root = "";
  try {
    root = findTracefs();
    add("tracefs", "ok", `mounted at ${root}`);
  } catch (e) {
    add(
      "tracefs",
      "fail",
      (e as Error).message,
      "mount it: mount -t tracefs nodev /sys/kernel/tracing (as root)",
    );
  }

  // permissions: can we create (and remove) a private instance?
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  if (root) {
    const probe = `${root}/instances/${INSTANCE_PREFIX}${process.pid}-doctor`;
    try {
      mkdirSync(probe);
      removeInstanceDir(probe);
      add("permissions", "ok", `can create tracefs instances${isRoot ? " (root)" : ""}`);
    } catch (e) {
      add(
        "permissions",
        "fail",
        `cannot create ${probe}: ${(e as Error).message.split("\n")[0]}`,
        "run rtscope as root (live capture needs write access to tracefs instances)",
      );
    }
  } else {
    add(
      "permissions",
      isRoot ? "ok" : "fail",
      isRoot ? "running as root" : "not root",
      isRoot ? "" : "run rtscope as root",
    );
  }

  // events
  if (root) {
    const plan = planEvents({
      selection: emptySelection(),
      wakeupEvent: "wakeup",
      syscalls: true,
      hrtimerWakeupAddr: "",
    });
    const missingRequired: string[] = [];
    const missingOptional: string[] = [];
    for (const p of plan) {
      if (existsSync(`${root}/events/${p.system}/${p.event}/format`)) continue;
      (p.required ? missingRequired : missingOptional).push(`${p.system}:${p.event} (${p.why})`);
    }
    if (missingRequired.length)
      add(
        "events",
        "fail",
        `missing ${missingRequired.join(", ")}`,
        "build the kernel with CONFIG_FTRACE and scheduler tracepoints",
      );
    else if (missingOptional.length)
      add(
        "events",
        "warn",
        `missing ${missingOptional.join(", ")}`,
        "those metrics or causes will be missing; syscall events need CONFIG_FTRACE_SYSCALLS",
      );
    else add("events", "ok", `all ${plan.length} events present`);
    const clocks = readText(`${root}/trace_clock`) ?? "";
    if (/\bmono\b/.test(clocks))
      add("trace clock", "ok", "mono available (timestamps comparable with hrtimer expiries)");
    else
      add(
        "trace clock",
        "fail",
        `no mono clock in '${clocks.trim()}'`,
        "upgrade the kernel (mono appeared in 4.0)",
      );
  }

  // kallsyms
  const ksyms = readText("/proc/kallsyms");
  const hw = ksyms ? /^([0-9a-f]+) \S hrtimer_wakeup$/m.exec(ksyms) : null;
  if (hw && !/^0+$/.test(hw[1]))
    add("kallsyms", "ok", `hrtimer_wakeup at 0x${hw[1]} (timer sleeps recognised)`);
  else
    add(
      "kallsyms",
      "warn",
      hw ? "addresses hidden (kptr_restrict)" : "hrtimer_wakeup not found",
      "run as root or set kernel.kptr_restrict=0; without it timer sleeps are found from syscall events only",
    );

  // preemption model
  const pm = decidePreemption(readPreemptSources());
  const pmFrom = pm.from ? `, from ${pm.from}` : "";
  if (pm.model === "rt") add("preemption", "ok", `PREEMPT_RT${pmFrom}`);
  else if (pm.model === "unknown")
    add("preemption", "warn", `unknown: ${pm.detail}`, "for hard real-time use a PREEMPT_RT kernel");
  else
    add(
      "preemption",
      "warn",
      `${pm.model}${pm.dynamic ? " (PREEMPT_DYNAMIC)" : ""}${pmFrom}: ${pm.detail}; not PREEMPT_RT`,
      pm.model === "full" || pm.model === "lazy"
        ? "for hard real-time use a PREEMPT_RT kernel"
        : `long non-preemptible kernel sections will show as blocking; use PREEMPT_RT${pm.dynamic ? " or boot with preempt=full" : " or a fully preemptible kernel"}`,
    );

  // threaded IRQs
  const cmdline = readText("/proc/cmdline") ?? "";
  let irqThreads = 0;
  try {
    for (const d of readdirSync("/proc")) {
      if (!/^\d+$/.test(d)) continue;
      const comm = readText(`/proc/${d}/comm`);
      if (comm?.startsWith("irq/")) irqThreads++;
    }
  } catch {
    // /proc unreadable: counted as none
  }
  if (pm.model === "rt" || /\bthreadirqs\b/.test(cmdline))
    add(
      "threaded IRQs",
      "ok",
      `forced (${pm.model === "rt" ? "PREEMPT_RT" : "threadirqs"}); ${irqThreads} irq/ threads`,
    );
  else
    add(
      "threaded IRQs",
      irqThreads > 0 ? "info" : "warn",
      `not forced; ${irqThreads} irq/ threads`,
      "boot with 'threadirqs' (or use PREEMPT_RT) to get the irq metric and prioritise IRQ threads",
    );

  // RT throttling
  const rt = readText("/proc/sys/kernel/sched_rt_runtime_us")?.trim();
  const period = readText("/proc/sys/kernel/sched_rt_period_us")?.trim();
  if (rt === undefined) add("RT throttling", "info", "sched_rt_runtime_us not readable");
  else if (rt === "-1") add("RT throttling", "ok", "disabled (sched_rt_runtime_us = -1)");
  else
    add(
      "RT throttling",
      "warn",
      `RT tasks limited to ${rt} us per ${period ?? "?"} us`,
      "an RT task running longer is throttled (huge latencies); disable with: sysctl kernel.sched_rt_runtime_us=-1 (keep a watchdog)",
    );

  // CPUs and isolation
  const online = cpuList(readText("/sys/devices/system/cpu/online"));
  const possible = cpuList(readText("/sys/devices/system/cpu/possible"));
  const isolated = cpuList(readText("/sys/devices/system/cpu/isolated"));
  const nohz = cpuList(readText("/sys/devices/system/cpu/nohz_full"));
  add(
    "CPUs",
    "info",
    `${cpuCount(possible)} CPUs (possible ${possible || "?"}), online ${online || "?"} (${cpuCount(online)}); isolated: ${isolated || "none"}; nohz_full: ${nohz || "none"}`,
  );
  if (isolated || nohz)
    add(
      "CPU isolation",
      "ok",
      `isolated: ${isolated || "none"}; nohz_full: ${nohz || "none"}`,
      "pin rtscope to housekeeping CPUs with --cpu",
    );
  else
    add(
      "CPU isolation",
      "info",
      "no isolcpus / nohz_full",
      "for the best latency isolate the RT CPUs (isolcpus=, nohz_full=, rcu_nocbs=) and run rtscope with --cpu on the others",
    );

  // fair server (6.12+): normal tasks get `runtime` ns per `period` on each CPU even when RT
  // tasks would keep the CPU busy, so an RT task can be delayed by up to that much
  const fs = fairServer(parseCpuList(online));
  if (fs.perCpu.length > 0) {
    const uniform = fs.perCpu.every(
      (c) => c.runtime === fs.perCpu[0].runtime && c.period === fs.perCpu[0].period,
    );
    const text = uniform
      ? `every online CPU: ${fs.perCpu[0].runtime / 1e6} ms per ${fs.perCpu[0].period / 1e6} ms`
      : fs.perCpu.map((c) => `cpu${c.cpu} ${c.runtime / 1e6}/${c.period / 1e6} ms`).join(", ");
    add(
      "fair server",
      fs.perCpu.some((c) => c.runtime > 0) ? "warn" : "ok",
      `runtime ${text}`,
      "normal tasks may run for that share ahead of RT tasks when they starve; set /sys/kernel/debug/sched/fair_server/cpuN/runtime to 0 on RT CPUs if that is not wanted",
    );
  } else add("fair server", "info", fs.why, fs.advice);

  // cpu_dma_latency
  if (existsSync("/dev/cpu_dma_latency")) {
    try {
      const fd = openSync("/dev/cpu_dma_latency", "r");
      const b = Buffer.alloc(4);
      const n = readSync(fd, b, 0, 4, null);
      closeSync(fd);
      const v = n === 4 ? b.readInt32LE(0) : -1;
      if (v === 0) add("cpu_dma_latency", "ok", "0 us: deep C-states are held off");
      else
        add(
          "cpu_dma_latency",
          "info",
          v < 0 ? "unreadable value" : `${v} us (no constraint)`,
          "deep C-states add wakeup latency; keep /dev/cpu_dma_latency open with 0 written (cyclictest does this while it runs)",
        );
    } catch (e) {
      add("cpu_dma_latency", "info", `not readable: ${(e as Error).message}`, "run as root to check");
    }
  } else add("cpu_dma_latency", "info", "/dev/cpu_dma_latency absent", "");

  // clock source
  const cs = readText("/sys/devices/system/clocksource/clocksource0/current_clocksource")?.trim() ?? "";
  const avail = readText("/sys/devices/system/clocksource/clocksource0/available_clocksource")?.trim() ?? "";
  if (cs === "tsc" || cs === "arch_sys_counter") add("clock source", "ok", `${cs} (available: ${avail})`);
  else if (cs === "kvm-clock" || cs === "hyperv_clocksource_tsc_page" || cs === "xen")
    add(
      "clock source",
      "info",
      `${cs}: a virtual machine (available: ${avail})`,
      "latencies inside a VM include the hypervisor's; measure on bare metal for final numbers",
    );
  else if (cs)
    add(
      "clock source",
      "warn",
      `${cs} (available: ${avail})`,
      "hpet/acpi_pm are slow to read and add overhead to every event; prefer tsc",
    );
  else add("clock source", "info", "unknown");

  return out;
}
