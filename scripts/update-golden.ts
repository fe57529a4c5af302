// Rewrites test/golden/public-traces.json from the current engine, after an intended change
// of results: `node scripts/update-golden.ts` (Node 24: `npx node` inside the checkout), then
// review `git diff test/golden/` line by line before committing it.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { GOLDEN_FILES, type GoldenSummary, goldenPath, goldenRun } from "../test/golden/golden-summary.ts";
import { repoRoot, sharedAvailable } from "../test/helpers/paths.ts";

if (!sharedAvailable()) {
  console.error("update-golden: ../shared/traces is missing; the golden traces live there");
  process.exit(2);
}
const out: Record<string, GoldenSummary> = {};
for (const f of GOLDEN_FILES) {
  const { report, summary } = await goldenRun(f.path);
  if (report.source.events !== f.events)
    console.error(
      `update-golden: ${basename(f.path)} has ${report.source.events} events, documented ${f.events}`,
    );
  out[basename(f.path)] = summary;
}
writeFileSync(goldenPath, `${JSON.stringify(out, null, 1)}\n`);
// in the project's formatting, so that the lint passes and the diff shows only changed values
execFileSync(join(repoRoot, "node_modules/.bin/biome"), ["format", "--write", goldenPath], {
  stdio: "ignore",
});
console.log(`update-golden: wrote ${goldenPath} (${Object.keys(out).length} traces)`);
