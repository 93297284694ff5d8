// Every pattern of the rule tables runs in time linear in its input, proven by recheck (a ReDoS checker: automata
// theory where the pattern allows, fuzzing otherwise). The lint (eslint-plugin-regexp) sees only regex literals;
// the tables build many patterns at run time (the address pattern spliced into the layouts' recipient lines), and
// the layout engine runs each `start` pattern over the whole text in multi-line mode too, so both forms are checked.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { check, type Diagnostics } from "recheck";
import { describe, expect, it } from "vitest";
import { COMMON_END, FREE_TEXT_PATTERNS, GENERAL_LINES, type Layout } from "../../src/core/lhost/engine.js";
import { generalLayout } from "../../src/core/lhost/general.js";
import { LAYOUTS } from "../../src/core/lhost/families/index.js";
import { EMAIL_SRC } from "../../src/core/lhost/text.js";
import { textRules } from "../../src/core/rules/index.js";
import { splitTopLevel } from "../../src/core/rules/literals.js";
import { remoteHostRules } from "../../src/core/rules/rhost.js";
import { PERMANENCE_PATTERNS, REASON_PATTERNS } from "../../src/core/reason.js";

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
  add("delayNotice", l.delayNotice && [l.delayNotice]);
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
  ...FREE_TEXT_PATTERNS.map((re, i) => ({ name: `lhost free-text pattern[${i}]`, re })),
  ...PERMANENCE_PATTERNS.map((re, i) => ({ name: `permanence words[${i}]`, re })),
  ...REASON_PATTERNS.map((re, i) => ({ name: `reason words[${i}]`, re })),
];

/**
 * The recipient-line patterns that embed the address pattern. recheck's automaton decides some of them (they are
 * checked like the others: one found vulnerable fails) and gives up on others (a timeout, with the address's
 * large classes under `i`; a lookaround); its fuzzer's verdicts on those change from run to run on a loaded
 * machine. They run on lines cut at 1,000 characters (lhost/engine.ts), end in a tail that cannot fail, and the
 * hostile suite (test/core/hostile.test.ts, the bench's --hostile) times them on long runs.
 */
const WITH_ADDRESS = PATTERNS.filter((p) => p.re.source.includes(EMAIL_SRC));
const CHECKED = PATTERNS.filter((p) => !p.re.source.includes(EMAIL_SRC));

/**
 * Address-bearing alternatives that recheck finds quadratic, each to be made linear where its table lives: none
 * today (Verizon's `To:` line was one: `\s*` and `[^<]*` shared a run of spaces; its display name now starts with
 * a visible character).
 */
const KNOWN_QUADRATIC = new Set<string>([]);

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
 * recheck's verdicts, kept beside this file: a verdict is a fact about a pattern's text, its flags, recheck's
 * version and PARAMS, so only an alternative with no verdict yet (a new or changed rule) is checked again. Some
 * take recheck minutes on a loaded machine. The run writes back the verdicts the tables still need (commit the
 * file with the rules that changed it). Only `safe` verdicts are kept, and `unknown` ones of address-bearing
 * alternatives (the ones the automaton gives up on; a kept `unknown` is never a pass for the other patterns).
 */
const VERDICTS = new URL("./rules-linear.verdicts.json", import.meta.url);
const RECHECK = `recheck ${(createRequire(import.meta.url)("recheck/package.json") as { version: string }).version} ${JSON.stringify(PARAMS)}`;

type Status = "safe" | "unknown";

interface VerdictFile {
  recheck: string;
  /** By key (`/source/flags`, bounds shrunk). */
  verdicts: Record<string, Status>;
}

function keptVerdicts(): Map<string, Status> {
  if (!existsSync(VERDICTS)) return new Map();
  const file = JSON.parse(readFileSync(VERDICTS, "utf8")) as VerdictFile;
  return new Map(file.recheck === RECHECK ? Object.entries(file.verdicts) : []);
}

