// Prefilter for the text rules: from each rule's regex source, the literal strings one of which must appear in
// a text the rule can match. A q-gram hash table over all those literals finds, in one pass over a text, which
// rules are worth running; the few regexes left are then tested in priority order.

/**
 * The lower-cased literals of which at least one occurs in every text `source` matches, or null when no such
 * set can be read off the source (the rule is then always tested). Reads top-level alternatives and, in each,
 * the longest run of plain characters outside groups and classes that no quantifier makes optional.
 */
export function requiredLiterals(source: string, minLength = 3): string[] | null {
  const out: string[] = [];
  for (const branch of splitTopLevel(source)) {
    const lits = branchLiterals(branch, minLength);
    if (lits === null) return null;
    out.push(...lits);
  }
  return [...new Set(out)];
}

/** The literals one of which every match of `branch` (a sequence, no top-level `|`) contains. */
export function branchLiterals(branch: string, minLength = 3): string[] | null {
  const { run, groups } = scanBranch(branch);
  if (run.length >= 4) return [run];
  for (const inner of groups) {
    const lits = requiredLiterals(inner, minLength);
    if (lits !== null && lits.length <= 12) return lits;
  }
  // Two CJK or Cyrillic characters are as telling as three Latin letters.
  const need = /[^\x00-\x7f]/.test(run) ? Math.min(minLength, 2) : minLength;
  return run.length >= need ? [run] : null;
}

