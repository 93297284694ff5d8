// The envelope of a mail taken from a mailbox rather than over SMTP, read back from the headers the delivering
// server added: the recipient it was delivered to (Delivered-To, X-Original-To, Envelope-To; else To and Cc),
// which is where a signed return path shows, and the sender (Return-Path). Pure; linear in the header's size.

const RECIPIENT_HEADERS = ["delivered-to", "x-original-to", "envelope-to", "x-envelope-to"];
const FALLBACK_HEADERS = ["to", "cc"];
/** Headers read at most (a hostile mail's header block is cut here). */
const MAX_HEADER_BYTES = 256 * 1024;
const MAX_RECIPIENTS = 20;

export function envelopeOf(raw: Buffer): { mailFrom: string; rcptTo: string[] } {
  const headers = headerFields(raw);
  const first = (name: string) => headers.find((h) => h.name === name)?.value;
  const rp = addressesIn(first("return-path") ?? "")[0] ?? "";
  let rcpt = headers.filter((h) => RECIPIENT_HEADERS.includes(h.name)).flatMap((h) => addressesIn(h.value));
  if (!rcpt.length)
    rcpt = headers.filter((h) => FALLBACK_HEADERS.includes(h.name)).flatMap((h) => addressesIn(h.value));
  return { mailFrom: rp, rcptTo: [...new Set(rcpt.map((a) => a.toLowerCase()))].slice(0, MAX_RECIPIENTS) };
}

/** The header fields (names lower-cased, folded lines joined), up to the first empty line. */
function headerFields(raw: Buffer): { name: string; value: string }[] {
  const text = raw.toString("latin1", 0, Math.min(raw.length, MAX_HEADER_BYTES));
  const out: { name: string; value: string }[] = [];
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end).replace(/\r$/, "");
    start = end + 1;
    if (line === "") break;
    if ((line[0] === " " || line[0] === "\t") && out.length) {
      out[out.length - 1]!.value += " " + line.trim();
      continue;
    }
    const colon = line.indexOf(":");
    if (colon > 0)
      out.push({ name: line.slice(0, colon).trim().toLowerCase(), value: line.slice(colon + 1).trim() });
  }
  return out;
}

/** Addresses in a header value: `<a@b>` forms first, else bare `a@b` words. */
function addressesIn(value: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    const lt = value.indexOf("<", i);
    if (lt < 0) break;
    const gt = value.indexOf(">", lt + 1);
    if (gt < 0) break;
    const inner = value.slice(lt + 1, gt).trim();
    if (inner.includes("@") && !/\s/.test(inner)) out.push(inner);
    i = gt + 1;
  }
  if (out.length) return out;
  for (const word of value.split(/[\s,;]+/))
    if (word.includes("@") && !word.includes("<")) out.push(word.replace(/^"|"$/g, ""));
  return out;
}
