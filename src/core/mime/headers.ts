// Header blocks: the fields of a block kept as positions in the source, cut out, unfolded and decoded on first read.
import { decodeCharset, decodeEncodedWords, hasHighBytes } from "../charset.js";
import type { Headers } from "../mail.js";
import { DEFAULT_LIMITS } from "./limits.js";

/** A line break and the blanks after it (made once: a regex literal in a method is a new object on each call). */
const FOLD = /\n[ \t]*/g;

/**
 * The fields of one header block, kept as positions in the source until read: most fields of a mail (Received,
 * DKIM-Signature, ...) are never looked at, so their names and values are not cut out, unfolded or decoded.
 */
export class HeaderList implements Headers {
  /** Lower-cased names, made on first need. */
  private names: string[] | undefined;
  /** Raw values (unfolded, trimmed, undecoded), made on first read of each. */
  private raws: (string | undefined)[] | undefined;
  /** Decoded values, made on first read of each. */
  private decoded: (string | undefined)[] | undefined;
  constructor(
    private readonly src: string,
    /** Four numbers per field: name start and end, value start and end (the value still folded). */
    private readonly spans: readonly number[],
    private readonly binary = true,
  ) {
    this.size = spans.length >> 2;
  }
  /** The number of fields. */
  readonly size: number;
  private name(i: number): string {
    const names = (this.names ??= new Array<string>(this.size));
    return (names[i] ??= this.src.slice(this.spans[4 * i]!, this.spans[4 * i + 1]!).toLowerCase());
  }
  /** Whether field `i` is named `lower` (lower-case), compared in place. */
  private named(i: number, lower: string): boolean {
    const start = this.spans[4 * i]!;
    if (this.spans[4 * i + 1]! - start !== lower.length) return false;
    for (let k = 0; k < lower.length; k++) {
      let c = this.src.charCodeAt(start + k);
      if (c >= 65 && c <= 90) c += 32;
      if (c !== lower.charCodeAt(k)) return false;
    }
    return true;
  }
  private rawValue(i: number): string {
    const raws = (this.raws ??= new Array<string | undefined>(this.size));
    let v = raws[i];
    if (v === undefined) {
      const start = this.spans[4 * i + 2]!;
      v = this.src.slice(start, Math.min(this.spans[4 * i + 3]!, start + MAX_HEADER_VALUE));
      if (v.includes("\n")) v = v.replace(FOLD, " ");
      v = v.trim();
      raws[i] = v;
    }
    return v;
  }
  private value(i: number): string {
    const decoded = (this.decoded ??= new Array<string | undefined>(this.size));
    return (decoded[i] ??= decodeHeaderValue(this.rawValue(i), this.binary));
  }
  private indexOf(name: string): number {
    const lower = name.toLowerCase();
    for (let i = 0; i < this.size; i++) if (this.named(i, lower)) return i;
    return -1;
  }
  get(name: string): string | undefined {
    const i = this.indexOf(name);
    return i < 0 ? undefined : this.value(i);
  }
  getAll(name: string): string[] {
    const lower = name.toLowerCase();
    const out: string[] = [];
    for (let i = 0; i < this.size; i++) if (this.named(i, lower)) out.push(this.value(i));
    return out;
  }
  entries(): [string, string][] {
    const out: [string, string][] = [];
    for (let i = 0; i < this.size; i++) out.push([this.name(i), this.value(i)]);
    return out;
  }
  /**
   * The entries whose (lower-cased) name passes `keep`, decoding only those values. `prefixes` (lower-case), when
   * given, are what every name `keep` passes starts with: the other fields are passed over in place, without
   * their lower-cased names being made.
   */
  entriesWhere(keep: (name: string) => boolean, prefixes?: readonly string[]): [string, string][] {
    const out: [string, string][] = [];
    for (let i = 0; i < this.size; i++) {
      if (prefixes && !this.startsWithAny(i, prefixes)) continue;
      if (keep(this.name(i))) out.push([this.name(i), this.value(i)]);
    }
    return out;
  }
  /** Whether field `i`'s name starts with one of `prefixes` (lower-case), compared in place. */
  private startsWithAny(i: number, prefixes: readonly string[]): boolean {
    const start = this.spans[4 * i]!;
    const length = this.spans[4 * i + 1]! - start;
    for (const p of prefixes) {
      if (p.length > length) continue;
      let k = 0;
      for (; k < p.length; k++) {
        let c = this.src.charCodeAt(start + k);
        if (c >= 65 && c <= 90) c += 32;
        if (c !== p.charCodeAt(k)) break;
      }
      if (k === p.length) return true;
    }
    return false;
  }
  /**
   * Whether the text of some field named `name` (folded, undecoded) contains one of `words`: a cheap look for a
   * caller that would otherwise decode every such field to test it for words that decoding cannot make.
   */
  someRawIncludes(name: string, words: readonly string[]): boolean {
    const lower = name.toLowerCase();
    for (let i = 0; i < this.size; i++) {
      if (!this.named(i, lower)) continue;
      const text = this.src.slice(this.spans[4 * i + 2]!, this.spans[4 * i + 3]!);
      for (const w of words) if (text.includes(w)) return true;
    }
    return false;
  }
  /** The raw (undecoded, unfolded) value: for parameters such as boundaries. */
  raw(name: string): string | undefined {
    const i = this.indexOf(name);
    return i < 0 ? undefined : this.rawValue(i);
  }
}

