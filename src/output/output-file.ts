// Every command's `-o FILE`: outputs never destroy what they were given, and a failed run
// never leaves half a report. A regular file (or a new one) is written to a temporary file
// in the same directory and renamed over the target at the end (same file system, so the
// rename is atomic; an existing file keeps its mode). Anything else — /dev/full, a FIFO, a
// terminal — is written in place: renaming over it would replace the device or pipe with
// a plain file. An output that is one of the inputs is refused before any work.

import {
  chmodSync,
  closeSync,
  fsyncSync,
  openSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";

/** The error of a failed write, naming the file ("-o /dev/full: no space left on device (ENOSPC)"). */
export class OutputError extends Error {
  constructor(path: string, cause: unknown) {
    const e = cause as NodeJS.ErrnoException;
    const why = e.code ? `${describeCode(e.code)} (${e.code})` : String(e.message ?? cause);
    super(`cannot write ${path}: ${why}`);
    this.name = "OutputError";
  }
}

function describeCode(code: string): string {
  switch (code) {
    case "ENOSPC":
      return "no space left on device";
    case "EDQUOT":
      return "disk quota exceeded";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "ENOENT":
      return "no such directory";
    case "EISDIR":
      return "is a directory";
    case "EROFS":
      return "read-only file system";
    case "EPIPE":
      return "the reader went away";
    default:
      return code.toLowerCase();
  }
}

/** Identity of an existing file (device and inode), undefined when it does not exist. */
function identity(path: string): string | undefined {
  try {
    const st = statSync(path);
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

/**
 * The input `output` would overwrite (same file after symlinks and hard links), else
 * undefined. Call before the work, so that a refused run costs nothing.
 */
export function inputOverwrittenBy(output: string, inputs: readonly string[]): string | undefined {
  const out = identity(output);
  if (out === undefined) return undefined;
  return inputs.find((i) => identity(i) === out);
}

/** Writes `data` to `path` as described above; throws an OutputError naming the file. */
export function writeOutputFile(path: string, data: string | Uint8Array): void {
  const bytes = typeof data === "string" ? Buffer.from(data) : data;
  let target = path;
  let mode: number | undefined;
  try {
    // the real file behind a symlink is what gets replaced (the link stays a link)
    target = realpathSync(path);
    const st = statSync(target);
    if (!st.isFile()) {
      writeInPlace(path, target, bytes);
      return;
    }
    mode = st.mode & 0o7777;
  } catch (e) {
    if (e instanceof OutputError) throw e;
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw new OutputError(path, e);
    target = path;
  }
  const tmp = join(dirname(target), `.${basename(target)}.rtscope-${process.pid}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, "wx", mode ?? 0o666);
    writeAll(fd, bytes);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    if (mode !== undefined) chmodSync(tmp, mode);
    renameSync(tmp, target);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // never created
    }
    throw new OutputError(path, e);
  }
}

function writeInPlace(path: string, target: string, bytes: Uint8Array): void {
  let fd: number | undefined;
  try {
    fd = openSync(target, "w");
    writeAll(fd, bytes);
    closeSync(fd);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    throw new OutputError(path, e);
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
}
