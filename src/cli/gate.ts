// The exit status of a run that produced reports (record, hist, report), so that a CI job
// gating on it never passes by accident (SPEC §1): 3 when a bound was violated, 4 when a
// bound's metric has no sample in the whole selection (nothing was measured) or when the bounds
// were not checked over the whole run (a live capture gap, or lost events that cut a selected
// thread's activations: the violation may be among them), 5 when the launched command failed
// or was killed (unless --ignore-command-status). A failed workload wins (its numbers are not
// those of the workload meant), then 3, then 4; the message on stderr names every reason, so
// that the one the status hides is still said.
// Every command returns its status as a literal, the numbers README's "Exit status for CI"
// documents: 0 success, 1 usage error, 2 runtime error, and 3-5 decided here.

import {
  type CommandStatus,
  commandEndText,
  commandFailed,
  type Report,
  uncheckedReasons,
  unmeasuredMetrics,
  violatedMetrics,
} from "../model/report.ts";

export interface GateOptions {
  /** the launched command, when there was one */
  command?: CommandStatus;
  /** --ignore-command-status */
  ignoreCommandStatus?: boolean;
}

/** The exit status and the lines that explain it (for stderr; none when it is 0 or plain 3). */
export function gateVerdict(
  reports: readonly Report[],
  o: GateOptions = {},
): { code: number; lines: string[] } {
  const lines: string[] = [];
  const violated = new Set<string>();
  const several = reports.length > 1;
  let unmeasured = false;
  let unchecked = false;
  for (const r of reports) {
    for (const k of violatedMetrics(r)) violated.add(k);
    const partly = uncheckedReasons(r);
    if (partly.length > 0) {
      unchecked = true;
      lines.push(
        `bounds not checked over the whole run${several ? ` in ${r.source.path}` : ""}: ${partly.join("; ")}`,
      );
    }
    const none = unmeasuredMetrics(r);
    if (none.length === 0) continue;
    unmeasured = true;
    const why = r.diagnostics.find((d) => d.key === "nothing_measured")?.details[0];
    lines.push(
      `nothing measured${several ? ` in ${r.source.path}` : ""}: ${why ?? `no ${none.join(", ")} sample in the selection (${r.selection})`}`,
    );
  }
  const failed = o.command !== undefined && commandFailed(o.command);
  if (o.command !== undefined && o.command.ended !== "running")
    lines.unshift(
      `the command '${o.command.argv.join(" ")}' ${commandEndText(o.command)}` +
        (failed && o.ignoreCommandStatus ? " (ignored: --ignore-command-status)" : ""),
    );
  let code = 0;
  const why4 = unmeasured ? "nothing measured" : "not checked over the whole run";
  if (unmeasured || unchecked) code = 4;
  if (violated.size > 0) {
    code = 3;
    if (unmeasured || unchecked)
      lines.push(
        `SLO bound violated (${[...violated].join(", ")}): exit status 3, which wins over 4 (${why4})`,
      );
  }
  if (failed && !o.ignoreCommandStatus) {
    const others = [violated.size > 0 ? "3 (SLO violated)" : "", unmeasured || unchecked ? `4 (${why4})` : ""]
      .filter(Boolean)
      .join(" and ");
    lines.push(
      `the launched command failed: exit status 5${others ? `, which wins over ${others}` : ""} (--ignore-command-status to gate on the measurements alone)`,
    );
    code = 5;
  }
  return { code, lines };
}

/** Writes the verdict's lines on stderr and returns the exit status. */
export function gateExit(reports: readonly Report[], o: GateOptions = {}): number {
  const v = gateVerdict(reports, o);
  for (const l of v.lines) process.stderr.write(`rtscope: ${l}\n`);
  return v.code;
}
