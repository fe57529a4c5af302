// A small HTTP client for the daemon's API (ctl, tests): over the unix socket or a URL,
// with an optional bearer token. A daemon that does not answer is a DaemonUnreachable with
// a message that says where it looked and what to do.

import { request } from "node:http";

export interface Endpoint {
  /** unix socket path, or undefined with `url` */
  socket?: string;
  /** base URL, e.g. http://127.0.0.1:9464 */
  url?: string;
  token?: string;
}

export interface ApiResponse {
  status: number;
  contentType: string;
  body: Buffer;
}

export class DaemonUnreachable extends Error {}

export function describeEndpoint(e: Endpoint): string {
  return e.socket !== undefined ? `unix:${e.socket}` : (e.url ?? "");
}

export function callApi(e: Endpoint, method: string, path: string, body?: unknown): Promise<ApiResponse> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string> = {};
    if (payload !== undefined) {
      headers["content-type"] = "application/json";
      headers["content-length"] = String(payload.length);
    }
    if (e.token !== undefined) headers.authorization = `Bearer ${e.token}`;
    let target: { socketPath?: string; hostname?: string; port?: string; path: string };
    if (e.socket !== undefined) target = { socketPath: e.socket, hostname: "localhost", path };
    else {
      const u = new URL(path, e.url);
      target = { hostname: u.hostname.replace(/^\[|\]$/g, ""), port: u.port, path: u.pathname + u.search };
    }
    const req = request({ ...target, method, headers, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          contentType: String(res.headers["content-type"] ?? ""),
          body: Buffer.concat(chunks),
        }),
      );
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error("the daemon did not answer within 30 s")));
    req.on("error", (err: NodeJS.ErrnoException) => {
      const where = describeEndpoint(e);
      if (err.code === "ENOENT" || err.code === "ECONNREFUSED")
        reject(
          new DaemonUnreachable(
            `no rtscope daemon answers on ${where} (start one with 'sudo rtscope serve', or give --socket PATH / --url URL)`,
          ),
        );
      else if (err.code === "EACCES" || err.code === "EPERM")
        reject(
          new DaemonUnreachable(
            `${where}: permission denied (the socket is mode 0600: run ctl as the daemon's user)`,
          ),
        );
      else reject(new DaemonUnreachable(`${where}: ${err.message}`));
    });
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}
