// A tiny MIME reader for the lhost tests: raw text -> ParsedMail (the contract of src/core/mail.ts).
// Enough for the small fixtures of these tests; the project's real reader is src/core/mime.ts.
import iconv from "iconv-lite";
import type { Headers, MailPart, ParsedMail } from "../../../src/core/mail.js";

function splitHead(raw: string): [string, string] {
  const m = /\r?\n\r?\n|\r\r/.exec(raw);
  if (!m) return [raw, ""];
  return [raw.slice(0, m.index), raw.slice(m.index + m[0].length)];
}

function decodeWords(v: string): string {
  return v.replace(
    /=\?([^?]+)\?([bqBQ])\?([^?]*)\?=(\s+(?==\?))?/g,
    (_, cs: string, enc: string, data: string) => {
      const buf =
        enc.toLowerCase() === "b"
          ? Buffer.from(data, "base64")
          : Buffer.from(
              data
                .replace(/_/g, " ")
                .replace(/=([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
              "latin1",
            );
      const c = cs.replace(/\*.*$/, "");
      return iconv.encodingExists(c) ? iconv.decode(buf, c) : buf.toString("utf8");
    },
  );
}

function parseContentType(v: string): { value: string; params: Record<string, string> } {
  const [value = "", ...rest] = v.split(";");
  const params: Record<string, string> = {};
  for (const r of rest) {
    const i = r.indexOf("=");
    if (i > 0)
      params[r.slice(0, i).trim().toLowerCase()] = r
        .slice(i + 1)
        .trim()
        .replace(/^"(.*)"$/, "$1");
  }
  return { value: value.trim(), params };
}

function parseHeaders(head: string): Headers {
  const list: [string, string][] = [];
  for (const line of head.split(/\r\n|\r|\n/)) {
    if ((/^[ \t]/.test(line) || !/^[^\s:]+:/.test(line)) && list.length > 0) {
      const last = list[list.length - 1]!;
      last[1] += " " + line.trim();
    } else {
      const i = line.indexOf(":");
      if (i > 0) list.push([line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim()]);
    }
  }
  const decoded = list.map(([k, v]): [string, string] => {
    return [k, decodeWords(v)];
  });
  return {
    get: (n) => decoded.find(([k]) => k === n.toLowerCase())?.[1],
    getAll: (n) => decoded.filter(([k]) => k === n.toLowerCase()).map(([, v]) => v),
    entries: () => decoded,
  };
}

function decodeBody(body: string, cte: string, charset: string): string {
  let buf: Buffer;
  if (cte === "base64") buf = Buffer.from(body.replace(/[^A-Za-z0-9+/=]/g, ""), "base64");
  else if (cte === "quoted-printable")
    buf = Buffer.from(
      body
        .replace(/=\r?\n/g, "")
        .replace(/=([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
      "latin1",
    );
  else buf = Buffer.from(body, "latin1");
  const cs = charset || "utf-8";
  return iconv.encodingExists(cs) ? iconv.decode(buf, cs) : buf.toString("utf8");
}

function parsePart(raw: string, depth = 0): MailPart {
  const [head, body] = splitHead(raw);
  const headers = parseHeaders(head);
  const ct = headers.get("content-type") ?? "text/plain";
  const parsed = parseContentType(ct);
  const contentType = (parsed.value || "text/plain").toLowerCase();
  const params = parsed.params;
  const cte = (headers.get("content-transfer-encoding") ?? "").toLowerCase().trim();
  const part: MailPart = { headers, contentType, params, body: "", parts: [] };
  if (contentType.startsWith("multipart/") && params.boundary && depth < 20) {
    const b = "--" + params.boundary;
    const chunks = body.split(b);
    for (const c of chunks.slice(1)) {
      if (c.startsWith("--")) break;
      part.parts.push(parsePart(c.replace(/^[^\r\n]*(\r\n|\r|\n)/, ""), depth + 1));
    }
  } else if (contentType === "message/rfc822" || contentType === "message/global") {
    part.body = body;
    part.parts.push(parsePart(body, depth + 1));
  } else if (contentType.startsWith("text/") || contentType.startsWith("message/")) {
    part.body = decodeBody(body, cte, params.charset ?? "");
  }
  return part;
}

function walk(p: MailPart, f: (p: MailPart) => void): void {
  f(p);
  for (const c of p.parts) walk(c, f);
}

export function parseForTest(raw: string): ParsedMail {
  const root = parsePart(raw);
  let text = "";
  let statusText: string | undefined;
  let originalHeaders: Headers | undefined;
  let originalBody: string | undefined;
  const reportType =
    root.contentType === "multipart/report" ? root.params["report-type"]?.toLowerCase() : undefined;
  const inOriginal = new Set<MailPart>();
  walk(root, (p) => {
    if (inOriginal.has(p)) {
      for (const c of p.parts) inOriginal.add(c);
      return;
    }
    if (p.contentType === "message/rfc822" || p.contentType === "message/global") {
      const inner = p.parts[0];
      if (inner && !originalHeaders) {
        originalHeaders = inner.headers;
        originalBody = inner.body;
      }
      for (const c of p.parts) inOriginal.add(c);
      return;
    }
    if (p.contentType === "text/rfc822-headers" && !originalHeaders) {
      originalHeaders = parseHeaders(p.body);
      return;
    }
    if (p.contentType === "message/delivery-status" || p.contentType === "message/feedback-report") {
      statusText ??= p.body;
      return;
    }
    if (!text && p.contentType === "text/plain" && p.parts.length === 0) text = p.body;
  });
  if (!text) {
    walk(root, (p) => {
      if (!text && p.contentType === "text/html" && !inOriginal.has(p))
        text = p.body.replace(/<br\s*\/?>|<\/p>|<\/div>|<\/tr>/gi, "\n").replace(/<[^>]+>/g, "");
    });
  }
  return { headers: root.headers, root, text, reportType, statusText, originalHeaders, originalBody };
}
