// A light, bounded MIME scanner: raw bytes -> the parts the report parsers need (ParsedMail).
// Works on a "binary string" (one char per byte) with line endings normalised to LF; decodes only text leaves
// and enclosed messages, lazily decodes header values, and stops at fixed limits (depth, parts, header lines,
// decoded bytes) so that any input is parsed in bounded time and memory.
// The pieces live in mime/: headers.ts (header blocks), content-type.ts, transfer.ts (transfer decoding and the raw
// mail as a binary string), entity.ts (entities and multiparts), html.ts, view.ts (the parsed view) and
// inline-original.ts (an original quoted in the text).
import { isAscii } from "node:buffer";
import { hasHighBytes } from "./charset.js";
import type { ParsedMail } from "./mail.js";
import { parseEntity, type Budget } from "./mime/entity.js";
import { DEFAULT_LIMITS, type MimeLimits } from "./mime/limits.js";
import { toBinaryString } from "./mime/transfer.js";
import { mailOf } from "./mime/view.js";

export { parseContentType } from "./mime/content-type.js";
export { emptyHeaders, parseHeaderBlock } from "./mime/headers.js";
export { htmlToText } from "./mime/html.js";
export { findInlineOriginal } from "./mime/inline-original.js";
export { DEFAULT_LIMITS, type MimeLimits } from "./mime/limits.js";
export { decodeBase64, decodeQuotedPrintable, normaliseNewlines, toBinaryString } from "./mime/transfer.js";
export { enclosedMessage, mailOf } from "./mime/view.js";

/** Parse a raw mail. Pure and bounded; throws only on internal errors (classify() catches them). */
export function parseMail(raw: Buffer | string, limits: MimeLimits = DEFAULT_LIMITS): ParsedMail {
  const src = toBinaryString(raw, limits.maxMailBytes);
  const ascii =
    typeof raw === "string"
      ? !hasHighBytes(src)
      : isAscii(raw.length > limits.maxMailBytes ? raw.subarray(0, limits.maxMailBytes) : raw);
  const budget: Budget = { parts: 0, limits, ascii: ascii ? [src] : [] };
  return mailOf(parseEntity(src, 0, src.length, 0, budget));
}
