// `npm run build`'s dist/ made from the current sources in a folder of the test's, with the package's own
// bin/rebound.js beside it: for tests that run the CLI in processes of their own, many times. Under tsx each run
// compiles the sources again (about a second); the built CLI starts in a fraction of that. Never the checkout's
// dist/, which may be older than the sources.
import { execFile } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { build } from "esbuild";

const repo = fileURLToPath(new URL("../..", import.meta.url));

/** TypeScript files under `dir`, declaration files left out. */
function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return tsFiles(p);
    return e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [p] : [];
  });
}

/**
 * Builds into `root`: dist/ with every module of src/ and migrations/ compiled one to one (esbuild, as tsx
 * compiles them one by one from the sources), the classifier thread's bundle made by the build's own script,
 * and the built console (npm run build:console's output, which the sources serve too); bin/rebound.js, the
 * package's; and node_modules, the checkout's (linked, unless `root` has one). Returns the bin's path.
 */
export async function buildFromSources(root: string): Promise<string> {
  if (!existsSync(join(root, "node_modules")))
    symlinkSync(join(repo, "node_modules"), join(root, "node_modules"));
  const out = join(root, "dist");
  await build({
    entryPoints: [...tsFiles(join(repo, "src")), ...tsFiles(join(repo, "migrations"))],
    outdir: out,
    outbase: repo,
    format: "esm",
    platform: "node",
    target: "node20",
    tsconfig: join(repo, "tsconfig.json"),
    logLevel: "warning",
  });
  await promisify(execFile)(process.execPath, [join(repo, "scripts", "build-cli.mjs")], { cwd: root });
  if (existsSync(join(repo, "dist", "console")))
    symlinkSync(join(repo, "dist", "console"), join(out, "console"));
  mkdirSync(join(root, "bin"), { recursive: true });
  const bin = join(root, "bin", "rebound.js");
  copyFileSync(join(repo, "bin", "rebound.js"), bin);
  return bin;
}
