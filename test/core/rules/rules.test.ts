import { matchRemoteHost, remoteHostRules } from "../../../src/core/rules/rhost.js";
import { decideReason } from "../../../src/core/reason.js";
import { describe, expect, it } from "vitest";
import { REASONS } from "../../../src/core/report.js";
import {
  matchAllText,
  matchReplyCode,
  matchStatus,
  matchText,
  normalizeReplyText,
  replyCodeRules,
  resolveReason,
  statusRules,
  textRules,
} from "../../../src/core/rules/index.js";
import { LiteralMatcher, requiredLiterals } from "../../../src/core/rules/literals.js";

describe("text rules", () => {
  it("have unique, family-qualified ids", () => {
    const ids = textRules.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[a-z0-9]+\.[a-z0-9.#'-]+$/);
  });

  it("name only reasons of the vocabulary", () => {
    for (const r of textRules) expect(REASONS).toContain(r.reason);
  });

  it("are case-insensitive and use no unbounded wildcard or nested quantifier", () => {
    for (const r of textRules) {
      expect(r.pattern.flags, r.id).toContain("i");
      expect(r.pattern.flags, r.id).not.toContain("g");
      expect(r.pattern.source, r.id).not.toMatch(/(?<!\\)\.[*+]/);
      expect(r.pattern.source, r.id).not.toMatch(/\)[*+]/);
    }
  });

  it("each match their own example", () => {
    const misses = textRules.filter((r) => !r.pattern.test(normalizeReplyText(r.example))).map((r) => r.id);
    expect(misses).toEqual([]);
  });

  it("each example resolves to its rule's reason (no higher rule steals it)", () => {
    const wrong = textRules
      .map((r) => ({ id: r.id, want: r.reason, got: matchText(r.example, r.when)?.reason }))
      .filter((x) => x.got !== x.want)
      .map((x) => `${x.id}: ${x.want} -> ${x.got}`);
    expect(wrong).toEqual([]);
  });

  it("are sorted by priority, highest first", () => {
    for (let i = 1; i < textRules.length; i++)
      expect(textRules[i - 1]!.priority ?? 0).toBeGreaterThanOrEqual(textRules[i]!.priority ?? 0);
  });
});