export const NO_SPANS: readonly number[] = [];

export const emptyHeaders = (): Headers => new HeaderList("", NO_SPANS);

function decodeHeaderValue(raw: string, binary: boolean): string {
  let v = raw;
  if (binary && hasHighBytes(v)) v = decodeCharset(v, "utf-8");
  if (v.includes("=?")) v = decodeEncodedWords(v);
  return v;
}

/**
 * Parse a header block (binary string, LF line endings) into a header list. Folded lines are unfolded; lines that
 * are not headers (junk) are skipped. Reads at most `maxLines` lines.
 */
export function parseHeaderBlock(
  block: string,
  maxLines = DEFAULT_LIMITS.maxHeaderLines,
  binary = true,
): HeaderList {
  return scanHeaders(block, 0, block.length, maxLines, binary);
}

/**
 * The spans of the header block being scanned (scanning is synchronous), copied out at its end at their exact
 * size: a list grown field by field was some 7% of the bytes classify() allocated. A plain array of small integers
 * rather than an Int32Array: a typed array's copy of a hundred numbers has its own off-heap store (an allocation
 * outside the heap, freed by the collector), and slicing it cost four times as much.
 */
const scratch: number[] = [];

/**
 * The header fields of `src` between `start` and `end`, line by line (a hand-written scanner: this runs for every
 * header block of every mail). A field is `name: value` with a name of printable ASCII but `:`; it continues on
 * the following lines that are indented, or that are not empty and do not start a field themselves (some MTAs
 * fold without indenting: `boundary=...` on its own line). An empty line ends a field; lines outside a field are
 * junk and skipped. Stops after `maxLines` fields.
 */
export function scanHeaders(
  src: string,
  start: number,
  end: number,
  maxLines: number,
  binary: boolean,
): HeaderList {
  return scan(src, start, end, maxLines, binary, false).headers;
}

/** The header block of an entity and where it ends. */
export interface HeaderBlock {
  headers: HeaderList;
  /** The position of the `\n\n` that ends the block (its empty line), or -1 when there is none before the end. */
  blank: number;
}

/**
 * The header block at the start of the entity of `src` between `start` and `end`, as scanHeaders reads it, up to
 * the first empty line: one walk over the lines rather than a search for the empty line and then a walk up to it.
 */
export function scanHeaderBlock(
  src: string,
  start: number,
  end: number,
  maxLines: number,
  binary: boolean,
): HeaderBlock {
  return scan(src, start, end, maxLines, binary, true);
}

/** scanHeaders and scanHeaderBlock (`toBlank`: stop at the first empty line, and say where it is). */
function scan(
  src: string,
  start: number,
  end: number,
  maxLines: number,
  binary: boolean,
  toBlank: boolean,
): HeaderBlock {
  let n = 0;
  // Whether a field is open (its value may continue on the next line).
  let open = false;
  let pos = start;
  let blank = -1;
  while (pos <= end) {
    let eol = src.indexOf("\n", pos);
    if (toBlank && eol === pos && pos > start) {
      blank = pos - 1;
      break;
    }
    if (eol < 0 || eol > end) eol = end;
    const colon = fieldColon(src, pos, eol);
    if (colon >= 0) {
      if (n >= 4 * maxLines) {
        // Too many fields: the empty line is searched for beyond the last one read.
        if (toBlank) blank = src.indexOf("\n\n", start);
        break;
      }
      let nameEnd = colon;
      while (nameEnd > pos && isBlank(src.charCodeAt(nameEnd - 1))) nameEnd--;
      let valueStart = colon + 1;
      while (valueStart < eol && isBlank(src.charCodeAt(valueStart))) valueStart++;
      scratch[n++] = pos;
      scratch[n++] = nameEnd;
      scratch[n++] = valueStart;
      scratch[n++] = eol;
      open = true;
    } else if (open) {
      if (eol > pos) scratch[n - 1] = eol;
      else open = false;
    }
    if (eol >= end) break;
    pos = eol + 1;
  }
  return { headers: new HeaderList(src, n === 0 ? NO_SPANS : scratch.slice(0, n), binary), blank };
}

const isBlank = (c: number): boolean => c === 32 || c === 9;

/** The colon of a field line `name[ \t]*:` starting at `pos`, else -1. */
function fieldColon(src: string, pos: number, eol: number): number {
  let i = pos;
  while (i < eol) {
    const c = src.charCodeAt(i);
    if (c < 0x21 || c > 0x7e || c === 0x3a) break;
    i++;
  }
  if (i === pos) return -1;
  while (i < eol && isBlank(src.charCodeAt(i))) i++;
  return i < eol && src.charCodeAt(i) === 0x3a ? i : -1;
}

const MAX_HEADER_VALUE = 65536;
