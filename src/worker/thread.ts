// Starting a worker thread from one of our modules, whether it runs compiled (dist/, a .js file beside the caller)
// or from its TypeScript sources (under tsx or vitest: the .ts source loaded through tsx's API in the thread).
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";

/** A thread running the module `name` (no extension) that sits beside the module `base` (its import.meta.url). */
export function startThread(name: string, base: string): Worker {
  const url = new URL(`./${name}${base.endsWith(".ts") ? ".ts" : ".js"}`, base);
  if (url.pathname.endsWith(".js")) return new Worker(url);
  // tsx's ESM API (its CommonJS one cannot register hooks in a thread).
  const pkg = createRequire(base).resolve("tsx/package.json");
  const api = pathToFileURL(join(dirname(pkg), "dist/esm/api/index.mjs")).href;
  const code = `import(${JSON.stringify(api)}).then((m) => m.tsImport(${JSON.stringify(url.href)}, ${JSON.stringify(url.href)}))`;
  return new Worker(code, { eval: true });
}
