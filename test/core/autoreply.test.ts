import { describe, expect, it } from "vitest";
import { readAutoReply } from "../../src/core/autoreply.js";
import { parseMail } from "../../src/core/mime.js";
import { fixture } from "./fixtures.js";

const mail = (headers: string, body = "I am away.") => parseMail(`${headers}\n\n${body}\n`);

describe("auto-replies", () => {
  it("recognises Auto-Submitted: auto-replied and names the replying address", () => {
    expect(readAutoReply(parseMail(fixture("autoreply-vacation.eml")))).toMatchObject({
      recipient: "erin@example.com",
      reason: "vacation",
      rule: "autoreply.auto-submitted",
    });
  });

  it("recognises vacation subjects in other languages", () => {
    expect(readAutoReply(parseMail(fixture("autoreply-german-crlf.eml")))).toMatchObject({
      recipient: "frank@example.de",
      rule: "autoreply.subject",
    });
    for (const subject of [
      "Réponse automatique : commande",
      "Respuesta automática: pedido",
      "自動応答: ご注文",
      "Automatisch antwoord: bestelling",
      "Risposta automatica: ordine",
    ])
      expect(readAutoReply(mail(`From: x@example.com\nSubject: ${subject}`))?.reason).toBe("vacation");
  });

  it("recognises X-Autoreply, X-Autorespond and Precedence: auto_reply", () => {
    expect(readAutoReply(mail("From: a@example.com\nSubject: Re: hi\nX-Autoreply: yes"))?.rule).toBe(
      "autoreply.x-autoreply",
    );
    expect(readAutoReply(mail("From: a@example.com\nSubject: Re: hi\nX-Autorespond: 1"))?.rule).toBe(
      "autoreply.x-autorespond",
    );
    expect(readAutoReply(mail("From: a@example.com\nSubject: Re: hi\nPrecedence: auto_reply"))?.rule).toBe(
      "autoreply.precedence",
    );
  });

  it("does not take auto-generated mails, bounces or ordinary mails for auto-replies", () => {
    expect(
      readAutoReply(mail("From: a@example.com\nSubject: Report\nAuto-Submitted: auto-generated")),
    ).toBeUndefined();
    expect(
      readAutoReply(
        mail(
          "From: MAILER-DAEMON@example.com\nSubject: Undelivered Mail Returned to Sender\nAuto-Submitted: auto-replied",
        ),
      ),
    ).toBeUndefined();
    expect(readAutoReply(parseMail(fixture("plain-message.eml")))).toBeUndefined();
  });

  it("reads an auto-reply saying the mailbox is no longer in use as suspend", () => {
    expect(
      readAutoReply(
        mail(
          "From: old@example.com\nSubject: AutoResponse\nAuto-Submitted: auto-replied",
          "This email inbox old@example.com is no longer in use.",
        ),
      )?.reason,
    ).toBe("suspend");
  });
});
