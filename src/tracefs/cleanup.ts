// Process-wide teardown of tracefs state (SPEC §3: the instance is removed on normal exit,
// SIGINT, SIGTERM, SIGHUP and uncaught errors). Cleanups are synchronous so that they also
// run from the 'exit' event. A command that wants to finish its work on Ctrl-C (record
// writes its report) installs a stop handler: the first signal calls it, a second one
// forces the exit.

type Cleanup = () => void;

const cleanups = new Set<Cleanup>();
let stopHandler: ((signal: NodeJS.Signals) => void) | null = null;
let installed = false;
let signalsSeen = 0;

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

/** Runs every registered cleanup once (errors are reported on stderr, never thrown). */
export function runCleanups(): void {
  for (const fn of [...cleanups]) {
    cleanups.delete(fn);
    try {
      fn();
    } catch (e) {
      process.stderr.write(`rtscope: cleanup failed: ${(e as Error).message}\n`);
    }
  }
}

function onSignal(signal: NodeJS.Signals): void {
  signalsSeen++;
  if (stopHandler && signalsSeen === 1) {
    stopHandler(signal);
    return;
  }
  runCleanups();
  process.exit(128 + (SIGNAL_NUMBERS[signal] ?? 1));
}

function onFatal(err: unknown): void {
  runCleanups();
  process.stderr.write(
    `rtscope: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(2);
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on("exit", runCleanups);
  for (const s of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(s, onSignal);
  process.on("uncaughtException", onFatal);
  process.on("unhandledRejection", onFatal);
}

/** Registers a synchronous cleanup; returns a function that unregisters it. */
export function onCleanup(fn: Cleanup): () => void {
  install();
  cleanups.add(fn);
  return () => {
    cleanups.delete(fn);
  };
}

/** The first SIGINT/SIGTERM/SIGHUP calls `fn` instead of exiting (null restores the default). */
export function setStopHandler(fn: ((signal: NodeJS.Signals) => void) | null): void {
  install();
  stopHandler = fn;
  signalsSeen = 0;
}
