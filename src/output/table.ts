// Shared text formatting: numbers for people (µs with sensible precision, counts with
// thousands separators) and plain column tables that read well in a terminal and when
// piped (spaces only, no colours, no box drawing).

/** A dash where there is no data, as rtla prints. */
export const NO_DATA = "-";

/**
 * Nanoseconds as microseconds for a table cell: 0.81, 20.9, 1250 (3 significant digits
 * below 100 µs, integers above 1 ms). Undefined/NaN → "-".
 */
export function usCell(valueNs: number | undefined | null): string {
  if (valueNs === undefined || valueNs === null || !Number.isFinite(valueNs)) return NO_DATA;
  const us = valueNs / 1000;
  const a = Math.abs(us);
  if (a < 10) return us.toFixed(2);
  if (a < 1000) return us.toFixed(1);
  return Math.round(us).toString();
}

/** An integer with thousands separators: 669,509. */
export function countCell(n: number | undefined | null): string {
  if (n === undefined || n === null || !Number.isFinite(n)) return NO_DATA;
  if (n < 0) return "unknown";
  const s = Math.round(n).toString();
  return s.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** A bound or duration in the unit a person would write: 50 us, 2 ms, 812 ns, 1.5 s. */
export function durationText(ns: number): string {
  const a = Math.abs(ns);
  const trim = (v: number) => Number(v.toPrecision(4)).toString();
  if (a < 1e3) return `${Math.round(ns)} ns`;
  if (a < 1e6) return `${trim(ns / 1e3)} us`;
  if (a < 1e9) return `${trim(ns / 1e6)} ms`;
  return `${trim(ns / 1e9)} s`;
}

/** An absolute trace timestamp (ns) as ftrace prints it: seconds.microseconds. */
export function timestampText(ts: number | bigint): string {
  const v = typeof ts === "bigint" ? ts : BigInt(Math.round(ts));
  const neg = v < 0n;
  const a = neg ? -v : v;
  const sec = a / 1_000_000_000n;
  const us = (a % 1_000_000_000n) / 1000n;
  return `${neg ? "-" : ""}${sec}.${us.toString().padStart(6, "0")}`;
}

export type Align = "left" | "right";

export interface Column {
  header: string;
  align: Align;
}

/**
 * Renders rows under headers, each column as wide as its widest cell, two spaces apart,
 * `indent` spaces before each line. No trailing spaces.
 */
export function renderTable(
  columns: readonly Column[],
  rows: readonly (readonly string[])[],
  indent = 2,
): string[] {
  const widths = columns.map((c, i) => Math.max(c.header.length, ...rows.map((r) => (r[i] ?? "").length)));
  const pad = " ".repeat(indent);
  const line = (cells: readonly string[]) =>
    (
      pad +
      columns
        .map((c, i) => {
          const cell = cells[i] ?? "";
          return c.align === "left" ? cell.padEnd(widths[i]) : cell.padStart(widths[i]);
        })
        .join("  ")
    ).trimEnd();
  return [line(columns.map((c) => c.header)), ...rows.map(line)];
}

/** Width of the widest line. */
export function maxLineWidth(lines: readonly string[]): number {
  let w = 0;
  for (const l of lines) w = Math.max(w, l.length);
  return w;
}
