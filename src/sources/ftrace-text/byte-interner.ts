// Interns byte ranges of the line buffer (comms, IRQ names, event and symbol names) to small
// ids, so that the hot path turns repeated text into the same id and the same string
// without allocating: a string is decoded once, the first time its bytes are seen.
// Open addressing over an FNV-1a hash; the bytes are copied into an arena because the
// line buffer is reused for the next chunk.

const EMPTY = -1;
/** FNV-1a 32-bit: start with FNV_OFFSET, then per byte h = Math.imul(h ^ byte, FNV_PRIME). */
export const FNV_OFFSET = 0x811c9dc5 | 0;
export const FNV_PRIME = 0x01000193;

export class ByteInterner {
  private slots: Int32Array;
  private hashes: Int32Array;
  private arena: Uint8Array;
  private arenaUsed = 0;
  /** per id: offset and length of its bytes in the arena */
  private offs: number[] = [];
  private lens: number[] = [];
  /** per id: the decoded string */
  readonly strings: string[] = [];
  private readonly decoder = new TextDecoder("utf-8");

  constructor(capacity = 256) {
    let n = 16;
    while (n < capacity * 2) n <<= 1;
    this.slots = new Int32Array(n).fill(EMPTY);
    this.hashes = new Int32Array(n);
    this.arena = new Uint8Array(4096);
  }

  get size(): number {
    return this.strings.length;
  }

  /** Id of the bytes b[s, e), adding them if new. Ids count from 0 in order of first sight. */
  intern(b: Uint8Array, s: number, e: number): number {
    let h = FNV_OFFSET;
    for (let i = s; i < e; i++) h = Math.imul(h ^ b[i], FNV_PRIME);
    return this.internHashed(b, s, e, h);
  }

  /** Same as intern() with the FNV-1a hash of the bytes already computed by the caller's scan. */
  internHashed(b: Uint8Array, s: number, e: number, h: number): number {
    const slots = this.slots;
    const mask = slots.length - 1;
    let k = h & mask;
    for (;;) {
      const id = slots[k];
      if (id === EMPTY) break;
      if (this.hashes[k] === h && this.equals(id, b, s, e)) return id;
      k = (k + 1) & mask;
    }
    return this.add(b, s, e, h, k);
  }

  /** Id of an ASCII string (setup time, not the hot path). */
  internString(text: string): number {
    const bytes = new TextEncoder().encode(text);
    return this.intern(bytes, 0, bytes.length);
  }

  private equals(id: number, b: Uint8Array, s: number, e: number): boolean {
    const len = e - s;
    if (this.lens[id] !== len) return false;
    const a = this.arena;
    const o = this.offs[id];
    for (let i = 0; i < len; i++) if (a[o + i] !== b[s + i]) return false;
    return true;
  }

  private add(b: Uint8Array, s: number, e: number, h: number, slot: number): number {
    const len = e - s;
    if (this.arenaUsed + len > this.arena.length) {
      let n = this.arena.length * 2;
      while (n < this.arenaUsed + len) n *= 2;
      const a = new Uint8Array(n);
      a.set(this.arena.subarray(0, this.arenaUsed));
      this.arena = a;
    }
    this.arena.set(b.subarray(s, e), this.arenaUsed);
    const id = this.strings.length;
    this.offs.push(this.arenaUsed);
    this.lens.push(len);
    this.arenaUsed += len;
    this.strings.push(this.decoder.decode(b.subarray(s, e)));
    this.slots[slot] = id;
    this.hashes[slot] = h;
    if (this.strings.length * 2 > this.slots.length) this.grow();
    return id;
  }

  private grow(): void {
    const old = this.slots;
    const oldH = this.hashes;
    const n = old.length * 2;
    this.slots = new Int32Array(n).fill(EMPTY);
    this.hashes = new Int32Array(n);
    const mask = n - 1;
    for (let i = 0; i < old.length; i++) {
      const id = old[i];
      if (id === EMPTY) continue;
      let k = oldH[i] & mask;
      while (this.slots[k] !== EMPTY) k = (k + 1) & mask;
      this.slots[k] = id;
      this.hashes[k] = oldH[i];
    }
  }
}
