// The cost of filing an address under its keyed hash (HMAC-SHA256, src/core/address.ts) against a bare
// SHA-256 and against Node's createHmac, per address. `npm run build && node bench/address-hash.mjs [N]`.
// Rounds alternate the three, so a noisy machine hurts them alike; the best round of each is printed.
import { createHmac, hash, randomBytes } from "node:crypto";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { addressHasher } = await import(pathToFileURL(join(root, "dist/src/core/address.js")).href);
const n = Number(process.argv[2] ?? 200_000);
const key = randomBytes(32);
const addresses = Array.from({ length: n }, (_, i) => `user.${i}@example${i % 97}.com`);
const ours = addressHasher(key);
const ways = {
  "sha256 (bare, before)": (a) => hash("sha256", a, "hex"),
  createHmac: (a) => createHmac("sha256", key).update(a).digest("hex"),
  "addressHasher (ours)": ours,
};
if (ours(addresses[1]) !== ways.createHmac(addresses[1]))
  throw new Error("addressHasher differs from createHmac");
const best = {};
for (let round = 0; round < 5; round++)
  for (const [name, f] of Object.entries(ways)) {
    const t = process.hrtime.bigint();
    let sink = 0;
    for (const a of addresses) sink += f(a).length;
    const ns = Number(process.hrtime.bigint() - t) / n;
    if (sink !== 64 * n) throw new Error("bad digest length");
    best[name] = Math.min(best[name] ?? Infinity, ns);
  }
for (const [name, ns] of Object.entries(best))
  console.log(`${name.padEnd(24)} ${(ns / 1000).toFixed(2)} µs/address`);
