// Data problems are data: every problem a source or analyzer finds is a named counter from
// the catalogue (diagnostic-catalogue.ts: severity, meaning, remedy). Occurrences of one key
// on one CPU add up; the first few distinct details (offsets, ids, lines) are kept so that a
// user can find them, the rest only count. Every output carries them (report header, JSON,
// Prometheus).

import { DIAGNOSTICS, type DiagnosticKey, type Severity } from "./diagnostic-catalogue.ts";

export type { DiagnosticKey, Severity } from "./diagnostic-catalogue.ts";

/** How many distinct details an entry keeps (the count goes on). */
export const MAX_DETAILS = 4;

export interface DiagnosticEntry {
  /** stable key from the catalogue, e.g. "lost_events", "inferred_switch_in", "unknown_event" */
  key: DiagnosticKey;
  severity: Severity;
  /** CPU it concerns, or -1 */
  cpu: number;
  /** how many times; -1 = unknown (e.g. lost events with no stored count) */
  count: number;
  /** what happened (the catalogue's meaning) */
  message: string;
  /** the first few distinct details of the occurrences (where, which id, how much) */
  details: string[];
  /** what to do about it; "" when nothing needs doing */
  remedy: string;
  /** stretches of time the entry concerns (absolute trace timestamps, ns): capture gaps */
  spans?: { from: number; to: number }[];
}

export class Diagnostics {
  private readonly byKey = new Map<string, DiagnosticEntry>();

  /** Adds `count` occurrences of `key` on `cpu` (-1: not CPU-specific); a -1 count makes the total unknown. */
  add(key: DiagnosticKey, detail = "", count = 1, cpu = -1): void {
    const k = `${key}/${cpu}`;
    let e = this.byKey.get(k);
    if (!e) {
      const spec = DIAGNOSTICS[key];
      e = {
        key,
        severity: spec.severity,
        cpu,
        count,
        message: spec.meaning,
        details: [],
        remedy: spec.remedy,
      };
      this.byKey.set(k, e);
    } else e.count = e.count < 0 || count < 0 ? -1 : e.count + count;
    if (detail !== "" && e.details.length < MAX_DETAILS && !e.details.includes(detail))
      e.details.push(detail);
  }

  /**
   * Replaces the entry (key, cpu) with these details, count and spans: for an account that is
   * rewritten as it changes (the capture gaps of a live run).
   */
  set(
    key: DiagnosticKey,
    details: string[],
    count: number,
    cpu = -1,
    spans?: { from: number; to: number }[],
  ): void {
    const spec = DIAGNOSTICS[key];
    this.byKey.set(`${key}/${cpu}`, {
      key,
      severity: spec.severity,
      cpu,
      count,
      message: spec.meaning,
      details: details.slice(0, MAX_DETAILS),
      remedy: spec.remedy,
      ...(spans ? { spans: spans.map((x) => ({ ...x })) } : {}),
    });
  }

  get(key: DiagnosticKey, cpu = -1): DiagnosticEntry | undefined {
    return this.byKey.get(`${key}/${cpu}`);
  }

  /** Sum of a key over every CPU; -1 if any count is unknown; 0 if absent. */
  total(key: DiagnosticKey): number {
    let sum = 0;
    for (const e of this.byKey.values()) {
      if (e.key !== key) continue;
      if (e.count < 0) return -1;
      sum += e.count;
    }
    return sum;
  }

  list(): DiagnosticEntry[] {
    return [...this.byKey.values()].map((e) =>
      e.spans
        ? { ...e, details: [...e.details], spans: e.spans.map((x) => ({ ...x })) }
        : { ...e, details: [...e.details] },
    );
  }

  merge(other: Diagnostics): void {
    for (const e of other.byKey.values()) {
      if (e.spans && !this.get(e.key, e.cpu)) {
        this.set(e.key, e.details, e.count, e.cpu, e.spans);
        continue;
      }
      this.add(e.key, e.details[0] ?? "", e.count, e.cpu);
      for (let i = 1; i < e.details.length; i++) this.add(e.key, e.details[i], 0, e.cpu);
    }
  }
}
