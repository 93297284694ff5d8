import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { bulkRecords, type BulkFormat, type BulkLimits } from "../../src/api/bulk.js";
import { csvField } from "../../src/api/csv.js";
import { ApiError } from "../../src/api/errors.js";

/** The records of a body sent in chunks of `size` characters. */
async function readAll(text: string, size: number, format: BulkFormat = "csv", limits?: BulkLimits) {
  const chunks: Buffer[] = [];
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  const out = [];
  for await (const batch of bulkRecords(Readable.from(chunks), format, limits, 2))
    out.push(...batch.map(({ line, fields, raw }) => ({ line, fields, raw })));
  return out;
}

const TEXT =
  '\ufeffemail,name\r\na@example.com,"Smith, ""Ann"""\r\nb@example.com,"two\nlines"\nc@example.com,plain\n\nd@example.com,a"b\né@example.com,ünï';

describe("reading CSV bodies", () => {
  it("reads quoted fields, doubled quotes, line breaks in quotes, CRLF and a last line without a break, whatever the chunking", async () => {
    const want = [
      { line: 1, fields: ["email", "name"], raw: "email,name" },
      { line: 2, fields: ["a@example.com", 'Smith, "Ann"'], raw: 'a@example.com,"Smith, ""Ann"""' },
      { line: 3, fields: ["b@example.com", "two\nlines"], raw: 'b@example.com,"two\nlines"' },
      { line: 5, fields: ["c@example.com", "plain"], raw: "c@example.com,plain" },
      { line: 7, fields: ["d@example.com", 'a"b'], raw: 'd@example.com,a"b' },
      { line: 8, fields: ["é@example.com", "ünï"], raw: "é@example.com,ünï" },
    ];
    // Chunks of 1 and 3 bytes split the BOM and the two-byte characters.
    for (const size of [1, 2, 3, 7, 1000]) expect(await readAll(TEXT, size)).toEqual(want);
  });

  it("refuses a record longer than the limit with a 413 naming its line, quoted or not", async () => {
    const limits = { maxBytes: Infinity, maxRecordChars: 300 };
    for (const long of ["x".repeat(1000), `"${"y".repeat(1000)}`, `"${"z,".repeat(500)}"`]) {
      const err = await readAll(`email\na@example.com\n${long}\nb@example.com\n`, 64, "csv", limits).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ApiError);
      expect(err).toMatchObject({ statusCode: 413, code: "payload_too_large", details: { line: 3 } });
      expect((err as Error).message).toMatch(/^line 3: a record longer than 300 characters/);
    }
    const nd = await readAll(`{"a":1}\n{"b":"${"q".repeat(1000)}"}\n`, 64, "ndjson", limits).catch(
      (e: unknown) => e,
    );
    expect(nd).toMatchObject({ statusCode: 413, details: { line: 2, maxRecordChars: 300 } });
    // A last line without a break, over the limit, is refused too.
    const last = await readAll(`{"a":1}\n${"q".repeat(1000)}`, 7, "ndjson", limits).catch((e: unknown) => e);
    expect(last).toMatchObject({ statusCode: 413, details: { line: 2 } });
  });

  it("refuses a body larger than the limit with a 413, and an unclosed quote at the end with a 400", async () => {
    const big = await readAll("email\n" + "a@example.com\n".repeat(100), 50, "csv", {
      maxBytes: 500,
      maxRecordChars: 1000,
    }).catch((e: unknown) => e);
    expect(big).toMatchObject({ statusCode: 413, code: "payload_too_large", details: { maxBytes: 500 } });
    const open = await readAll('email\na@example.com\n"b@example.com', 5).catch((e: unknown) => e);
    expect(open).toMatchObject({ statusCode: 400, code: "bad_request", details: { line: 3 } });
  });

  it("reads NDJSON lines with their numbers, skipping empty ones, whatever the chunking", async () => {
    const text = '{"email":"a@example.com"}\r\n\n[1]\n{"email":"é@example.com"}\nnot json';
    for (const size of [1, 3, 1000]) {
      const got = await readAll(text, size, "ndjson");
      expect(got.map((r) => [r.line, r.raw])).toEqual([
        [1, '{"email":"a@example.com"}'],
        [3, "[1]"],
        [4, '{"email":"é@example.com"}'],
        [5, "not json"],
      ]);
    }
  });
});

describe("writing CSV", () => {
  it("quotes a field only when it must, and puts a ' before one a spreadsheet would run as a formula", () => {
    expect([csvField("plain"), csvField("a,b"), csvField('say "hi"'), csvField(null)]).toEqual([
      "plain",
      '"a,b"',
      '"say ""hi"""',
      "",
    ]);
    expect(["=1+1", "+1", "-1", "@x", "\tx", "\rx", "a=b"].map(csvField)).toEqual([
      "'=1+1",
      "'+1",
      "'-1",
      "'@x",
      "'\tx",
      '"\'\rx"',
      "a=b",
    ]);
  });
});
