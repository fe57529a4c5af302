// JSON of worst-case windows (`export --format json`, API downloads): the SPEC §2 schema
// of `worst.<metric>` (start, end, cpu, wakeCpu, causes, events, ...) wrapped with the task
// and metric it belongs to. Timestamps past 2^53 stay exact integers (stringifyJson).

import pkg from "../../package.json" with { type: "json" };
import type { MetricKey, WorstWindow } from "../model/report.ts";
import { stringifyJson } from "./json-report.ts";

export interface WindowExport {
  tid: number;
  comm: string;
  metric: MetricKey;
  window: WorstWindow;
}

/** One window as the report's `worst.<metric>` object, keys in a stable order. */
export function windowToJsonObject(w: WorstWindow): Record<string, unknown> {
  return {
    start: w.start,
    end: w.end,
    value: w.value,
    cpu: w.cpu,
    wakeCpu: w.wakeCpu,
    ontoCpu: w.ontoCpu,
    waker: w.waker,
    migrations: w.migrations,
    wakeTs: w.wakeTs,
    switchInTs: w.switchInTs,
    incomplete: w.incomplete,
    forgotten: w.forgotten,
    truncated: w.truncated,
    reasons: w.reasons,
    parts: w.parts,
    causes: w.causes.map((c) => ({ ...c })),
    preemptions: w.preemptions,
    events: w.events.map((e) => ({
      ts: e.ts,
      rel: e.rel,
      cpu: e.cpu,
      event: e.event,
      currentTid: e.currentTid,
      fields: e.fields,
    })),
  };
}

/** `{ tool, windows: [{ tid, comm, metric, window }] }` as text. */
export function formatWindowsJson(list: readonly WindowExport[], version: string = pkg.version): string {
  return `${stringifyJson({
    tool: "rtscope",
    version,
    windows: list.map((x) => ({
      tid: x.tid,
      comm: x.comm,
      metric: x.metric,
      window: windowToJsonObject(x.window),
    })),
  })}\n`;
}
