import { describe, expect, it } from "vitest";
import { decideReason } from "../../../src/core/reason.js";
import { matchText } from "../../../src/core/rules/index.js";

const reasonOf = (text: string) => matchText(text)?.reason;

describe("refusals in providers' own words (blind round 9)", () => {
  it("reads the sending IP 'in blacklist', without a verb, as blocked", () => {
    expect(reasonOf("554 IP [192.0.2.1] in blacklist, please contact your mail administrator.")).toBe(
      "blocked",
    );
    expect(reasonOf("421 client host 192.0.2.1 in blocklist")).toBe("blocked");
    expect(reasonOf("550 host mx.example.com in the list of allowed hosts")).toBeUndefined();
  });

  it("reads a refusal by the recipient's reception or receiving settings as filtered, not an unknown address", () => {
    for (const text of [
      "550 5.7.1 <a@example.jp>: Recipient address rejected: Mail from your domain is refused by the recipient's reception settings",
      "550 rejected by recipient's receiving settings",
      "554 5.7.1 blocked by the recipient's incoming mail filters",
    ])
      expect(reasonOf(text), text).toBe("filtered");
  });

  it("reads the sender's domain without DNS MX or A at MAIL FROM as rejected, before 'mailbox unavailable'", () => {
    expect(
      reasonOf(
        "550-Requested action not taken: mailbox unavailable 550-Sender address has no valid DNS MX or A/AAAA resource record",
      ),
    ).toBe("rejected");
    expect(reasonOf("553 5.1.8 sender domain example.com has no MX record")).toBe("rejected");
  });

  it("reads Orange's account-blocked sentence as suspend, whatever code it carries", () => {
    expect(
      reasonOf(
        "550 5.5.0 Le compte du destinataire est bloque. The recipient account isn't enabled. OFR_104",
      ),
    ).toBe("suspend");
    expect(
      reasonOf("421 mwinf5c79 ME Trop de connexions. Too many connections, slow down. OFR005_104 [104]"),
    ).toBe("ratelimited");
  });

  it("reads user-unknown words in reply to MAIL FROM as the sender rejected, unless the status names the address", () => {
    const at = (command: string, status: string) =>
      decideReason({
        status,
        statusSource: "dsn",
        smtpCode: 550,
        action: "failed",
        diagnostic: `SMTP error from remote mail server after ${command}:<news@shop.example>: 550 Requested action not taken: mailbox unavailable`,
      }).reason;
    expect(at("MAIL FROM", "5.0.0")).toBe("rejected");
    expect(at("RCPT TO", "5.0.0")).toBe("userunknown");
    expect(at("MAIL FROM", "5.1.1")).toBe("userunknown");
  });
});
