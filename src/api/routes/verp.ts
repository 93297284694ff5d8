// POST /v1/verp: mint the signed return path (VERP) of one send, for a recipient and a stream of the key's tenant.
import type { FastifyInstance } from "fastify";
import { encodeVerp, VERP_NAME, VerpError } from "../../core/verp.js";
import { requireScope } from "../auth.js";
import type { ApiDeps } from "../deps.js";
import { ApiError } from "../errors.js";

interface Body {
  recipient: string;
  stream?: string;
  domain?: string;
}

export default async function verp(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const domains = deps.config.domains.map((d) => d.toLowerCase());

  app.post<{ Body: Body }>(
    "/verp",
    {
      preHandler: requireScope("write"),
      schema: {
        tags: ["verp"],
        summary: "Mint a signed return path for a recipient and stream",
        description:
          "Use the answer as the envelope sender (MAIL FROM / Return-Path) of the mail to `recipient`: a bounce or " +
          "complaint sent back to it is attributed to this tenant, stream and recipient, and verified. Long addresses " +
          "get the hashed form (the signature binds the recipient, the bounce must name it). See docs/verp.md.",
        body: {
          type: "object",
          required: ["recipient"],
          additionalProperties: false,
          properties: {
            recipient: { type: "string", minLength: 1, maxLength: 320 },
            stream: {
              type: "string",
              minLength: 1,
              maxLength: 20,
              description: "default: the deployment's default stream",
            },
            domain: {
              type: "string",
              maxLength: 253,
              description: "one of the MX's bounce domains (default: the first)",
            },
          },
        },
        response: {
          200: {
            type: "object",
            required: ["returnPath", "form", "recipient", "stream", "tenant", "domain"],
            additionalProperties: false,
            properties: {
              returnPath: { type: "string" },
              form: { type: "string", enum: ["inline", "hashed"] },
              recipient: { type: "string" },
              stream: { type: "string" },
              tenant: { type: "string" },
              domain: { type: "string" },
            },
          },
        },
      },
    },
    async (request) => {
      const tenant = request.auth.tenant;
      if (deps.config.verpKeys.length === 0)
        throw new ApiError(
          503,
          "not_ready",
          "no VERP key is configured on this deployment (REBOUND_VERP_KEYS)",
        );
      if (tenant !== deps.config.defaultTenant && !VERP_NAME.test(tenant))
        throw new ApiError(
          400,
          "bad_request",
          `tenant "${tenant}" cannot be carried in a return path: tenant names in VERP are 1-20 lower-case letters, digits, "_" or "-"`,
        );
      const domain = (request.body.domain ?? domains[0] ?? "").trim().toLowerCase();
      if (!domains.includes(domain))
        throw new ApiError(
          400,
          "validation_failed",
          `domain "${domain}" is not one of this MX's domains (${domains.join(", ")})`,
        );
      const stream = (request.body.stream ?? deps.config.defaultStream).trim().toLowerCase();
      let returnPath: string;
      try {
        returnPath = encodeVerp(
          {
            recipient: request.body.recipient,
            stream,
            tenant: tenant === deps.config.defaultTenant ? null : tenant,
          },
          deps.config.verpKeys,
          domain,
          // Dated: REBOUND_VERP_MAX_AGE_DAYS can refuse it once old (docs/verp.md).
          { issuedAt: new Date() },
        );
      } catch (err) {
        if (!(err instanceof VerpError)) throw err;
        const code = err.message.startsWith("recipient:") ? "invalid_address" : "validation_failed";
        throw new ApiError(400, code, err.message);
      }
      return {
        returnPath,
        form: returnPath.startsWith("h=") ? "hashed" : "inline",
        recipient: request.body.recipient.trim(),
        stream,
        tenant,
        domain,
      };
    },
  );
}
