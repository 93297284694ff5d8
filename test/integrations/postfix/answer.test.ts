// The pure side of the send-time lookups: netstring framing, request parsing, and the replies' text.
import { describe, expect, it } from "vitest";
import {
  isAddressKey,
  parseSocketmapRequest,
  policyReply,
  socketmapReply,
  streamOfSender,
} from "../../../src/integrations/postfix/answer.js";
import {
  encodeNetstring,
  netstring,
  NetstringError,
  NetstringReader,
} from "../../../src/integrations/postfix/netstring.js";

const g = {
  stream: "marketing",
  reason: "userunknown",
  class: "hard",
  since: new Date("2026-11-30T10:00:00Z"),
  until: null,
};

describe("netstrings", () => {
  it("encodes the byte length, not the character count", () => {
    expect(encodeNetstring("OK é").toString()).toBe("5:OK é,");
  });

  it("reads strings split at every byte boundary and several in one chunk", () => {
    const wire = Buffer.concat([encodeNetstring("suppressed a@b.c"), encodeNetstring("transport x@y.z")]);
    const r = new NetstringReader(100);
    const got: string[] = [];
    for (const byte of wire) got.push(...r.push(Buffer.from([byte])));
    expect(got).toEqual(["suppressed a@b.c", "transport x@y.z"]);
    expect(new NetstringReader(100).push(wire)).toEqual(["suppressed a@b.c", "transport x@y.z"]);
  });

  it("reads a pipelined stream cut in two at every offset, a UTF-8 character cut too, and writes text framing", () => {
    const wire = Buffer.from(netstring("suppressed é@b.c") + netstring("") + netstring("transport x@y.z"));
    expect(wire.toString().startsWith("17:suppressed é@b.c,0:,15:")).toBe(true);
    for (let cut = 0; cut <= wire.length; cut++) {
      const r = new NetstringReader(100);
      const got = [...r.push(wire.subarray(0, cut)), ...r.push(wire.subarray(cut))];
      expect(got).toEqual(["suppressed é@b.c", "", "transport x@y.z"]);
    }
  });

  it("refuses a length over the limit before reading the body, a missing comma, and junk", () => {
    expect(() => new NetstringReader(10).push(Buffer.from("11:"))).toThrow(NetstringError);
    expect(() => new NetstringReader(10).push(Buffer.from("3:abc;"))).toThrow(/comma/);
    expect(() => new NetstringReader(10).push(Buffer.from("GET / HTTP/1.1"))).toThrow(/not a netstring/);
    expect(() => new NetstringReader(1e12).push(Buffer.from("1234567890"))).toThrow(/too long/);
  });
});

describe("socketmap requests", () => {
  it("splits the map, its stream and the key", () => {
    expect(parseSocketmapRequest("suppressed jane@example.org")).toEqual({
      ok: true,
      value: { map: "suppressed", stream: undefined, key: "jane@example.org" },
    });
    expect(parseSocketmapRequest("transport/marketing jane@example.org")).toEqual({
      ok: true,
      value: { map: "transport", stream: "marketing", key: "jane@example.org" },
    });
  });

  it("names the maps it knows when asked for another", () => {
    const r = parseSocketmapRequest("virtual jane@example.org");
    expect(r).toEqual({ ok: false, error: 'no map named "virtual" (maps: suppressed, transport)' });
    expect(parseSocketmapRequest("suppressed").ok).toBe(false);
  });

  it("answers only for whole addresses (not the domain or user@ keys Postfix also asks)", () => {
    expect(isAddressKey("jane@example.org")).toBe(true);
    expect(isAddressKey("example.org")).toBe(false);
    expect(isAddressKey("jane@")).toBe(false);
  });
});

describe("replies", () => {
  it("rejects with 5.7.1 naming the reason, class, stream and day for check_recipient_access", () => {
    expect(socketmapReply("suppressed", g)).toBe(
      "OK REJECT 5.7.1 suppressed by Rebound in stream marketing: userunknown (hard) since 2026-11-30",
    );
  });

  it("routes to the error transport for transport_maps, and says NOTFOUND with a space when not suppressed", () => {
    expect(socketmapReply("transport", { ...g, stream: "*", until: new Date("2027-01-01T00:00:00Z") })).toBe(
      "OK error:5.7.1 suppressed by Rebound in every stream: userunknown (hard) since 2026-11-30, until 2027-01-01T00:00Z",
    );
    expect(socketmapReply("transport", undefined)).toBe("NOTFOUND ");
  });

  it("answers the policy protocol with an action line and the empty line", () => {
    expect(policyReply(undefined)).toBe("action=DUNNO\n\n");
    expect(policyReply(g)).toMatch(/^action=REJECT 5\.7\.1 suppressed by Rebound .*\n\n$/);
  });

  it("never puts control characters from a stream name into a reply", () => {
    expect(socketmapReply("suppressed", { ...g, stream: "a\r\nb" })).not.toMatch(/[\r\n]/);
  });
});

describe("the stream of a sender", () => {
  const map = new Map([
    ["news@example.com", "marketing"],
    ["example.com", "transactional"],
    ["shop.example.net", "orders"],
  ]);

  it("takes the whole address first, then the domain, then parent domains", () => {
    expect(streamOfSender("News@Example.com", map)).toBe("marketing");
    expect(streamOfSender("billing@example.com", map)).toBe("transactional");
    expect(streamOfSender("x@mail.shop.example.net", map)).toBe("orders");
    expect(streamOfSender("x@example.org", map)).toBeUndefined();
    expect(streamOfSender("", map)).toBeUndefined();
  });
});
