// The built classifier thread of `rebound classify` (scripts/build-cli.mjs makes it): one CommonJS file holding
// classify-thread.js and all it imports, compiled with the V8 code cache the build made for it. Shared by the
// thread's entry (classify-thread-cached.ts) and the build, which must compile the same text to make a cache V8
// accepts. Light: no part of the classifier.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { pathToFileURL } from "node:url";
import { Script } from "node:vm";

/** The bundle's name, beside this module in dist/src/cli/. */
export const BUNDLE = "classify-thread.bundle.cjs";
/** Its code cache: V8's bytecode of the functions the classifier ran over the samples at build time. */
export const BUNDLE_CACHE = `${BUNDLE}.cache`;

/**
 * The bundle's text compiled as one function of its module's variables (as Node wraps a CommonJS module), with
 * `cachedData` when given. V8 uses the cache only when it was made by the same V8, with the same flags, from the
 * same text (`script.cachedDataRejected` says when not: the bundle is then compiled as without one).
 */
export function compileBundle(file: string, cachedData?: Buffer): Script {
  const source = `(function (exports, require, module, __filename, __dirname, __bundleUrl) {${readFileSync(file, "utf8")}\n})`;
  return new Script(source, { filename: file, cachedData });
}

/** Runs the compiled bundle as the module `file`, with `require` as its (the build passes its own). */
export function runBundle(script: Script, file: string, require: NodeJS.Require = createRequire(file)): void {
  const module = { exports: {} };
  const fn = script.runInThisContext() as (...args: unknown[]) => void;
  fn(module.exports, require, module, file, dirname(file), pathToFileURL(file).href);
}
