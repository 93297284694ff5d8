// The OpenAPI 3 description, built by @fastify/swagger from the routes' own schemas, served at
// `/v1/openapi.json`; a human docs page (Swagger UI, served from the package, nothing fetched at run time)
// at `/docs`.
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance } from "fastify";

export const API_DESCRIPTION = `Rebound's sender-facing API.

**Authentication**: every \`/v1\` route needs an API key, sent as \`Authorization: Bearer TOKEN\`, but the ESP
webhooks (\`/v1/ingest/*\`), which their providers' signatures authenticate. Keys are
created by operators with \`rebound keys create --tenant T --scopes read,write,admin\` (or \`POST /v1/keys\` with
an admin key; the first start of the embedded default makes one) and are bound to one
tenant: a key sees and changes only its tenant's data. Scopes: \`read\` (lookups, lists, exports), \`write\`
(adds, removals, imports; implies read), \`admin\` (implies write).

**Rate limits**: per key, answered with \`429\` and a \`Retry-After\` header (seconds).

**Errors**: every 4xx and 5xx answer has one shape:
\`{ "error": { "code": "validation_failed", "message": "...", "details": ... } }\`. Unknown fields in a body or
query string are refused (\`validation_failed\`), as are malformed JSON (\`malformed_json\`), wrong content types
(\`unsupported_media_type\`), bodies over the limit (\`payload_too_large\`, 413), invalid addresses
(\`invalid_address\`) and altered pagination cursors (\`invalid_cursor\`).

**Addresses** are normalised one way everywhere: trimmed, domain lower-cased and IDN-folded to punycode, local
part lower-cased (unless the deployment keeps local parts case-sensitive).

**Suppressions** are per tenant and stream; a suppression in stream \`*\` applies to every stream. An expired
suppression no longer applies.`;

const LIST = { schema: { type: "string" } };
const LIST_BODIES = { "text/csv": LIST, "application/x-ndjson": LIST };

/**
 * Streamed bodies and answers, which the routes' schemas cannot declare (a body schema would make fastify
 * validate the stream as JSON): method and path, and what to add to their description.
 */
const STREAMED: {
  method: "get" | "post";
  path: string;
  body?: boolean;
  answer?: Record<string, unknown>;
  /** An NDJSON body beside the JSON one the route's schema declares. */
  ndjson?: boolean;
}[] = [
  { method: "post", path: "/v1/sends", ndjson: true },
  { method: "post", path: "/v1/clean", body: true, answer: LIST_BODIES },
  { method: "post", path: "/v1/suppressions/import", body: true },
  { method: "get", path: "/v1/exports/suppressions", answer: LIST_BODIES },
  { method: "get", path: "/metrics", answer: { "text/plain": LIST } },
];

type OpenApiDoc = { paths?: Record<string, Record<string, Record<string, unknown>>> };

export function describeStreams<T>(doc: T): T {
  const paths = (doc as OpenApiDoc).paths ?? {};
  for (const s of STREAMED) {
    const op = paths[s.path]?.[s.method];
    if (!op) continue;
    if (s.body) op.requestBody = { required: true, content: LIST_BODIES };
    if (s.ndjson) {
      const body = (op.requestBody ?? { required: true, content: {} }) as {
        content: Record<string, unknown>;
      };
      body.content["application/x-ndjson"] = {
        schema: {
          type: "string",
          description: "One record a line, each of the shapes of the JSON body's items",
        },
      };
      op.requestBody = body;
    }
    if (s.answer) {
      const responses = (op.responses ?? {}) as Record<string, Record<string, unknown>>;
      responses["200"] = {
        ...responses["200"],
        description:
          s.path === "/metrics" ? "Prometheus text" : "The list, streamed, in the format asked for",
        content: s.answer,
      };
      op.responses = responses;
    }
  }
  return doc;
}

export async function installOpenApi(app: FastifyInstance, version: string): Promise<void> {
  await app.register(swagger, {
    // Shared schemas (`Error`, `Suppression`) keep their names in components.schemas.
    refResolver: {
      buildLocalReference: (json, _base, _fragment, i) =>
        typeof json.$id === "string" ? json.$id : `def-${i}`,
    },
    openapi: {
      openapi: "3.0.3",
      info: { title: "Rebound API", version, description: API_DESCRIPTION },
      components: {
        securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "An API key token" } },
      },
      security: [{ bearer: [] }],
    },
    transformObject: (d) => describeStreams("openapiObject" in d ? d.openapiObject : d.swaggerObject),
  });
  await app.register(swaggerUi, { routePrefix: "/docs", staticCSP: true });
  app.get("/v1/openapi.json", { schema: { hide: true } }, async () => app.swagger());
}
