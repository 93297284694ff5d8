// What the report routes (DMARC rows and reports, TLS reports) share: a page of rows newest first behind a signed
// cursor, its query parameters and response schema, the dates of a stored report, and a CSV export route streamed
// a page of rows at a time.
import { Readable } from "node:stream";
import type { FastifyInstance, FastifyReply } from "fastify";
import { requireScope } from "./auth.js";
import { decodeCursor, encodeCursor } from "./cursor.js";

/** The `limit` and `cursor` query parameters of a paged listing. */
export const PAGE_PARAMS = {
  limit: { type: "integer", minimum: 1, maximum: 1000, default: 100 },
  cursor: { type: "string", maxLength: 512, description: "`nextCursor` of the previous page" },
} as const;

/** The 200 schema of a page: `{ data: [items], nextCursor }`. */
export const pageSchema = <T extends object>(items: T) =>
  ({
    type: "object",
    required: ["data", "nextCursor"],
    additionalProperties: false,
    properties: { data: { type: "array", items }, nextCursor: { type: ["string", "null"] } },
  }) as const;

export interface PageRequest<F extends object, R extends { id: string }> {
  /** The key's secret (cursors are signed with it) and what the cursor is for, with the filters. */
  secret: string;
  listing: string;
  filter: F;
  limit: number;
  cursor: string | undefined;
  /** Rows after `afterId` (all from the first), at most `limit`, newest first. */
  list(q: F & { limit: number; afterId: string | undefined }): Promise<R[]>;
}

/** One page of rows, and the cursor of the next when there is one (a cursor only works with the same filters). */
export async function cursorPage<F extends object, R extends { id: string }, P>(
  p: PageRequest<F, R>,
  present: (r: R) => P,
): Promise<{ data: P[]; nextCursor: string | null }> {
  const digest = { listing: p.listing, ...p.filter } as Record<string, unknown>;
  const afterId = p.cursor ? decodeCursor(p.secret, p.cursor, digest) : undefined;
  const rows = await p.list({ ...p.filter, limit: p.limit + 1, afterId });
  const page = rows.slice(0, p.limit);
  const last = page[page.length - 1];
  return {
    data: page.map(present),
    nextCursor: rows.length > p.limit && last ? encodeCursor(p.secret, last.id, digest) : null,
  };
}

/** A stored report as the API shows it: its dates as RFC 3339 text (a refused report may have none). */
export const presentReport = <R extends { dateBegin: Date | null; dateEnd: Date | null; receivedAt: Date }>(
  r: R,
) => ({
  ...r,
  dateBegin: r.dateBegin?.toISOString() ?? null,
  dateEnd: r.dateEnd?.toISOString() ?? null,
  receivedAt: r.receivedAt.toISOString(),
});

/** Stream a CSV export: the header, then the lines of each page of rows (`pageSize` per query). */
export function sendCsv<R extends { id: string }>(
  reply: FastifyReply,
  o: {
    filename: string;
    columns: readonly string[];
    pageSize: number;
    list(afterId: string | undefined): Promise<R[]>;
    lines(r: R): string;
  },
): FastifyReply {
  async function* lines() {
    yield o.columns.join(",") + "\r\n";
    let afterId: string | undefined;
    for (;;) {
      const rows = await o.list(afterId);
      if (rows.length) yield rows.map(o.lines).join("");
      if (rows.length < o.pageSize) return;
      afterId = rows[rows.length - 1]!.id;
    }
  }
  reply.type("text/csv; charset=utf-8").header("content-disposition", `attachment; filename="${o.filename}"`);
  return reply.send(Readable.from(lines()));
}

/**
 * `GET path` (read scope, tagged `exports`): the rows that the listing's filters select, streamed as CSV
 * (`sendCsv`, `pageSize` rows per query).
 */
export function csvExportRoute<Q, F extends object, R extends { id: string }>(
  app: FastifyInstance,
  o: {
    path: string;
    summary: string;
    description: string;
    /** The listing's filter parameters (its querystring, without the page's). */
    filterProps: Record<string, object>;
    filterOf(tenant: string, q: Q): F;
    list(q: F & { limit: number; afterId: string | undefined }): Promise<R[]>;
    filename: string;
    columns: readonly string[];
    pageSize: number;
    lines(r: R): string;
  },
): void {
  app.get<{ Querystring: Q }>(
    o.path,
    {
      preHandler: requireScope("read"),
      schema: {
        tags: ["exports"],
        summary: o.summary,
        description: o.description,
        querystring: { type: "object", additionalProperties: false, properties: o.filterProps },
      },
    },
    async (request, reply) => {
      const filter = o.filterOf(request.auth.tenant, request.query as Q);
      return sendCsv(reply, {
        filename: o.filename,
        columns: o.columns,
        pageSize: o.pageSize,
        list: (afterId) => o.list({ ...filter, limit: o.pageSize, afterId }),
        lines: o.lines,
      });
    },
  );
}
