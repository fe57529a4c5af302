// Lines of a text trace that are not events: headers (`# tracer:`, `# entries-in-buffer/...`,
// trace-cmd's `cpus=N`, `version = 6`, `CPU N is empty`, atrace's `TRACE:`) and the lost-data
// markers (`CPU:N [LOST n EVENTS]` from trace_pipe, `CPU:N [n EVENTS DROPPED]` and
// `CPU:N [EVENTS DROPPED]` from trace-cmd report, possibly after an `<instance>: ` prefix).
// They are rare, so they are read as strings.

export const HeaderKind = {
  None: 0,
  Ignored: 1,
  Cpus: 2,
  Entries: 3,
  Lost: 4,
  Version: 5,
} as const;

export class HeaderLine {
  kind: number = HeaderKind.None;
  cpus = 0;
  /** entries-in-buffer / entries-written */
  inBuffer = 0;
  written = 0;
  /** lost-data marker: cpu and count (-1 unknown) */
  cpu = -1;
  lost = -1;
  version = 0;
}

const ENTRIES = /^#\s*entries-in-buffer\/entries-written:\s*(\d+)\/(\d+)\s+#P:(\d+)/;
const CPUS = /^cpus=(\d+)\s*$/;
const VERSION = /^version\s*=\s*(\d+)\s*$/;
const EMPTY_CPU = /^CPU \d+ is empty\s*$/;
const LOST = /(?:^|:\s+)CPU:(\d+) \[(?:LOST (\d+) EVENTS|(\d+) EVENTS DROPPED|EVENTS DROPPED)\]\s*$/;

/** Classifies a non-event line; `out.kind` is None when it is not a known header either. */
export function parseHeaderLine(text: string, out: HeaderLine): void {
  out.kind = HeaderKind.None;
  const t = text.trimStart();
  if (t.startsWith("#")) {
    const m = ENTRIES.exec(t);
    if (m) {
      out.kind = HeaderKind.Entries;
      out.inBuffer = Number(m[1]);
      out.written = Number(m[2]);
      out.cpus = Number(m[3]);
    } else out.kind = HeaderKind.Ignored;
    return;
  }
  let m = CPUS.exec(t);
  if (m) {
    out.kind = HeaderKind.Cpus;
    out.cpus = Number(m[1]);
    return;
  }
  m = VERSION.exec(t);
  if (m) {
    out.kind = HeaderKind.Version;
    out.version = Number(m[1]);
    return;
  }
  if (EMPTY_CPU.test(t) || t === "TRACE:") {
    out.kind = HeaderKind.Ignored;
    return;
  }
  m = LOST.exec(t);
  if (m) {
    out.kind = HeaderKind.Lost;
    out.cpu = Number(m[1]);
    out.lost = m[2] !== undefined ? Number(m[2]) : m[3] !== undefined ? Number(m[3]) : -1;
  }
}
