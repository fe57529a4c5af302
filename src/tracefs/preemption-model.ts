// The preemption model in force, for `doctor` and the stored run. A PREEMPT_DYNAMIC kernel
// picks its model at boot (`preempt=`, else the config's default) and may change it at run
// time through debugfs, so `uname -v` alone can never name it. The sources, most direct
// first:
//   1. /sys/kernel/debug/sched/preempt: the model in force, "(full)" in "none voluntary (full) lazy"
//      (needs debugfs mounted and readable; lockdown answers EPERM);
//   2. the kernel log's last "Dynamic Preempt: X" line: logged at boot and at every change at
//      run time (kernel/sched/core.c), so the last one is in force, while the log still has it;
//   3. /proc/cmdline `preempt=X`: the boot choice (a later run-time change would not show);
//   4. the kernel config (/proc/config.gz, /boot/config-<release>): a static model, or the
//      default of a dynamic kernel booted without `preempt=`;
//   5. `uname -v`: PREEMPT_RT, PREEMPT_LAZY, PREEMPT (full) on a static kernel only.
// The verdict names the source that decided it; when none can, it is "unknown" (a wrong
// verdict is worse than none).

import { closeSync, constants, openSync, readFileSync, readSync } from "node:fs";
import { release, version } from "node:os";
import { gunzipSync } from "node:zlib";

export type PreemptModel = "none" | "voluntary" | "full" | "lazy" | "rt" | "unknown";

/** What the system says, as read (null: source absent or unreadable, with why). */
export interface PreemptSources {
  /** text of /sys/kernel/debug/sched/preempt, or null */
  debugfs: string | null;
  /** why debugfs could not be read ("" when read) */
  debugfsError: string;
  /** the kernel log's lines (only "Dynamic Preempt:" lines matter), or null when unreadable */
  kernelLog: string[] | null;
  cmdline: string | null;
  /** kernel config text and where it came from, or null */
  config: { text: string; path: string } | null;
  /** uname -v */
  unameVersion: string;
}

export interface PreemptVerdict {
  model: PreemptModel;
  /** the source that decided ("" when unknown) */
  from: string;
  /** a sentence on how sure the verdict is and what else was seen */
  detail: string;
  /** CONFIG_PREEMPT_DYNAMIC (from config or uname -v) */
  dynamic: boolean;
}

const MODELS = new Set(["none", "voluntary", "full", "lazy"]);

function configModel(text: string): { model: PreemptModel; dynamic: boolean } {
  const on = (k: string) => new RegExp(`^${k}=y$`, "m").test(text);
  const dynamic = on("CONFIG_PREEMPT_DYNAMIC");
  if (on("CONFIG_PREEMPT_RT")) return { model: "rt", dynamic };
  if (on("CONFIG_PREEMPT_LAZY")) return { model: "lazy", dynamic };
  if (on("CONFIG_PREEMPT")) return { model: "full", dynamic };
  if (on("CONFIG_PREEMPT_VOLUNTARY")) return { model: "voluntary", dynamic };
  if (on("CONFIG_PREEMPT_NONE")) return { model: "none", dynamic };
  return { model: "unknown", dynamic };
}

