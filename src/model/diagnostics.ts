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
    return [...this.byKey.values()].map((e) => ({ ...e, details: [...e.details] }));
  }

  merge(other: Diagnostics): void {
    for (const e of other.byKey.values()) {
      this.add(e.key, e.details[0] ?? "", e.count, e.cpu);
      for (let i = 1; i < e.details.length; i++) this.add(e.key, e.details[i], 0, e.cpu);
    }
  }
}
