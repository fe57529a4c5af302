// The dashboard's files as the daemon serves them (no tracefs needed: the API is built
// around a daemon that is never called, and Fastify's inject plays the TCP peer, 127.0.0.1):
// every file the page loads is there with its type and the Content-Security-Policy, the page
// has no inline script, style or handler, nothing refers to another origin, names outside
// web/ are not served, the page needs no token but the API still does, and the Host and
// cross-site checks cover the page too.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { AccessPolicy } from "../../src/server/access.ts";
import { buildApi } from "../../src/server/api.ts";
import type { Daemon } from "../../src/server/daemon.ts";
import { CONTENT_SECURITY_POLICY, WEB_DIR } from "../../src/server/dashboard.ts";
import type { DaemonMetrics } from "../../src/server/metrics.ts";
import { EventStream } from "../../src/server/stream.ts";

const TOKEN = "0123456789abcdef0123";

function apiWith(token: string | null) {
  const policy: AccessPolicy = { token, allowedHosts: new Set(["localhost", "127.0.0.1", "::1"]) };
  return buildApi({
    daemon: {} as Daemon,
    metrics: {} as DaemonMetrics,
    stream: new EventStream(),
    policy,
    store: null,
    storeProblem: "--no-store",
  }).app;
}

const html = readFileSync(join(WEB_DIR, "index.html"), "utf8");
const scripts = readdirSync(WEB_DIR).filter((f) => f.endsWith(".js"));

describe("the dashboard's files", () => {
  it("/ is the page, with a strict CSP and no inline code", async () => {
    const app = apiWith(null);
    const r = await app.inject({ url: "/", headers: { host: "127.0.0.1:9464" } });
    assert.equal(r.statusCode, 200);
    assert.match(String(r.headers["content-type"]), /^text\/html/);
    const csp = String(r.headers["content-security-policy"]);
    assert.equal(csp, CONTENT_SECURITY_POLICY);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
    assert.equal(r.headers["x-content-type-options"], "nosniff");
    // every <script> has a src and no body; no style attributes, no on* handlers, no <style>
    for (const m of r.body.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)) {
      assert.match(m[1], /\bsrc="\/static\/[a-z-]+\.js"/);
      assert.equal(m[2].trim(), "");
    }
    assert.doesNotMatch(r.body, /\sstyle=|<style|\son[a-z]+=/i);
    await app.close();
  });

  it("serves every file the page and its modules load, with its type and the CSP", async () => {
    const app = apiWith(null);
    const wanted = new Set<string>();
    for (const m of html.matchAll(/(?:src|href)="(\/static\/[^"]+)"/g)) wanted.add(m[1]);
    for (const f of scripts)
      for (const m of readFileSync(join(WEB_DIR, f), "utf8").matchAll(/from "\.\/([a-z-]+\.js)"/g))
        wanted.add(`/static/${m[1]}`);
    assert.ok(wanted.has("/static/app.js") && wanted.has("/static/timeline.js"), [...wanted].join(" "));
    const types: Record<string, RegExp> = {
      js: /^text\/javascript/,
      css: /^text\/css/,
      svg: /^image\/svg\+xml/,
    };
    for (const url of wanted) {
      const r = await app.inject({ url, headers: { host: "localhost:9464" } });
      assert.equal(r.statusCode, 200, url);
      assert.match(String(r.headers["content-type"]), types[url.slice(url.lastIndexOf(".") + 1)], url);
      assert.equal(r.headers["content-security-policy"], CONTENT_SECURITY_POLICY, url);
      assert.equal(r.body, readFileSync(join(WEB_DIR, url.slice("/static/".length)), "utf8"), url);
    }
    await app.close();
  });

  it("refers to no other origin (nothing from the internet at run time)", () => {
    for (const f of readdirSync(WEB_DIR)) {
      const text = readFileSync(join(WEB_DIR, f), "utf8").replaceAll("http://www.w3.org/2000/svg", "");
      assert.doesNotMatch(text, /https?:\/\/|\/\/[a-z0-9.-]+\.[a-z]{2,}\//i, f);
    }
  });

  it("serves nothing else: other names, paths out of web/, the page's own name under /static", async () => {
    const app = apiWith(null);
    for (const url of [
      "/static/nope.js",
      "/static/tsconfig.json",
      "/static/index.html",
      "/static/..%2Fpackage.json",
      "/static/../package.json",
      "/static/",
      "/index.html",
    ]) {
      const r = await app.inject({ url, headers: { host: "127.0.0.1" } });
      assert.equal(r.statusCode, 404, `${url}: ${r.body}`);
      assert.doesNotMatch(r.body, /"name": "rtscope"/, url);
    }
    await app.close();
  });

  it("with a token: the page loads without it, the API does not, and cross-site stays refused", async () => {
    const app = apiWith(TOKEN);
    const page = await app.inject({ url: "/", headers: { host: "10.0.0.5:9464" } });
    assert.equal(page.statusCode, 200);
    const js = await app.inject({ url: "/static/app.js", headers: { host: "10.0.0.5:9464" } });
    assert.equal(js.statusCode, 200);
    const tasks = await app.inject({ url: "/api/tasks", headers: { host: "10.0.0.5:9464" } });
    assert.equal(tasks.statusCode, 401);
    const post = await app.inject({ method: "POST", url: "/", headers: { host: "10.0.0.5:9464" } });
    assert.equal(post.statusCode, 401, "only GET of the page is free of the token");
    const cross = await app.inject({
      url: "/",
      headers: { host: "10.0.0.5:9464", "sec-fetch-site": "cross-site" },
    });
    assert.equal(cross.statusCode, 403);
    await app.close();
  });

  it("without a token: the page obeys the Host check (DNS rebinding)", async () => {
    const app = apiWith(null);
    const r = await app.inject({ url: "/", headers: { host: "attacker.example:9464" } });
    assert.equal(r.statusCode, 403);
    assert.match(r.body, /DNS rebinding/);
    await app.close();
  });
});
