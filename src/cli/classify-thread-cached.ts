// The entry of a classifier thread of the built command (classify-threads.ts starts it when `npm run build` made the
// bundle): the bundle of classify-thread.js compiled with its code cache, so that each thread skips compiling the
// classifier's functions to bytecode (docs/performance.md, session 11). An entry point: running the bundle is what
// loading it is for.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { BUNDLE, BUNDLE_CACHE, compileBundle, runBundle } from "./classify-bundle.js";

const file = fileURLToPath(new URL(`./${BUNDLE}`, import.meta.url));
let cache: Buffer | undefined;
try {
  cache = readFileSync(fileURLToPath(new URL(`./${BUNDLE_CACHE}`, import.meta.url)));
} catch {
  // No cache (a build that could not make one): compiled without.
}
runBundle(compileBundle(file, cache), file);
