// One entry point for recorded traces: the format is detected from the content, never the
// file name (speedscope's import/index.ts habit): trace.dat by its magic, then ftrace text /
// systrace HTML by the text reader's detector.

import { open, stat } from "node:fs/promises";
import { TraceFormatError, type TraceSource } from "../model/source.ts";
import { detectFtraceText, type FtraceTextOptions, openFtraceText } from "./ftrace-text.ts";
import { openTraceDat, type TraceDatOptions } from "./trace-dat.ts";

export interface OpenSourceOptions {
  traceDat?: TraceDatOptions;
  text?: FtraceTextOptions;
}

const HEAD_BYTES = 64 * 1024;
/** 0x17 0x08 0x44 "tracing" */
const TRACE_DAT_MAGIC = [0x17, 0x08, 0x44, 0x74, 0x72, 0x61, 0x63, 0x69, 0x6e, 0x67];

export type DetectedFormat = "trace.dat" | "text" | null;

/** What a file's first bytes say it is (null: not a format rtscope reads). */
export function detectFormat(head: Uint8Array): DetectedFormat {
  if (head.length >= TRACE_DAT_MAGIC.length && TRACE_DAT_MAGIC.every((b, i) => head[i] === b))
    return "trace.dat";
  if (detectFtraceText(head)) return "text";
  return null;
}

function describeHead(head: Uint8Array): string {
  const bytes = head.subarray(0, 16);
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
  const text = Array.from(bytes, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".")).join("");
  return `${hex} |${text}|`;
}

/** Opens a recorded trace (trace.dat v6/v7, ftrace text, trace-cmd report text, systrace HTML). */
export async function openSource(path: string, opts: OpenSourceOptions = {}): Promise<TraceSource> {
  let size: number;
  try {
    const st = await stat(path);
    if (st.isDirectory()) {
      throw new TraceFormatError(path, 0, "is a directory: give a trace file (trace.dat or ftrace text)");
    }
    size = st.size;
  } catch (e) {
    if (e instanceof TraceFormatError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new TraceFormatError(
      path,
      0,
      code === "ENOENT"
        ? "no such file"
        : code === "EACCES"
          ? "permission denied"
          : `cannot read: ${(e as Error).message}`,
    );
  }
  if (size === 0) throw new TraceFormatError(path, 0, "empty file: no trace data");
  const head = new Uint8Array(Math.min(HEAD_BYTES, size));
  const fh = await open(path, "r");
  try {
    await fh.read(head, 0, head.length, 0);
  } finally {
    await fh.close();
  }
  switch (detectFormat(head)) {
    case "trace.dat":
      return openTraceDat(path, opts.traceDat);
    case "text":
      return openFtraceText(path, opts.text);
    default:
      throw new TraceFormatError(
        path,
        0,
        `unknown trace format (first bytes: ${describeHead(head)}); rtscope reads trace-cmd trace.dat (v6/v7), ftrace text (tracefs 'trace', trace-cmd report) and systrace HTML`,
      );
  }
}