describe("matchText", () => {
  it("prefers mailbox full over the user-unknown code in the same reply", () => {
    expect(matchText("550 5.1.1 <kijitora@example.jp>... Mailbox full")?.reason).toBe("mailboxfull");
  });

  it("reads a Spamhaus listing as blocked", () => {
    expect(
      matchText("554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org")
        ?.reason,
    ).toBe("blocked");
    expect(matchText("550 5.7.1 Mail from 192.0.2.1 refused, listed at Spamhaus")?.reason).toBe("blocked");
  });

  it("tells a too-large message from a full mailbox under the same 552 code", () => {
    expect(matchText("552 Message size exceeds fixed maximum message size: 20971520 bytes")?.reason).toBe(
      "emailtoolarge",
    );
    expect(matchText("552 Requested mail action aborted: mailbox full")?.reason).toBe("mailboxfull");
  });

  it("reads multi-line replies with repeated code prefixes as one sentence", () => {
    const text =
      "550-5.7.26 Unauthenticated email from example.org is not accepted due to 550-5.7.26 domain's DMARC policy.";
    expect(matchText(text)?.id).toBe("google.5.7.26-dmarc");
  });

  it("reads provider error codes", () => {
    expect(matchText("550 5.1.0 <b@example.com> sender rejected. AUP#CDRBL")?.reason).toBe("blocked");
    expect(matchText("550 mwinf5c04 ME Adresse IP source bloquee. OFR006_102 [102]")?.reason).toBe("blocked");
    expect(matchText("550 203.0.113.222 has sent to too many recipients this hour. IB607")?.reason).toBe(
      "ratelimited",
    );
  });

  it("reads non-English replies", () => {
    expect(matchText("550 5.1.1 Empfänger unbekannt")?.reason).toBe("userunknown");
    expect(matchText("552 Почтовый ящик переполнен")?.reason).toBe("mailboxfull");
    expect(matchText("送信先のメールアドレスが見つかりません。")?.reason).toBe("userunknown");
    expect(matchText("552 5.2.2 Boite du destinataire pleine.")?.reason).toBe("mailboxfull");
  });

  it("reads the words of notices in more languages: a sender the recipient blocked, a domain or user unknown, an IP on a black list", () => {
    for (const [text, reason] of [
      ["550 5.7.1 Mensagem recusada: remetente bloqueado pelo destinatário", "filtered"],
      ["550 Mail rejected: the recipient has set a blocklist for your address", "filtered"],
      ["收件人已将您的地址加入黑名单，对方拒绝接收您的邮件。", "filtered"],
      ["550 5.7.1 la dirección IP 192.0.2.1 de su servidor figura en una lista negra", "blocked"],
      ["Důvod: doména příjemce „example.cz“ neexistuje", "hostunknown"],
      ["Router: No route found to domain example.net from server MAIL01/EXAMPLE.", "hostunknown"],
      ["550 Uživatel neexistuje", "userunknown"],
      ["Diagnostic code: unrecognised-ORName (0)", "userunknown"],
      ["554-Transaction failed 554-Reject due to policy restrictions.", "policyviolation"],
      ["After 7 days (165 hours), your message could not be fully delivered.", "expired"],
    ] as const)
      expect(matchText(text)?.reason, text).toBe(reason);
    // a host with no route is a network error (Sisimai's), a domain with none is unknown
    expect(matchText("connect to mx.example.net: No route to host")?.reason).toBe("networkerror");
  });

  it("skips rules meant for the other status class", () => {
    const rule = textRules.find((r) => r.id === "generic.temporarily-unavailable-4xx")!;
    expect(rule.when?.statusClass).toBe("4");
    expect(matchAllText(rule.example, { statusClass: "4" })).toContain(rule);
    expect(matchAllText(rule.example, { statusClass: "5" })).not.toContain(rule);
    expect(matchAllText(rule.example)).toContain(rule);
  });

  it("reads a refused recipient as unknown, a refused sender as rejected", () => {
    expect(
      matchText("550 5.4.1 Recipient address rejected: Access denied. [X.prod.protection.outlook.com]")
        ?.reason,
    ).toBe("userunknown");
    expect(
      matchText("553 5.1.8 <a@host.example>... Domain of sender address a@host.example does not exist")
        ?.reason,
    ).toBe("rejected");
    expect(matchText("501 5.1.8 Sender address rejected")?.reason).toBe("rejected");
  });

  it("does not take a recipient's refusal for an IP block", () => {
    expect(matchText("550 5.1.1 <a@b.example>: Recipient address rejected: User unknown")?.reason).toBe(
      "userunknown",
    );
    expect(matchText("550 5.7.1 Client host [192.0.2.1] is blacklisted")?.reason).toBe("blocked");
  });

  it("says nothing of text that is no reply at all", () => {
    expect(matchText("")).toBeUndefined();
    expect(matchText("Hello, see you tomorrow at the office.")).toBeUndefined();
  });
});

describe("status rules", () => {
  it("map exact codes before class patterns", () => {
    expect(matchStatus("5.1.1")?.reason).toBe("userunknown");
    expect(matchStatus("5.7.26")?.reason).toBe("authfailure");
    expect(matchStatus("5.7.26")?.definitive).toBe(true);
    expect(matchStatus("5.6.7")?.reason).toBe("contenterror");
    expect(matchStatus("4.4.2")?.reason).toBe("networkerror");
    expect(matchStatus("4.4.0")).toBeUndefined();
    expect(matchStatus("5.1.01")?.reason).toBe("userunknown");
  });

  it("match nothing for malformed codes", () => {
    expect(matchStatus("5.1")).toBeUndefined();
    expect(matchStatus("smtp; 550")).toBeUndefined();
    expect(matchStatus("9.9.9")).toBeUndefined();
  });

  it("are unique and name only reasons of the vocabulary", () => {
    const codes = statusRules.map((r) => r.status);
    expect(new Set(codes).size).toBe(codes.length);
    for (const r of statusRules) {
      expect(REASONS).toContain(r.reason);
      expect(r.status).toMatch(/^[245]\.\d{1,3}\.(?:\d{1,3}|\*)$/);
    }
    for (const r of replyCodeRules) expect(REASONS).toContain(r.reason);
  });

  it("map bare reply codes where the code says something", () => {
    expect(matchReplyCode(552)?.reason).toBe("mailboxfull");
    expect(matchReplyCode(452)?.reason).toBe("systemfull");
    expect(matchReplyCode(550)).toBeUndefined();
  });
});

