// An original message quoted in the text of a plain bounce (no enclosed message/rfc822 part).
import type { Headers } from "../mail.js";
import { parseHeaderBlock } from "./headers.js";
import { DEFAULT_LIMITS } from "./limits.js";

const INLINE_NAMES = String.raw`return-path|received|from|to|subject|date|message-id|x-[\w-]+|dkim-signature|mime-version|content-type|reply-to|cc|list-[\w-]+|feedback-id|delivered-to|authentication-results|errors-to|sender`;
const INLINE_HEADER = new RegExp(`^(${INLINE_NAMES})[ \\t]*:`, "i");

/**
 * An original message quoted in the text of a plain bounce: the first run of at least two header lines (one of them
 * From, To, Subject, Message-ID or Return-Path), possibly indented.
 */
const INLINE_HINT = /^[ \t>]*(?:from|to|subject|message-id|return-path)[ \t]*:/im;
/**
 * INLINE_HINT without its `^`, tried at one line start; and the same for a line that may start a quoted header
 * block (a known name after quote marks or indentation).
 */
const INLINE_HINT_AT = /[ \t>]*(?:from|to|subject|message-id|return-path)[ \t]*:/iy;
const INLINE_START_AT = new RegExp(`[ \\t>]*(?:${INLINE_NAMES})[ \\t]*:`, "iy");

/**
 * `INLINE_HINT.test(text)`, line by line: a multi-line regex looks at every character of the text for a line
 * start, a walk from one LF to the next looks at line starts only. Texts with other line breaks (rare: mime.ts
 * normalises CR) are left to the regex.
 */
function hasInlineHint(text: string): boolean {
  if (text.includes("\r") || text.includes("\u2028") || text.includes("\u2029"))
    return INLINE_HINT.test(text);
  for (let p = 0; p < text.length;) {
    INLINE_HINT_AT.lastIndex = p;
    if (mayStart(text.charCodeAt(p), HINT_FIRST) && INLINE_HINT_AT.test(text)) return true;
    const eol = text.indexOf("\n", p);
    if (eol < 0) break;
    p = eol + 1;
  }
  // `^` matches at the very end too (after a final LF), where nothing follows to match.
  return false;
}

/**
 * The characters a line matching INLINE_HINT_AT (HINT_FIRST) or INLINE_START_AT (START_FIRST) can start with: a
 * blank or `>`, or the first letter of one of their names, in either case. A line starting with another is passed
 * over without running the pattern (most lines of a text).
 */
const HINT_FIRST = asciiSet(" \t>ftsmrFTSMR");
const START_FIRST = asciiSet(" \t>rftsdmxclaeRFTSDMXCLAE");
const mayStart = (c: number, first: Uint8Array): boolean => c < 0x80 && first[c] === 1;

function asciiSet(chars: string): Uint8Array {
  const set = new Uint8Array(0x80);
  for (let i = 0; i < chars.length; i++) set[chars.charCodeAt(i)] = 1;
  return set;
}

// The line patterns of findInlineOriginal's loop, made once: a regex literal in a loop is a new object each time.
const QUOTE_BEFORE_FIELD = /^(> ?|\s{1,8})(?=[!-9;-~]+:)/;
const ANY_FIELD = /^[!-9;-~]+:\s/;
const KEY_FIELD = /^(from|to|subject|message-id|return-path)\s*:/i;
const FOLDED = /^[ \t]+\S/;

const MAX_INLINE_CHARS = 65536;
const MAX_INLINE_LINES = 5000;

/**
 * Looks at the first 5,000 lines of the first 64 KiB of the text. Walks line positions instead of splitting the
 * text into lines: only the lines from a candidate start on are looked at one by one.
 */
export function findInlineOriginal(text: string): { headers: Headers; body?: string } | undefined {
  if (!text || !hasInlineHint(text)) return undefined;
  const src = text.length > MAX_INLINE_CHARS ? text.slice(0, MAX_INLINE_CHARS) : text;
  const limit = endOfLines(src, MAX_INLINE_LINES);
  let from = 0;
  for (;;) {
    const first = nextInlineStart(src, from, limit);
    if (first < 0) return undefined;
    let count = 0;
    let key = false;
    const block: string[] = [];
    // The line that ends the run (start and end), or -1 when the run reaches the last line.
    let stop = -1;
    let stopEnd = -1;
    for (let pos = first; ;) {
      const eol = lineEnd(src, pos, limit);
      const raw = src.slice(pos, eol);
      const l = raw.replace(QUOTE_BEFORE_FIELD, "");
      if (INLINE_HEADER.test(l) || ANY_FIELD.test(l)) {
        block.push(l);
        count++;
        if (KEY_FIELD.test(l)) key = true;
      } else if (FOLDED.test(raw) && block.length > 0) block.push(" " + raw.trim());
      else {
        stop = pos;
        stopEnd = eol;
        break;
      }
      if (eol >= limit) break;
      pos = eol + 1;
    }
    if (count >= 2 && key) {
      const headers = parseHeaderBlock(block.join("\n"), DEFAULT_LIMITS.maxHeaderLines, false);
      // The body: up to 199 lines after the line that ended the headers (usually the empty line).
      let rest = "";
      if (stop >= 0) {
        let restEnd = stopEnd;
        let n = 0;
        while (n < 199 && restEnd < limit) {
          restEnd = lineEnd(src, restEnd + 1, limit);
          n++;
        }
        if (n > 0) rest = src.slice(stopEnd + 1, restEnd);
      }
      return { headers, ...(rest.trim() ? { body: rest } : {}) };
    }
    // The line that ended the run is not looked at again as a start.
    if (stop < 0 || stopEnd >= limit) return undefined;
    from = stopEnd + 1;
  }
}

/** Where the first `n` lines of `s` end (the position of the n-th line feed), or the end of `s`. */
function endOfLines(s: string, n: number): number {
  if (s.length < n) return s.length;
  let pos = -1;
  for (let k = 0; k < n; k++) {
    pos = s.indexOf("\n", pos + 1);
    if (pos < 0) return s.length;
  }
  return pos;
}

function lineEnd(s: string, pos: number, limit: number): number {
  const e = s.indexOf("\n", pos);
  return e < 0 || e > limit ? limit : e;
}

/** The start of the next line at or after `from` (and before `limit`) that may start a quoted header block. */
function nextInlineStart(s: string, from: number, limit: number): number {
  // Only real line starts (after a line feed) count: a walk over them, each tried with the sticky pattern.
  let p = from;
  if (p > 0 && s.charCodeAt(p - 1) !== 10) {
    const nl = s.indexOf("\n", p);
    if (nl < 0) return -1;
    p = nl + 1;
  }
  for (;;) {
    if (p > limit) return -1;
    INLINE_START_AT.lastIndex = p;
    if (mayStart(s.charCodeAt(p), START_FIRST) && INLINE_START_AT.test(s)) return p;
    const eol = s.indexOf("\n", p);
    if (eol < 0) return -1;
    p = eol + 1;
  }
}
