// `rtscope reset`: removes rtscope tracefs instances left behind by a killed rtscope
// (instances/rtscope-<pid> whose owner is dead). Instances of live rtscopes are kept
// unless --all; tracefs outside rtscope's own instances is never touched.

import { listRtscopeInstances, removeStaleInstances } from "../tracefs/instance.ts";
import { findTracefs } from "../tracefs/tracefs-root.ts";
import { HELP_OPTIONS, parseCommandLine } from "./options.ts";

export const summary = "remove stale rtscope tracefs instances";

export const help = `Usage: rtscope reset [--all] [--dry-run]

Removes tracefs instances named rtscope-<pid> whose owning process is gone.
  --all       also remove instances of rtscope processes that are still running
  --dry-run   list what would be removed

Examples:
  sudo rtscope reset --dry-run     list the instances a killed rtscope left behind
  sudo rtscope reset               remove them (live runs of other terminals are kept)

Exit status: 0 ok, 2 when an instance could not be removed.
`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandLine(
    "reset",
    argv,
    { ...HELP_OPTIONS, all: { type: "boolean" }, "dry-run": { type: "boolean" } },
    { positionals: false },
  );
  if (values.help) {
    process.stdout.write(help);
    return 0;
  }
  const root = findTracefs();
  if (values["dry-run"]) {
    const names = listRtscopeInstances(root);
    process.stdout.write(
      names.length ? `${names.map((n) => `${root}/instances/${n}`).join("\n")}\n` : "no rtscope instances\n",
    );
    return 0;
  }
  const r = removeStaleInstances(root, values.all === true);
  for (const n of r.removed) process.stdout.write(`removed ${root}/instances/${n}\n`);
  for (const n of r.kept)
    process.stdout.write(`kept ${root}/instances/${n} (its rtscope is running; --all removes it)\n`);
  for (const f of r.failed) process.stderr.write(`rtscope: ${f.error}\n`);
  if (r.removed.length + r.kept.length + r.failed.length === 0)
    process.stdout.write("no rtscope instances\n");
  return r.failed.length ? 2 : 0;
}
