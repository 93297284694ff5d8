// The client's types are generated from the OpenAPI document the server builds: regenerated here from a live
// server (PostgreSQL), they must equal the committed src/client/schema.ts, so a route added or changed without
// regenerating fails CI.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CLIENT_SCHEMA_PATH, REGENERATE_COMMAND, renderClientSchema } from "../../scripts/client-schema.js";
import { apiPerFile } from "../api/helpers.js";

const server = apiPerFile();

describe("the typed client's schema", () => {
  it("equals what openapi-typescript makes of the live server's /v1/openapi.json", async () => {
    const doc = await server.openApi();
    const fresh = await renderClientSchema(doc);
    const committed = readFileSync(CLIENT_SCHEMA_PATH, "utf8");
    if (fresh !== committed) {
      const a = committed.split("\n");
      const b = fresh.split("\n");
      const line = a.findIndex((l, i) => l !== b[i]);
      expect.fail(
        `${CLIENT_SCHEMA_PATH} is out of date with the API's OpenAPI document (first difference at line ${line + 1}: ` +
          `committed ${JSON.stringify(a[line])}, now ${JSON.stringify(b[line])}). Run \`${REGENERATE_COMMAND}\` and commit it.`,
      );
    }
  });

  it("covers every operation of the document (each path and method has its type)", async () => {
    const doc = (await server.openApi()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const schema = readFileSync(CLIENT_SCHEMA_PATH, "utf8");
    for (const [path, ops] of Object.entries(doc.paths)) {
      expect(schema, path).toContain(`"${path}": {`);
      for (const method of Object.keys(ops))
        expect(schema, `${method} ${path}`).toMatch(new RegExp(`^ {8}${method}: \\{`, "m"));
    }
  });
});
