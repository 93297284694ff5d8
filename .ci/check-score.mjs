// Fails when the scorer's figures fall below the thresholds kept in the repo (a ratchet: raise them, never lower).
import { readFileSync } from "node:fs";

const [scoreFile, thresholdFile] = process.argv.slice(2);
const score = JSON.parse(readFileSync(scoreFile, "utf8"));
const limits = JSON.parse(readFileSync(thresholdFile, "utf8"));
let failed = false;
for (const [key, min] of Object.entries(limits)) {
  const got = Number(score[key]);
  const ok = got + 1e-9 >= min;
  console.log(
    `${ok ? "ok  " : "FAIL"} ${key} ${(got * 100).toFixed(2)}% (threshold ${(min * 100).toFixed(2)}%)`,
  );
  if (!ok) failed = true;
}
process.exitCode = failed ? 1 : 0;
