import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { TraceFormatError } from "../../src/model/source.ts";
import { detectFormat, openSource } from "../../src/sources/open-source.ts";
import { publicTraces, recordedTraces } from "../helpers/paths.ts";

const tmp = mkdtempSync(join(tmpdir(), "rtscope-open-"));
after(() => rmSync(tmp, { recursive: true, force: true }));
const skip = existsSync(publicTraces) ? false : "shared traces not available";

describe("openSource", () => {
  it("detects trace.dat by content, whatever the name", { skip }, async () => {
    // a name that says nothing (and one that says the wrong thing): only the content can tell
    for (const name of ["recording", "recording.txt"]) {
      const p = join(tmp, name);
      copyFileSync(join(publicTraces, "trappy_trace_idle.v6.dat"), p);
      const s = await openSource(p);
      assert.equal(s.info.kind, "trace.dat", name);
      s.close();
    }
    const src = await openSource(join(tmp, "recording"));
    let n = 0;
    await src.run({ handle: () => n++ });
    assert.equal(n, 43);
    src.close();
  });

  it("detects v7 zstd", {
    skip: existsSync(join(recordedTraces, "stress-ng-cyclic.v7zstd.dat")) ? false : "no recorded trace",
  }, async () => {
    const src = await openSource(join(recordedTraces, "stress-ng-cyclic.v7zstd.dat"));
    assert.match(src.info.format, /v7 zstd/);
    src.close();
  });

  it("hands ftrace text and systrace HTML to the text reader", { skip }, async () => {
    for (const f of ["lisa_sched_report_raw.txt", "trappy_surfaceflinger_systrace.html"]) {
      const src = await openSource(join(publicTraces, f));
      assert.equal(src.info.kind, "text", f);
      src.close();
    }
  });

  it("clear errors: missing file, directory, empty file, unknown bytes", async () => {
    await assert.rejects(
      openSource(join(tmp, "nope.dat")),
      (e: unknown) => e instanceof TraceFormatError && /no such file/.test(e.message),
    );
    await assert.rejects(openSource(tmp), /is a directory/);
    writeFileSync(join(tmp, "empty"), "");
    await assert.rejects(openSource(join(tmp, "empty")), /empty file/);
    writeFileSync(join(tmp, "junk.dat"), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0]));
    await assert.rejects(
      openSource(join(tmp, "junk.dat")),
      /unknown trace format \(first bytes: 7f 45 4c 46 02 01 01 00 00 00 \|\.ELF\.\.\.\.\.\.\|\)/,
    );
  });

  it("detectFormat", () => {
    assert.equal(detectFormat(Buffer.from("\x17\x08\x44tracing6\0", "latin1")), "trace.dat");
    assert.equal(detectFormat(Buffer.from("\x17\x08\x44trac", "latin1")), null);
  });
});
