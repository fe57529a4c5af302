// The daemon's TCP access rules (src/server/access.ts) on requests built by hand: what a
// browser sends from another site, a DNS-rebinding page, a remote peer, a token.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type AccessPolicy,
  checkAccess,
  hostName,
  isLoopbackAddress,
  LOOPBACK_HOSTS,
} from "../../src/server/access.ts";

const open: AccessPolicy = { token: null, allowedHosts: new Set(LOOPBACK_HOSTS) };
const withToken: AccessPolicy = { token: "0123456789abcdef-token", allowedHosts: new Set(LOOPBACK_HOSTS) };
const req = (headers: Record<string, string>, remoteAddress = "127.0.0.1") => ({ headers, remoteAddress });

test("loopback without a token: loopback Host names only", () => {
  assert.equal(checkAccess(req({ host: "127.0.0.1:9464" }), open), null);
  assert.equal(checkAccess(req({ host: "localhost:9464" }), open), null);
  assert.equal(checkAccess(req({ host: "[::1]:9464" }, "::1"), open), null);
  assert.equal(checkAccess(req({ host: "LOCALHOST" }, "::ffff:127.0.0.1"), open), null);
  assert.equal(checkAccess(req({ host: "rebind.attacker.example:9464" }), open)?.status, 403);
  assert.equal(checkAccess(req({ host: "127.0.0.1.nip.io" }), open)?.status, 403);
  assert.equal(checkAccess(req({}), open)?.status, 403, "no Host at all");
  const extra: AccessPolicy = { token: null, allowedHosts: new Set([...LOOPBACK_HOSTS, "rt-box"]) };
  assert.equal(checkAccess(req({ host: "rt-box:9464" }), extra), null);
});

test("cross-site requests are refused whatever the token", () => {
  const same = { host: "127.0.0.1:9464", origin: "http://127.0.0.1:9464" };
  assert.equal(checkAccess(req(same), open), null);
  for (const origin of ["http://attacker.example", "null", "http://127.0.0.1:8080", "garbage"])
    assert.equal(checkAccess(req({ host: "127.0.0.1:9464", origin }), open)?.status, 403, origin);
  assert.equal(
    checkAccess(req({ host: "127.0.0.1:9464", "sec-fetch-site": "cross-site" }), open)?.status,
    403,
  );
  assert.equal(checkAccess(req({ host: "127.0.0.1:9464", "sec-fetch-site": "same-origin" }), open), null);
  const auth = { authorization: "Bearer 0123456789abcdef-token" };
  assert.equal(
    checkAccess(req({ ...auth, host: "h:1", origin: "http://evil.example" }, "192.0.2.9"), withToken)?.status,
    403,
  );
});

test("other peers need the token; with a token every TCP request needs it", () => {
  assert.equal(checkAccess(req({ host: "127.0.0.1:9464" }, "192.0.2.9"), open)?.status, 401);
  assert.equal(checkAccess(req({ host: "rt-box:9464" }, "192.0.2.9"), withToken)?.status, 401);
  assert.equal(checkAccess(req({ host: "127.0.0.1" }), withToken)?.status, 401, "loopback too");
  for (const a of [
    "Bearer wrong",
    "Bearer 0123456789abcdef-toke",
    "Basic 0123456789abcdef-token",
    "0123456789abcdef-token",
  ])
    assert.equal(checkAccess(req({ host: "x", authorization: a }, "192.0.2.9"), withToken)?.status, 401, a);
  assert.equal(
    checkAccess(
      req({ host: "rt-box:9464", authorization: "Bearer 0123456789abcdef-token" }, "192.0.2.9"),
      withToken,
    ),
    null,
    "any Host with the token (Prometheus scrapes by host name)",
  );
});

test("address and Host parsing", () => {
  assert.ok(isLoopbackAddress("127.0.0.1") && isLoopbackAddress("127.1.2.3") && isLoopbackAddress("::1"));
  assert.ok(isLoopbackAddress("::ffff:127.0.0.1"));
  assert.ok(
    !isLoopbackAddress("192.0.2.2") && !isLoopbackAddress(undefined) && !isLoopbackAddress("::ffff:10.0.0.1"),
  );
  assert.equal(hostName("[::1]:9464"), "::1");
  assert.equal(hostName("Localhost:80"), "localhost");
  assert.equal(hostName("127.0.0.1"), "127.0.0.1");
});
