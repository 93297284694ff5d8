// Reads the classifier's own small fixtures (test/fixtures/classify/*.eml).
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "classify");

export function fixture(name: string): Buffer {
  return readFileSync(join(FIXTURES, name));
}
