// DELETE /v1/addresses/{address}: erasure (privacy law), in every tenant (an admin key's right; or the key's
// tenant alone). Removes the address's events and the raw mails that spoke of it; its suppressions stay as
// tombstones under the address's keyed hash, so the address stays suppressed and lookups still find it.
import type { FastifyInstance } from "fastify";
import { eraseAddress } from "../../store/erasure.js";
import { addressOrThrow } from "../address.js";
import { requireScope } from "../auth.js";
import type { ApiDeps } from "../deps.js";
import { everyField } from "../json-schema.js";

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
          "and their log while keeping the keyed hash of the normalised address: a suppressed address stays " +
          "suppressed. In every tenant, or in the key's alone with `allTenants=false`. Needs `admin`.",
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
              default: true,
              description: "Erase the address from every tenant (default), or only from the key's (false)",
            },
          },
        },
        response: {
          200: everyField({
            type: "object",
            additionalProperties: false,
            properties: {
              addressHash: {
                type: "string",
                description:
                  "The keyed hash of the normalised address (HMAC-SHA256 hex with the server's address key)",
              },
              eventsDeleted: { type: "integer" },
              mailsPurged: { type: "integer" },
              suppressionsKept: { type: "integer", description: "Suppressions that stay, by hash" },
              logRowsRedacted: { type: "integer" },
              webhookPayloadsRedacted: { type: "integer" },
            },
          }),
        },
      },
    },
    async (request) => {
      const a = addressOrThrow(request.params.address, deps);
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
      return { addressHash: a.hash, ...r };
    },
  );
}
