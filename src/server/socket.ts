// The daemon's unix socket: its default path (shared with ctl), a stale socket left by a
// killed daemon (removed: nothing answers on it), and mode 0600 from the moment it exists
// (bound under a umask that gives nobody else access, not chmod'ed afterwards).

import { existsSync, lstatSync, mkdirSync, unlinkSync } from "node:fs";
import type { Server } from "node:http";
import { connect } from "node:net";
import { dirname, join } from "node:path";

/** $XDG_RUNTIME_DIR/rtscope.sock (a user's session), else /run/rtscope/rtscope.sock. */
export function defaultSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_RUNTIME_DIR;
  return xdg ? join(xdg, "rtscope.sock") : "/run/rtscope/rtscope.sock";
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

/** Makes the directory and removes a stale socket; refuses when a daemon answers there. */
export async function prepareSocketPath(path: string): Promise<void> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  if (!existsSync(path)) return;
  if (!lstatSync(path).isSocket())
    throw new Error(`${path}: exists and is not a socket; remove it or give --socket PATH`);
  if (await answers(path))
    throw new Error(`${path}: another rtscope serve answers there (stop it, or give --socket PATH)`);
  unlinkSync(path);
}

/** Listens on `path` with mode 0600. */
export async function listenUnix(server: Server, path: string): Promise<void> {
  await prepareSocketPath(path);
  const old = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(path, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } finally {
    process.umask(old);
  }
}
