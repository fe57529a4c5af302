// One live capture as the commands (record, top, hist) run it: the live source, the
// optional launched command (`-- CMD ARGS`, like perf record: it keeps the user's stdin,
// stdout and stderr, and it, its threads and its descendants are tracked), the end
// conditions (--duration, Ctrl-C/SIGTERM/SIGHUP, the command's exit) and rtscope's own
// placement (see readerPlacement).
//
// Order matters. The command is spawned first but held (a shell waiting on a pipe) so that
// its pid can join the selection before the analysis is built; `begin()` (called right
// after the live source turned tracing on) releases it, so its exec and everything after
// are in the trace, and no time passes between tracing on and the first read (a gap would
// fill the ring buffer under load). rtscope pins and prioritises itself only after
// spawning, so the command inherits neither rtscope's CPU list nor its policy.

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import type { Selection } from "../model/selection.ts";
import { type LiveOptions, LiveSource } from "../sources/tracefs-live.ts";
import { gcHelpersRun } from "./capture-runtime.ts";
import { setStopHandler } from "./cleanup.ts";
import { readCpuList } from "./cpu-list.ts";

/** How long a Ctrl-C'd capture waits for the launched command to exit (it is traced meanwhile). */
const CHILD_EXIT_WAIT_MS = 2000;

export interface SessionOptions extends LiveOptions {
  /** stop after this many ns (undefined: until Ctrl-C or the command's exit) */
  durationNs?: number;
  /** command to launch and track */
  command?: string[];
  /** CPU list for rtscope itself ("0", "0-1,3") */
  cpuList?: string;
  /** SCHED_FIFO priority for rtscope itself, "normal" for SCHED_OTHER (default: see readerPlacement) */
  priority?: number | "normal";
  /**
   * a second capture inside a process that already handles the signals and its own placement
   * (the daemon's admit): no stop handler, no pinning, no priority change
   */
  embedded?: boolean;
}

/**
 * rtscope's own SCHED_FIFO priority when root and not told otherwise. The reader must not
 * starve behind the SCHED_OTHER load it measures (at normal priority it loses events while
 * waiting for a CPU, not while busy); 1 is above every normal
 * task and below every real RT task (IRQ threads run at 50, cyclictest at 80-99), which
 * rtscope therefore never delays. The price: rtscope's own CPU time is taken from normal tasks
 * first, and RT throttling and the fair server still bound it.
 */
export const DEFAULT_READER_PRIORITY = 1;

export interface Placement {
  /** SCHED_FIFO priority to set, or null to leave rtscope at normal priority */
  priority: number | null;
  /** CPU list to pin rtscope to, or null */
  cpuList: string | null;
  /** what was decided and why, for stderr */
  notes: string[];
}

/**
 * Where and how rtscope runs: --priority/--cpu as given; by default SCHED_FIFO
 * DEFAULT_READER_PRIORITY when root, and then kept off isolated (isolcpus) and nohz_full CPUs,
 * whose tasks an RT reader would interrupt. Pure: the tests give it the CPU sets.
 */
export function readerPlacement(o: {
  priority?: number | "normal";
  cpuList?: string;
  isRoot: boolean;
  online: number[];
  isolated: number[];
  nohzFull: number[];
}): Placement {
  const notes: string[] = [];
  let priority: number | null = null;
  if (typeof o.priority === "number") priority = o.priority;
  else if (o.priority === undefined && o.isRoot) priority = DEFAULT_READER_PRIORITY;
  let cpuList: string | null = o.cpuList ?? null;
  if (priority !== null && cpuList === null) {
    const reserved = new Set([...o.isolated, ...o.nohzFull]);
    const housekeeping = o.online.filter((c) => !reserved.has(c));
    if (reserved.size > 0 && housekeeping.length > 0) {
      cpuList = housekeeping.join(",");
      notes.push(`kept off isolated/nohz_full CPUs: running on CPUs ${cpuList} (--cpu to choose)`);
    }
  }
  return { priority, cpuList, notes };
}