function keep(verdicts: Map<string, Status>): void {
  const sorted = Object.fromEntries([...verdicts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const text = JSON.stringify({ recheck: RECHECK, verdicts: sorted } satisfies VerdictFile, null, 2) + "\n";
  if (!existsSync(VERDICTS) || readFileSync(VERDICTS, "utf8") !== text) writeFileSync(VERDICTS, text);
}

interface Verdict {
  name: string;
  key: string;
  /** The alternative embeds the address pattern. */
  address: boolean;
  /** A kept verdict's status, or recheck's diagnostics of this run. */
  d: Diagnostics | { status: Status; source: string; flags: string };
}

/** Whether the group opened at `open` in `source` closes at its last character (and not before). */
function closesAtEnd(source: string, open: number): boolean {
  let depth = 0;
  let inClass = false;
  for (let i = open; i < source.length; i++) {
    const c = source[i];
    if (c === "\\") i++;
    else if (inClass) inClass = c !== "]";
    else if (c === "[") inClass = true;
    else if (c === "(") depth++;
    else if (c === ")" && --depth === 0) return i === source.length - 1;
  }
  return false;
}

/**
 * The top-level alternatives of a pattern; of one that is a single anchored group of them, `^(?:A|B)`, the
 * anchored alternatives `^(?:A)`, `^(?:B)` (the same strings match, and nothing follows the group).
 */
function alternativesOf(source: string): string[] {
  const parts = splitTopLevel(source);
  if (parts.length === 1 && source.startsWith("^(?:") && closesAtEnd(source, 1))
    return splitTopLevel(source.slice(4, -1)).map((a) => `^(?:${a})`);
  return parts;
}

/**
 * recheck's verdict on every top-level alternative of every pattern (deduplicated), those kept from before taken
 * as they are, the others checked a few at a time. An alternative at the top has nothing after it to backtrack
 * into: the pattern costs the sum of its alternatives, linear when each is (the rule matcher runs them one by one
 * anyway, rules/index.ts). Small alternatives keep recheck on its exact automaton checker, and quick. Alternatives
 * with a lookaround are left to the lint (LOOKAROUND).
 */
async function verdicts(): Promise<Verdict[]> {
  const seen = new Map<string, { name: string; address: boolean }>();
  for (const [address, patterns] of [
    [false, CHECKED],
    [true, WITH_ADDRESS],
  ] as const) {
    for (const p of patterns) {
      alternativesOf(p.re.source).forEach((part, i) => {
        if (LOOKAROUND.test(part)) return;
        const key = `/${shrinkBounds(part)}/${p.re.flags}`;
        if (!seen.has(key)) seen.set(key, { name: `${p.name} [${i}]`, address });
      });
    }
  }
  const kept = keptVerdicts();
  const out: Verdict[] = [];
  const todo: Verdict[] = [];
  for (const [key, { name, address }] of seen) {
    const slash = key.lastIndexOf("/");
    const status = kept.get(key);
    const v: Verdict = {
      name,
      key,
      address,
      d: { status: status ?? "unknown", source: key.slice(1, slash), flags: key.slice(slash + 1) },
    };
    if (status === "safe" || (status === "unknown" && address)) out.push(v);
    else todo.push(v);
  }
  const worker = async (): Promise<void> => {
    for (let v = todo.shift(); v; v = todo.shift()) {
      const { source, flags } = v.d;
      const checker = "automaton";
      let d = await check(source, flags, { ...PARAMS, checker });
      // a timeout on a loaded machine: once more, with the time to finish
      if (d.status === "unknown" && d.error.kind === "timeout")
        d = await check(source, flags, { ...PARAMS, checker, timeout: 120_000 });
      out.push({ ...v, d });
    }
  };
  await Promise.all([worker(), worker()]);
  keep(
    new Map(
      out.flatMap(({ key, address, d }): [string, Status][] =>
        d.status === "safe" || (d.status === "unknown" && address) ? [[key, d.status]] : [],
      ),
    ),
  );
  return out;
}

describe("the rule tables' patterns", () => {
  it("are many (the collection reads every table)", () => {
    expect(textRules.length).toBeGreaterThan(100);
    expect(PATTERNS.length).toBeGreaterThan(textRules.length + 100);
    expect(WITH_ADDRESS.length).toBeGreaterThan(20);
  });

  it("are each linear by recheck (status safe, no vulnerable or unknown), and no address-bearing one is vulnerable", async () => {
    const all = await verdicts();
    const bad = all
      .filter(
        ({ name, address, d }) =>
          (d.status === "vulnerable" && !KNOWN_QUADRATIC.has(name)) || (d.status === "unknown" && !address),
      )
      .map(({ name, d }) =>
        "complexity" in d && d.status === "vulnerable"
          ? `${name}: ${d.complexity.type} /${d.source}/${d.flags} attack ${d.attack.pattern}`
          : `${name}: ${d.status} /${d.source}/${d.flags}`,
      );
    expect(bad).toEqual([]);
    // most address-bearing alternatives are proven too; the hostile suite times the others
    const address = all.filter((v) => v.address);
    expect(address.filter((v) => v.d.status === "safe").length).toBeGreaterThan(address.length / 2);
  }, 1_800_000);
});
