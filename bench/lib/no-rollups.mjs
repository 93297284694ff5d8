// Bench only (bench/intake.mjs --no-rollups): a module hook that makes addToRollups, in the sources (tsx) or the
// build, do nothing, so that the worker runs without rollup maintenance for a same-minute comparison. Nothing in
// the application knows of it: it rewrites src/store/rollups's text as it is loaded.
//
//   node --import tsx --import ./bench/lib/no-rollups.mjs ...   or   node --import ./bench/lib/no-rollups.mjs bin/rebound.js ...
import { register } from "node:module";

register(
  "data:text/javascript," +
    encodeURIComponent(`
export async function load(url, context, nextLoad) {
  const result = await nextLoad(url, context);
  if (!/\\/store\\/rollups\\.(js|ts)(\\?|$)/.test(url) || result.source == null) return result;
  const text = typeof result.source === "string" ? result.source : new TextDecoder().decode(result.source);
  const hooked = text.replace(
    "async function addToRollups(",
    "async function addToRollups() {}\\nasync function addToRollupsWithout(",
  );
  if (hooked === text) throw new Error("no-rollups: addToRollups not found in " + url);
  return { ...result, source: hooked };
}
`),
);
