import { describe, expect, it } from "vitest";
import { apiPerFile } from "./helpers.js";

const server = apiPerFile();

describe("the OpenAPI document", () => {
  it("describes the streamed CSV and NDJSON bodies and answers of list cleaning, imports and exports", async () => {
    const spec = await server.openApi();
    const media = ["text/csv", "application/x-ndjson"];
    const clean = spec.paths["/v1/clean"].post;
    expect(Object.keys(clean.requestBody.content)).toEqual(media);
    expect(Object.keys(clean.responses["200"].content)).toEqual(media);
    expect(Object.keys(spec.paths["/v1/suppressions/import"].post.requestBody.content)).toEqual(media);
    const exp = spec.paths["/v1/exports/suppressions"].get;
    expect(Object.keys(exp.responses["200"].content)).toEqual(media);
    // The JSON-described parts are still there.
    expect(exp.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(["format"]));
  });

  it("describes POST /v1/sends with its JSON body (message and counts records), an NDJSON body and its answer", async () => {
    const spec = await server.openApi();
    const op = spec.paths["/v1/sends"].post;
    expect(Object.keys(op.requestBody.content).sort()).toEqual(["application/json", "application/x-ndjson"]);
    const items = op.requestBody.content["application/json"].schema.properties.sends.items.anyOf;
    expect(items.map((i: { required: string[] }) => i.required)).toEqual([
      ["recipient", "stream", "messageId", "sentAt"],
      ["stream", "hour", "count"],
    ]);
    expect(Object.keys(op.responses["200"].content["application/json"].schema.properties)).toContain(
      "errors",
    );
    expect(op.parameters.map((p: { name: string }) => p.name)).toEqual(["batchId"]);
  });
});
