// Watches a live capture's instance for changes made from outside rtscope (issue: tracing
// switched off with `echo 0 > instances/rtscope-<pid>/tracing_on` went unnoticed and the
// report covered 4 s of 30). Checked a few times a second: the instance still exists,
// tracing_on is 1, every event rtscope enabled is still in `set_event`, the per-CPU buffer
// has the size rtscope set. A bad state opens a gap that lasts until the state is good again
// (or the end); a buffer resize is a single point (the kernel may drop buffered events).
//
// Pure apart from reading the instance: the live source turns each change into a cut of the
// open activations, a notice on stderr, and a data-loss diagnostic.

import { existsSync, readFileSync } from "node:fs";

export interface InstanceExpectation {
  /** instance directory */
  path: string;
  /** "system:event" of every event rtscope enabled */
  events: string[];
  bufferSizeKb: number;
}

/** What is wrong with the instance ("" when nothing), and the buffer size seen. */
export interface InstanceState {
  gone: boolean;
  /** a sentence on what stops the capture, "" when it records */
  problem: string;
  bufferSizeKb: number;
}

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return fallback;
  }
}

/** Reads the instance's state (three small reads, and an existence check). */
export function readInstanceState(e: InstanceExpectation): InstanceState {
  if (!existsSync(e.path))
    return { gone: true, problem: `the instance ${e.path} was removed`, bufferSizeKb: e.bufferSizeKb };
  const on = readOr(`${e.path}/tracing_on`, "?").trim();
  const problems: string[] = [];
  if (on !== "1") problems.push(`tracing was switched off (${e.path}/tracing_on = ${on})`);
  const enabled = new Set(readOr(`${e.path}/set_event`, "").split("\n"));
  const missing = e.events.filter((ev) => !enabled.has(ev));
  if (missing.length) problems.push(`events were disabled: ${missing.join(", ")}`);
  const kb = Number(readOr(`${e.path}/buffer_size_kb`, "").trim().split(/\s/)[0]);
  return {
    gone: false,
    problem: problems.join("; "),
    bufferSizeKb: Number.isFinite(kb) && kb > 0 ? kb : e.bufferSizeKb,
  };
}

/** One stretch the capture did not cover, relative trace timestamps (ns). */
export interface CaptureGap {
  problem: string;
  /** the last check that found the instance fine: the change happened after it */
  from: number;
  /** the first check that found it fine again (Infinity while open: the end of the capture) */
  to: number;
}

export type WatchChange =
  | { kind: "gap-start"; gap: CaptureGap }
  | { kind: "gap-end"; gap: CaptureGap }
  | { kind: "resized"; fromKb: number; toKb: number; at: number }
  | { kind: "gone"; gap: CaptureGap };

/** The watch's memory between checks. */
export class InstanceWatch {
  readonly expect: InstanceExpectation;
  readonly gaps: CaptureGap[] = [];
  readonly resizes: { fromKb: number; toKb: number; at: number }[] = [];
  private open: CaptureGap | null = null;
  private lastGood = 0;
  gone = false;

  constructor(expect: InstanceExpectation) {
    this.expect = expect;
  }

  /** The current problem ("" when recording). */
  get problem(): string {
    return this.open?.problem ?? "";
  }

  /** Compares the instance with what rtscope set up; `now` is the relative trace time of the check. */
  check(now: number, state: InstanceState = readInstanceState(this.expect)): WatchChange[] {
    if (this.gone) return [];
    const out: WatchChange[] = [];
    if (state.bufferSizeKb !== this.expect.bufferSizeKb) {
      const r = { fromKb: this.expect.bufferSizeKb, toKb: state.bufferSizeKb, at: now };
      this.resizes.push(r);
      this.expect.bufferSizeKb = state.bufferSizeKb;
      out.push({ kind: "resized", ...r });
    }
    const problem = state.problem;
    if (this.open !== null && this.open.problem !== problem) {
      this.open.to = now;
      out.push({ kind: "gap-end", gap: this.open });
      this.open = null;
    }
    if (problem !== "" && this.open === null) {
      this.open = { problem, from: this.lastGood, to: Number.POSITIVE_INFINITY };
      this.gaps.push(this.open);
      out.push({ kind: state.gone ? "gone" : "gap-start", gap: this.open });
    }
    if (state.gone) this.gone = true;
    if (problem === "") this.lastGood = now;
    return out;
  }
}
