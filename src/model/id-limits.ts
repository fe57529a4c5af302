// Hard limits on the thread ids and CPU numbers a trace can hold. They come from the kernel,
// not from the file: a value past them is corruption, and must never size an array (one
// `pid=4294967297` would otherwise cost gigabytes). Sources check every id against them
// (src/sources/id-check.ts); the analysis refuses them as a last line of defence.

/**
 * pid_max can be raised to PID_MAX_LIMIT and no further: 4194304 on 64-bit kernels
 * (include/linux/threads.h, 4 * 1024 * 1024), 32768 on 32-bit ones. Thread ids are below it.
 */
export const PID_LIMIT = 4194304;

/** CONFIG_NR_CPUS is at most 8192 (x86 MAXSMP): a CPU number at or above it cannot be real. */
export const CPU_LIMIT = 8192;

/** True for a thread id a kernel can have. */
export function validTid(tid: number): boolean {
  return tid >= 0 && tid < PID_LIMIT;
}

/**
 * The analysis' last line of defence before an id sizes an array: sources turn corrupt ids
 * into diagnostics, so reaching this is a bug in a source, reported plainly instead of as
 * gigabytes of memory or "Invalid typed array length".
 */
export function assertIdInRange(what: "thread id" | "CPU", value: number): void {
  const limit = what === "CPU" ? CPU_LIMIT : PID_LIMIT;
  if (value >= 0 && value < limit) return;
  throw new RangeError(
    `${what} ${value} is outside the kernel's range (0 to ${limit - 1}): a trace reader passed on a corrupt event`,
  );
}