describe("resolveReason", () => {
  it("lets a specific text override a non-definitive code", () => {
    expect(resolveReason({ status: "5.1.1", text: "550 5.1.1 <a@b.example>... Mailbox Full" })).toEqual({
      reason: "mailboxfull",
      rule: "text:sendmail.mailbox-full",
    });
  });

  it("keeps a definitive code over a generic text", () => {
    expect(resolveReason({ status: "5.2.2", text: "552 5.2.2 User unknown" })?.reason).toBe("mailboxfull");
  });

  it("lets a status code outweigh a hint-level text", () => {
    expect(resolveReason({ status: "5.7.1", text: "550 5.7.1 Access denied" })).toEqual({
      reason: "securityerror",
      rule: "status:5.7.1",
    });
    expect(resolveReason({ text: "550 5.7.1 Access denied" })?.reason).toBe("rejected");
  });

  it("falls back to the status code, then the reply code", () => {
    expect(resolveReason({ status: "5.1.1", text: "nothing to see" })).toEqual({
      reason: "userunknown",
      rule: "status:5.1.1",
    });
    expect(resolveReason({ smtpCode: 552 })).toEqual({ reason: "mailboxfull", rule: "smtp:552" });
    expect(resolveReason({})).toBeUndefined();
  });
});

describe("requiredLiterals", () => {
  it("reads the mandatory literal of each top-level alternative", () => {
    expect(requiredLiterals("user unknown|no such user")).toEqual(["user unknown", "no such user"]);
    expect(requiredLiterals("mailbox (?:is )?full")).toEqual(["mailbox "]);
    expect(requiredLiterals("over ?quota")).toEqual(["quota"]);
    expect(requiredLiterals("\\bib401\\b")).toEqual(["ib401"]);
  });

  it("gives up where no literal is certain", () => {
    expect(requiredLiterals("(?:a|b)c")).toBeNull();
    expect(requiredLiterals("x|[abc]+")).toBeNull();
  });
});

describe("LiteralMatcher", () => {
  const literals = ["mailbox full", "user unknown", "quota", "bad", "605", "容量", "メール", "no such user"];
  const found = (m: LiteralMatcher, text: string): string[] => {
    const seen = new Uint8Array(literals.length);
    const hits: number[] = [];
    m.scan(text, seen, hits);
    return hits.map((id) => literals[id]!).sort();
  };
  const naive = (text: string): string[] => literals.filter((l) => text.includes(l)).sort();

  it("finds exactly the literals a text contains, at its start, middle and end", () => {
    const m = new LiteralMatcher(literals, ["550 5.1.1 user unknown", "mailbox full"]);
    const texts = [
      "mailbox full",
      "550 5.2.2 the mailbox full; quota exceeded",
      "no such user here: bad address 605",
      "メールボックスの容量が不足",
      "mailbox ful",
      "",
      "ba",
      "user unknownuser unknown",
    ];
    for (const t of texts) expect(found(m, t), t).toEqual(naive(t));
  });

  it("reports a literal too short to index as present, so its rule is always tried", () => {
    const m = new LiteralMatcher(["x", "quota"]);
    const seen = new Uint8Array(2);
    const hits: number[] = [];
    m.scan("over quota", seen, hits);
    expect(hits.sort()).toEqual([0, 1]);
  });
});

