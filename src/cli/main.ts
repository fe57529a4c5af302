// rtscope's entry point: `rtscope <command> [args]`. Each command lives in its own file
// (src/cli/<command>.ts) exporting `run(argv): Promise<number>` (the exit status) and a
// one-line `summary`; it is imported only when asked for, so a command that is broken or
// not built yet never stops the others.
//
// Exit status (SPEC §1): 0 ok, 1 usage error, 2 runtime error, 3 an SLO bound was violated
// (compare: a regression; admit: rejected), 4 a bound was not checked: its metric has no sample
// in the selection, or part of the run was not seen (a capture gap, lost events cutting a
// selected thread's activations; admit: not admitted for lack of evidence), 5 the launched command failed (gate.ts).
// The codes live in gate.ts: a command importing this file would wait on its top-level await.

import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { restartForCapture } from "../tracefs/capture-runtime.ts";
import { UsageError } from "./options.ts";

export interface CommandModule {
  run(argv: string[]): Promise<number>;
  summary?: string;
  /** full help text (else `run(["--help"])` prints it) */
  help?: string;
}

interface CommandEntry {
  name: string;
  synopsis: string;
  summary: string;
}

/** Every command of SPEC §2, in the order the help lists them; summaries used when a module is absent. */
export const COMMANDS: readonly CommandEntry[] = [
  {
    name: "record",
    synopsis: "[SELECTION] [--duration 30s] [--slo ...] [-- CMD ARGS]",
    summary: "trace live and report per-task latencies",
  },
  {
    name: "top",
    synopsis: "[SELECTION] [--slo ...]",
    summary: "live table refreshed every second, like rtla timerlat top",
  },
  {
    name: "hist",
    synopsis: "[SELECTION] [--bucket 1us] [--entries 256]",
    summary: "live capture, rtla-style histogram at the end",
  },
  {
    name: "report",
    synopsis: "FILE... [SELECTION] [--slo ...] [--format F] [-o FILE]",
    summary: "analyse recorded traces (trace.dat, ftrace text)",
  },
  {
    name: "export",
    synopsis: "FILE|RUN --task TID --metric M [--format F] -o OUT",
    summary: "export a worst-case window (Perfetto, trace.dat, JSON)",
  },
  {
    name: "serve",
    synopsis: "[--listen HOST:PORT] [--socket PATH] [--token-file PATH]",
    summary: "daemon: HTTP API, Prometheus metrics, event stream",
  },
  {
    name: "ctl",
    synopsis: "add PID [--trace] | del PID | slo PID METRIC BOUND|off | list | show PID | worst PID METRIC",
    summary: "control a running daemon (add/del tasks, SLO bounds, statistics)",
  },
  { name: "runs", synopsis: "[list|show ID|rm ID]", summary: "stored runs: list, show, remove" },
  {
    name: "compare",
    synopsis: "BASE NEW [--tolerance 10%]",
    summary: "compare two runs or JSON reports; exit 3 on regression",
  },
  {
    name: "admit",
    synopsis: "[SELECTION] --slo ... [--baseline 30s] [--duration 30s] -- NEWCOMER ARGS",
    summary: "does the workload still meet its bounds when a new task joins? (exit 0/3)",
  },
  { name: "doctor", synopsis: "", summary: "check kernel, tracefs, permissions, clocks, RT settings" },
  { name: "reset", synopsis: "", summary: "remove stale rtscope tracefs instances" },
  {
    name: "demo",
    synopsis: "[--no-live] [--trace FILE]",
    summary: "a short live session on cyclictest, or a bundled trace (what `npm start` runs)",
  },
];

const COMMAND_RE = /^[a-z][a-z-]*$/;

export function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      version?: string;
    };
    return pkg.version ?? "0.0.0";
  } catch {
    return "0.0.0";
  }
}

function commandPath(name: string): string {
  return fileURLToPath(new URL(`./${name}.ts`, import.meta.url));
}

export function commandAvailable(name: string): boolean {
  return existsSync(commandPath(name));
}

async function loadCommand(name: string): Promise<CommandModule | null> {
  if (!COMMANDS.some((c) => c.name === name) || !commandAvailable(name)) return null;
  const mod = (await import(`./${name}.ts`)) as Partial<CommandModule>;
  if (typeof mod.run !== "function")
    throw new Error(`command '${name}' is incomplete in this build (no run())`);
  return mod as CommandModule;
}

