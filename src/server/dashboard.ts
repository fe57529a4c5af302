// The web dashboard's files (web/: plain ES modules, no build step, nothing fetched from
// elsewhere) served at / and /static/NAME. They are read once when the daemon starts and
// answered from memory; only names of the files in web/ with a known type exist, so no path
// from a request ever reaches the file system. Every dashboard response carries a strict
// Content-Security-Policy: scripts, styles and connections only from this origin, no inline
// script or style, no frames, no forms posting anywhere, no plugins.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance, FastifyReply } from "fastify";

export const WEB_DIR = fileURLToPath(new URL("../../web/", import.meta.url));

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

/** The paths the dashboard answers: they need no token (they hold no data), the API does. */
export function isDashboardPath(url: string): boolean {
  const path = url.split("?")[0];
  return path === "/" || path.startsWith("/static/");
}

interface Asset {
  type: string;
  body: Buffer;
}

function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(dir)) {
    const ext = name.slice(name.lastIndexOf("."));
    const type = TYPES[ext];
    if (type !== undefined && /^[a-z0-9-]+\.[a-z]+$/.test(name))
      assets.set(name, { type, body: readFileSync(join(dir, name)) });
  }
  return assets;
}

function sendAsset(reply: FastifyReply, a: Asset): FastifyReply {
  return reply
    .code(200)
    .type(a.type)
    .header("content-security-policy", CONTENT_SECURITY_POLICY)
    .header("x-content-type-options", "nosniff")
    .header("referrer-policy", "no-referrer")
    .header("cross-origin-resource-policy", "same-origin")
    .header("cache-control", "no-cache")
    .send(a.body);
}

/** GET / (web/index.html) and GET /static/NAME. */
export function registerDashboard(app: FastifyInstance, dir: string = WEB_DIR): void {
  const assets = loadAssets(dir);
  const index = assets.get("index.html");
  if (index === undefined) throw new Error(`the dashboard's index.html is missing from ${dir}`);
  const NO_QUERY = { type: "object", additionalProperties: false } as const;
  app.get("/", { schema: { querystring: NO_QUERY } }, async (_req, reply) => sendAsset(reply, index));
  app.get(
    "/static/:name",
    {
      schema: {
        params: {
          type: "object",
          properties: { name: { type: "string", maxLength: 64 } },
          required: ["name"],
          additionalProperties: false,
        },
        querystring: NO_QUERY,
      },
    },
    async (req, reply) => {
      const name = (req.params as { name: string }).name;
      const a = name === "index.html" ? undefined : assets.get(name);
      if (a === undefined)
        return reply
          .code(404)
          .type("application/json; charset=utf-8")
          .send(JSON.stringify({ error: `no such file: /static/${name}` }));
      return sendAsset(reply, a);
    },
  );
}
