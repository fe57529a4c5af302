// `record -- CMD ARGS`: whether CMD can be executed at all, found as execvp would find it,
// before any capture starts. The launcher is a shell that holds the command until tracing
// is on; if its exec failed, the run would report on that shell instead of the workload.

import { accessSync, constants, statSync } from "node:fs";
import { delimiter, join } from "node:path";

function problemOf(path: string): string | undefined {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch {
    return "not found";
  }
  if (st.isDirectory()) return "is a directory";
  try {
    accessSync(path, constants.X_OK);
  } catch {
    return "permission denied (not executable)";
  }
  return undefined;
}

/** Throws "cannot run 'CMD': ..." when CMD cannot be executed (PATH as execvp searches it). */
export function checkLaunchable(cmd: string, pathVar = process.env.PATH ?? "/usr/bin:/bin"): void {
  if (cmd.includes("/")) {
    const p = problemOf(cmd);
    if (p) throw new Error(`cannot run '${cmd}': ${p}`);
    return;
  }
  let firstProblem: string | undefined;
  for (const dir of pathVar.split(delimiter)) {
    const p = problemOf(join(dir || ".", cmd));
    if (p === undefined) return;
    if (p !== "not found") firstProblem ??= `${join(dir || ".", cmd)}: ${p}`;
  }
  throw new Error(`cannot run '${cmd}': ${firstProblem ?? "not found in PATH"}`);
}
