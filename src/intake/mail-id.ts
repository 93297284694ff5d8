// Ids of inbound mails: 26 characters, time-ordered (ULID layout: 48-bit milliseconds, 80 random bits, in
// Crockford base32). Sortable by arrival, unique across intake processes, safe as a BullMQ job id.
import { randomBytes } from "node:crypto";

const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

export function newMailId(now: Date = new Date()): string {
  let t = now.getTime();
  let time = "";
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32]! + time;
    t = Math.floor(t / 32);
  }
  // 80 random bits as 16 base32 digits, most significant first: two 40-bit halves (exact in a double), no BigInt.
  const bytes = randomBytes(10);
  let rand = "";
  for (let half = 0; half < 2; half++) {
    let v = 0;
    for (let i = 0; i < 5; i++) v = v * 256 + bytes[half * 5 + i]!;
    let digits = "";
    for (let i = 0; i < 8; i++) {
      digits = ALPHABET[v % 32]! + digits;
      v = Math.floor(v / 32);
    }
    rand += digits;
  }
  return time + rand;
}
