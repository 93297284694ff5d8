// Transfer decoding (quoted-printable, base64) and the raw mail as a binary string with LF line endings.
import { hasHighBytes } from "../charset.js";
import { DEFAULT_LIMITS } from "./limits.js";

/** Quoted-printable (binary string in, binary string out): `=XX` escapes and `=` soft line breaks. */
export function decodeQuotedPrintable(s: string): string {
  let at = s.indexOf("=");
  if (at < 0) return s;
  // A scan from one `=` to the next: the text between them is copied as it is.
  let out = "";
  let from = 0;
  while (at >= 0) {
    let k = at + 1;
    while (s.charCodeAt(k) === 32 || s.charCodeAt(k) === 9) k++;
    if (s.charCodeAt(k) === 10) {
      out += s.slice(from, at);
      from = k + 1;
    } else {
      const hi = hexValue(s.charCodeAt(at + 1));
      const lo = hi < 0 ? -1 : hexValue(s.charCodeAt(at + 2));
      if (lo < 0) {
        at = s.indexOf("=", at + 1);
        continue;
      }
      out += s.slice(from, at) + String.fromCharCode(hi * 16 + lo);
      from = at + 3;
    }
    at = s.indexOf("=", from);
  }
  return out + s.slice(from);
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** Base64 (binary string in, binary string out); tolerant of junk and missing padding. */
export function decodeBase64(s: string): string {
  return Buffer.from(s.replace(/[^A-Za-z0-9+/]/g, ""), "base64").toString("latin1");
}

export function decodeTransfer(body: string, cte: string | undefined): string {
  const enc = (cte ?? "").trim().toLowerCase();
  if (enc === "base64") return decodeBase64(body);
  if (enc === "quoted-printable") return decodeQuotedPrintable(body);
  return body;
}

export function isTransferEncoded(cte: string): boolean {
  const enc = cte.trim().toLowerCase();
  return enc === "base64" || enc === "quoted-printable";
}

/** CRLF and CR-only line endings to LF. */
export function normaliseNewlines(s: string): string {
  if (!s.includes("\r")) return s;
  // split/join rather than replaceAll (as fast, and far faster than a regex): replaceAll builds its result as a
  // chain of concatenations that is flattened on first read and stays a cons string, so that every later read of
  // a character of the mail went through it; join makes one flat string.
  const lf = s.split("\r\n").join("\n");
  return lf.includes("\r") ? lf.split("\r").join("\n") : lf;
}

/**
 * The bytes with CRLF and CR-only line endings made LF (as normaliseNewlines does to the string): each CR is dropped
 * before an LF and made an LF elsewhere. On the bytes, before they become a string: a native search for each CR and
 * a copy of each run between them, where splitting the string cut it into a string per line and joined them again.
 */
function lfBytes(raw: Buffer): Buffer {
  let cr = raw.indexOf(13);
  if (cr < 0) return raw;
  const out = Buffer.allocUnsafe(raw.length);
  let n = 0;
  let from = 0;
  while (cr >= 0) {
    n += raw.copy(out, n, from, cr);
    if (raw[cr + 1] !== 10) out[n++] = 10;
    from = cr + 1;
    cr = raw.indexOf(13, from);
  }
  n += raw.copy(out, n, from);
  return out.subarray(0, n);
}

/** Raw input -> binary string with LF line endings, capped in size. */
export function toBinaryString(raw: Buffer | string, maxBytes = DEFAULT_LIMITS.maxMailBytes): string {
  let s: string;
  if (typeof raw === "string") {
    // Strings from callers are text: re-encode non-ASCII as UTF-8 bytes so that charset decoding sees bytes.
    s = hasHighBytes(raw) ? Buffer.from(raw, "utf8").toString("latin1") : raw;
  } else s = lfBytes(raw.length > maxBytes ? raw.subarray(0, maxBytes) : raw).toString("latin1");
  if (s.length > maxBytes) s = s.slice(0, maxBytes);
  if (typeof raw === "string") s = normaliseNewlines(s);
  // A leading mbox "From " line is not a header.
  if (s.startsWith("From ")) {
    const nl = s.indexOf("\n");
    s = nl < 0 ? "" : s.slice(nl + 1);
  }
  return s;
}
