// The V8 settings of a live capture, applied by starting the process again (execve: same pid,
// same terminal, nothing loaded yet). A capture runs its reader as root at SCHED_FIFO by
// default, and a FIFO thread is never preempted by a thread of its own or a lower priority.
// When the reader waited for one of V8's GC helpers on the same CPU (always with `--cpu` naming
// one CPU, else whenever the other CPUs are busy), the helper could not run: the reader spun in
// user space until RT throttling stopped it (seen with every thread at FIFO 1, `chrt -a`, as
// rtscope then set it; a helper at normal priority would wait the same). Measured beside
// `taskset -c 0 cyclictest -p0` with `record --cpu 0`: rtscope used 1.9 s user + 1.3 s system
// CPU over a 2 s run, and a SCHED_OTHER thread on that CPU waited 0.95 s (the throttling
// period); with the GC on the reader's own thread (--single-threaded-gc) 0.7 s + 0.2 s and 50 ms.
// The GC then has no helpers to wait for; background compilation stays (its threads, at normal
// priority, are never waited for while the reader runs). --expose-gc lets the live source
// collect the set-up's garbage before tracing starts (LiveSource.start()).
// --max-semi-space-size caps V8's young generation: `top` grew it to V8's 128 MiB ceiling within
// minutes under a light steady load (objects surviving scavenges make V8 enlarge it), and its
// pages stay resident after it shrinks. A 12-minute soak of `top` side by side: 296 MB RSS
// (young generation up to 128 MiB) against 228 MB with 16 MiB (up to 32 MiB), 3.7 % and 3.5 % of
// a CPU; `record` beside stress-ng --switch 2 used no more CPU per event with it (bench/README.md).

/** Commands that may capture live (they take --priority). */
const CAPTURING = new Set(["record", "top", "hist", "serve", "demo", "admit"]);

const GC_FLAG = "--single-threaded-gc";
/** MiB per semi-space (see the header) */
const YOUNG_GENERATION_FLAG = "--max-semi-space-size=16";

/**
 * Whether V8's GC helper threads run in this process (it was not restarted with the flag): the
 * reader then waits for them, and they need its priority (prioritizeSelf).
 */
export function gcHelpersRun(): boolean {
  return !process.execArgv.includes(GC_FLAG);
}

/** Whether a command line would capture at SCHED_FIFO in this process. */
export function wantsCaptureRuntime(command: string, argv: readonly string[]): boolean {
  if (!CAPTURING.has(command)) return false;
  const dash = argv.indexOf("--");
  const own = dash >= 0 ? argv.slice(0, dash) : argv;
  if (own.includes("--help") || own.includes("-h")) return false;
  const p = own.indexOf("--priority");
  const normal = (p >= 0 && own[p + 1] === "normal") || own.includes("--priority=normal");
  // SCHED_FIFO by default only as root; a non-root --priority N needs CAP_SYS_NICE
  return !normal && (process.getuid?.() === 0 || p >= 0 || own.some((a) => a.startsWith("--priority=")));
}

/**
 * Starts this process again with the capture's V8 flags when `command` captures at SCHED_FIFO
 * and they are not in force yet; returns (doing nothing) where that cannot be done: a Node
 * without process.execve (before 22.15), or RTSCOPE_NO_RESTART=1.
 */
export function restartForCapture(command: string, argv: readonly string[]): void {
  if (!gcHelpersRun() || process.env.RTSCOPE_NO_RESTART === "1") return;
  if (typeof process.execve !== "function" || process.platform !== "linux") return;
  if (!wantsCaptureRuntime(command, argv)) return;
  // only a process whose own command line this is (not a runMain call inside another program)
  const script = process.argv[1];
  const own = process.argv.slice(2);
  if (!script || own[0] !== command || own.length !== argv.length + 1) return;
  if (own.some((a, i) => i > 0 && a !== argv[i - 1])) return;
  try {
    process.execve(
      process.execPath,
      [
        process.execPath,
        GC_FLAG,
        "--expose-gc",
        YOUNG_GENERATION_FLAG,
        ...process.execArgv,
        script,
        ...process.argv.slice(2),
      ],
      process.env,
    );
  } catch (e) {
    // execve failed and this process goes on, with V8's GC helpers
    process.stderr.write(
      `rtscope: could not restart with ${GC_FLAG} (${(e as Error).message}); a reader waiting for a GC helper on its own CPU may spin\n`,
    );
  }
}