/** Decides the model from what was read (pure: the tests feed it real and made-up inputs). */
export function decidePreemption(s: PreemptSources): PreemptVerdict {
  const cfg = s.config ? configModel(s.config.text) : null;
  const uname = s.unameVersion;
  const dynamic = cfg?.dynamic ?? /PREEMPT_DYNAMIC/.test(uname);
  if (cfg?.model === "rt" || /PREEMPT_RT/.test(uname))
    return {
      model: "rt",
      from: cfg?.model === "rt" ? s.config!.path : "uname -v",
      detail: "PREEMPT_RT",
      dynamic,
    };

  const dbg = s.debugfs ? /\(([a-z]+)\)/.exec(s.debugfs)?.[1] : undefined;
  if (dbg && MODELS.has(dbg))
    return {
      model: dbg as PreemptModel,
      from: "/sys/kernel/debug/sched/preempt",
      detail: "in force",
      dynamic,
    };
  const seen = s.debugfsError ? `/sys/kernel/debug/sched/preempt: ${s.debugfsError}` : "";

  if (dynamic) {
    let logged: string | undefined;
    for (const line of s.kernelLog ?? []) {
      const m = /Dynamic Preempt: ([a-z]+)/.exec(line);
      if (m && MODELS.has(m[1])) logged = m[1];
    }
    if (logged)
      return {
        model: logged as PreemptModel,
        from: "the kernel log's last 'Dynamic Preempt:' line",
        detail: `in force (the kernel logs the model at boot and at every change)${seen ? `; ${seen}` : ""}`,
        dynamic,
      };
    const logNote =
      s.kernelLog === null
        ? "the kernel log is not readable"
        : "the kernel log no longer has a 'Dynamic Preempt:' line";
    const boot = s.cmdline ? /(?:^|\s)preempt=([a-z]+)/.exec(s.cmdline)?.[1] : undefined;
    if (boot && MODELS.has(boot))
      return {
        model: boot as PreemptModel,
        from: "/proc/cmdline preempt=",
        detail: `chosen at boot; ${logNote}, so a change at run time through debugfs would not show`,
        dynamic,
      };
    if (cfg && cfg.model !== "unknown")
      return {
        model: cfg.model,
        from: s.config!.path,
        detail: `the dynamic kernel's default (no preempt= on the command line); ${logNote}, so a change at run time would not show`,
        dynamic,
      };
    return {
      model: "unknown",
      from: "",
      detail: `PREEMPT_DYNAMIC kernel: the model is chosen at boot and may change at run time; ${logNote}${seen ? `, ${seen}` : ""}, no kernel config found; mount debugfs (mount -t debugfs none /sys/kernel/debug) to read it`,
      dynamic,
    };
  }

  if (cfg && cfg.model !== "unknown")
    return { model: cfg.model, from: s.config!.path, detail: "built in (not dynamic)", dynamic };
  if (/PREEMPT_LAZY/.test(uname)) return { model: "lazy", from: "uname -v", detail: "built in", dynamic };
  if (/\bPREEMPT\b/.test(uname)) return { model: "full", from: "uname -v", detail: "built in", dynamic };
  return {
    model: "unknown",
    from: "",
    detail: "uname -v shows no PREEMPT: none or voluntary, and no kernel config tells which",
    dynamic,
  };
}

/** The kernel log's records through /dev/kmsg (non-blocking, one record per read), null when not readable. */
export function readKernelLog(): string[] | null {
  let fd: number;
  try {
    fd = openSync("/dev/kmsg", constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return null;
  }
  const out: string[] = [];
  const buf = Buffer.alloc(8192);
  try {
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        // EPIPE: a record was overwritten while reading; the next read goes on with the rest
        if ((e as NodeJS.ErrnoException).code === "EPIPE") continue;
        break;
      }
      if (n <= 0) break;
      const rec = buf.toString("utf8", 0, n);
      out.push(rec.slice(rec.indexOf(";") + 1).split("\n")[0]);
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

function readConfig(): { text: string; path: string } | null {
  try {
    return { text: gunzipSync(readFileSync("/proc/config.gz")).toString("utf8"), path: "/proc/config.gz" };
  } catch {
    // not built with IKCONFIG_PROC: try /boot
  }
  const p = `/boot/config-${release()}`;
  try {
    return { text: readFileSync(p, "utf8"), path: p };
  } catch {
    return null;
  }
}

/** Reads every source from the running system. */
export function readPreemptSources(): PreemptSources {
  let debugfs: string | null = null;
  let debugfsError = "";
  try {
    debugfs = readFileSync("/sys/kernel/debug/sched/preempt", "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    debugfsError = code === "ENOENT" ? "absent (debugfs not mounted?)" : (code ?? (e as Error).message);
  }
  let cmdline: string | null = null;
  try {
    cmdline = readFileSync("/proc/cmdline", "utf8");
  } catch {
    // stays null
  }
  return {
    debugfs,
    debugfsError,
    kernelLog: readKernelLog(),
    cmdline,
    config: readConfig(),
    unameVersion: version(),
  };
}