export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = COMMANDS.map((c) => {
    const missing = commandAvailable(c.name) ? "" : "  [not available in this build]";
    return `  ${c.name.padEnd(width)}  ${c.summary}${missing}`;
  });
  return `rtscope ${version()} — per-task real-time latency analysis from kernel tracepoints

Usage: rtscope <command> [options]
       rtscope help <command>      help on one command
       rtscope --version

Commands:
${lines.join("\n")}

Examples:
  rtscope report trace.dat --comm cyclictest --slo latency=50us
  rtscope report trace.dat --rt --format json -o report.json
  sudo rtscope record --rt --duration 30s
  rtscope runs
  rtscope compare 3 4 --tolerance 5%

Exit status: 0 ok, 1 usage error, 2 runtime error, 3 an SLO bound was violated (compare: a
regression; admit: rejected), 4 a bound was set but not checked (nothing measured for it, or
part of the run unseen: a capture gap or lost events), 5 the launched command failed.
Set RTSCOPE_DEBUG=1 to see stack traces of errors.
`;
}

function usageError(err: UsageError): number {
  const hint = err.command ? `rtscope ${err.command} --help` : "rtscope --help";
  process.stderr.write(`rtscope: ${err.message}\nTry '${hint}'.\n`);
  return 1;
}

/** Runs the command line (without node and script); resolves to the exit status. */
export async function runMain(argv: string[]): Promise<number> {
  // `rtscope report ... | head`: the reader went away; stop quietly, as other tools do.
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw e;
  });
  try {
    const [first, ...rest] = argv;
    if (first === undefined || first === "--help" || first === "-h") {
      process.stdout.write(mainHelp());
      return first === undefined ? 1 : 0;
    }
    if (first === "--version" || first === "-V" || first === "version") {
      process.stdout.write(`rtscope ${version()}\n`);
      return 0;
    }
    if (first === "help") {
      if (rest.length === 0) {
        process.stdout.write(mainHelp());
        return 0;
      }
      return await dispatch(rest[0], ["--help"]);
    }
    if (first.startsWith("-")) throw new UsageError(`unknown option '${first}' (a command comes first)`);
    return await dispatch(first, rest);
  } catch (e) {
    return reportError(e);
  }
}

async function dispatch(name: string, argv: string[]): Promise<number> {
  if (!COMMAND_RE.test(name) || !COMMANDS.some((c) => c.name === name))
    throw new UsageError(`unknown command '${name}'; commands: ${COMMANDS.map((c) => c.name).join(", ")}`);
  restartForCapture(name, argv);
  const mod = await loadCommand(name);
  if (!mod) {
    process.stderr.write(`rtscope: the '${name}' command is not available in this build.\n`);
    return 1;
  }
  // `--help` after `--` belongs to the launched command (record -- CMD --help)
  const dash = argv.indexOf("--");
  const own = dash >= 0 ? argv.slice(0, dash) : argv;
  if (mod.help && (own.includes("--help") || own.includes("-h"))) {
    process.stdout.write(mod.help.endsWith("\n") ? mod.help : `${mod.help}\n`);
    return 0;
  }
  return await mod.run(argv);
}

/** One line on stderr; the stack only with RTSCOPE_DEBUG=1. */
export function reportError(e: unknown): number {
  if (e instanceof UsageError) return usageError(e);
  const err = e instanceof Error ? e : new Error(String(e));
  if (process.env.RTSCOPE_DEBUG === "1" && err.stack) process.stderr.write(`${err.stack}\n`);
  process.stderr.write(`rtscope: ${oneLine(err)}\n`);
  return 2;
}

function oneLine(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  const path = (err as NodeJS.ErrnoException).path;
  // Node's fs errors read "ENOENT: no such file or directory, open 'x'": say it plainly.
  if (code === "ENOENT" && path) return `${path}: no such file or directory`;
  if ((code === "EACCES" || code === "EPERM") && path)
    return `${path}: permission denied (run as root or fix the file's permissions)`;
  if (code === "EISDIR" && path) return `${path}: is a directory, expected a file`;
  return err.message.replace(/\s*\n\s*/g, " ");
}

// Run when executed directly (`node src/cli/main.ts demo`, as `npm start` does).
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await runMain(process.argv.slice(2));
}
