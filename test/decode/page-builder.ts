// Builds ring-buffer sub-buffers by hand (FORMATS.md §1), in either byte order and kernel
// long size, so that decoder tests have ground truth independent of the decoder.

export interface PageBuilderOptions {
  littleEndian: boolean;
  /** kernel long: 4 (32-bit kernel, data at 12) or 8 (64-bit, data at 16) */
  longSize: 4 | 8;
  subBufferSize?: number;
}

export class PageBuilder {
  readonly le: boolean;
  readonly longSize: 4 | 8;
  readonly size: number;
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  private pos: number;
  private ts = 0n;
  private flags = 0;
  private lostCount: number | null = null;
  private commitOverride: number | null = null;

  constructor(o: PageBuilderOptions) {
    this.le = o.littleEndian;
    this.longSize = o.longSize;
    this.size = o.subBufferSize ?? 4096;
    this.bytes = new Uint8Array(this.size);
    this.view = new DataView(this.bytes.buffer);
    // header: u64 timestamp @0, kernel-long commit @8, data after it
    this.pos = 8 + this.longSize;
  }

  get dataOffset(): number {
    return 8 + this.longSize;
  }

  /** Current write position (offset in the page of the next event). */
  get offset(): number {
    return this.pos;
  }

  timestamp(ts: bigint): this {
    this.ts = ts;
    return this;
  }

  /** Sets the missed-events flag (bit 31); with a count also bit 30 and the stored count. */
  missed(count?: number): this {
    this.flags = 0x80000000;
    if (count !== undefined) {
      this.flags |= 0x40000000;
      this.lostCount = count;
    }
    return this;
  }

  /** Forces the commit size field (for corrupt pages). */
  commit(size: number): this {
    this.commitOverride = size;
    return this;
  }

  /** The 32-bit event header word: bit-field layout type_len:5, time_delta:27 per byte order. */
  private header(typeLen: number, delta: number): void {
    const w = this.le ? ((delta << 5) | typeLen) >>> 0 : ((typeLen << 27) | delta) >>> 0;
    this.view.setUint32(this.pos, w, this.le);
    this.pos += 4;
  }

  private u32(v: number): void {
    this.view.setUint32(this.pos, v >>> 0, this.le);
    this.pos += 4;
  }

  /** Data event, short form (type_len = payload/4, 1..28): payload padded to 4 bytes. */
  data(delta: number, payload: Uint8Array): this {
    const words = Math.ceil(payload.length / 4);
    if (words < 1 || words > 28) return this.longData(delta, payload);
    this.header(words, delta);
    this.bytes.set(payload, this.pos);
    this.pos += words * 4;
    return this;
  }

  /** Data event, long form (type_len 0): array[0] = payload length + 4, payload at +8. */
  longData(delta: number, payload: Uint8Array): this {
    this.header(0, delta);
    this.u32(payload.length + 4);
    this.bytes.set(payload, this.pos);
    this.pos += Math.ceil(payload.length / 4) * 4;
    return this;
  }

  /** Padding (type 29) with a non-zero delta: header word + array[0] = arrayLen, 4 + arrayLen bytes in all (array[0]'s own word counted in arrayLen). */
  padding(delta: number, arrayLen: number): this {
    this.header(29, delta);
    this.view.setUint32(this.pos, arrayLen, this.le);
    this.pos += arrayLen;
    return this;
  }

  /** Null padding (type 29, delta 0): the rest of the page is unused. */
  nullPadding(): this {
    this.header(29, 0);
    return this;
  }

  /** Time extend (type 30): adds `value` = (array[0] << 27) + delta. */
  extend(value: bigint): this {
    this.header(30, Number(value & 0x7ffffffn));
    this.u32(Number(value >> 27n));
    return this;
  }

  /** Absolute timestamp (type 31): the low 59 bits of `abs`. */
  absolute(abs: bigint): this {
    const v = abs & ((1n << 59n) - 1n);
    this.header(31, Number(v & 0x7ffffffn));
    this.u32(Number(v >> 27n));
    return this;
  }

  /** Raw bytes at the current position (corrupt pages). */
  raw(b: Uint8Array): this {
    this.bytes.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  build(): Uint8Array {
    const v = this.view;
    v.setBigUint64(0, this.ts, this.le);
    const size = this.commitOverride ?? this.pos - this.dataOffset;
    const commit = (size | this.flags) >>> 0;
    if (this.longSize === 8) v.setBigUint64(8, BigInt(commit), this.le);
    else v.setUint32(8, commit, this.le);
    if (this.lostCount !== null) {
      // stored count: a kernel long right after the committed data
      const at = this.dataOffset + size;
      if (this.longSize === 8) v.setBigUint64(at, BigInt(this.lostCount), this.le);
      else v.setUint32(at, this.lostCount, this.le);
    }
    return this.bytes;
  }
}

/** A record payload: common fields (type u16, flags u8, preempt u8, pid s32) then `rest`. */
export function record(
  id: number,
  pid: number,
  rest: number[] | Uint8Array,
  le: boolean,
  flags = 0,
  preempt = 0,
): Uint8Array {
  const b = new Uint8Array(8 + rest.length);
  const v = new DataView(b.buffer);
  v.setUint16(0, id, le);
  b[2] = flags;
  b[3] = preempt;
  v.setInt32(4, pid, le);
  b.set(rest, 8);
  return b;
}
