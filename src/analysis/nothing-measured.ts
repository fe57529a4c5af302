// The sentence behind exit status 4 (SPEC §1): a bound was set but its metric has no sample
// in the whole selection. It names the selection and what the trace held, so that a typo
// in --comm or a name the kernel cut at 15 characters shows at once.

import type { MetricKey } from "../model/report.ts";
import { describeSelection, type Selection } from "../model/selection.ts";

/** The kernel's task name holds 15 characters (TASK_COMM_LEN 16 with the NUL). */
export const TASK_COMM_CHARS = 15;
/** Thread names listed at most in the message. */
const NAMES_SHOWN = 20;

/**
 * `--comm` patterns whose literal text (anchors aside) is longer than a thread name can
 * be: such a pattern never matches.
 */
export function overlongComms(sel: Selection): string[] {
  const out: string[] = [];
  for (const re of sel.comms) {
    const text = re.source.replace(/^\^/, "").replace(/\$$/, "");
    if (text.length > TASK_COMM_CHARS && !/[\\.*+?()[\]{}|^$]/.test(text)) out.push(re.source);
  }
  return out;
}

/**
 * "no latency sample in the selection (--comm x): nothing was measured against its bound.
 * Threads in the trace: a, b, ... ." `names` are the thread names seen (any order, repeats).
 */
export function nothingMeasuredMessage(
  metrics: readonly MetricKey[],
  selection: readonly Selection[],
  names: Iterable<string>,
  trackedThreads: number,
): string {
  const sel = selection.map(describeSelection).join(" + ");
  const what = metrics.join(", ");
  const parts = [
    `no ${what} sample in the selection (${sel}): nothing was measured against the bound${metrics.length > 1 ? "s" : ""}`,
  ];
  if (trackedThreads > 0)
    parts.push(
      `${trackedThreads} thread${trackedThreads > 1 ? "s" : ""} matched but had no ${what} activation`,
    );
  const sorted = [...new Set(names)].filter((n) => n !== "").sort();
  if (sorted.length === 0) parts.push("the trace named no thread at all (is the buffer empty?)");
  else {
    const shown = sorted.slice(0, NAMES_SHOWN).join(", ");
    const more = sorted.length > NAMES_SHOWN ? ` (and ${sorted.length - NAMES_SHOWN} more)` : "";
    parts.push(`thread names in the trace: ${shown}${more}`);
  }
  for (const s of selection)
    for (const c of overlongComms(s))
      parts.push(
        `--comm '${c}' is longer than the kernel's ${TASK_COMM_CHARS}-character thread names and cannot match`,
      );
  return `${parts.join("; ")}.`;
}
