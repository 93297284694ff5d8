// The rule tables as one API: every text rule (sorted by priority, highest first), every status rule, and pure
// matchers over them. Text matching is prefiltered: one pass over the text finds which literals occur (each
// rule alternative must contain one of its literals, see literals.ts), then only those alternatives run.
import type { Reason } from "../report.js";
import { LiteralMatcher, MAX_LITERAL, branchLiterals, splitTopLevel } from "./literals.js";
import { replyCodeRules, statusRules, type ReplyCodeRule } from "./status.js";
import type { StatusRule, TextRule } from "./types.js";
import { amavisRules } from "./text/amavis.js";
import { aolRules } from "./text/aol.js";
import { appleRules } from "./text/apple.js";
import { cloudflareRules } from "./text/cloudflare.js";
import { coxRules } from "./text/cox.js";
import { eximRules } from "./text/exim.js";
import { facebookRules } from "./text/facebook.js";
import { franceRules } from "./text/orange.js";
import { genericRules } from "./text/generic.js";
import { germanRules } from "./text/german.js";
import { godaddyRules } from "./text/godaddy.js";
import { googleRules } from "./text/google.js";
import { iuaRules } from "./text/iua.js";
import { japaneseRules } from "./text/japanese.js";
import { languageRules } from "./text/languages.js";
import { legacyRules } from "./text/legacy.js";
import { messagelabsRules } from "./text/messagelabs.js";
import { microsoftRules } from "./text/microsoft.js";
import { mimecastRules } from "./text/mimecast.js";
import { noticeRules } from "./text/notices.js";
import { postfixRules } from "./text/postfix.js";
import { qmailRules } from "./text/qmail.js";
import { refusalRules } from "./text/refusals.js";
import { russianRules } from "./text/russian.js";
import { sendmailRules } from "./text/sendmail.js";
import { spectrumRules } from "./text/spectrum.js";
import { tencentRules } from "./text/tencent.js";
import { yahooRules } from "./text/yahoo.js";
import { zohoRules } from "./text/zoho.js";

export type { StatusRule, TextRule } from "./types.js";
export type { ReplyCodeRule } from "./status.js";
export { statusRules, replyCodeRules } from "./status.js";

/**
 * Text rules at or above this priority are specific enough (a provider's own sentence or error code) to
 * override even a `definitive` status code; below it, a definitive status code wins over the text.
 */
export const TEXT_OVERRIDES_DEFINITIVE = 90;

/**
 * Text rules below this priority are hints (vague words such as "access denied" or a bare "address rejected"):
 * they decide only when no (non-generic) status code does.
 */
export const TEXT_HINT_BELOW = 35;

const TABLES: readonly (readonly TextRule[])[] = [
  microsoftRules,
  googleRules,
  yahooRules,
  appleRules,
  aolRules,
  franceRules,
  coxRules,
  cloudflareRules,
  tencentRules,
  godaddyRules,
  spectrumRules,
  zohoRules,
  facebookRules,
  iuaRules,
  mimecastRules,
  messagelabsRules,
  amavisRules,
  japaneseRules,
  russianRules,
  germanRules,
  postfixRules,
  sendmailRules,
  eximRules,
  qmailRules,
  languageRules,
  legacyRules,
  noticeRules,
  genericRules,
  refusalRules,
];

/** Every text rule, highest priority first (stable: table order within one priority). */
export const textRules: TextRule[] = TABLES.flat()
  .map((rule, index) => ({ rule, index }))
  .sort((a, b) => (b.rule.priority ?? 0) - (a.rule.priority ?? 0) || a.index - b.index)
  .map((x) => x.rule);

export interface MatchContext {
  /** `4` or `5` when the failure is known to be temporary or permanent: rules with another `when.statusClass` are skipped. */
  statusClass?: "4" | "5";
}

/** Longest text looked at: reply texts are short; a whole plain-text bounce body is cut here. */
const MAX_TEXT = 16_384;

/** A multi-line reply's prefix (`550-5.7.1 `). */
const REPLY_PREFIX = /(^|\s)[245]\d\d-(?:[245]\.\d{1,3}\.\d{1,3}\s)?/g;
/** A reply code and status inside a sentence (`user 550 5.1.1 unknown`). */
const CODES_IN_TEXT = /([a-z,]) [245]\d\d [245]\.\d{1,3}\.\d{1,3} (?=[a-z])/g;

/**
 * The text as rules see it: whitespace runs collapsed to one space, multi-line SMTP reply prefixes
 * (`550-5.7.1 `) dropped, lower-cased. Exported for the tests and for callers that match many rules.
 */
export function normalizeReplyText(text: string): string {
  const cut = text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text;
  // The first and last passes only where their `-` or `.` is: a plain search is cheaper than a regex pass.
  const unprefixed = cut.includes("-") ? cut.replace(REPLY_PREFIX, "$1") : cut;
  const lower = unprefixed
    .replace(/\s{2,}|[^\S ]/g, " ") // every whitespace run to one space, without copying a clean text
    .trim()
    .toLowerCase();
  return lower.includes(".") ? lower.replace(CODES_IN_TEXT, "$1 ") : lower;
}

