import assert from "node:assert/strict";
import { test } from "node:test";
import { formatJunitReport, xmlEscape } from "../../src/output/junit-report.ts";
import { sampleReport } from "./sample-report.ts";

/** Minimal well-formedness check: balanced tags, quoted attributes, only the five entities. */
function assertWellFormedXml(xml: string): void {
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, "");
  const stack: string[] = [];
  const re = /<(\/?)([A-Za-z_][\w.-]*)((?:\s+[\w.-]+="[^"<]*")*)\s*(\/?)>|([^<]+)|(<)/g;
  let roots = 0;
  for (const m of body.matchAll(re)) {
    if (m[6]) assert.fail(`stray '<' at ${m.index}`);
    const text = m[5] ?? m[3] ?? "";
    for (const ent of text.matchAll(/&([^;\s]*);?/g))
      assert.ok(
        ["amp;", "lt;", "gt;", "quot;", "apos;"].includes(`${ent[1]};`) && ent[0].endsWith(";"),
        `bad entity ${ent[0]}`,
      );
    if (m[5] !== undefined) {
      if (stack.length === 0) assert.match(m[5], /^\s*$/, "text outside the root element");
      continue;
    }
    if (m[1]) assert.equal(stack.pop(), m[2], `unbalanced </${m[2]}>`);
    else if (!m[4]) {
      if (stack.length === 0) roots++;
      stack.push(m[2]);
    } else if (stack.length === 0) roots++;
  }
  assert.deepEqual(stack, []);
  assert.equal(roots, 1);
}

test("one test case per task and metric with a bound; a violation is a failure", () => {
  const xml = formatJunitReport(sampleReport());
  assertWellFormedXml(xml);
  // latency bound 50 us: task 4028 violated it, task 4029 has no sample (skipped)
  assert.match(xml, /<testsuites name="rtscope" tests="2" failures="1" errors="0" skipped="1">/);
  assert.match(
    xml,
    /<testcase name="cyclictest\[4028\] latency &lt;= 50 us" classname="rtscope.cyclictest" time="0">/,
  );
  assert.match(xml, /<failure message="2 of 2,000 samples over 50 us; max 60.91 us" type="slo-violation">/);
  assert.match(xml, /<testcase name="cyclictest\[4029\] latency &lt;= 50 us"[^>]*>\s*<skipped /);
  // timer has no bound: no test case
  assert.doesNotMatch(xml, /timer &lt;=/);
});

test("names with XML specials and control characters stay well formed", () => {
  const r = sampleReport();
  r.tasks[0].comm = `a<b>&"c'\u0001`;
  const xml = formatJunitReport([r, sampleReport()]);
  assertWellFormedXml(xml);
  assert.match(xml, /a&lt;b&gt;&amp;&quot;c&apos;\uFFFD\[4028\]/);
  assert.equal((xml.match(/<testsuite /g) ?? []).length, 2);
  assert.equal(xmlEscape("x&y"), "x&amp;y");
});
