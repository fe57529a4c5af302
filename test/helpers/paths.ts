// Where tests find data: the project's own fixtures and the team's ../shared traces
// (read in place, never copied into the project).
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const sharedDir = resolve(repoRoot, "../shared");
export const publicTraces = resolve(sharedDir, "traces/public");
export const recordedTraces = resolve(sharedDir, "traces/recorded");
export const fixturesDir = resolve(repoRoot, "test/fixtures");

export function sharedAvailable(): boolean {
  return existsSync(publicTraces);
}
