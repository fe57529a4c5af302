// Shared text and layout of hand-written event formats, for tests that build formats and pages.

import type { PageLayout } from "../../src/decode/header-page.ts";

/** The four common fields every event format starts with, tab-indented as tracefs prints them. */
export const COMMON_FIELDS = `	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;
`;

/** Sub-buffer layout of a 64-bit kernel with 4 KiB pages (commit is a long: data at 16). */
export function layout64(littleEndian = true): PageLayout {
  return { littleEndian, kernelLongSize: 8, commitOffset: 8, dataOffset: 16, subBufferSize: 4096 };
}
