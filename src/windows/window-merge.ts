// Several windows as one event set, for an export of a whole selection.

import { EventColumns, sameEvent, type WindowEvents } from "../model/event-columns.ts";

/** Merged in (ts, cpu) order; events that two overlapping windows both hold are kept once. */
export function mergeWindowEvents(list: readonly WindowEvents[]): WindowEvents {
  const comms = new Map<number, string>();
  const irqNames = new Map<number, string>();
  const refs: [EventColumns, number][] = [];
  for (const w of list) {
    for (const [t, c] of w.comms) if (c || !comms.has(t)) comms.set(t, c);
    for (const [i, n] of w.irqNames) irqNames.set(i, n);
    for (let i = 0; i < w.events.length; i++) refs.push([w.events, i]);
  }
  refs.sort(([a, i], [b, j]) => a.ts[i] - b.ts[j] || a.cpu[i] - b.cpu[j]);
  const out = new EventColumns(refs.length);
  let n = 0;
  for (const [src, i] of refs) {
    // a duplicate sits among the kept events of the same instant and CPU
    let dup = false;
    for (let q = n - 1; q >= 0 && out.ts[q] === src.ts[i] && out.cpu[q] === src.cpu[i]; q--)
      if (sameEvent(out, q, src, i)) {
        dup = true;
        break;
      }
    if (!dup) out.copyFrom(n++, src, i);
  }
  out.length = n;
  return { events: out.trimmed(), comms, irqNames };
}
