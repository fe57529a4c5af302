// Who may talk to the daemon. The unix socket is guarded by its file mode (0600). Over TCP:
// - with a token (serve --token-file), every request needs `Authorization: Bearer TOKEN`;
//   a non-loopback listen address requires one;
// - without a token only loopback peers are served, and loopback is not a trust boundary
//   by itself: a web page in the user's browser can reach 127.0.0.1 (DNS rebinding makes
//   its own host name point there; a cross-site form or fetch can post to it). So the Host
//   header must name a loopback host (or one given with --allow-host), and a request a
//   browser marks as coming from another site (Origin not this host, Sec-Fetch-Site
//   cross-site/same-site) is refused whatever the token.
// The dashboard's page and scripts (publicAsset) hold no data and need no token: the page
// asks the user for it and sends it with each API request (a browser cannot put a header on
// the navigation that loads the page). The cross-site and loopback rules still apply.

import { timingSafeEqual } from "node:crypto";

export interface AccessPolicy {
  /** bearer token, null = loopback only */
  token: string | null;
  /** host names the Host header may carry when there is no token (lower case, no port) */
  allowedHosts: ReadonlySet<string>;
}

export const LOOPBACK_HOSTS: readonly string[] = ["localhost", "127.0.0.1", "::1"];

export interface AccessRequest {
  headers: Record<string, string | string[] | undefined>;
  remoteAddress: string | undefined;
}

export interface Refusal {
  status: 401 | 403;
  message: string;
}

export function isLoopbackAddress(addr: string | undefined): boolean {
  if (addr === undefined) return false;
  const a = addr.startsWith("::ffff:") ? addr.slice(7) : addr;
  return a === "::1" || /^127\.\d+\.\d+\.\d+$/.test(a);
}

/** The host part of a Host header value ("[::1]:9464" → "::1"), lower case. */
export function hostName(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith("[")) return h.slice(1, h.indexOf("]") > 0 ? h.indexOf("]") : undefined);
  const colon = h.lastIndexOf(":");
  return colon >= 0 && h.indexOf(":") === colon ? h.slice(0, colon) : h;
}

function header(req: AccessRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** null when the TCP request may proceed, else why not. */
export function checkAccess(req: AccessRequest, policy: AccessPolicy, publicAsset = false): Refusal | null {
  const host = header(req, "host");
  const origin = header(req, "origin");
  if (origin !== undefined) {
    let originHost = "";
    try {
      originHost = new URL(origin).host.toLowerCase();
    } catch {
      // "null" (sandboxed pages, file://) and garbage: not this site
    }
    if (host === undefined || originHost !== host.trim().toLowerCase())
      return { status: 403, message: `cross-site request refused (Origin ${origin})` };
  }
  const site = header(req, "sec-fetch-site");
  if (site === "cross-site" || site === "same-site")
    return { status: 403, message: `cross-site request refused (Sec-Fetch-Site ${site})` };
  if (policy.token !== null) {
    if (publicAsset) return null;
    const auth = header(req, "authorization") ?? "";
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m === null || !sameSecret(m[1], policy.token))
      return { status: 401, message: "missing or wrong bearer token (Authorization: Bearer TOKEN)" };
    return null;
  }
  if (!isLoopbackAddress(req.remoteAddress))
    return { status: 401, message: "requests from other hosts need a token (rtscope serve --token-file)" };
  if (host === undefined || !policy.allowedHosts.has(hostName(host)))
    return {
      status: 403,
      message: `Host '${host ?? ""}' refused (DNS rebinding protection): use 127.0.0.1 or localhost, or serve --allow-host NAME`,
    };
  return null;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
