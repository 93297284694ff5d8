// `npm run build`, after tsc: the classifier thread of `rebound classify` (dist/src/cli/classify-thread.js and
// every module it imports: the classifier, entities, iconv-lite) bundled into one CommonJS file,
// dist/src/cli/classify-thread.bundle.cjs, and V8's code cache for it, which the command's threads start from
// (src/cli/classify-thread-cached.ts, started by src/cli/classify-threads.ts on every core).
//
// - One file to read and compile instead of some 130 modules to resolve, read and link: loading the classifier in
//   a thread takes about a third of the CPU (docs/performance.md). Made from tsc's output, so the bundle runs the
//   same JavaScript as dist/. CommonJS (the modules' `import.meta.url` made the bundle's own URL, a variable of
//   its wrapper) because V8's code cache is Node's to use for a script (node:vm), not for an ES module.
// - The code cache: the bundle compiled with the command's V8 flags (src/cli/classify.ts) and run over the
//   samples/ folder, when there is one, in this thread (its `parentPort` a stand-in), then V8's bytecode of every
//   function that ran, saved beside it. Each thread then skips compiling those functions to bytecode
//   (docs/performance.md, session 11). V8 checks the cache against its version, its flags and the text, and
//   compiles without it when any differs.
//
// Packages the classifier loads on first use through createRequire (fast-xml-parser, fflate) stay outside and are
// found in node_modules as before.
import { EventEmitter } from "node:events";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import * as workerThreads from "node:worker_threads";
import { build } from "esbuild";

const dir = "dist/src/cli";
const { BUNDLE, BUNDLE_CACHE, compileBundle, runBundle } = await import(`../${dir}/classify-bundle.js`);
const { V8_FLAGS } = await import(`../${dir}/classify.js`);
const { listFiles } = await import(`../${dir}/classify-files.js`);
const file = join(process.cwd(), dir, BUNDLE);

await build({
  entryPoints: [`${dir}/classify-thread.js`],
  outfile: file,
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  define: { "import.meta.url": "__bundleUrl" },
  logLevel: "warning",
});
// The ES module bundle of builds before this one.
rmSync(join(dir, "classify-thread.bundle.js"), { force: true });

setFlagsFromString(V8_FLAGS);
const script = compileBundle(file);
const port = new EventEmitter();
port.postMessage = () => undefined;
const require = createRequire(file);
runBundle(script, file, (id) =>
  id === "node:worker_threads" ? { ...workerThreads, parentPort: port } : require(id),
);
const samples = existsSync("samples") ? listFiles("samples") : [];
for (const format of ["ndjson", "pretty"]) port.emit("message", { id: 0, format, files: samples });
writeFileSync(join(dir, BUNDLE_CACHE), script.createCachedData());
