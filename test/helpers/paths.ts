// Where tests find data: the project's own fixtures and the team's ../shared traces
// (read in place, never copied into the project).
import { existsSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
// RTSCOPE_SHARED_DIR points elsewhere (or at nothing, to check that tests skip without it)
export const sharedDir = resolve(repoRoot, process.env.RTSCOPE_SHARED_DIR ?? "../shared");
export const publicTraces = resolve(sharedDir, "traces/public");
export const recordedTraces = resolve(sharedDir, "traces/recorded");
export const fixturesDir = resolve(repoRoot, "test/fixtures");

export function sharedAvailable(): boolean {
  return existsSync(publicTraces) && existsSync(recordedTraces);
}

/** For `{ skip }`: false when ../shared is there, else the reason. */
export const skipWithoutShared: string | false = sharedAvailable()
  ? false
  : `${sharedDir} is missing (the team's shared traces sit beside the checkout)`;

/** Every *.dat file under `root` (recursively), sorted; none when `root` is missing. */
export function traceDatFiles(root: string): string[] {
  if (!existsSync(root)) return [];
  const out: string[] = [];
  for (const e of readdirSync(root, { withFileTypes: true })) {
    const p = join(root, e.name);
    if (e.isDirectory()) out.push(...traceDatFiles(p));
    else if (e.name.endsWith(".dat")) out.push(p);
  }
  return out.sort();
}
