// Every pattern of the rule tables runs in time linear in its input, proven by recheck (a ReDoS checker: automata
// theory where the pattern allows, fuzzing otherwise). The lint (eslint-plugin-regexp) sees only regex literals;
// the tables build many patterns at run time (the address pattern spliced into the layouts' recipient lines), and
// the layout engine runs each `start` pattern over the whole text in multi-line mode too, so both forms are checked.
import { check, type Diagnostics } from "recheck";
import { describe, expect, it } from "vitest";
import { COMMON_END, GENERAL_LINES, type Layout } from "../../src/core/lhost/engine.js";
import { generalLayout } from "../../src/core/lhost/general.js";
import { LAYOUTS } from "../../src/core/lhost/families/index.js";
import { EMAIL_SRC } from "../../src/core/lhost/text.js";
import { textRules } from "../../src/core/rules/index.js";
import { splitTopLevel } from "../../src/core/rules/literals.js";
import { remoteHostRules } from "../../src/core/rules/rhost.js";

interface Named {
  name: string;
  re: RegExp;
}

function layoutPatterns(l: Layout): Named[] {
  const out: Named[] = [];
  const add = (what: string, res: readonly RegExp[] | undefined): void =>
    res?.forEach((re, i) => out.push({ name: `lhost ${l.id} ${what}[${i}]`, re }));
  add("start", l.start);
  // firstLine() looks for the start over the whole text at once, as one multi-line regex
  add(
    "start (multi-line)",
    l.start?.map((re) => (re.multiline ? re : new RegExp(re.source, re.flags + "m"))),
  );
  add("end", l.end);
  add("recipient", l.recipient);
  add("noise", l.noise);
  add("strip", l.strip && [l.strip]);
  l.reasons?.forEach((r) => {
    out.push({ name: `lhost ${l.id} reason ${r.id}`, re: r.pattern });
    if (r.unless) out.push({ name: `lhost ${l.id} reason ${r.id} unless`, re: r.unless });
  });
  return out;
}

const PATTERNS: Named[] = [
  ...textRules.map((r) => ({ name: `text ${r.id}`, re: r.pattern })),
  ...remoteHostRules.flatMap((r) => [
    { name: `rhost ${r.id}`, re: r.pattern },
    { name: `rhost ${r.id} host`, re: r.host },
  ]),
  ...[...LAYOUTS, generalLayout].flatMap(layoutPatterns),
  ...COMMON_END.map((re, i) => ({ name: `lhost common end[${i}]`, re })),
  ...GENERAL_LINES.map((re, i) => ({ name: `lhost general line[${i}]`, re })),
];

/**
 * The recipient-line patterns that embed the address pattern are left out: recheck's automaton gives up on them
 * (the address's large classes under `i`) and its fuzzer's verdicts on them change from run to run on a loaded
 * machine. They run on lines cut at 1,000 characters (lhost/engine.ts), end in a tail that cannot fail, and the
 * hostile suite (test/core/hostile.test.ts, the bench's --hostile) times them on long runs.
 */
const CHECKED = PATTERNS.filter((p) => !p.re.source.includes(EMAIL_SRC));

/**
 * recheck's automaton checker is exact (a pattern is linear or it is not) where the pattern has no lookaround and
 * fits its limits; a bounded gap (`.{0,80}`) makes the automaton large (it is unrolled) or sends the pattern to the
 * fuzzer, which counts steps on long strings and reads the gap's constant factor as a degree. A bounded repeat
 * adds a constant factor at most, never a degree: each `{m,n}` is checked as `{min(m,2),min(n,3)}`, which keeps
 * every interaction of the unbounded loops around it (two or three copies show any overlap between copies).
 */
function shrinkBounds(source: string): string {
  return source.replace(/(?<!\\)\{(\d+),(\d+)\}/g, (_m, lo: string, hi: string) =>
    Number(hi) <= 3 ? `{${lo},${hi}}` : `{${Math.min(Number(lo), 2)},3}`,
  );
}

const PARAMS = { timeout: 30_000, maxNFASize: 1_000_000, maxPatternSize: 100_000 };

/**
 * Alternatives with a lookaround are left to the lint: recheck's exact automaton checker does not take them, and
 * its fuzzer, which does, reads obviously linear ones (`suspected spam\b(?! ip)`) as polynomial from run to run.
 * The rule tables are regex literals in src/, which eslint-plugin-regexp checks (eslint.config.js).
 */
const LOOKAROUND = /\(\?<?[=!]/;

/**
 * recheck's verdict on every top-level alternative of every pattern (deduplicated), a few at a time. An
 * alternative at the top has nothing after it to backtrack into: the pattern costs the sum of its alternatives,
 * linear when each is (the rule matcher runs them one by one anyway, rules/index.ts). Small alternatives keep
 * recheck on its exact automaton checker, and quick.
 */
async function verdicts(): Promise<{ name: string; d: Diagnostics }[]> {
  const seen = new Map<string, string>();
  for (const p of CHECKED) {
    splitTopLevel(p.re.source).forEach((part, i) => {
      if (LOOKAROUND.test(part)) return;
      const key = `/${shrinkBounds(part)}/${p.re.flags}`;
      if (!seen.has(key)) seen.set(key, `${p.name} [${i}]`);
    });
  }
  const todo = [...seen];
  const out: { name: string; d: Diagnostics }[] = [];
  const worker = async (): Promise<void> => {
    for (let job = todo.shift(); job; job = todo.shift()) {
      const [key, name] = job;
      const slash = key.lastIndexOf("/");
      const source = key.slice(1, slash);
      const checker = "automaton";
      let d = await check(source, key.slice(slash + 1), { ...PARAMS, checker });
      // a timeout on a loaded machine: once more, with the time to finish
      if (d.status === "unknown" && d.error.kind === "timeout")
        d = await check(source, key.slice(slash + 1), { ...PARAMS, checker, timeout: 120_000 });
      out.push({ name, d });
    }
  };
  await Promise.all([worker(), worker()]);
  return out;
}

describe("the rule tables' patterns", () => {
  it("are many (the collection reads every table)", () => {
    expect(textRules.length).toBeGreaterThan(100);
    expect(PATTERNS.length).toBeGreaterThan(textRules.length + 100);
    expect(CHECKED.length).toBeGreaterThan(PATTERNS.length - 60);
  });

  it("are each linear by recheck (status safe, no vulnerable or unknown)", async () => {
    const bad = (await verdicts())
      .filter(({ d }) => d.status !== "safe")
      .map(({ name, d }) =>
        d.status === "vulnerable"
          ? `${name}: ${d.complexity.type} /${d.source}/${d.flags} attack ${d.attack.pattern}`
          : `${name}: ${d.status} /${d.source}/${d.flags}`,
      );
    expect(bad).toEqual([]);
  }, 600_000);
});