interface Compiled {
  /** Every rule alternative as its own regex, in rule order: a branch's index orders it like its rule. */
  branches: RegExp[];
  /** For each branch, the index of its rule in `textRules`. */
  ruleOf: Int32Array;
  /**
   * For each rule, the status class it is limited to (`when.statusClass`, as its digit 4 or 5; 0 when none), read
   * once: the rules are objects of several shapes, and reading `when` off each candidate was a megamorphic load.
   */
  whenClass: Uint8Array;
  /**
   * For each literal id, the branches it guards as (word index, bits) pairs of the candidate bit set, one pair per
   * word: a literal of common words guards dozens of branches, and its bits are set a word at a time.
   */
  byLiteral: Int32Array[];
  /** Bit set (32 branches a word) of the branches no literal guards: always tested. */
  unguarded: Uint32Array;
  matcher: LiteralMatcher;
  /** Scratch for one match (classification is synchronous): literals seen, literals hit, candidate branches. */
  seen: Uint8Array;
  hits: number[];
  candidates: Uint32Array;
}

let compiled: Compiled | undefined;

/** Branch numbers as (word index, bits) pairs of a bit set of 32 branches a word, one pair per word used. */
function wordBits(branches: readonly number[]): Int32Array {
  const byWord = new Map<number, number>();
  for (const b of branches) byWord.set(b >>> 5, (byWord.get(b >>> 5) ?? 0) | (1 << (b & 31)));
  const out = new Int32Array(2 * byWord.size);
  let k = 0;
  for (const [word, bits] of byWord) {
    out[k++] = word;
    out[k++] = bits;
  }
  return out;
}

/**
 * Each rule's top-level alternatives become separate regexes, each guarded by its own literals: a text is
 * then tested only against the few alternatives whose words it contains, not against whole alternations.
 */
function compile(): Compiled {
  const ids = new Map<string, number>();
  const guarded: number[][] = [];
  const branches: RegExp[] = [];
  const ruleOf: number[] = [];
  const free: number[] = [];
  const idOf = (lit: string): number => {
    let id = ids.get(lit);
    if (id === undefined) {
      id = guarded.length;
      ids.set(lit, id);
      guarded.push([]);
    }
    return id;
  };
  textRules.forEach((rule, index) => {
    const parts = splitTopLevel(rule.pattern.source);
    for (const part of parts) {
      const b = branches.length;
      branches.push(parts.length === 1 ? rule.pattern : new RegExp(part, rule.pattern.flags));
      ruleOf.push(index);
      const lits = branchLiterals(part);
      if (lits === null) free.push(b);
      else for (const lit of new Set(lits.map((l) => l.slice(0, MAX_LITERAL)))) guarded[idOf(lit)]!.push(b);
    }
  });
  const words = (branches.length + 31) >>> 5;
  const unguarded = new Uint32Array(words);
  for (const b of free) unguarded[b >>> 5]! |= 1 << (b & 31);
  return {
    branches,
    ruleOf: Int32Array.from(ruleOf),
    whenClass: Uint8Array.from(textRules, (r) => Number(r.when?.statusClass ?? 0)),
    byLiteral: guarded.map(wordBits),
    unguarded,
    // the rules' own examples tell which pieces of the literals are common in reply texts
    matcher: new LiteralMatcher(
      [...ids.keys()],
      textRules.map((r) => normalizeReplyText(r.example)),
    ),
    seen: new Uint8Array(guarded.length),
    hits: [],
    candidates: new Uint32Array(words),
  };
}

/**
 * Recent answers of `matching`: the recipients of one bounce (and the bounces of one provider) repeat the same
 * reply text. A ring of a few slots, overwritten in turn: a Map that was cleared when full left its old table,
 * pointing at the texts (and so at whole mails), for the full collector, which kept them through every minor
 * collection meanwhile.
 */
const RECENT = 8;
const recentText: string[] = new Array<string>(RECENT).fill("");
const recentMode: string[] = new Array<string>(RECENT).fill("");
const recentFound: TextRule[][] = new Array<TextRule[]>(RECENT).fill([]);
let recentNext = 0;

/** The rules matching `text`, best first (the array is shared: callers copy it before changing it). */
function matching(text: string, ctx: MatchContext | undefined, firstOnly: boolean): readonly TextRule[] {
  if (!text) return [];
  if (text.length > 4096) return match(text, ctx, firstOnly);
  const mode = firstOnly ? (ctx?.statusClass ?? "-") : `*${ctx?.statusClass ?? "-"}`;
  for (let i = 0; i < RECENT; i++)
    if (recentText[i] === text && recentMode[i] === mode) return recentFound[i]!;
  const found = match(text, ctx, firstOnly);
  recentText[recentNext] = text;
  recentMode[recentNext] = mode;
  recentFound[recentNext] = found;
  recentNext = (recentNext + 1) % RECENT;
  return found;
}