/** The top-level alternatives of a regex source (split on `|` outside groups and classes). */
export function splitTopLevel(source: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let inClass = false;
  let start = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === "\\") {
      i++;
      continue;
    }
    if (inClass) {
      if (c === "]") inClass = false;
      continue;
    }
    if (c === "[") inClass = true;
    else if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "|" && depth === 0) {
      parts.push(source.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(source.slice(start));
  return parts;
}

const ESCAPE_CLASSES = new Set([
  "d",
  "D",
  "w",
  "W",
  "s",
  "S",
  "b",
  "B",
  "n",
  "r",
  "t",
  "u",
  "x",
  "c",
  "p",
  "P",
  "k",
  "0",
]);

function scanBranch(branch: string): { run: string; groups: string[] } {
  const groups: string[] = [];
  let groupInner: string | null = null;
  let best = "";
  let run = "";
  const flush = (): void => {
    if (run.length > best.length) best = run;
    run = "";
  };
  let i = 0;
  while (i < branch.length) {
    const c = branch[i];
    let atom: string | null = null; // a literal character, or null for a non-literal atom
    let next = i + 1;
    if (c === "\\") {
      const e = branch[i + 1] ?? "";
      next = i + 2;
      atom = ESCAPE_CLASSES.has(e) ? null : e;
    } else if (c === "[") {
      let j = i + 1;
      if (branch[j] === "^") j++;
      if (branch[j] === "]") j++;
      while (j < branch.length && branch[j] !== "]") j += branch[j] === "\\" ? 2 : 1;
      next = j + 1;
      atom = null;
    } else if (c === "(") {
      let depth = 0;
      let j = i;
      let inClass = false;
      for (; j < branch.length; j++) {
        const d = branch[j];
        if (d === "\\") {
          j++;
          continue;
        }
        if (inClass) {
          if (d === "]") inClass = false;
          continue;
        }
        if (d === "[") inClass = true;
        else if (d === "(") depth++;
        else if (d === ")") {
          depth--;
          if (depth === 0) break;
        }
      }
      next = j + 1;
      atom = null;
      const body = branch.slice(i + 1, j);
      groupInner = body.startsWith("?:") ? body.slice(2) : body.startsWith("?") ? null : body;
    } else if (c === "." || c === "^" || c === "$") {
      atom = null;
    } else {
      atom = c ?? null;
    }
    // A quantifier after the atom?
    const q = branch[next];
    let optional = false;
    let repeated = false;
    if (q === "?" || q === "*") {
      optional = true;
      next++;
    } else if (q === "+") {
      repeated = true;
      next++;
    } else if (q === "{") {
      const close = branch.indexOf("}", next);
      const body = close > 0 ? branch.slice(next + 1, close) : "";
      if (/^\d+(,\d*)?$/.test(body)) {
        const min = Number(body.split(",")[0]);
        optional = min === 0;
        repeated = !optional;
        next = close + 1;
      }
    }
    if (branch[next] === "?" && (optional || repeated)) next++; // lazy quantifier
    if (groupInner !== null && !optional) groups.push(groupInner);
    groupInner = null;
    if (atom === null || optional) {
      flush();
    } else {
      run += atom.toLowerCase();
      if (repeated) flush();
    }
    i = next;
  }
  flush();
  return { run: best, groups };
}

/** Literals are cut to this many characters: a prefix of a required literal is required too. */
export const MAX_LITERAL = 12;

/** Bits of a piece's hash: a 65,536-bit filter (8 KB) says whether any literal is filed under it. */
const HASH_BITS = 16;
/** Bits of the bucket index (the hash's high bits): 8,192 buckets. */
const BUCKET_BITS = 13;

/** The hash of a piece of `q` (2 to 4) code units ending in `d` (`a`, `b` are 0 for shorter pieces). */
const pieceHash = (q: number, a: number, b: number, c: number, d: number): number =>
  (Math.imul(a, 0x9e3779b1) ^
    Math.imul(b, 0x85ebca77) ^
    Math.imul(c, 0xc2b2ae3d) ^
    Math.imul(d, 0x27d4eb2f) ^
    Math.imul(q, 0x165667b1)) >>>
  (32 - HASH_BITS);

/**
 * The four characters `a b c d` of `s` from `from` on as a key: one number for ASCII characters (seven bits each),
 * else the piece itself. Two pieces have the same key exactly when they are the same characters.
 */
const pieceKey = (s: string, from: number, a: number, b: number, c: number, d: number): number | string =>
  (a | b | c | d) < 0x80 ? (a << 21) | (b << 14) | (c << 7) | d : s.slice(from, from + 4);

interface Filed {
  id: number;
  hash: number;
  /** Where the literal starts, counted back from the last character of its piece. */
  back: number;
}

/**
 * A multi-literal matcher over lower-cased UTF-16 code units, built once. Each literal is filed under one piece
 * of it: 4 characters long (3 or 2 for shorter literals), the piece that is rarest in the sample texts given.
 * A scan hashes the text's last 4 (and 3, 2) characters at each position; a small bit filter rejects almost all
 * of them, and the literals filed under a bucket are compared where they would start. Unlike a dense
 * Aho-Corasick automaton (hundreds of KB for a thousand literals: a cache miss per character) it stays in cache.
 */
export class LiteralMatcher {
  private readonly literals: readonly string[];
  private readonly filter = new Int32Array(1 << (HASH_BITS - 5));
  /** Per bucket, `start[h]..start[h + 1]` indexes `ids` and `backs`: the literals filed under bucket `h`. */
  private readonly start = new Int32Array((1 << BUCKET_BITS) + 1);
  private readonly ids: Int32Array;
  private readonly backs: Int32Array;
  /** Literals too short to file (fewer than two characters): they are reported as always present. */
  private readonly always: number[] = [];
  /** Which piece lengths some literal is filed under. */
  private readonly anyThree: boolean;
  private readonly anyTwo: boolean;
  /** Whether some two-character literal is plain ASCII (else ASCII pairs need no look-up). */
  private readonly asciiTwo: boolean;

  constructor(literals: readonly string[], samples: readonly string[] = []) {
    this.literals = literals;
    // Counted by a number for a piece of ASCII characters (a string's hash is computed again for each new slice).
    const freq = new Map<number | string, number>();
    for (const t of samples) {
      let a = 0;
      let b = 0;
      let c = 0;
      for (let i = 0; i < t.length; i++) {
        const d = t.charCodeAt(i);
        if (i >= 3) {
          const g = pieceKey(t, i - 3, a, b, c, d);
          freq.set(g, (freq.get(g) ?? 0) + 1);
        }
        a = b;
        b = c;
        c = d;
      }
    }
    const load = new Int32Array(1 << HASH_BITS);
    const filed: Filed[] = [];
    let anyThree = false;
    let anyTwo = false;
    let asciiTwo = false;
    for (let id = 0; id < literals.length; id++) {
      const lit = literals[id]!;
      if (lit.length < 2) {
        this.always.push(id);
        continue;
      }
      const q = Math.min(4, lit.length);
      if (q === 3) anyThree = true;
      if (q === 2) {
        anyTwo = true;
        if (!/[^\x00-\x7f]/.test(lit)) asciiTwo = true;
      }
      // the rarest piece in the samples (only four-character pieces are counted), then the least loaded hash, then
      // the first; a piece of q characters ends at o + q - 1, the characters before it 0
      let best: Filed | undefined;
      let bestCost = Infinity;
      for (let o = 0; o + q <= lit.length; o++) {
        const a = q === 4 ? lit.charCodeAt(o) : 0;
        const b = q >= 3 ? lit.charCodeAt(o + q - 3) : 0;
        const c = lit.charCodeAt(o + q - 2);
        const d = lit.charCodeAt(o + q - 1);
        const hash = pieceHash(q, a, b, c, d);
        const seen = q === 4 ? (freq.get(pieceKey(lit, o, a, b, c, d)) ?? 0) : 0;
        const cost = seen * load.length + load[hash]!;
        if (cost < bestCost) {
          bestCost = cost;
          best = { id, hash, back: o + q - 1 };
        }
      }
      load[best!.hash]!++;
      filed.push(best!);
    }
    this.anyThree = anyThree;
    this.anyTwo = anyTwo;
    this.asciiTwo = asciiTwo;
    const bucketOf = (hash: number): number => hash >>> (HASH_BITS - BUCKET_BITS);
    for (const f of filed) {
      this.filter[f.hash >>> 5]! |= 1 << (f.hash & 31);
      this.start[bucketOf(f.hash) + 1]!++;
    }
    for (let b = 0; b + 1 < this.start.length; b++) this.start[b + 1]! += this.start[b]!;
    const sorted = [...filed].sort((x, y) => bucketOf(x.hash) - bucketOf(y.hash));
    this.ids = Int32Array.from(sorted, (f) => f.id);
    this.backs = Int32Array.from(sorted, (f) => f.back);
  }

  /**
   * Marks in `seen` (indexed by literal id) every literal occurring in `text` (already lower-cased); when `hits`
   * is given, also appends to it each literal id newly marked.
   */
  scan(text: string, seen: Uint8Array, hits?: number[]): void {
    for (const id of this.always) this.found(id, seen, hits);
    const { filter, anyThree, anyTwo, asciiTwo } = this;
    let a = 0;
    let b = 0;
    let c = 0;
    for (let i = 0; i < text.length; i++) {
      const d = text.charCodeAt(i);
      let h: number;
      if (i >= 3 && filter[(h = pieceHash(4, a, b, c, d)) >>> 5]! & (1 << (h & 31)))
        this.probe(h, i, text, seen, hits);
      if (anyThree && i >= 2 && filter[(h = pieceHash(3, 0, b, c, d)) >>> 5]! & (1 << (h & 31)))
        this.probe(h, i, text, seen, hits);
      // two-character literals are CJK words: an ASCII pair needs no look-up
      if (
        anyTwo &&
        i >= 1 &&
        (asciiTwo || (c | d) > 0x7f) &&
        filter[(h = pieceHash(2, 0, 0, c, d)) >>> 5]! & (1 << (h & 31))
      )
        this.probe(h, i, text, seen, hits);
      a = b;
      b = c;
      c = d;
    }
  }

  /** Compare the literals filed under hash `h` with the text where they would start (their piece ending at `i`). */
  private probe(h: number, i: number, text: string, seen: Uint8Array, hits?: number[]): void {
    const bucket = h >>> (HASH_BITS - BUCKET_BITS);
    for (let k = this.start[bucket]!, end = this.start[bucket + 1]!; k < end; k++) {
      const id = this.ids[k]!;
      const from = i - this.backs[k]!;
      if (seen[id] === 0 && from >= 0 && text.startsWith(this.literals[id]!, from))
        this.found(id, seen, hits);
    }
  }

  private found(id: number, seen: Uint8Array, hits?: number[]): void {
    if (seen[id] === 0) {
      seen[id] = 1;
      hits?.push(id);
    }
  }
}
