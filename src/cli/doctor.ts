// `rtscope doctor`: one line per check of the system for live capture and real-time work,
// each with what to do. Exit 2 when a check fails (live capture will not work), else 0.

import { runDoctorChecks } from "../tracefs/doctor-checks.ts";
import { HELP_OPTIONS, parseCommandLine } from "./options.ts";

export const summary = "check kernel, tracefs, permissions, clocks, RT settings";

export const help = `Usage: rtscope doctor [--json]

Checks what live capture and real-time work depend on, one line per check with what to do:
tracefs, permissions, needed events, trace clock, kallsyms, preemption model, threaded IRQs,
RT throttling, CPU isolation, cpu_dma_latency, clock source.

  --json     print the checks as JSON

Examples:
  sudo rtscope doctor              before a first live capture: what works, what to fix
  sudo rtscope doctor --json > doctor.json   attach to a bug report

Exit status: 0 when live capture can work (warnings allowed), 2 when a check failed.
`;

const MARK = { ok: "ok  ", warn: "WARN", fail: "FAIL", info: "info" } as const;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandLine(
    "doctor",
    argv,
    { ...HELP_OPTIONS, json: { type: "boolean" } },
    { positionals: false },
  );
  if (values.help) {
    process.stdout.write(help);
    return 0;
  }
  const checks = runDoctorChecks();
  if (values.json) {
    process.stdout.write(`${JSON.stringify(checks, null, 2)}\n`);
  } else {
    const w = Math.max(...checks.map((c) => c.name.length));
    for (const c of checks) {
      const advice = c.advice && c.status !== "ok" ? ` -> ${c.advice}` : "";
      process.stdout.write(`[${MARK[c.status]}] ${c.name.padEnd(w)}  ${c.detail}${advice}\n`);
    }
  }
  return checks.some((c) => c.status === "fail") ? 2 : 0;
}
