// The pages of one CPU of a trace.dat as a PageSource for the CPU merge: the stream reads them
// once (noting each in the page index and counting consumed bytes for progress), the window
// read-back again over the span of a window.

import type { PageRef, PageSource } from "../cpu-merge.ts";
import type { PageIndex } from "../trace-dat-windows.ts";
import type { CpuPageReader } from "./cpu-page-reader.ts";

/** Page source over a CpuPageReader, tracking consumed file bytes for progress. */
export class ReaderPages implements PageSource {
  readonly reader: CpuPageReader;
  private readonly ref: PageRef = {
    data: new Uint8Array(0),
    start: 0,
    length: 0,
    fileOffset: 0,
    inChunk: false,
  };
  private readonly regionOffset: number;
  private readonly compressed: boolean;
  private readonly index: PageIndex | undefined;
  consumed = 0;
  constructor(reader: CpuPageReader, regionOffset: number, compressed: boolean, index?: PageIndex) {
    this.reader = reader;
    this.regionOffset = regionOffset;
    this.compressed = compressed;
    this.index = index;
  }
  nextPage(): PageRef | null {
    const p = this.reader.nextPage();
    if (p === null) return null;
    if (this.index !== undefined) this.index.add(p);
    const r = this.ref;
    r.data = p.page;
    r.start = 0;
    r.length = p.page.length;
    // compressed pages only know their chunk's offset
    r.fileOffset = p.fileOffset;
    r.inChunk = this.compressed;
    this.consumed = p.fileOffset - this.regionOffset + (this.compressed ? 0 : p.page.length);
    return r;
  }
}
