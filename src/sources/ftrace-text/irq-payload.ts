// Payloads of the irq events: `irq=19 name=virtio0`, `irq=19 ret=handled` (-R: `ret=1`),
// `vec=1 [action=TIMER]` (-R: `vec=1`).

import type { EventRecord } from "../../model/event.ts";
import { StrSlot } from "../../model/event.ts";
import { ascii, type FieldScanner } from "./field-scanner.ts";
import type { TextContext } from "./text-context.ts";

const K_IRQ = ascii("irq=");
const K_NAME = ascii("name=");
const K_RET = ascii("ret=");
const K_VEC = ascii("vec=");

export function parseIrqEntry(sc: FieldScanner, rec: EventRecord, ctx: TextContext): boolean {
  const i = sc.value(K_IRQ, sc.start);
  if (i < 0) return false;
  rec.irq = sc.int(i);
  if (!sc.ok) return false;
  const n = sc.value(K_NAME, sc.pos);
  if (n >= 0) rec.text[StrSlot.IrqName] = ctx.irqName(sc.b, n, sc.end);
  return true;
}

export function parseIrqExit(sc: FieldScanner, rec: EventRecord): boolean {
  const i = sc.value(K_IRQ, sc.start);
  if (i < 0) return false;
  rec.irq = sc.int(i);
  if (!sc.ok) return false;
  const r = sc.value(K_RET, sc.pos);
  if (r < 0) return false;
  const c = sc.b[r];
  if (c === 104)
    rec.irqRet = 1; // handled
  else if (c === 117)
    rec.irqRet = 0; // unhandled
  else {
    rec.irqRet = sc.int(r);
    return sc.ok;
  }
  return true;
}

export function parseSoftirq(sc: FieldScanner, rec: EventRecord): boolean {
  const v = sc.value(K_VEC, sc.start);
  if (v < 0) return false;
  rec.vec = sc.int(v);
  return sc.ok;
}
