// The lookup's key of an address without a string or an object per lookup: the first 96 bits of the address's
// keyed hash (HMAC-SHA256, what src/core/address.ts's addressHasher makes in hex), computed here in plain
// JavaScript on reused typed arrays, straight from the request's text or bytes, for the addresses whose
// normalisation is a matter of case: printable ASCII, a local part of 1 to 64 characters, a domain of letters,
// digits and hyphens in dotted labels. Any other address (quotes, brackets, a trailing dot, an IDN, an `xn--`
// label, a domain that could read as an IPv4 address...) is refused (`false`): the caller takes the general path
// (normalizeAddress, then the hasher), which answers for it exactly as before. Pure: no I/O.
//
// Why: node's one-shot hashes make a buffer and a hex string per call, and the normalisation several strings and
// an object: at 10,000 lookups a second that garbage set off a young-generation collection every half second,
// and each collection holds the lookups that arrive during it (docs/performance.md, issue 15 §1).
//
// HMAC with the pads' blocks compressed once: a lookup is the inner hash's remaining block(s) (one for an address
// of up to 55 bytes) and the outer hash's one block.

import { hash } from "node:crypto";

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);
const IV = new Int32Array([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);

/** One SHA-256 compression of the 16 words w[0..15] (w: 64 words of room) into the state h (8 words). */
function compress(h: Int32Array, w: Int32Array): void {
  for (let i = 16; i < 64; i++) {
    const a = w[i - 15]!;
    const b = w[i - 2]!;
    const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
    const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
    w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
  }
  let a = h[0]!;
  let b = h[1]!;
  let c = h[2]!;
  let d = h[3]!;
  let e = h[4]!;
  let f = h[5]!;
  let g = h[6]!;
  let hh = h[7]!;
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const ch = (e & f) ^ (~e & g);
    const t1 = (hh + S1 + ch + K[i]! + w[i]!) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const maj = (a & b) ^ (a & c) ^ (b & c);
    const t2 = (S0 + maj) | 0;
    hh = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  h[0] = (h[0]! + a) | 0;
  h[1] = (h[1]! + b) | 0;
  h[2] = (h[2]! + c) | 0;
  h[3] = (h[3]! + d) | 0;
  h[4] = (h[4]! + e) | 0;
  h[5] = (h[5]! + f) | 0;
  h[6] = (h[6]! + g) | 0;
  h[7] = (h[7]! + hh) | 0;
}

/** The longest address normalizeAddress accepts. */
const MAX_ADDRESS = 320;
const MAX_LOCAL = 64;

/** Bytes an address may hold on the fast path: printable ASCII but `"(),:;<>[\]` (quoting, brackets, mailto:). */
const PLAIN = new Uint8Array(128);
for (let c = 0x21; c < 0x7f; c++) PLAIN[c] = 1;
for (const c of '"(),:;<>[\\]') PLAIN[c.charCodeAt(0)] = 0;

export class AddressDigest {
  /** The first 96 bits of the last address's keyed hash, as three big-endian words (SuppressedMap's key). */
  readonly words = new Uint32Array(3);
  /** The address as normalised, in bytes (room for the SHA-256 padding after it). */
  private readonly msg = new Uint8Array(MAX_ADDRESS + 72);
  private readonly w = new Int32Array(64);
  private readonly h = new Int32Array(8);
  private readonly inner = new Int32Array(8);
  private readonly outer = new Int32Array(8);

  /** `key`: the address-hash key (as addressHasher takes it: more than 64 bytes are hashed first). */
  constructor(
    key: Uint8Array,
    private readonly caseSensitiveLocalPart: boolean,
  ) {
    const k = new Uint8Array(64);
    k.set(key.length > 64 ? hash("sha256", key, "buffer") : key);
    for (const [pad, state] of [
      [0x36, this.inner],
      [0x5c, this.outer],
    ] as const) {
      state.set(IV);
      for (let i = 0; i < 16; i++)
        this.w[i] =
          ((k[i * 4]! ^ pad) << 24) |
          ((k[i * 4 + 1]! ^ pad) << 16) |
          ((k[i * 4 + 2]! ^ pad) << 8) |
          (k[i * 4 + 3]! ^ pad);
      compress(state, this.w);
    }
  }

  /** The key of the address s[from, to) into `words`; false: not an address this path normalises (see above). */
  ofString(s: string, from = 0, to = s.length): boolean {
    const n = to - from;
    if (n < 3 || n > MAX_ADDRESS) return false;
    const m = this.msg;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(from + i);
      if (c >= 128 || PLAIN[c] === 0) return false;
      m[i] = c;
    }
    return this.digest(n);
  }

  /** The same from bytes buf[from, to) (a request read where it lies). */
  ofBytes(buf: Uint8Array, from: number, to: number): boolean {
    const n = to - from;
    if (n < 3 || n > MAX_ADDRESS) return false;
    const m = this.msg;
    for (let i = 0; i < n; i++) {
      const c = buf[from + i]!;
      if (c >= 128 || PLAIN[c] === 0) return false;
      m[i] = c;
    }
    return this.digest(n);
  }

  /** msg[0, n): checked as normalizeAddress would accept it unchanged but for case, lower-cased, hashed. */
  private digest(n: number): boolean {
    const m = this.msg;
    let at = -1;
    for (let i = n - 1; i >= 0; i--)
      if (m[i] === 0x40 /* @ */) {
        at = i;
        break;
      }
    if (at < 1 || at > MAX_LOCAL || at >= n - 1) return false;
    if (!this.caseSensitiveLocalPart) for (let i = 0; i < at; i++) m[i] = lower(m[i]!);
    // The domain: dotted labels of [a-z0-9-], 1-63 long, no hyphen first or last, no `xn--` (punycode: IDNA
    // checks it), at least one dot, the last label starting with a letter (the URL standard reads a domain
    // ending in a number as an IPv4 address).
    let label = at + 1;
    let dots = 0;
    for (let i = at + 1; i <= n; i++) {
      const c = i < n ? lower(m[i]!) : 0x2e;
      if (i < n) m[i] = c;
      if (c === 0x2e /* . */) {
        const len = i - label;
        if (len < 1 || len > 63) return false;
        if (m[label] === 0x2d || m[i - 1] === 0x2d) return false;
        if (
          len >= 4 &&
          m[label] === 0x78 &&
          m[label + 1] === 0x6e &&
          m[label + 2] === 0x2d &&
          m[label + 3] === 0x2d
        )
          return false;
        if (i < n) dots++;
        else if (m[label]! < 0x61 || m[label]! > 0x7a) return false;
        label = i + 1;
      } else if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d)) return false;
    }
    if (dots === 0) return false;
    this.hmac(n);
    return true;
  }

  /** HMAC-SHA256 of msg[0, n) with the key's pads; the first three words of the result into `words`. */
  private hmac(n: number): void {
    const m = this.msg;
    const w = this.w;
    const h = this.h;
    // Inner: the message after the ipad block, padded (0x80, zeros, the bit length of pad + message).
    h.set(this.inner);
    m[n] = 0x80;
    let end = n + 1;
    while ((end & 63) !== 56) m[end++] = 0;
    const bits = (64 + n) * 8;
    m[end] = 0;
    m[end + 1] = 0;
    m[end + 2] = 0;
    m[end + 3] = 0;
    m[end + 4] = (bits >>> 24) & 0xff;
    m[end + 5] = (bits >>> 16) & 0xff;
    m[end + 6] = (bits >>> 8) & 0xff;
    m[end + 7] = bits & 0xff;
    end += 8;
    for (let b = 0; b < end; b += 64) {
      for (let i = 0; i < 16; i++) {
        const j = b + i * 4;
        w[i] = (m[j]! << 24) | (m[j + 1]! << 16) | (m[j + 2]! << 8) | m[j + 3]!;
      }
      compress(h, w);
    }
    // Outer: the inner digest after the opad block, padded: 96 bytes in all.
    for (let i = 0; i < 8; i++) w[i] = h[i]!;
    w[8] = 0x80000000 | 0;
    for (let i = 9; i < 15; i++) w[i] = 0;
    w[15] = (64 + 32) * 8;
    h.set(this.outer);
    compress(h, w);
    this.words[0] = h[0]!;
    this.words[1] = h[1]!;
    this.words[2] = h[2]!;
  }
}

const lower = (c: number) => (c >= 0x41 && c <= 0x5a ? c + 32 : c);