/** readerPlacement with this machine's CPU sets. */
export function placementHere(
  priority: number | "normal" | undefined,
  cpuList: string | undefined,
): Placement {
  return readerPlacement({
    priority,
    cpuList,
    isRoot: typeof process.getuid === "function" && process.getuid() === 0,
    online: readCpuList("/sys/devices/system/cpu/online"),
    isolated: readCpuList("/sys/devices/system/cpu/isolated"),
    nohzFull: readCpuList("/sys/devices/system/cpu/nohz_full"),
  });
}

export type StopReason = "duration" | "signal" | "command-exit" | "requested";

/** Pins every thread of this process to `list` (taskset -a). Throws a readable error. */
export function pinSelf(list: string): void {
  if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(list))
    throw new Error(`--cpu expects a CPU list like 0 or 0-1,3, got '${list}'`);
  try {
    execFileSync("taskset", ["-a", "-p", "-c", list, String(process.pid)], { stdio: "pipe" });
  } catch (e) {
    throw new Error(`cannot pin rtscope to CPUs ${list}: ${(e as Error).message.split("\n")[0]}`);
  }
}

/**
 * Sets SCHED_FIFO `prio` on the reader: this process's main thread, and the threads it creates
 * from now on (they inherit its policy). V8's compiler threads, started with the process, stay
 * at normal priority: a FIFO one took a CPU from normal threads for a whole compile (32 ms seen
 * in a window of a SCHED_OTHER cyclictest beside `record --cpu 0`), and the reader never waits
 * for them (its GC runs on its own thread: tracefs/capture-runtime.ts).
 */
export function prioritizeSelf(prio: number): void {
  // without the restart (RTSCOPE_NO_RESTART=1, a Node without process.execve) V8's GC helpers
  // exist, and the reader waits for them: they get its priority too, as before, so that on the
  // other CPUs no normal thread delays them
  try {
    execFileSync("chrt", [...(gcHelpersRun() ? ["-a"] : []), "-f", "-p", String(prio), String(process.pid)], {
      stdio: "pipe",
    });
  } catch (e) {
    throw new Error(`cannot set SCHED_FIFO ${prio} on rtscope: ${(e as Error).message.split("\n")[0]}`);
  }
}

export class CaptureSession {
  readonly source: LiveSource;
  readonly selection: Selection;
  readonly controller = new AbortController();
  child: ChildProcess | null = null;
  /** rtscope's SCHED_FIFO priority, null at normal priority */
  priority: number | null = null;
  /** placement notes for stderr (the command prints them with the start-up line) */
  notes: string[] = [];
  stopReason: StopReason | null = null;
  /** the launched command's exit code (or 128+signal), null while running / none */
  childExit: number | null = null;
  /** the signal that killed the launched command, null when it exited (or runs) */
  childSignal: NodeJS.Signals | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** after a signal: stops the capture if the launched command has not exited by then */
  private exitWait: NodeJS.Timeout | null = null;
  private childDone: Promise<void> = Promise.resolve();
  private durationNs: number | undefined;
  private begun = false;
  /** the launched command's argv (-- CMD ARGS) */
  command: string[] = [];
  private readonly embedded: boolean;

  private constructor(o: SessionOptions) {
    this.selection = o.selection;
    this.embedded = o.embedded === true;
    this.source = LiveSource.open(o);
  }

  /**
   * Opens the instance (tracing still off), spawns the command held, places rtscope.
   * Call `begin()` once the live source is running.
   */
  static start(o: SessionOptions): CaptureSession {
    const s = new CaptureSession(o);
    try {
      s.durationNs = o.durationNs;
      if (!o.embedded) setStopHandler((sig) => s.stop("signal", sig));
      if (o.command && o.command.length > 0) s.launch(o.command);
      if (o.embedded) return s;
      const place = placementHere(o.priority, o.cpuList);
      if (place.cpuList !== null) pinSelf(place.cpuList);
      if (place.priority !== null) {
        try {
          prioritizeSelf(place.priority);
          s.priority = place.priority;
        } catch (e) {
          // asked for: fail; by default (a container without CAP_SYS_NICE, RT group budget 0): go on
          if (o.priority !== undefined) throw e;
          place.notes.push(
            `${(e as Error).message}; reading at normal priority, where a busy system can starve it`,
          );
        }
      }
      s.notes = place.notes;
    } catch (e) {
      s.close();
      throw e;
    }
    return s;
  }

