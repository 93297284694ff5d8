// DELETE /v1/addresses/{address}: erasure (privacy law). Removes the address's events and the raw mails that
// spoke of it; its suppressions stay as hashed tombstones, so the address stays suppressed and lookups still
// find it (they go by hash).
import type { FastifyInstance } from "fastify";
import { eraseAddress } from "../../store/erasure.js";
import { addressOrThrow } from "../address.js";
import { requireScope } from "../auth.js";
import type { ApiDeps } from "../deps.js";

export default async function addresses(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const now = deps.now ?? (() => new Date());

  app.delete<{ Params: { address: string }; Querystring: { allTenants: boolean } }>(
    "/addresses/:address",
    {
      preHandler: requireScope("admin"),
      schema: {
        tags: ["addresses"],
        summary: "Erase an address (privacy law), keeping it suppressed by hash",
        description:
          "Deletes the address's events, purges the raw bytes of every mail that names it (the mails its events " +
          "came from, their twins stored with the same digest, mails whose envelope names it; their metadata " +
          "stays, the envelope redacted), redacts it from webhook payloads, and nulls the address in suppressions " +
          "and their log while keeping the hash of the normalised address: a suppressed address stays " +
          "suppressed. In the key's tenant, or in every tenant with `allTenants=true`. Needs `admin`.",
        params: {
          type: "object",
          required: ["address"],
          properties: { address: { type: "string", maxLength: 400 } },
        },
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            allTenants: {
              type: "boolean",
              default: false,
              description: "Erase the address from every tenant, not only the key's",
            },
          },
        },
        response: {
          200: {
            type: "object",
            properties: {
              address_hash: { type: "string" },
              events_deleted: { type: "integer" },
              mails_purged: { type: "integer" },
              suppressions_kept: { type: "integer", description: "Suppressions that stay, by hash" },
              log_rows_redacted: { type: "integer" },
              webhook_payloads_redacted: { type: "integer" },
            },
          },
          400: { $ref: "Error#" },
          401: { $ref: "Error#" },
          403: { $ref: "Error#" },
        },
      },
    },
    async (request) => {
      const a = addressOrThrow(request.params.address, deps.config.caseSensitiveLocalPart);
      const r = await eraseAddress(deps.db, {
        tenant: request.query.allTenants ? null : request.auth.tenant,
        address: a.address,
        addressHash: a.hash,
        actor: `api:${request.auth.keyId}`,
        now: now(),
      });
      request.log.info(
        { tenant: request.query.allTenants ? "*" : request.auth.tenant, addressHash: a.hash, ...r },
        "address erased",
      );
      return {
        address_hash: a.hash,
        events_deleted: r.eventsDeleted,
        mails_purged: r.mailsPurged,
        suppressions_kept: r.suppressionsKept,
        log_rows_redacted: r.logRowsRedacted,
        webhook_payloads_redacted: r.webhookPayloadsRedacted,
      };
    },
  );
}
