import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { mergedAlternation } from "../../src/core/alternation.js";
import { PERMANENCE_PATTERNS } from "../../src/core/reason.js";

/** Every string of at most `max` characters over `alphabet`. */
function* strings(alphabet: string, max: number): Generator<string> {
  let level = [""];
  yield "";
  for (let n = 1; n <= max; n++) {
    const next: string[] = [];
    for (const s of level) for (const c of alphabet) next.push(s + c);
    yield* next;
    level = next;
  }
}

describe("mergedAlternation", () => {
  it("merges alternatives behind their common beginnings", () => {
    expect(mergedAlternation(/abc|abd|x/i).source).toBe("ab(?:c|d)|x");
    expect(mergedAlternation(/(?:will|shall) not|will try/i).source).toBe("will (?:not|try)|shall not");
    expect(mergedAlternation(/\bgave up\b|\bgiving up\b/i).source).toBe(
      String.raw`\bg(?:ave up\b|iving up\b)`,
    );
  });

  it("matches exactly the strings the pattern matches, for every string of up to 6 characters", () => {
    const patterns = [
      /ab|ac|b/,
      /(?:x|y)?z|xz|yw/,
      /\bab\b|a[bc]d|a{2}|a(?:b)?c/i,
      /[ab]c|[ab]d|.b|[]x|[^]y/,
      /a+b|a*c|a+?d|a{1,2}x|a{1,}y/,
      /(?:a|b)(?:c|d)|(?:a|b)d|(?:a)?(?:b)?c/,
      /(?=a)ab|(?!a)bb|(?<=a)c|(?<!b)d/,
      /^ab|a$|^(?:b|c)d$|\x61x|\u0062y|\cJ|\dz/m,
      /a\.b|a.b|a\|b|\(a\)|a\)?b/,
      /a{|a{2|a{2,|a}/,
    ];
    for (const re of patterns) {
      const merged = mergedAlternation(re);
      const differ: string[] = [];
      for (const s of strings("abcdxyz.\n|(){}", 4)) if (merged.test(s) !== re.test(s)) differ.push(s);
      for (const s of strings("abcdxy ", 6)) if (merged.test(s) !== re.test(s)) differ.push(s);
      expect(differ, `${re} as ${merged}`).toEqual([]);
    }
  });

  it("leaves a pattern with back-references or the u flag as it is", () => {
    const backref = /(a)\1|(a)b/;
    expect(mergedAlternation(backref)).toBe(backref);
    const unicode = /ab|ac/u;
    expect(mergedAlternation(unicode)).toBe(unicode);
  });

  it("finds the permanence words wherever the words themselves find them, in every sample's text", () => {
    const dir = new URL("../../samples/", import.meta.url);
    const texts: string[] = [];
    for (const name of readdirSync(dir).filter((n) => n.endsWith(".eml"))) {
      const raw = readFileSync(new URL(name, dir));
      for (const text of [raw.toString("utf8"), raw.toString("latin1")])
        texts.push(text.slice(0, 4096), ...text.split(/\r?\n/));
    }
    // Each pattern with alternatives to merge, on every text: the same answer merged as written. The CJK gave-up
    // words find nothing in text read as UTF-8 or Latin-1 (their samples are GB2312): the others must find some.
    let patternsFound = 0;
    for (const re of PERMANENCE_PATTERNS) {
      const merged = mergedAlternation(re);
      if (merged.source === re.source) continue;
      let found = 0;
      for (const t of texts) {
        const want = re.test(t);
        if (want) found++;
        if (merged.test(t) !== want) expect(merged.test(t), `${re.source.slice(0, 40)} on ${t}`).toBe(want);
      }
      if (found > 0) patternsFound++;
    }
    expect(patternsFound).toBeGreaterThanOrEqual(4);
  });
});
