import { describe, expect, it } from "vitest";
import { CsvReader, csvField } from "../../src/api/csv.js";

function readAll(text: string, chunk: number) {
  const r = new CsvReader();
  const out = [];
  for (let i = 0; i < text.length; i += chunk) out.push(...r.push(text.slice(i, i + chunk)));
  out.push(...r.end());
  return out;
}

const TEXT =
  '\ufeffemail,name\r\na@example.com,"Smith, ""Ann"""\r\nb@example.com,"two\nlines"\nc@example.com,plain\nd@example.com,a"b';

describe("CsvReader", () => {
  it("reads quoted fields, doubled quotes, line breaks in quotes, CRLF and a last line without a break, whatever the chunking", () => {
    const want = [
      { fields: ["email", "name"], raw: "email,name" },
      { fields: ["a@example.com", 'Smith, "Ann"'], raw: 'a@example.com,"Smith, ""Ann"""' },
      { fields: ["b@example.com", "two\nlines"], raw: 'b@example.com,"two\nlines"' },
      { fields: ["c@example.com", "plain"], raw: "c@example.com,plain" },
      { fields: ["d@example.com", 'a"b'], raw: 'd@example.com,a"b' },
    ];
    for (const size of [1, 2, 3, 7, 1000]) expect(readAll(TEXT, size)).toEqual(want);
  });

  it("quotes a field only when it must", () => {
    expect([csvField("plain"), csvField("a,b"), csvField('say "hi"'), csvField(null)]).toEqual([
      "plain",
      '"a,b"',
      '"say ""hi"""',
      "",
    ]);
  });
});
