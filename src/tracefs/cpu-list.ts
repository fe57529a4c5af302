// Kernel CPU lists ("0-3,6"), as in /sys/devices/system/cpu/{online,isolated,nohz_full}.

import { readFileSync } from "node:fs";

/** CPUs of a kernel CPU list; parts that are not numbers or ranges are skipped. */
export function parseCpuList(list: string): number[] {
  const out: number[] = [];
  for (const part of list.split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) continue;
    for (let c = Number(m[1]); c <= Number(m[2] ?? m[1]); c++) out.push(c);
  }
  return out;
}

/** The CPU list in a sysfs file, [] when absent or empty. */
export function readCpuList(path: string): number[] {
  try {
    return parseCpuList(readFileSync(path, "utf8").trim());
  } catch {
    return [];
  }
}
