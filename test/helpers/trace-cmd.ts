// Whether trace-cmd, the ground-truth reader of trace.dat files, is installed. Looked up on
// PATH rather than run: `trace-cmd --version` and `-h` exit non-zero even when it works.
import { existsSync } from "node:fs";
import { resolve } from "node:path";

export const haveTraceCmd: boolean = (process.env.PATH ?? "")
  .split(":")
  .some((d) => d !== "" && existsSync(resolve(d, "trace-cmd")));

/** A node:test `skip` value: false with trace-cmd, the reason without. */
export const skipWithoutTraceCmd: false | string = haveTraceCmd ? false : "trace-cmd not installed";
