// What every source (trace.dat, ftrace text, live tracefs) offers the pipeline.

import type { Diagnostics } from "./diagnostics.ts";
import type { EventRecord } from "./event.ts";

export type SourceKind = "live" | "trace.dat" | "text";

export interface SourceInfo {
  kind: SourceKind;
  /** file path, or the tracefs instance path when live */
  path: string;
  /** trace clock name ("mono", "local", ...), "" when unknown */
  clock: string;
  /** true when timestamps are nanoseconds (not counter/uptime/x86-tsc) */
  clockIsNs: boolean;
  cpus: number;
  /** uname release and version, "" when unknown */
  kernel: string;
  /** timestamps of records are relative to this absolute value (trace clock units) */
  tsBase: bigint;
  /** Resolution of timestamps in ns: 1 for binary sources, 1000 for µs text. */
  tsResolutionNs: number;
  /** file format detail, e.g. "trace.dat v7 zstd", "ftrace text (tracefs)" */
  format: string;
  /**
   * Relative ts from which the source vouches that every CPU's data is complete (live: 0; a
   * text trace whose header says nothing was overwritten: -Infinity). When absent, each CPU's
   * data is taken to begin at its first event (cpu-coverage.ts).
   */
  validFromTs?: number;
}

/** Kernel symbols, from kallsyms (trace file or /proc). */
export interface SymbolTable {
  /** Folded 53-bit key of `hrtimer_wakeup`, or -1 when unknown (then timer sleeps are found from syscalls only). */
  readonly hrtimerWakeupKey: number;
  /** Symbol name for a folded key ("" when unknown). */
  name(key: number): string;
}

/** Receives the merged event stream. */
export interface EventSink {
  handle(rec: EventRecord): void;
}

export interface Progress {
  /** bytes consumed so far and total (0 when unknown) */
  bytes: number;
  totalBytes: number;
  events: number;
}

export interface RunOptions {
  signal?: AbortSignal;
  /** called about every 250 ms of work */
  onProgress?: (p: Progress) => void;
}

export interface TraceSource {
  readonly info: SourceInfo;
  readonly symbols: SymbolTable;
  /** Thread names known before the first event (saved cmdlines), tid → comm. */
  readonly initialComms: ReadonlyMap<number, string>;
  /** Thread → thread-group ids known before the first event (saved_tgids), when the source has them. */
  readonly initialTgids?: ReadonlyMap<number, number>;
  /** Data problems found while reading (lost events per CPU, unknown events...). */
  readonly diagnostics: Diagnostics;
  /** Streams every event in timestamp order into `sink`; resolves at the end of the data. */
  run(sink: EventSink, opts?: RunOptions): Promise<void>;
  close(): void;
}

/** Error in a trace file: names the file and byte offset. */
export class TraceFormatError extends Error {
  readonly file: string;
  readonly offset: number;
  /** the message without the file and offset */
  readonly detail: string;
  constructor(file: string, offset: number, message: string) {
    super(`${file}: at offset ${offset} (0x${offset.toString(16)}): ${message}`);
    this.name = "TraceFormatError";
    this.file = file;
    this.offset = offset;
    this.detail = message;
  }
}

/**
 * A stretch of trace data that could not be read and was stepped over (a chunk that does not
 * decompress): the reader can go on from the data after it. Readers throw it so that the
 * merge counts the loss and carries on (unless strict).
 */
export class SkippedDataError extends TraceFormatError {
  override name = "SkippedDataError";
}
