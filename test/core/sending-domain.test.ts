// The sending domain of a returned mail: the original's From, else its return paths, else the envelope
// recipient the report came back to.
import { describe, expect, it } from "vitest";
import { domainOfAddress, sendingDomainOf } from "../../src/core/sending-domain.js";

describe("domainOfAddress", () => {
  const table: [string | undefined, string | undefined][] = [
    ["News <news@Sender.Example>", "sender.example"],
    ['"a@b" <news@mail.example.org>', "mail.example.org"],
    ["news@shop.example.net (Shop)", "shop.example.net"],
    ["<b+x7k2@bounces.example.net>", "bounces.example.net"],
    ["Jürgen <j@bücher.example>", "xn--bcher-kva.example"],
    ["news@localhost", undefined],
    ["news@[192.0.2.1]", undefined],
    ["no address here", undefined],
    ["x@-bad-.example", undefined],
    ["", undefined],
    [undefined, undefined],
  ];
  it.each(table)("%s -> %s", (value, domain) => {
    expect(domainOfAddress(value)).toBe(domain);
  });
  it("takes bounded time on a long hostile value", () => {
    expect(domainOfAddress("@".repeat(100_000) + "a.example")).toBeUndefined();
  });
});

describe("sendingDomainOf", () => {
  it("prefers the original's From, then its Return-Path, then the ARF Original-Mail-From, then the envelope", () => {
    const rcpt = ["b+abc@bounces.example.net"];
    expect(
      sendingDomainOf(
        { original: { headers: {}, from: "N <n@brand.example>", returnPath: "<b@rp.example>" } },
        rcpt,
      ),
    ).toBe("brand.example");
    expect(sendingDomainOf({ original: { headers: {}, returnPath: "<b@rp.example>" } }, rcpt)).toBe(
      "rp.example",
    );
    expect(
      sendingDomainOf(
        {
          original: { headers: {} },
          arf: { feedbackType: "abuse", originalMailFrom: "<x@fbl.example>" } as never,
        },
        rcpt,
      ),
    ).toBe("fbl.example");
    expect(sendingDomainOf({ original: { headers: {} } }, rcpt)).toBe("bounces.example.net");
    expect(sendingDomainOf({ original: { headers: {} } }, [])).toBeNull();
  });
});
