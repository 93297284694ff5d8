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
    if (v === null) return this.raw(NULL);
    // The common case, counters: an integer of 32 bits (-0 too, written 0 as JSON writes it), in integer
    // arithmetic.
    if (v >>> 0 === v) {
      this.room(10);
      const buf = this.buf;
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
      let end = this.pos + digits;
      this.pos = end;
      let x = v;
      do {
        const q = (x / 10) >>> 0;
        buf[--end] = 48 + x - q * 10;
        x = q;
      } while (x);
      return this;
    }
    if (!Number.isSafeInteger(v) || v < 0) return this.asciiText(String(v));
    this.room(16);
    const buf = this.buf;
    let digits = 0;
    for (let x = v; x >= 1; x = Math.floor(x / 10)) digits++;
    let end = this.pos + digits;
    this.pos = end;
    for (let x = v; x >= 1; x = Math.floor(x / 10)) buf[--end] = 48 + (x % 10);
    return this;
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

  /** Text known to be ASCII (a number's text), as it is. */
  private asciiText(s: string): this {
    const n = s.length;
    this.room(n);
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < n; i++) buf[pos++] = s.charCodeAt(i);
    this.pos = pos;
    return this;
  }

  /** The bytes written (a view of the buffer: write no more after taking it). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

const NULL = ascii("null");
