// Which kind of text file holds the trace, from its first bytes (FORMATS §4):
// - plain ftrace text: the kernel's `trace`/`trace_pipe` output or an atrace dump;
// - `trace-cmd report` text: same line shape, first line `cpus=N` (2.x: `version = 6` first);
// - systrace HTML (catapult): `<script class="trace-data" type="application/text">` blocks,
//   one of which holds the ftrace text (others: JSON trace events, process dumps);
// - legacy systrace HTML: the text inside `var linuxPerfData = "\` in a plain `<script>`.

import { indexOfBytes } from "./field-scanner.ts";

export type Container = "tracefs" | "trace-cmd" | "systrace-html" | "legacy-html";

export const FORMAT_NAMES: Record<Container, string> = {
  tracefs: "ftrace text (tracefs)",
  "trace-cmd": "trace-cmd report",
  "systrace-html": "systrace HTML",
  "legacy-html": "systrace HTML",
};

const enc = new TextEncoder();
export const TRACE_DATA_CLASS = enc.encode('class="trace-data"');
export const TRACE_DATA_CLASS_SQ = enc.encode("class='trace-data'");
export const LINUX_PERF_DATA = enc.encode("linuxPerfData");
export const SCRIPT_END = enc.encode("</script>");

/** Why a head is not text: NUL bytes or many control bytes (trace.dat, raw pages, archives). */
export function looksBinary(head: Uint8Array): boolean {
  const n = Math.min(head.length, 8192);
  let ctl = 0;
  for (let i = 0; i < n; i++) {
    const c = head[i];
    if (c === 0) return true;
    if (c < 9 || (c > 13 && c < 32)) ctl++;
  }
  return ctl * 20 > n;
}

function firstNonSpace(head: Uint8Array): number {
  let i = 0;
  // UTF-8 BOM
  if (head.length >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) i = 3;
  while (i < head.length && (head[i] === 32 || head[i] === 9 || head[i] === 10 || head[i] === 13)) i++;
  return i;
}

/** The container kind of a text head; null when it is not text at all. */
export function detectContainer(head: Uint8Array): Container | null {
  if (head.length === 0 || looksBinary(head)) return null;
  const i = firstNonSpace(head);
  if (i < head.length && head[i] === 60 /* < */) {
    if (indexOfBytes(head, 0, head.length, LINUX_PERF_DATA) >= 0) return "legacy-html";
    return "systrace-html";
  }
  const text = new TextDecoder("latin1").decode(head.subarray(i, Math.min(head.length, i + 64)));
  if (/^(cpus=\d|version = \d)/.test(text)) return "trace-cmd";
  return "tracefs";
}

/** Does an HTML head look like a systrace/catapult trace (the data may come after MBs of viewer)? */
export function htmlLooksLikeSystrace(head: Uint8Array): boolean {
  if (indexOfBytes(head, 0, head.length, TRACE_DATA_CLASS) >= 0) return true;
  if (indexOfBytes(head, 0, head.length, TRACE_DATA_CLASS_SQ) >= 0) return true;
  if (indexOfBytes(head, 0, head.length, LINUX_PERF_DATA) >= 0) return true;
  const text = new TextDecoder("latin1").decode(head);
  return /Android System Trace|tr-ui-timeline-view|catapult|systrace/i.test(text);
}
