// The instance goes away when rtscope dies of an uncaught error or an unhandled rejection
// (the process-wide cleanup), checked in a child process so the failure is real.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { repoRoot } from "../helpers/paths.ts";
import { checkNoLeftoversAtEnd, skipLive, trackPid } from "../live/live-helpers.ts";

checkNoLeftoversAtEnd();
const tmp = mkdtempSync(join(tmpdir(), "rtscope-cleanup-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

function script(failure: string): string {
  const live = pathToFileURL(join(repoRoot, "src/sources/tracefs-live.ts")).href;
  const sel = pathToFileURL(join(repoRoot, "src/model/selection.ts")).href;
  const file = join(tmp, `${failure}.ts`);
  writeFileSync(
    file,
    `import { LiveSource } from "${live}";
import { emptySelection } from "${sel}";
const src = LiveSource.open({ selection: emptySelection(), instanceSuffix: "crash" });
process.stdout.write(src.instance.path + "\\n");
void src.run({ handle() {} });
setTimeout(() => { ${failure === "throw" ? 'throw new Error("boom")' : 'void Promise.reject(new Error("boom"))'}; }, 300);
`,
  );
  return file;
}

describe("cleanup on fatal errors", { skip: skipLive }, () => {
  for (const failure of ["throw", "reject"]) {
    it(`removes the instance after an uncaught ${failure === "throw" ? "exception" : "rejection"}`, () => {
      const r = spawnSync(process.execPath, [script(failure)], { encoding: "utf8", timeout: 30_000 });
      if (r.pid) trackPid(r.pid);
      const path = r.stdout.trim();
      assert.match(path, /instances\/rtscope-\d+-crash$/);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /boom/);
      assert.equal(existsSync(path), false);
    });
  }
});
