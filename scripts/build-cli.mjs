// `npm run build`, after tsc: the classifier thread of `rebound classify` (dist/src/cli/classify-thread.js and
// every module it imports: the classifier, entities, iconv-lite) bundled into one file,
// dist/src/cli/classify-thread.bundle.js, which the command starts on every core (src/cli/classify-threads.ts).
// One file to read and compile instead of some 130 modules to resolve, read and link: loading the classifier in a
// thread takes about a third of the CPU (docs/performance.md). Made from tsc's output, so the bundle runs the
// same JavaScript as dist/.
//
// CommonJS packages in the bundle (iconv-lite) require Node's built-in modules: the bundle, an ES module, makes
// itself a `require` for them. Packages the classifier loads on first use through createRequire (fast-xml-parser,
// fflate) stay outside and are found in node_modules as before.
import { build } from "esbuild";

await build({
  entryPoints: ["dist/src/cli/classify-thread.js"],
  outfile: "dist/src/cli/classify-thread.bundle.js",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  banner: {
    js: 'import { createRequire as __reboundRequire } from "node:module"; const require = __reboundRequire(import.meta.url);',
  },
  logLevel: "warning",
});
