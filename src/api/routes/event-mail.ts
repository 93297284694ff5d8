// GET /v1/events/{id}/mail: the raw bounce or complaint behind an event, decoded for display (mailparser), with
// the line that decided it. The console shows it beside an address's history.
import { simpleParser } from "mailparser";
import type { FastifyInstance } from "fastify";
import { decisiveLine } from "../../core/decisive-line.js";
import { eventMail } from "../../store/event-mail.js";
import { requireScope } from "../auth.js";
import { everyField } from "../json-schema.js";
import type { ApiDeps } from "../deps.js";
import { ApiError } from "../errors.js";

/** The most raw bytes answered (the head of a bigger mail; its report parts come first in practice). */
export const MAX_RAW_BYTES = 256 * 1024;
/** The most characters of each decoded text body answered. */
export const MAX_TEXT_CHARS = 64 * 1024;

const nullableString = { type: ["string", "null"] } as const;

/** Valid UTF-8 as it is; anything else byte for byte as Latin-1 (what the bytes are is always shown). */
function asText(raw: Buffer): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(raw);
  } catch {
    return raw.toString("latin1");
  }
}

const cap = (s: string | null | undefined) => (s == null ? null : s.slice(0, MAX_TEXT_CHARS));

export default async function eventMailRoute(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  app.get<{ Params: { id: string } }>(
    "/events/:id/mail",
    {
      preHandler: requireScope("read"),
      schema: {
        tags: ["events"],
        summary: "The raw mail behind an event, decoded, with the line that decided it",
        description: `The bytes as text (UTF-8 when they are, Latin-1 otherwise), at most ${MAX_RAW_BYTES} bytes
(\`truncated\` says when there was more); the message decoded by mailparser (text bodies at most ${MAX_TEXT_CHARS}
characters; the HTML body is given as text and never rendered by the console); and \`decisive\`: the line of \`raw\`
(1-based) carrying the diagnostic the classifier read, or the report's Diagnostic-Code, Status or Feedback-Type.
404 for an event of another tenant, an event reported through the API (no mail), or a mail whose raw bytes retention
removed (REBOUND_RAW_RETENTION_DAYS).`,
        params: {
          type: "object",
          required: ["id"],
          additionalProperties: false,
          properties: { id: { type: "string", pattern: "^[0-9]{1,18}$", description: "The event's id" } },
        },
        response: {
          200: {
            type: "object",
            additionalProperties: false,
            required: ["mailId", "raw", "truncated", "decoded", "decisive"],
            properties: {
              mailId: { type: "string" },
              raw: { type: "string" },
              truncated: { type: "boolean" },
              decoded: everyField({
                type: "object",
                additionalProperties: false,
                properties: {
                  subject: nullableString,
                  from: nullableString,
                  to: nullableString,
                  date: { type: ["string", "null"], format: "date-time" },
                  text: nullableString,
                  html: nullableString,
                  attachments: {
                    type: "array",
                    items: everyField({
                      type: "object",
                      additionalProperties: false,
                      properties: {
                        filename: nullableString,
                        contentType: { type: "string" },
                        size: { type: "integer" },
                      },
                    }),
                  },
                },
              }),
              decisive: everyField({
                type: "object",
                additionalProperties: false,
                properties: { line: { type: ["integer", "null"] }, text: nullableString },
              }),
            },
          },
        },
      },
    },
    async (request) => {
      const mail = await eventMail(deps.db, request.auth.tenant, request.params.id);
      if (!mail) throw new ApiError(404, "not_found", `no event ${request.params.id} with a mail behind it`);
      if (!mail.raw)
        throw new ApiError(
          404,
          "not_found",
          `the raw mail of event ${request.params.id} was removed by retention` +
            (mail.rawPurgedAt ? ` on ${mail.rawPurgedAt.toISOString()}` : ""),
        );
      const bytes = mail.raw.subarray(0, MAX_RAW_BYTES);
      const raw = asText(bytes);
      const parsed = await simpleParser(bytes, { skipImageLinks: true, skipTextToHtml: true });
      const addr = (a: typeof parsed.from | typeof parsed.to) =>
        a === undefined ? null : Array.isArray(a) ? a.map((x) => x.text).join(", ") : a.text;
      return {
        mailId: mail.mailId,
        raw,
        truncated: mail.raw.length > MAX_RAW_BYTES,
        decoded: {
          subject: parsed.subject ?? null,
          from: addr(parsed.from),
          to: addr(parsed.to),
          date: parsed.date && !Number.isNaN(parsed.date.getTime()) ? parsed.date.toISOString() : null,
          text: cap(parsed.text),
          html: typeof parsed.html === "string" ? cap(parsed.html) : null,
          attachments: parsed.attachments.map((a) => ({
            filename: a.filename ?? null,
            contentType: a.contentType,
            size: a.size,
          })),
        },
        decisive: decisiveLine(raw, mail),
      };
    },
  );
}