  /** Tracing is on: release the command and start the --duration clock. */
  begin(): void {
    if (this.begun) return;
    this.begun = true;
    this.source.start();
    const gate = this.child?.stdio[3] as NodeJS.WritableStream | null | undefined;
    if (gate) gate.end("go\n");
    if (this.durationNs !== undefined)
      this.timer = setTimeout(() => this.stop("duration"), Math.max(1, Math.round(this.durationNs / 1e6)));
  }

  private launch(cmd: string[]): void {
    // held until begin(): the shell keeps the pid when it execs the command; on EOF (rtscope
    // died before releasing it) it exits without running the command
    const child = spawn(
      "/bin/sh",
      ["-c", 'read -r _ <&3 || exit 127; exec 3<&-; exec "$@"', "rtscope-launch", ...cmd],
      {
        stdio: ["inherit", "inherit", "inherit", "pipe"],
      },
    );
    this.child = child;
    this.command = cmd;
    // the launcher closes its end of the gate once it has read the line (or when the command
    // is gone): a reset on that pipe is no error of rtscope's (it was an uncaught ECONNRESET
    // on Ctrl-C, exit 2)
    (child.stdio[3] as NodeJS.ReadWriteStream | null)?.on("error", () => {});
    if (child.pid === undefined) {
      // spawn failures (ENOENT) arrive as an 'error' event; make them an exception here
      throw new Error(`cannot run '${cmd[0]}': not found or not executable`);
    }
    this.selection.descendantsOf.push(child.pid);
    this.childDone = new Promise((resolve) => {
      child.on("exit", (code, signal) => {
        this.childExit = code ?? 128 + (signal ? signalNumber(signal) : 0);
        this.childSignal = code === null ? signal : null;
        this.stop("command-exit");
        resolve();
      });
      child.on("error", () => {
        this.childExit = 127;
        this.stop("command-exit");
        resolve();
      });
    });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  stop(reason: StopReason, _sig?: NodeJS.Signals): void {
    const first = this.stopReason === null;
    if (first) this.stopReason = reason;
    if (reason === "signal" && first && this.child && this.childExit === null) {
      // The terminal's Ctrl-C reaches the command too; a kill/SIGTERM to rtscope alone
      // should end it as well. Tracing goes on until it has exited (its exit stops the
      // capture), so that its last cycles are in the report too; without an exit within
      // CHILD_EXIT_WAIT_MS the capture stops anyway (a second signal ends rtscope at once,
      // see cleanup.ts).
      try {
        this.child.kill("SIGTERM");
      } catch {
        // already gone
      }
      this.exitWait = setTimeout(() => this.controller.abort(), CHILD_EXIT_WAIT_MS);
      this.exitWait.unref();
      return;
    }
    if (this.exitWait) clearTimeout(this.exitWait);
    this.controller.abort();
  }

  /** Waits for the launched command (if any) to exit. */
  async waitChild(timeoutMs = 5000): Promise<void> {
    if (!this.child || this.childExit !== null) return;
    await Promise.race([this.childDone, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
  }

  /** Removes the instance and restores the default signal behaviour. */
  close(): void {
    if (this.exitWait) clearTimeout(this.exitWait);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.embedded) setStopHandler(null);
    this.source.close();
    // a command still running at --duration keeps running on its own: rtscope must not
    // wait for it to exit
    if (this.child && this.childExit === null) {
      (this.child.stdio[3] as { destroy?: () => void } | null)?.destroy?.();
      this.child.unref();
    }
  }
}

function signalNumber(sig: NodeJS.Signals): number {
  const n = (
    {
      SIGHUP: 1,
      SIGINT: 2,
      SIGQUIT: 3,
      SIGKILL: 9,
      SIGSEGV: 11,
      SIGPIPE: 13,
      SIGALRM: 14,
      SIGTERM: 15,
    } as Record<string, number>
  )[sig];
  return n ?? 0;
}
