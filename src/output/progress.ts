// Progress of long work on stderr, only when stderr is a terminal: one line rewritten in
// place (bytes, MB/s, events/s), at most a few times a second, erased at the end so that
// the report itself is all that stays on screen.

import type { Progress } from "../model/source.ts";

export interface ProgressLineOptions {
  /** label before the numbers, e.g. the file name */
  label: string;
  /** where to write; defaults to process.stderr */
  stream?: NodeJS.WriteStream;
  /** draw even when the stream is not a TTY (tests) */
  force?: boolean;
  /** minimum ms between redraws */
  intervalMs?: number;
  /** clock, for tests */
  now?: () => number;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** The text of one progress line (no control characters). */
export function progressText(label: string, p: Progress, elapsedMs: number): string {
  const secs = Math.max(elapsedMs / 1000, 1e-3);
  const pct = p.totalBytes > 0 ? ` ${((100 * p.bytes) / p.totalBytes).toFixed(0).padStart(3)}%` : "";
  const size =
    p.totalBytes > 0 ? `${formatBytes(p.bytes)}/${formatBytes(p.totalBytes)}` : formatBytes(p.bytes);
  const mbs = (p.bytes / 1e6 / secs).toFixed(1);
  const evs = p.events / secs;
  const evText = evs >= 1e6 ? `${(evs / 1e6).toFixed(2)} M` : `${(evs / 1e3).toFixed(0)} k`;
  return `${label}:${pct} ${size}, ${mbs} MB/s, ${evText} events/s`;
}

export class ProgressLine {
  private readonly label: string;
  private readonly stream: NodeJS.WriteStream;
  private readonly enabled: boolean;
  private readonly intervalMs: number;
  private readonly now: () => number;
  private readonly startMs: number;
  private lastDrawMs = Number.NEGATIVE_INFINITY;
  private drawn = false;

  constructor(opts: ProgressLineOptions) {
    this.label = opts.label;
    this.stream = opts.stream ?? process.stderr;
    this.enabled = opts.force === true || this.stream.isTTY === true;
    this.intervalMs = opts.intervalMs ?? 200;
    this.now = opts.now ?? (() => performance.now());
    this.startMs = this.now();
  }

  /** A progress callback for RunOptions.onProgress. */
  readonly update = (p: Progress): void => {
    if (!this.enabled) return;
    const t = this.now();
    if (t - this.lastDrawMs < this.intervalMs) return;
    this.lastDrawMs = t;
    let text = progressText(this.label, p, t - this.startMs);
    const cols = this.stream.columns;
    if (cols && text.length >= cols) text = text.slice(0, cols - 1);
    this.stream.write(`\r${text}\x1b[K`);
    this.drawn = true;
  };

  /** Erases the line (call at the end, and before printing an error). */
  clear(): void {
    if (this.drawn) this.stream.write("\r\x1b[K");
    this.drawn = false;
  }
}
