// The web console's static files under /console, built by `npm run build` (Vite, web/) into dist/console. Read
// into memory once (a few hundred kilobytes), gzipped once; hashed assets are cached for a year, the page itself
// is revalidated. Every answer carries a strict Content-Security-Policy: the console's own scripts and styles
// only, no inline code, requests to this origin only. Everything the console shows comes from the public /v1 API.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createHash } from "node:crypto";
import { basename, dirname, extname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { ApiError } from "./errors.js";

export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".txt": "text/plain; charset=utf-8",
};

interface Asset {
  body: Buffer;
  gzip: Buffer | undefined;
  type: string;
  etag: string;
  immutable: boolean;
}

/** Where the build puts the console: dist/console beside dist/src (built), or under the checkout (sources). */
export function consoleDir(): string {
  const root = fileURLToPath(new URL("../../", import.meta.url));
  return basename(root) === "dist" ? join(root, "console") : join(root, "dist", "console");
}

/** The built files by their URL path under /console/ ("index.html", "assets/index-1a2b3c.js"). */
export function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  if (!existsSync(join(dir, "index.html"))) return assets;
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else {
        const body = readFileSync(p);
        const type = TYPES[extname(name)] ?? "application/octet-stream";
        const zipped = type.startsWith("text/") || type.includes("svg") || type.includes("json");
        const rel = relative(dir, p).split(sep).join("/");
        assets.set(rel, {
          body,
          gzip: zipped ? gzipSync(body, { level: 9 }) : undefined,
          type,
          etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`,
          // Vite names what it builds under assets/ by content hash.
          immutable: dirname(rel) === "assets",
        });
      }
    }
  };
  walk(dir);
  return assets;
}

function send(request: FastifyRequest, reply: FastifyReply, a: Asset) {
  reply
    .header("content-security-policy", CONSOLE_CSP)
    .header("x-content-type-options", "nosniff")
    .header("referrer-policy", "no-referrer")
    .header("x-frame-options", "DENY")
    .header("cache-control", a.immutable ? "public, max-age=31536000, immutable" : "no-cache")
    .header("etag", a.etag)
    .header("vary", "accept-encoding")
    .type(a.type);
  if (request.headers["if-none-match"] === a.etag) return reply.code(304).send();
  const gzip = a.gzip && /\bgzip\b/.test(String(request.headers["accept-encoding"] ?? ""));
  if (gzip) reply.header("content-encoding", "gzip");
  return reply.send(gzip ? a.gzip : a.body);
}

export function installConsole(app: FastifyInstance, dir = consoleDir()): void {
  const assets = loadAssets(dir);
  const page = assets.get("index.html");
  const serve = (request: FastifyRequest, reply: FastifyReply, path: string) => {
    if (!page)
      throw new ApiError(
        404,
        "not_found",
        "the console is not built in this installation: run `npm run build`",
      );
    const asset = assets.get(path);
    if (asset) return send(request, reply, asset);
    // A missing hashed file is a 404 (an old page asking for a file of a previous build); any other path is one
    // of the console's pages, which the page itself routes.
    if (path.startsWith("assets/")) throw new ApiError(404, "not_found", `no console file ${path}`);
    return send(request, reply, page);
  };
  app.get("/console", { schema: { hide: true } }, (request, reply) => serve(request, reply, "index.html"));
  app.get<{ Params: { "*": string } }>("/console/*", { schema: { hide: true } }, (request, reply) =>
    serve(request, reply, request.params["*"] || "index.html"),
  );
}
