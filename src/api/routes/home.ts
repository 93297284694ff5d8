// GET /: where to go from here (the console, the API's documentation), for a person who opens the API's URL.
import type { FastifyInstance } from "fastify";
import type { ApiDeps } from "../deps.js";

export default async function home(app: FastifyInstance, _deps: ApiDeps): Promise<void> {
  app.get(
    "/",
    {
      schema: {
        tags: ["health"],
        summary: "Where to go: the console, the API's documentation and its OpenAPI description",
        security: [],
        response: {
          200: {
            type: "object",
            required: ["name", "console", "docs", "openapi", "health"],
            additionalProperties: false,
            properties: {
              name: { type: "string" },
              console: { type: "string", description: "The web console" },
              docs: { type: "string", description: "The API's documentation (browsable)" },
              openapi: { type: "string", description: "The OpenAPI 3 description" },
              health: { type: "string", description: "The liveness check" },
            },
          },
        },
      },
    },
    async () => ({
      name: "Rebound",
      console: "/console",
      docs: "/docs",
      openapi: "/v1/openapi.json",
      health: "/healthz",
    }),
  );
}
