// Prefilter for the text rules: from each rule's regex source, the literal strings one of which must appear in
// a text the rule can match. An Aho-Corasick automaton over all those literals finds, in one pass over a text,
// which rules are worth running; the few regexes left are then tested in priority order.

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

/** Literals are cut to this many characters: a prefix of a required literal is required too, and short keys keep the automaton small. */
export const MAX_LITERAL = 12;

/**
 * A multi-literal matcher (Aho-Corasick) over lower-cased UTF-16 code units, built once. ASCII transitions are
 * a dense table (a DFA: no failure-link walks) over a compressed alphabet (only the ASCII characters that occur
 * in some literal get a column; every other character leads back to the root), which keeps the table small
 * enough to stay in cache. Other characters go through one map with failure links.
 */
export class LiteralMatcher {
  /** ASCII character -> column of the transition table (0: a character no literal contains). */
  private readonly column = new Uint8Array(128);
  private readonly width: number;
  /** Dense ASCII goto/transition table: `ascii[node * width + column[ch]]`. */
  private ascii: Int32Array | Uint16Array;
  /** Non-ASCII trie edges, keyed `node * 65536 + ch`. */
  private readonly wide = new Map<number, number>();
  private readonly fail: number[] = [0];
  /** Ids of the literals ending at each node, including those reached via fail links. */
  private readonly out: number[][] = [[]];
  /** 1 where `out[node]` is not empty. */
  private hasOut: Uint8Array = new Uint8Array(0);
  private size = 1;

  constructor(literals: readonly string[]) {
    let width = 1;
    for (const lit of literals)
      for (let i = 0; i < lit.length; i++) {
        const ch = lit.charCodeAt(i);
        if (ch < 128 && this.column[ch] === 0) this.column[ch] = width++;
      }
    this.width = width;
    let trie = new Int32Array(width * 1024).fill(-1);
    literals.forEach((lit, id) => {
      let n = 0;
      for (let i = 0; i < lit.length; i++) {
        const ch = lit.charCodeAt(i);
        let to = ch < 128 ? trie[n * width + this.column[ch]!]! : (this.wide.get(n * 65536 + ch) ?? -1);
        if (to < 0) {
          to = this.size++;
          if ((to + 1) * width > trie.length) {
            const grown = new Int32Array(trie.length * 2).fill(-1);
            grown.set(trie);
            trie = grown;
          }
          this.fail.push(0);
          this.out.push([]);
          if (ch < 128) trie[n * width + this.column[ch]!] = to;
          else this.wide.set(n * 65536 + ch, to);
        }
        n = to;
      }
      this.out[n]!.push(id);
    });
    const edge = (n: number, ch: number): number =>
      ch < 128
        ? this.column[ch] === 0
          ? -1
          : trie[n * width + this.column[ch]!]!
        : (this.wide.get(n * 65536 + ch) ?? -1);
    // Children per node (as character codes), to walk the trie breadth-first.
    const kids: number[][] = Array.from({ length: this.size }, () => []);
    for (let ch = 0; ch < 128; ch++) {
      const col = this.column[ch]!;
      if (col === 0) continue;
      for (let n = 0; n < this.size; n++) {
        const to = trie[n * width + col]!;
        if (to >= 0) kids[n]!.push(ch, to);
      }
    }
    for (const [key, to] of this.wide) kids[Math.floor(key / 65536)]!.push(key % 65536, to);
    const order: number[] = [0];
    for (let qi = 0; qi < order.length; qi++) {
      const n = order[qi]!;
      const ks = kids[n]!;
      for (let k = 0; k < ks.length; k += 2) {
        const ch = ks[k]!;
        const to = ks[k + 1]!;
        let failTo = 0;
        if (n !== 0) {
          let f = this.fail[n]!;
          while (f !== 0 && edge(f, ch) < 0) f = this.fail[f]!;
          failTo = Math.max(edge(f, ch), 0);
        }
        this.fail[to] = failTo;
        const inherited = this.out[failTo]!;
        if (inherited.length > 0) this.out[to] = this.out[to]!.concat(inherited);
        order.push(to);
      }
    }
    // Complete the ASCII table into a DFA, breadth-first so each fail target's row is complete first.
    const dfa = trie.subarray(0, this.size * width);
    for (let col = 0; col < width; col++) if (dfa[col]! < 0) dfa[col] = 0;
    for (const n of order) {
      if (n === 0) continue;
      const row = n * width;
      const frow = this.fail[n]! * width;
      for (let col = 0; col < width; col++) if (dfa[row + col]! < 0) dfa[row + col] = dfa[frow + col]!;
    }
    this.ascii = this.size <= 0xffff ? Uint16Array.from(dfa) : dfa.slice();
    this.hasOut = new Uint8Array(this.size);
    for (let n = 0; n < this.size; n++) if (this.out[n]!.length > 0) this.hasOut[n] = 1;
  }

  /**
   * Marks in `seen` (indexed by literal id) every literal occurring in `text` (already lower-cased); when `hits`
   * is given, also appends to it each literal id newly marked.
   */
  scan(text: string, seen: Uint8Array, hits?: number[]): void {
    const { ascii, column, width, wide, fail, out: outs, hasOut } = this;
    let n = 0;
    for (let i = 0; i < text.length; i++) {
      const ch = text.charCodeAt(i);
      if (ch < 128) {
        n = ascii[n * width + column[ch]!]!;
      } else {
        let to = wide.get(n * 65536 + ch);
        while (to === undefined && n !== 0) {
          n = fail[n]!;
          to = wide.get(n * 65536 + ch);
        }
        n = to ?? 0;
      }
      if (hasOut[n] === 0) continue;
      const out = outs[n]!;
      for (let k = 0; k < out.length; k++) {
        const id = out[k]!;
        if (seen[id] === 0) {
          seen[id] = 1;
          hits?.push(id);
        }
      }
    }
  }
}
