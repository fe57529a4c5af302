// Payloads of the hrtimer events:
//   hrtimer_start:        hrtimer=<ptr> function=<sym> expires=<ns> softexpires=<ns> [mode=ABS|REL|..] [was_armed=0]
//   hrtimer_expire_entry: hrtimer=<ptr> function=<sym> now=<ns>   (trace-cmd: now= before function=)
//   hrtimer_expire_exit / hrtimer_cancel: hrtimer=<ptr>
// The pointer is hashed (`00000000f73de14b`) in tracefs text and real (`0xffff8886...`) in
// trace-cmd output: either way it is only an identity, folded to a number. `expires` and
// `now` are absolute ns of the timer's clock; they are stored relative to tsBase, exactly.
// The mode is printed as names (tracefs), as a number (-N: `0x0`, -R: `1`) or not at all
// (trace-cmd's hrtimer plugin): -1 then.

import type { EventRecord } from "../../model/event.ts";
import { ascii, type FieldScanner } from "./field-scanner.ts";
import type { TextContext } from "./text-context.ts";

const K_HRTIMER = ascii("hrtimer=");
const K_FUNCTION = ascii("function=");
const K_EXPIRES = ascii("expires=");
const K_SOFTEXPIRES = ascii("softexpires=");
const K_MODE = ascii("mode=");
const K_NOW = ascii("now=");

const SPACE = 32;
const PIPE = 124;

/** HRTIMER_MODE_* bits by the first letter of each `|` part: ABS 0, REL 1, PINNED 2, SOFT 4, HARD 8. */
function modeFromNames(b: Uint8Array, at: number, end: number): number {
  let m = 0;
  let first = true;
  for (let i = at; i < end && b[i] !== SPACE; i++) {
    const c = b[i];
    if (c === PIPE) {
      first = true;
      continue;
    }
    if (!first) continue;
    first = false;
    if (c === 82)
      m |= 1; // REL
    else if (c === 80)
      m |= 2; // PINNED
    else if (c === 83)
      m |= 4; // SOFT
    else if (c === 72) m |= 8; // HARD
  }
  return m;
}

function readFunction(sc: FieldScanner, rec: EventRecord, ctx: TextContext, from: number): void {
  const f = sc.value(K_FUNCTION, from);
  if (f < 0) {
    rec.timerFn = 0; // "": not printed
    return;
  }
  const fe = sc.tokenEnd(f);
  rec.timerFn = ctx.symbols.intern(sc.b, f, fe);
}

export function parseHrtimerStart(sc: FieldScanner, rec: EventRecord, ctx: TextContext): boolean {
  const h = sc.value(K_HRTIMER, sc.start);
  if (h < 0) return false;
  rec.timerKey = sc.pointerKey(h);
  if (!sc.ok) return false;
  readFunction(sc, rec, ctx, sc.pos);
  const x = sc.value(K_EXPIRES, sc.pos);
  if (x < 0) return false;
  rec.expires = sc.nsSince(x, ctx.baseSec);
  if (!sc.ok) return false;
  const sx = sc.value(K_SOFTEXPIRES, sc.pos);
  if (sx >= 0) rec.softExpires = sc.nsSince(sx, ctx.baseSec);
  else rec.softExpires = rec.expires;
  const m = sc.value(K_MODE, sc.pos);
  if (m < 0) rec.timerMode = -1;
  else {
    const c = sc.b[m];
    rec.timerMode = c >= 48 && c <= 57 ? sc.int(m) : modeFromNames(sc.b, m, sc.end);
  }
  return true;
}

export function parseHrtimerExpireEntry(sc: FieldScanner, rec: EventRecord, ctx: TextContext): boolean {
  const h = sc.value(K_HRTIMER, sc.start);
  if (h < 0) return false;
  rec.timerKey = sc.pointerKey(h);
  if (!sc.ok) return false;
  const after = sc.pos;
  readFunction(sc, rec, ctx, after);
  const n = sc.value(K_NOW, after);
  if (n < 0) return false;
  rec.now = sc.nsSince(n, ctx.baseSec);
  return sc.ok;
}

/** hrtimer_expire_exit, hrtimer_cancel. */
export function parseHrtimerOnly(sc: FieldScanner, rec: EventRecord): boolean {
  const h = sc.value(K_HRTIMER, sc.start);
  if (h < 0) return false;
  rec.timerKey = sc.pointerKey(h);
  return sc.ok;
}
