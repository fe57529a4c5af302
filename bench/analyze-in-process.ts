// Fallback for the benchmark while the CLI cannot run `report`: opens FILE, analyses every
// task, writes the JSON report to OUT. Run as its own process so that GNU time measures it
// alone. Usage: node bench/analyze-in-process.ts FILE OUT
import { writeFileSync } from "node:fs";
import { analyzeSource } from "../src/analysis/pipeline.ts";
import { emptySelection } from "../src/model/selection.ts";
import { openSource } from "../src/sources/open-source.ts";

const [file, out] = process.argv.slice(2);
if (!file || !out) {
  process.stderr.write("usage: node bench/analyze-in-process.ts FILE OUT\n");
  process.exit(1);
}
const source = await openSource(file);
try {
  const report = await analyzeSource(source, { selection: emptySelection(), slo: {} });
  writeFileSync(
    out,
    JSON.stringify(report, (_k, v) => (typeof v === "bigint" ? v.toString() : v)),
  );
} finally {
  source.close();
}
