// A long alternation of words (`permanent error|permanently rejected|...`) rewritten so that V8 scans it faster:
// alternatives that begin alike are merged behind their common beginning (`permanent(?:ly)? (?:error|...)|...`
// becomes `p(?:ermanent...)|...`), so that at each position of a text V8 tries a few first characters instead of
// every alternative in turn. Only for `test()`: the rewritten pattern matches the same strings (concatenation
// distributes over alternation), but which alternative matches first, and so a match's text and groups, may differ.
// It stays linear when `re` is: each path V8 tries in the merged pattern is a path of one of `re`'s alternatives,
// and a common beginning is tried once instead of once per alternative.
import { splitTopLevel } from "./rules/literals.js";

/** Inner alternatives of a leading group spread out at most (each becomes an alternative of its own). */
const MAX_SPREAD = 16;

/**
 * `re` with its alternatives merged behind their common beginnings: a pattern that matches a text exactly when
 * `re` does (for `test()`), and about twice as fast on long texts for the permanence words (docs/performance.md,
 * session 12). Returned unchanged when it uses back-references or the `u`/`v` flags.
 */
export function mergedAlternation(re: RegExp): RegExp {
  if (/[uvgy]/.test(re.flags) || /\\(?:[1-9]|k<)/.test(re.source)) return re;
  return new RegExp(merge(splitTopLevel(re.source)), re.flags);
}

function merge(alternatives: readonly string[]): string {
  const tails = new Map<string, string[]>();
  /** The leading atoms in the order they first appear; `null` for an alternative kept whole. */
  const order: (string | null)[] = [];
  const whole: string[] = [];
  // (an alternative given twice is tried once)
  for (const alt of new Set(spread(alternatives))) {
    const n = atomLength(alt);
    if (n === 0) {
      order.push(null);
      whole.push(alt);
      continue;
    }
    const atom = alt.slice(0, n);
    let list = tails.get(atom);
    if (!list) {
      tails.set(atom, (list = []));
      order.push(atom);
    }
    list.push(alt.slice(n));
  }
  let w = 0;
  return order
    .map((atom) => {
      if (atom === null) return whole[w++]!;
      const list = tails.get(atom)!;
      if (list.length === 1) return atom + list[0]!;
      const merged = merge(list);
      return splitTopLevel(merged).length === 1 ? atom + merged : `${atom}(?:${merged})`;
    })
    .join("|");
}

/** A leading non-capturing group (`(?:a|b)c`, `(?:a)?c`) spread into alternatives of its own (`ac|bc`, `ac|c`). */
function spread(alternatives: readonly string[]): string[] {
  const out: string[] = [];
  for (const alt of alternatives) {
    const n = alt.startsWith("(?:") ? atomLength(alt) : 0;
    const optional = n > 0 && alt[n - 1] === "?" && alt[n - 2] === ")";
    if (n > 0 && (alt[n - 1] === ")" || optional)) {
      const inner = splitTopLevel(alt.slice(3, optional ? n - 2 : n - 1));
      if (inner.length <= MAX_SPREAD) {
        const rest = alt.slice(n);
        out.push(...spread(inner.map((x) => x + rest)));
        if (optional) out.push(...spread([rest]));
        continue;
      }
    }
    out.push(alt);
  }
  return out;
}

/**
 * The length of the first atom of `s` with its quantifier (a character, an escape, a class or a group), or 0 when
 * `s` is empty or starts with no atom.
 */
function atomLength(s: string): number {
  if (!s) return 0;
  let i: number;
  const c = s[0]!;
  if (c === "\\") {
    const e = s[1];
    // `\u` and `\x` take 4 and 2 hex digits, `\c` a letter; without them they are the letter itself
    i =
      e === "u" && /^[\dA-Fa-f]{4}/.test(s.slice(2, 6))
        ? 6
        : e === "x" && /^[\dA-Fa-f]{2}/.test(s.slice(2, 4))
          ? 4
          : e === "c" && /^[A-Za-z]/.test(s.slice(2, 3))
            ? 3
            : 2;
  } else if (c === "[") {
    i = classEnd(s, 0);
  } else if (c === "(") {
    let depth = 0;
    for (i = 0; i < s.length; i++) {
      const d = s[i];
      if (d === "\\") i++;
      else if (d === "[") i = classEnd(s, i) - 1;
      else if (d === "(") depth++;
      else if (d === ")" && --depth === 0) break;
    }
    if (i >= s.length) return 0;
    i++;
  } else if ("|)?*+{".includes(c)) return 0;
  else i = 1;
  // the quantifier, lazy or not
  if (s[i] === "?" || s[i] === "*" || s[i] === "+") i++;
  else if (s[i] === "{") {
    const m = /^\{\d+(?:,\d*)?\}/.exec(s.slice(i, i + 24));
    if (m) i += m[0].length;
    else return i;
  } else return i;
  return s[i] === "?" ? i + 1 : i;
}

/** The index after the class that starts at `start` (`[...]`; in JavaScript `[]` is a class, an empty one). */
function classEnd(s: string, start: number): number {
  let i = start + 1;
  for (; i < s.length && s[i] !== "]"; i++) if (s[i] === "\\") i++;
  return i + 1;
}
