import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { DIAGNOSTICS, type DiagnosticKey } from "../../src/model/diagnostic-catalogue.ts";
import { Diagnostics, MAX_DETAILS } from "../../src/model/diagnostics.ts";
import { repoRoot } from "../helpers/paths.ts";

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (p.endsWith(".ts")) out.push(p);
  }
  return out;
}

describe("diagnostics catalogue", () => {
  it("gives every key a severity, a meaning that is a sentence and, where set, a remedy", () => {
    for (const [key, spec] of Object.entries(DIAGNOSTICS)) {
      assert.match(key, /^[a-z][a-z0-9_]*$/, key);
      assert.ok(["info", "warning", "data-loss", "error"].includes(spec.severity), key);
      assert.ok(spec.meaning.length > 20, `${key}: meaning too short`);
      assert.ok(
        !spec.meaning.endsWith("."),
        `${key}: no trailing period (outputs add their own punctuation)`,
      );
    }
  });

  it("has no entry the code never adds, and the code adds no key outside it", () => {
    // the type system already refuses unknown keys; this finds catalogue entries nobody uses
    const text = sourceFiles(join(repoRoot, "src"))
      .filter((f) => !f.endsWith("diagnostic-catalogue.ts"))
      .map((f) => readFileSync(f, "utf8"))
      .join("\n");
    const used = new Set([...text.matchAll(/\.add\(\s*"([a-z_0-9]+)"/g)].map((m) => m[1]));
    for (const key of Object.keys(DIAGNOSTICS)) assert.ok(used.has(key), `${key} is never added`);
    for (const key of used)
      if (!(key in DIAGNOSTICS) && /_/.test(key)) assert.fail(`${key} is added but not in the catalogue`);
  });
});

describe("Diagnostics", () => {
  it("adds counts per key and CPU, takes severity, meaning and remedy from the catalogue", () => {
    const d = new Diagnostics();
    d.add("lost_events", "page at 0x1000", 5, 1);
    d.add("lost_events", "page at 0x3000", 7, 1);
    d.add("lost_events", "", 2, 0);
    const e = d.get("lost_events", 1)!;
    assert.equal(e.count, 12);
    assert.equal(e.severity, DIAGNOSTICS.lost_events.severity);
    assert.equal(e.message, DIAGNOSTICS.lost_events.meaning);
    assert.equal(e.remedy, DIAGNOSTICS.lost_events.remedy);
    assert.deepEqual(e.details, ["page at 0x1000", "page at 0x3000"]);
    assert.equal(d.total("lost_events"), 14);
    assert.deepEqual(d.get("lost_events", 0)!.details, []);
  });

  it("keeps the first few distinct details, counts the rest, and marks unknown counts", () => {
    const d = new Diagnostics();
    for (let i = 0; i < 10; i++) d.add("unknown_event", `event id ${i % 6}`);
    d.add("unknown_event", "event id 0");
    const e = d.get("unknown_event")!;
    assert.equal(e.count, 11);
    assert.equal(e.details.length, MAX_DETAILS);
    assert.deepEqual(e.details, ["event id 0", "event id 1", "event id 2", "event id 3"]);
    d.add("unknown_event", "", -1);
    assert.equal(d.get("unknown_event")!.count, -1);
    d.add("unknown_event", "", 4);
    assert.equal(d.total("unknown_event"), -1);
  });

  it("merges another list keeping its details and counts", () => {
    const a = new Diagnostics();
    const b = new Diagnostics();
    a.add("unparsed_lines", "first at line 3", 2);
    b.add("unparsed_lines", "first at line 9", 4);
    b.add("lost_events", "", -1, 1);
    a.merge(b);
    const key: DiagnosticKey = "unparsed_lines";
    assert.equal(a.get(key)!.count, 6);
    assert.deepEqual(a.get(key)!.details, ["first at line 3", "first at line 9"]);
    assert.equal(a.get("lost_events", 1)!.count, -1);
    const listed = a.list();
    listed[0].details.push("changed");
    assert.equal(a.get(key)!.details.length, 2, "list() returns copies");
  });
});
