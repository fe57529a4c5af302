// The sub-buffer ("page") header layout of one kernel, from `events/header_page`
// (FORMATS.md §1.2, §2.2). The kernel long size is the size of `commit` here, never the
// trace.dat preamble's user-space long; the sub-buffer size is data offset + data size.

export interface PageLayout {
  littleEndian: boolean;
  /** size of the kernel `long` (the `commit` word): 4 or 8 */
  kernelLongSize: 4 | 8;
  commitOffset: number;
  /** offset of the first event in a sub-buffer (16 on 64-bit kernels, 12 on 32-bit) */
  dataOffset: number;
  /** whole sub-buffer size in bytes (4096 by default; configurable since Linux 6.8) */
  subBufferSize: number;
}

const FIELD_RE = /field:\s*(?:special:)?\s*([^;]*?)\s*;\s*offset:\s*(\d+)\s*;\s*size:\s*(\d+)\s*;/;

/** Thrown for a header_page text that cannot describe a supported kernel. */
export class HeaderPageError extends Error {
  override name = "HeaderPageError";
}

/** Parses the text of `events/header_page`. `what` names the source in errors. */
export function parseHeaderPage(text: string, littleEndian: boolean, what = "header_page"): PageLayout {
  if (text.trim() === "") {
    throw new HeaderPageError(
      `${what} is empty: the trace comes from a kernel older than 2.6.31 (obsolete ring-buffer layout), which is not supported`,
    );
  }
  const fields = new Map<string, { offset: number; size: number }>();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const m = FIELD_RE.exec(lines[i]);
    if (!m) continue;
    const decl = m[1].trim();
    const name = /([A-Za-z_][A-Za-z0-9_]*)\s*(?:\[[^\]]*\])?$/.exec(decl)?.[1];
    if (name && !fields.has(name)) fields.set(name, { offset: Number(m[2]), size: Number(m[3]) });
  }
  const commit = fields.get("commit");
  const data = fields.get("data");
  const ts = fields.get("timestamp");
  if (!commit || !data || !ts) {
    throw new HeaderPageError(
      `${what}: expected fields timestamp, commit and data, found ${[...fields.keys()].join(", ") || "none"}`,
    );
  }
  if (ts.offset !== 0 || ts.size !== 8)
    throw new HeaderPageError(`${what}: timestamp must be a u64 at offset 0`);
  if (commit.size !== 4 && commit.size !== 8) {
    throw new HeaderPageError(`${what}: commit has size ${commit.size}; expected 4 or 8 (the kernel long)`);
  }
  if (data.offset !== commit.offset + commit.size) {
    throw new HeaderPageError(
      `${what}: data offset ${data.offset} does not follow commit (${commit.offset}+${commit.size})`,
    );
  }
  const subBufferSize = data.offset + data.size;
  if (data.size <= 0 || subBufferSize > 1 << 27) {
    throw new HeaderPageError(`${what}: implausible sub-buffer size ${subBufferSize}`);
  }
  return {
    littleEndian,
    kernelLongSize: commit.size,
    commitOffset: commit.offset,
    dataOffset: data.offset,
    subBufferSize,
  };
}