describe("remote-host rules", () => {
  it("each match their own example from their provider's host, and no other host's", () => {
    for (const rule of remoteHostRules) {
      const facts = { status: rule.exampleStatus };
      expect(matchRemoteHost([`dns; ${rule.exampleHost}`], rule.example, facts)?.id, rule.id).toBe(rule.id);
      expect(matchRemoteHost(["dns; mx.example.org"], rule.example, facts), rule.id).toBeUndefined();
    }
  });

  it("decide before the words' usual reading when the reply comes from that provider", () => {
    const e = { status: "5.2.0", diagnostic: "550 kijitora@example.org... No such user" };
    expect(decideReason(e).reason).toBe("filtered");
    expect(decideReason({ ...e, reportingMta: "server-1.bemta-2.messagelabs.com" })).toMatchObject({
      reason: "userunknown",
      rule: "rhost:messagelabs.recipient-unknown",
    });
  });

  it("apply when the recipient's domain is the provider's, with no host known", () => {
    const e = { status: "5.0.0", diagnostic: "550 Mailbox unavailable or access denied" };
    expect(decideReason(e).reason).not.toBe("ratelimited");
    expect(decideReason({ ...e, recipientDomain: "qq.com" })).toMatchObject({
      reason: "ratelimited",
      rule: "rhost:tencent.rate-limited",
    });
  });

  it("hold only for the status they name: docomo's 550 Unknown user is a filter's under 5.2.0, else a missing user", () => {
    const e = { diagnostic: "550 Unknown user hanako@docomo.ne.jp", remoteMta: "dns; mfsmax.docomo.ne.jp" };
    expect(decideReason({ ...e, status: "5.2.0" })).toMatchObject({
      reason: "filtered",
      rule: "rhost:nttdocomo.filtered",
    });
    expect(decideReason({ ...e, status: "5.0.0" })).toMatchObject({
      reason: "userunknown",
      rule: "rhost:nttdocomo.unknown-user",
    });
  });

  it("read Google Workspace's NXDOMAIN as an unknown host only when both the status and the reply are permanent", () => {
    const diagnostic = "550 DNS Error: Domain name not found: example.invalid";
    const reportingMta = "dns; googlemail.com";
    expect(decideReason({ status: "5.1.2", diagnostic, reportingMta }).reason).toBe("hostunknown");
    const transient = "DNS Error: DNS type 'mx' lookup of example.org responded with code NXDOMAIN";
    expect(decideReason({ status: "4.0.0", diagnostic: transient, reportingMta }).rule).toBe(
      "rhost:gsuite.nxdomain-transient",
    );
  });
});

describe("user-unknown words under other status codes", () => {
  it("are a filter's refusal under a security status (X.7.x) unless they answered RCPT TO", () => {
    const e = { status: "5.7.1", diagnostic: "553 <kijitora@example.org>: Invalid recipient" };
    expect(decideReason(e)).toMatchObject({ reason: "filtered" });
    expect(decideReason({ ...e, command: "RCPT" })).toMatchObject({ reason: "userunknown" });
  });

  it("are a filter's refusal under 5.7.17 too, which decides (hasmoved) only when no words say otherwise", () => {
    const said = "550 sorry, no mailbox here by that name (#5.7.17 - chkusr)";
    expect(decideReason({ status: "5.7.17", diagnostic: said }).reason).toBe("filtered");
    expect(decideReason({ status: "5.7.17", diagnostic: said, command: "RCPT" }).reason).toBe("userunknown");
    expect(
      decideReason({ status: "5.7.17", diagnostic: "550 5.7.17 Mailbox owner has changed" }).reason,
    ).toBe("hasmoved");
  });

  it("take the reply's status over a vaguer Status field, as Sisimai prefers between the two", () => {
    // 5.1.3 beside a qmail-style `#5.7.1`: the security code, then user-unknown words not at RCPT: filtered
    const badrcpt = "553 sorry, your envelope recipient is in my badrcptto list (#5.7.1)";
    expect(decideReason({ status: "5.1.3", diagnostic: badrcpt })).toMatchObject({
      reason: "filtered",
      status: "5.7.1",
    });
    // X.Y.0 beside a specific code: the specific one
    expect(decideReason({ status: "5.2.0", diagnostic: "552 5.2.2 Mailbox full" })).toMatchObject({
      reason: "mailboxfull",
      status: "5.2.2",
    });
    // a class that disagrees with the reply code loses to the one that agrees
    expect(
      decideReason({ status: "4.4.7", diagnostic: "550 5.1.1 <a@example.org>: User unknown" }).status,
    ).toBe("5.1.1");
    // a specific field stays
    expect(decideReason({ status: "5.2.2", diagnostic: "552 5.3.4 Mailbox full" }).status).toBe("5.2.2");
  });

  it("yield to a media status (X.6.x) when a provider's words speak of policy", () => {
    const d = decideReason({
      status: "5.6.1",
      diagnostic: "554 5.6.1 Message content not accepted for policy reasons",
    });
    expect(d).toMatchObject({ reason: "contenterror" });
    expect(d.rule).toMatch(/^dsn\.status:5\.6\.1\+text:/);
  });
});
