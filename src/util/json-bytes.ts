// A JSON text written as bytes into one growing buffer: for answers of megabytes made of many small numbers
// (GET /v1/stats), where a string built of pieces makes millions of short-lived objects for the collector and
// must be flattened and encoded again to be sent. The caller writes the punctuation; this writes the values.

/** A fragment of ASCII text, encoded once (member names, punctuation). */
export type Ascii = Uint8Array;
export const ascii = (s: string): Ascii => Buffer.from(s, "latin1");

export class JsonBytes {
  private buf: Buffer;
  private pos = 0;

  constructor(size = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Room for `n` more bytes. */
  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** A fragment as it is. */
  raw(a: Ascii): this {
    const n = a.length;
    this.room(n);
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < n; i++) buf[pos++] = a[i]!;
    this.pos = pos;
    return this;
  }

  /** A number (finite) as JSON writes it, or null. Integers are written digit by digit. */
  number(v: number | null): this {
    this.room(MAX_NUMBER);
    this.pos = putNumber(this.buf, this.pos, v);
    return this;
  }

  /**
   * The ratio n / d of two counts (integers, n >= 0) to RATIO_DIGITS significant digits, rounded half up on the
   * exact quotient, written as JSON writes that number (ratioValue's: "0.0105263", "1.5e-7"); null when d is not
   * positive (putRatio).
   */
  ratio(n: number, d: number): this {
    this.room(MAX_NUMBER);
    this.pos = putRatio(this.buf, this.pos, n, d);
    return this;
  }

  /**
   * Room for `n` more bytes, for a caller that writes many values at once with putNumber and putRatio: the
   * buffer to write into from `length` on, then `commit` where it stopped (at most `n` bytes further).
   */
  reserve(n: number): Buffer {
    this.room(n);
    return this.buf;
  }

  /** The end of what a caller wrote into reserve's buffer. */
  commit(end: number): void {
    this.pos = end;
  }

  /** A member of an object: its name's fragment (with the comma before it, if any) and its value, a number. */
  member(name: Ascii, v: number | null): this {
    const n = name.length;
    this.room(n);
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < n; i++) buf[pos++] = name[i]!;
    this.pos = pos;
    return this.number(v);
  }

  /** A string as a JSON string (quoted, escaped, UTF-8). */
  string(s: string): this {
    const json = JSON.stringify(s);
    this.room(Buffer.byteLength(json));
    this.pos += this.buf.write(json, this.pos, "utf8");
    return this;
  }

  /** How many bytes are written. */
  get length(): number {
    return this.pos;
  }

  /** Forgets what was written after the first `n` bytes. */
  truncate(n: number): void {
    if (n >= 0 && n <= this.pos) this.pos = n;
  }

  /** The bytes written (a view of the buffer: write no more after taking it). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

/** The most bytes putNumber or putRatio write: a double's text ("-1.2345678901234567e-308") and some. */
export const MAX_NUMBER = 26;

/** Text known to be ASCII (a number's), at buf[pos]; returns the end. */
function putAscii(buf: Buffer, pos: number, s: string): number {
  for (let i = 0; i < s.length; i++) buf[pos++] = s.charCodeAt(i);
  return pos;
}

/**
 * A number (finite) as JSON writes it, or null, at buf[pos] (room for MAX_NUMBER bytes); returns the end.
 * Integers in integer arithmetic, digit by digit.
 */
export function putNumber(buf: Buffer, pos: number, v: number | null): number {
  if (v === null) {
    buf[pos] = 110;
    buf[pos + 1] = 117;
    buf[pos + 2] = 108;
    buf[pos + 3] = 108;
    return pos + 4;
  }
  // The common case, counters: an integer of 32 bits (-0 too, written 0 as JSON writes it).
  if (v >>> 0 === v) {
    const digits =
      v < 10
        ? 1
        : v < 100
          ? 2
          : v < 1e3
            ? 3
            : v < 1e4
              ? 4
              : v < 1e5
                ? 5
                : v < 1e6
                  ? 6
                  : v < 1e7
                    ? 7
                    : v < 1e8
                      ? 8
                      : v < 1e9
                        ? 9
                        : 10;
    let end = pos + digits;
    const last = end;
    let x = v;
    do {
      const q = (x / 10) >>> 0;
      buf[--end] = 48 + x - q * 10;
      x = q;
    } while (x);
    return last;
  }
  if (!Number.isSafeInteger(v) || v < 0) return putAscii(buf, pos, String(v));
  let digits = 0;
  for (let x = v; x >= 1; x = Math.floor(x / 10)) digits++;
  let end = pos + digits;
  const last = end;
  for (let x = v; x >= 1; x = Math.floor(x / 10)) buf[--end] = 48 + (x % 10);
  return last;
}

