import { describe, expect, it } from "vitest";
import { linesOf, type Line } from "../../src/util/lines.js";

async function collect(chunks: string[], max: number): Promise<Line[]> {
  const out: Line[] = [];
  for await (const batch of linesOf(
    (async function* () {
      for (const c of chunks) yield Buffer.from(c);
    })(),
    max,
  ))
    out.push(...batch);
  return out;
}

describe("the lines of a byte stream", () => {
  it("joins lines split across chunks, drops a CR before the LF, and keeps a last line without LF", async () => {
    expect(await collect(["ab", "c\r\nde\n", "", "f"], 100)).toEqual([
      { line: 1, text: "abc" },
      { line: 2, text: "de" },
      { line: 3, text: "f" },
    ]);
  });

  it("reports a line over the limit by its number and length, across chunks, and goes on after it", async () => {
    const chunks = ["ok\n", "x".repeat(60), "x".repeat(60), "x".repeat(30) + "\nnext\n"];
    expect(await collect(chunks, 100)).toEqual([
      { line: 1, text: "ok" },
      { line: 2, tooLong: 150 },
      { line: 3, text: "next" },
    ]);
  });

  it("keeps a multi-byte character split between chunks whole", async () => {
    const bytes = Buffer.from("é\n");
    const out: Line[] = [];
    for await (const b of linesOf(
      (async function* () {
        yield bytes.subarray(0, 1);
        yield bytes.subarray(1);
      })(),
      10,
    ))
      out.push(...b);
    expect(out).toEqual([{ line: 1, text: "é" }]);
  });
});