function match(text: string, ctx: MatchContext | undefined, firstOnly: boolean): TextRule[] {
  const c = (compiled ??= compile());
  const norm = normalizeReplyText(text);
  if (!norm) return [];
  // The candidate branches, as a bit set: the branches of every literal found, in one pass over the text.
  const { seen, hits, candidates } = c;
  c.matcher.scan(norm, seen, hits);
  candidates.set(c.unguarded);
  for (let h = 0; h < hits.length; h++) {
    const id = hits[h]!;
    seen[id] = 0;
    const pairs = c.byLiteral[id]!;
    for (let k = 0; k < pairs.length; k += 2) candidates[pairs[k]!]! |= pairs[k + 1]!;
  }
  hits.length = 0;
  // Then the candidates in branch (so rule, so priority) order: the lowest set bit of each word first. A rule
  // limited to one status class applies when the class is that one or unknown.
  const statusClass = Number(ctx?.statusClass ?? 0);
  const found: TextRule[] = [];
  let last = -1;
  for (let w = 0; w < candidates.length; w++) {
    let bits = candidates[w]!;
    while (bits !== 0) {
      const low = bits & -bits;
      bits ^= low;
      const b = (w << 5) + 31 - Math.clz32(low);
      const r = c.ruleOf[b]!;
      if (r === last) continue;
      const want = c.whenClass[r]!;
      if ((want !== 0 && statusClass !== 0 && want !== statusClass) || !c.branches[b]!.test(norm)) continue;
      const rule = textRules[r]!;
      last = r;
      found.push(rule);
      if (firstOnly) return found;
    }
  }
  return found;
}

/** The best text rule for a reply text: the highest-priority rule that matches (first in table order on ties). */
export function matchText(text: string, ctx?: MatchContext): TextRule | undefined {
  return matching(text, ctx, true)[0];
}

/** Every text rule matching a reply text, best first. */
export function matchAllText(text: string, ctx?: MatchContext): TextRule[] {
  return matching(text, ctx, false).slice();
}

const STATUS_RE = /^([245])\.(\d{1,3})\.(\d{1,3})$/;
const exactStatus = new Map<string, StatusRule>();
const classStatus = new Map<string, StatusRule>();
for (const rule of statusRules) {
  if (rule.status.endsWith(".*")) classStatus.set(rule.status.slice(0, -2), rule);
  else exactStatus.set(rule.status, rule);
}

/**
 * The status rule for an RFC 3463 code: the exact code (`5.1.1`), else its class and subject (`5.1.*`).
 * Codes that are not of the form `D.D{1,3}.D{1,3}` match nothing.
 */
export function matchStatus(status: string): StatusRule | undefined {
  const m = STATUS_RE.exec(status.trim());
  if (!m) return undefined;
  const code = `${m[1]}.${Number(m[2])}.${Number(m[3])}`;
  return exactStatus.get(code) ?? classStatus.get(`${m[1]}.${Number(m[2])}`);
}

const replyByCode = new Map<number, ReplyCodeRule>(replyCodeRules.map((r) => [r.code, r]));

/** The rule for a bare SMTP reply code (552, 452, 525, ...), where the code alone says something. */
export function matchReplyCode(code: number): ReplyCodeRule | undefined {
  return replyByCode.get(code);
}

export interface ReasonEvidence {
  reason: Reason;
  /** `text:<id>`, `status:<code>` or `smtp:<code>`. */
  rule: string;
}

/**
 * One way to weigh the evidence (callers may decide otherwise): a text rule wins unless the status code is
 * `definitive` and the text rule's priority is below TEXT_OVERRIDES_DEFINITIVE; without a text rule, the status
 * code decides, then the bare reply code. Undefined when nothing matched.
 */
export function resolveReason(input: {
  text?: string;
  status?: string;
  smtpCode?: number;
}): ReasonEvidence | undefined {
  const statusClass = input.status?.[0] === "4" || input.status?.[0] === "5" ? input.status[0] : undefined;
  const smtpClass =
    input.smtpCode !== undefined && input.smtpCode >= 400 && input.smtpCode < 600
      ? (String(input.smtpCode)[0] as "4" | "5")
      : undefined;
  const text = input.text ? matchText(input.text, { statusClass: statusClass ?? smtpClass }) : undefined;
  const status = input.status ? matchStatus(input.status) : undefined;
  const weak =
    (text?.priority ?? 0) < TEXT_HINT_BELOW && status !== undefined && !/^[45]\.0\.0$/.test(status.status);
  if (text && !weak && !(status?.definitive && (text.priority ?? 0) < TEXT_OVERRIDES_DEFINITIVE)) {
    return { reason: text.reason, rule: `text:${text.id}` };
  }
  if (status) return { reason: status.reason, rule: `status:${status.status}` };
  const reply = input.smtpCode !== undefined ? matchReplyCode(input.smtpCode) : undefined;
  if (reply) return { reason: reply.reason, rule: `smtp:${reply.code}` };
  return undefined;
}