/**
 * The ratio n / d of two counts (integers, n >= 0) to RATIO_DIGITS significant digits, rounded half up on the
 * exact quotient, as JSON writes that number (ratioValue's text: "0.0105263", "1.5e-7"), or null when d is not
 * positive, at buf[pos] (room for MAX_NUMBER bytes); returns the end. In integer arithmetic for rates under 1
 * of counts up to 9e9 (one division): several times cheaper than V8's shortest double formatter, and less than
 * half its text.
 */
export function putRatio(buf: Buffer, pos: number, n: number, d: number): number {
  if (!(d > 0)) return putNumber(buf, pos, null);
  if (n === 0) {
    buf[pos] = 48;
    return pos + 1;
  }
  if (!(n > 0 && n < d && d <= 9e9 && Number.isInteger(n) && Number.isInteger(d)))
    return putAscii(buf, pos, String(ratioValue(n, d)));
  // m = n * 10^e with d / 10 <= m < d: the quotient is 0.<e zeros><digits>.
  let m = n;
  let e = 0;
  while (m * 10 < d) {
    m *= 10;
    e++;
  }
  // q = round(m * 10^6 / d), exact: m * 10^6 < 9e15 < 2^53, and the remainder corrects the float division.
  const big = m * 1e6;
  let q = Math.floor(big / d);
  let r = big - q * d;
  if (r < 0) {
    q--;
    r += d;
  } else if (r >= d) {
    q++;
    r -= d;
  }
  if (2 * r >= d) q++;
  if (q === 1e6) {
    // Rounded up to the next power of ten (0.0999999951 is 0.1).
    q = 1e5;
    if (--e < 0) {
      buf[pos] = 49;
      return pos + 1;
    }
  }
  // From here q < 1e6: in 32-bit integer arithmetic.
  q |= 0;
  let digits = RATIO_DIGITS;
  for (let t = (q / 10) | 0; t * 10 === q; t = (q / 10) | 0) {
    q = t;
    digits--;
  }
  if (e <= 5) {
    // As JSON writes 1e-6 <= x < 1: "0.", the zeros, the digits.
    buf[pos++] = 48;
    buf[pos++] = 46;
    for (let z = 0; z < e; z++) buf[pos++] = 48;
    let end = pos + digits;
    const last = end;
    do {
      const t = (q / 10) | 0;
      buf[--end] = 48 + q - t * 10;
      q = t;
    } while (q);
    return last;
  }
  // Below 1e-6, as JSON writes it: "1.5e-7".
  let end = pos + digits + (digits > 1 ? 1 : 0);
  const last = end;
  for (let i = 1; i < digits; i++) {
    const t = (q / 10) | 0;
    buf[--end] = 48 + q - t * 10;
    q = t;
  }
  if (digits > 1) buf[--end] = 46;
  buf[--end] = 48 + q;
  pos = last;
  buf[pos++] = 101;
  buf[pos++] = 45;
  const x = e + 1;
  if (x >= 10) buf[pos++] = 48 + Math.floor(x / 10);
  buf[pos++] = 48 + (x % 10);
  return pos;
}

/** How many significant digits a ratio (a rate) is written with. */
export const RATIO_DIGITS = 6;
const TEN = BigInt(10);

/**
 * n / d (counts: integers, n >= 0, d > 0) rounded half up to RATIO_DIGITS significant digits, in exact
 * arithmetic; the number JsonBytes.ratio writes. Counts that are not safe integers: the double's quotient,
 * rounded the same way.
 */
export function ratioValue(n: number, d: number): number {
  if (n === 0) return 0;
  if (!(Number.isSafeInteger(n) && Number.isSafeInteger(d) && n > 0 && d > 0))
    return Number((n / d).toPrecision(RATIO_DIGITS));
  let num = BigInt(n);
  let den = BigInt(d);
  // p: 10^p <= n / d < 10^(p + 1).
  let p = 0;
  while (num >= den * TEN) {
    den *= TEN;
    p++;
  }
  while (num < den) {
    num *= TEN;
    p--;
  }
  // Now 1 <= num / den < 10: the digits are round(num * 10^(digits - 1) / den).
  const scaled = num * TEN ** BigInt(RATIO_DIGITS - 1);
  let q = scaled / den;
  if ((scaled - q * den) * BigInt(2) >= den) q++;
  return Number(`${q}e${p - RATIO_DIGITS + 1}`);
}
