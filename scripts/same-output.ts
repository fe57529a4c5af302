// Proves that a restructuring changes no output: runs the same reports and exports on every
// fixture and shared trace with the code at BASE (a git revision) and with the working tree,
// and compares the bytes (exit status included).
//
//   node scripts/same-output.ts [BASE]        (default: main; exit 0 identical, 1 when one differs)
//
// Each tree runs in one Node process that calls the CLI's runMain() for every command (a
// process per command made the check take hours on a loaded 2-core machine). Outputs are
// kept in a temporary folder, named on stdout, for diffing.

import { execFileSync, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..");

function traces(): string[] {
  const out: string[] = [];
  const walk = (dir: string, keep: (name: string) => boolean) => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p, keep);
      else if (keep(e.name)) out.push(p);
    }
  };
  walk(join(repo, "test/fixtures"), (n) =>
    /\.dat$|^trace\.txt$|^tracefs-.*\.txt$|^report-.*\.txt$|^irq-threads-.*\.txt$/.test(n),
  );
  walk(join(repo, "../shared/traces"), (n) => /\.(dat|txt)$/.test(n) && n !== "README.md");
  return out;
}

/** The commands run on each trace (name of the output file, CLI arguments). */
function commands(f: string, out: string, tag: string): [string, string[]][] {
  return [
    ["report.txt", ["report", f]],
    ["report.json", ["report", f, "--format", "json"]],
    ["report-slo.txt", ["report", f, "--rt", "--slo", "latency=50us", "--slo", "timer=100us"]],
    ["report-slo.json", ["report", f, "--rt", "--format", "json", "--slo", "latency=50us"]],
    // every thread's text with bounds: only the violations' windows are captured
    ["report-all-slo.txt", ["report", f, "--slo", "latency=50us", "--slo", "response=1ms"]],
    ["report-all.json", ["report", f, "--format", "json", "--windows", "all", "--worst", "3"]],
    ["export.perfetto", ["export", f, "--rt", "--metric", "latency", "--format", "perfetto"]],
    ["export.json", ["export", f, "--rt", "--metric", "latency", "--format", "json"]],
    ["export.text", ["export", f, "--rt", "--metric", "latency", "--format", "text"]],
    [
      "export-dat.log",
      [
        "export",
        f,
        "--rt",
        "--metric",
        "latency",
        "--format",
        "tracedat",
        "-o",
        join(out, `${tag}.export.dat`),
      ],
    ],
  ];
}

/** Child mode: run every command with the CLI of `tree`, outputs into `out`. */
async function runTree(tree: string, out: string): Promise<void> {
  mkdirSync(out, { recursive: true });
  const { runMain } = (await import(pathToFileURL(join(tree, "src/cli/main.ts")).href)) as {
    runMain(argv: string[]): Promise<number>;
  };
  // each runMain adds an error listener to stdout/stderr: no leak warning (it names the pid)
  process.stdout.setMaxListeners(0);
  process.stderr.setMaxListeners(0);
  const stdoutWrite = process.stdout.write.bind(process.stdout);
  const stderrWrite = process.stderr.write.bind(process.stderr);
  const list = traces();
  let i = 0;
  for (const f of list) {
    i++;
    const tag = `${String(i).padStart(3, "0")}-${basename(dirname(f))}-${basename(f)}`;
    for (const [name, argv] of commands(f, out, tag)) {
      let buf = "";
      const capture = (c: string | Uint8Array) => {
        buf += typeof c === "string" ? c : Buffer.from(c).toString("latin1");
        return true;
      };
      process.stdout.write = capture as typeof process.stdout.write;
      process.stderr.write = capture as typeof process.stderr.write;
      let code: number;
      try {
        code = await runMain(argv);
      } catch (e) {
        buf += `THROWN ${(e as Error).message}\n`;
        code = -1;
      } finally {
        process.stdout.write = stdoutWrite;
        process.stderr.write = stderrWrite;
      }
      // paths differ between the two trees and output folders only (the traces are the checkout's)
      const text = `${buf}exit ${code}\n`
        .split(out)
        .join("OUT")
        .split(tree)
        .join("TREE")
        .split(repo)
        .join("TREE");
      writeFileSync(join(out, `${tag}.${name}`), text);
    }
    stderrWrite(`\r  ${basename(tree)}: ${i}/${list.length} traces`);
  }
  stderrWrite("\n");
}

function main(): number {
  const base = process.argv[2] ?? "main";
  const work = mkdtempSync(join(tmpdir(), "rtscope-same-output-"));
  const baseTree = join(work, "tree");
  execFileSync("git", ["-C", repo, "worktree", "add", "--detach", "-f", baseTree, base], { stdio: "ignore" });
  try {
    symlinkSync(join(repo, "node_modules"), join(baseTree, "node_modules"));
    const rev = execFileSync("git", ["-C", repo, "rev-parse", "--short", base], { encoding: "utf8" }).trim();
    console.log(`same-output: ${traces().length} traces, base ${rev} vs the working tree`);
    for (const [tree, out] of [
      [baseTree, join(work, "base")],
      [repo, join(work, "new")],
    ]) {
      const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--run", tree, out], {
        stdio: ["ignore", "inherit", "inherit"],
        env: { ...process.env, RTSCOPE_DEBUG: "" },
      });
      if (r.status !== 0) throw new Error(`the run of ${tree} failed (status ${r.status})`);
    }
    const files = readdirSync(join(work, "base")).sort();
    let differ = 0;
    for (const f of files) {
      const a = readFileSync(join(work, "base", f));
      const b = existsSync(join(work, "new", f)) ? readFileSync(join(work, "new", f)) : undefined;
      if (b === undefined || !a.equals(b)) {
        console.log(`DIFFERS: ${f}`);
        differ++;
      }
    }
    console.log(`same-output: ${files.length} outputs compared, ${differ} differ (kept in ${work})`);
    return differ === 0 ? 0 : 1;
  } finally {
    execFileSync("git", ["-C", repo, "worktree", "remove", "--force", baseTree], { stdio: "ignore" });
    rmSync(baseTree, { recursive: true, force: true });
  }
}

if (process.argv[2] === "--run") await runTree(process.argv[3], process.argv[4]);
else process.exitCode = main();
