// Content-Type values (type and parameters, RFC 2231 continuations) and the kinds of content the scanner tells apart.
import { decodeCharset } from "../charset.js";

/** Enclosed messages: parsed as one sub-part. */
export const ENCLOSURE = new Set(["message/rfc822", "message/global", "message/rfc2822", "message/partial"]);
export const HEADERS_ONLY = new Set(["text/rfc822-headers", "message/global-headers", "text/rfc822-header"]);
export const REPORT_PARTS = new Set([
  "message/delivery-status",
  "message/global-delivery-status",
  "message/feedback-report",
  "message/disposition-notification",
  "message/global-disposition-notification",
]);

/** A type/subtype alone (made once: a regex literal in a function is a new object on each call). */
const PLAIN_TYPE = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/;

/** Split `type/subtype; a=b; c="d"` into a lower-cased type and lower-cased parameter names. */
export function parseContentType(value: string | undefined): {
  type: string;
  params: Record<string, string>;
} {
  const params: Record<string, string> = {};
  if (!value) return { type: "text/plain", params };
  const semi = value.indexOf(";");
  let type = (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase();
  let rest = semi >= 0 ? value.slice(semi + 1) : undefined;
  if (!PLAIN_TYPE.test(type)) {
    // Folded without `;` (`text/plain charset=...`): the type is the first word, the rest its parameters.
    const folded = /^\s*([a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+)\s+([^\s=]+\s*=[^]*)$/i.exec(
      semi < 0 ? value : value.slice(0, semi),
    );
    if (folded) {
      type = folded[1]!.toLowerCase();
      rest = folded[2]! + (semi >= 0 ? ";" + value.slice(semi + 1) : "");
    } else type = type.includes("/") ? type.replace(/\s+/g, "") : "text/plain";
  }
  if (rest !== undefined) parseParams(rest, params);
  return { type, params };
}

const PARAM = /\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"?|[^;]*)\s*;?/y;

function parseParams(s: string, out: Record<string, string>): void {
  PARAM.lastIndex = 0;
  let continued: Record<string, string[]> | undefined;
  let guard = 0;
  while (PARAM.lastIndex < s.length && guard++ < 64) {
    const start = PARAM.lastIndex;
    const m = PARAM.exec(s);
    if (!m) {
      const next = s.indexOf(";", start);
      if (next < 0) break;
      PARAM.lastIndex = next + 1;
      continue;
    }
    const name = m[1]!.toLowerCase();
    let v = m[2]!.trim();
    if (v.startsWith('"')) {
      v = v.slice(1, v.endsWith('"') && v.length > 1 ? -1 : undefined);
      if (v.includes("\\")) v = v.replace(/\\(.)/g, "$1");
    }
    const cont = name.includes("*") ? /^(.+?)\*(\d+)?\*?$/.exec(name) : null;
    if (cont) {
      const base = cont[1]!;
      ((continued ??= {})[base] ??= []).push(v);
    } else if (out[name] === undefined) out[name] = v;
  }
  if (continued) joinContinuations(continued, out);
}

/** RFC 2231 parameter continuations (`name*0=`, `name*1*=`) and their charset'lang'%xx encoding. */
function joinContinuations(continued: Record<string, string[]>, out: Record<string, string>): void {
  for (const [name, pieces] of Object.entries(continued)) {
    let v = pieces.join("");
    const ext = /^([^']*)'[^']*'(.*)$/.exec(v);
    if (ext) {
      try {
        v = decodeCharset(
          Buffer.from(decodeURIComponent(ext[2]!.replace(/%(?![0-9a-fA-F]{2})/g, "%25")), "utf8").toString(
            "latin1",
          ),
          ext[1] || "utf-8",
        );
      } catch {
        v = ext[2]!;
      }
    }
    if (!(name in out)) out[name] = v;
  }
}

/** Content whose body is text the parsers read (decoded when read). */
export function isTextual(type: string): boolean {
  return type.startsWith("text/") || REPORT_PARTS.has(type) || type === "message/external-body";
}
