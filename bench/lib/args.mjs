// What every bench script begins with: the checkout's root, its arguments, and `opt(name, default)` (the value
// after `name` on the command line, else the default).
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const args = process.argv.slice(2);
export const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
