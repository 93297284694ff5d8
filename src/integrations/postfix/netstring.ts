// Netstrings (`<length>:<bytes>,`), the framing of Postfix's socketmap protocol (socketmap_table(5)). Pure: a
// reader that takes bytes as they come off a socket and yields whole strings, in time linear in the bytes.

export class NetstringError extends Error {}

export function encodeNetstring(text: string): Buffer {
  const body = Buffer.from(text, "utf8");
  return Buffer.concat([Buffer.from(`${body.length}:`), body, Buffer.from(",")]);
}

/** The same netstring as text, to be written as UTF-8 (several replies joined into one write). */
export function netstring(text: string): string {
  return `${Buffer.byteLength(text, "utf8")}:${text},`;
}

/**
 * Reads netstrings from a byte stream. `push(chunk)` returns the strings completed by that chunk; a string
 * longer than `maxLength` bytes, a length of more than 9 digits or a missing `,` is a NetstringError (the
 * connection should be closed: framing is lost).
 */
export class NetstringReader {
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  /** Length of the string being read; -1 while its length digits are read. */
  private want = -1;
  /** The length digits read so far: their value and how many. */
  private length = 0;
  private digits = 0;

  constructor(private readonly maxLength: number) {}

  push(chunk: Buffer): string[] {
    const out: string[] = [];
    this.read(chunk, (buf, start, end) => out.push(buf.toString("utf8", start, end)));
    return out;
  }

  /**
   * The same, each string completed by the chunk handed to `each` as the bytes buf[start, end) where they lie
   * (in the chunk itself, unless the string came in several): no string or array made. `buf` is the caller's
   * only until `each` returns.
   */
  read(chunk: Buffer, each: (buf: Buffer, start: number, end: number) => void): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.want < 0) {
        const c = chunk[i++]!;
        if (c >= 0x30 && c <= 0x39) {
          if (this.digits >= 9) throw new NetstringError("netstring length too long");
          this.length = this.length * 10 + (c - 0x30);
          this.digits++;
        } else if (c === 0x3a /* : */ && this.digits > 0) {
          this.want = this.length;
          this.length = 0;
          this.digits = 0;
          if (this.want > this.maxLength)
            throw new NetstringError(`netstring of ${this.want} bytes (at most ${this.maxLength})`);
        } else {
          throw new NetstringError("not a netstring (expected digits and a colon)");
        }
        continue;
      }
      // The common case: the whole body and its comma in this chunk, read where it lies.
      if (this.bufferedBytes === 0 && chunk.length - i > this.want) {
        if (chunk[i + this.want] !== 0x2c /* , */)
          throw new NetstringError("netstring not terminated by a comma");
        const start = i;
        i += this.want + 1;
        this.want = -1;
        each(chunk, start, i - 1);
        continue;
      }
      // Body and its trailing comma, across chunks.
      const need = this.want + 1 - this.bufferedBytes;
      const take = Math.min(need, chunk.length - i);
      this.buffered.push(chunk.subarray(i, i + take));
      this.bufferedBytes += take;
      i += take;
      if (this.bufferedBytes === this.want + 1) {
        const all = Buffer.concat(this.buffered, this.bufferedBytes);
        if (all[this.want] !== 0x2c /* , */) throw new NetstringError("netstring not terminated by a comma");
        const end = this.want;
        this.buffered = [];
        this.bufferedBytes = 0;
        this.want = -1;
        each(all, 0, end);
      }
    }
  }
}
