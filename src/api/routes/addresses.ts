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
          properties: { address: { type: "string", minLength: 1, maxLength: 320 } },
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
            additionalProperties: false,
            properties: {
              addressSha256: { type: "string", description: "SHA-256 (hex) of the normalised address" },
              eventsDeleted: { type: "integer" },
              mailsPurged: { type: "integer" },
              suppressionsKept: { type: "integer", description: "Suppressions that stay, by hash" },
              logRowsRedacted: { type: "integer" },
              webhookPayloadsRedacted: { type: "integer" },
            },
          },
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
      return { addressSha256: a.hash, ...r };
    },
  );
}
