import { describe, expect, it } from "vitest";
import { BLOCKLISTS, blocklistsIn } from "../../src/core/blocklists.js";

describe("blocklistsIn", () => {
  it.each(BLOCKLISTS.map((b) => [b.id, b.example]))("names %s from its example", (id, example) => {
    expect(blocklistsIn(example)).toContain(id);
  });

  it("names nothing in a block that names no blocklist, and each list once", () => {
    expect(blocklistsIn("550 5.7.1 Message rejected as spam by Content Filtering")).toEqual([]);
    expect(blocklistsIn("blocked using zen.spamhaus.org and sbl.spamhaus.org")).toEqual(["spamhaus"]);
  });
});
