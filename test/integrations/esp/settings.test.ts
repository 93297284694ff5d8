// The integrations' settings files (ESP endpoints, POP3 and IMAP accounts): defaults, secrets read from files, every
// problem named.
import { describe, expect, it } from "vitest";
import { EspSettingsError, parseEspSettings } from "../../../src/integrations/esp/settings.js";
import { parsePop3Accounts, Pop3AccountsError } from "../../../src/integrations/pop3/accounts.js";
import { AccountsError, parseImapAccounts } from "../../../src/integrations/imap/accounts.js";
import { sendgridSigner, snsSigner } from "../../helpers/esp.js";

const DEFAULTS = { tenant: "default", stream: "default" };
const TOPIC = "arn:aws:sns:eu-west-1:123456789012:ses-events";
const sns = snsSigner();
const sg = sendgridSigner();
const files: Record<string, string> = {
  "/s/sns.pem": sns.certificatePem,
  "/s/mailgun": "mailgun-key\n",
  "/s/pm": "postmark-password-123\n",
};
const read = (p: string) => {
  const f = files[p];
  if (f === undefined) throw new Error(`ENOENT: ${p}`);
  return f;
};
const parse = (v: unknown) => parseEspSettings(JSON.stringify(v), DEFAULTS, read);

describe("the ESP settings file", () => {
  it("reads every provider's endpoints, their keys and secret files, with the default tenant and stream", () => {
    const s = parse({
      ses: [{ topicArns: [TOPIC], certificateFile: "/s/sns.pem" }],
      sendgrid: [{ tenant: "acme", stream: "news", publicKey: sg.publicKey }],
      mailgun: [{ signingKeyFile: "/s/mailgun" }],
      postmark: [{ user: "postmark", passwordFile: "/s/pm" }],
    });
    expect(s.ses[0]).toMatchObject({
      name: "ses-1",
      tenant: "default",
      stream: "default",
      verifySignature: true,
    });
    expect(s.ses[0]!.keys).toHaveLength(1);
    expect(s.sendgrid[0]).toMatchObject({ tenant: "acme", stream: "news" });
    expect(s.mailgun[0]!.signingKey).toBe("mailgun-key");
    expect(s.postmark[0]!.password).toBe("postmark-password-123");
  });

  it("refuses an SNS endpoint without a certificate unless it says to trust the topic alone", () => {
    expect(() => parse({ ses: [{ topicArns: [TOPIC] }] })).toThrow(/certificateFile/);
    expect(parse({ ses: [{ topicArns: [TOPIC], verifySignature: false }] }).ses[0]!.keys).toEqual([]);
  });

  it("names each problem: an unknown field, a bad topic, two secrets, a key that is none, a name twice", () => {
    expect(() => parse({ ses: [{ topicArns: ["not-an-arn"], verifySignature: false }] })).toThrow(
      /ses\.0\.topicArns\.0: an SNS topic ARN/,
    );
    expect(() => parse({ mailgun: [{ signingKey: "a", signingKeyFile: "/s/mailgun" }] })).toThrow(
      /exactly one of signingKey and signingKeyFile/,
    );
    expect(() => parse({ postmark: [{ user: "u", password: "p", extra: 1 }] })).toThrow(EspSettingsError);
    expect(() => parse({ sendgrid: [{ publicKey: "bm90IGEga2V5" }] })).toThrow(/sendgrid-1: publicKey/);
    expect(() =>
      parse({
        mailgun: [
          { name: "x", signingKey: "a" },
          { name: "x", signingKey: "b" },
        ],
      }),
    ).toThrow(/names "x" twice/);
    expect(() => parseEspSettings("{", DEFAULTS, read)).toThrow(/not JSON/);
  });
});

describe("the POP3 accounts file", () => {
  it("reads an account with its defaults (TLS on 995, delete after) and its password file", () => {
    const [a] = parsePop3Accounts(
      JSON.stringify([{ name: "b", host: "pop.example.com", user: "u", passwordFile: "/s/pm" }]),
      read,
    );
    expect(a).toMatchObject({
      port: 995,
      secure: true,
      stls: "auto",
      after: "delete",
      password: "postmark-password-123",
    });
  });

  it("refuses a user with a line break (it goes on a command line), two password fields, a name twice", () => {
    const one = { name: "b", host: "h", user: "u", password: "p" };
    expect(() => parsePop3Accounts(JSON.stringify([{ ...one, user: "u\r\nDELE 1" }]), read)).toThrow(
      /no control characters/,
    );
    expect(() => parsePop3Accounts(JSON.stringify([{ ...one, passwordFile: "/s/pm" }]), read)).toThrow(
      /exactly one of password and passwordFile/,
    );
    expect(() => parsePop3Accounts(JSON.stringify([one, one]), read)).toThrow(Pop3AccountsError);
  });
});

describe("the IMAP accounts file", () => {
  it("reads an account with its defaults (TLS on 993, INBOX, flag after) and its password file without the line break", () => {
    const [a] = parseImapAccounts(
      JSON.stringify([{ name: "b", host: "imap.example.com", user: "u", passwordFile: "/s/pm" }]),
      read,
    );
    expect(a).toMatchObject({
      port: 993,
      secure: true,
      folders: ["INBOX"],
      after: "flag",
      password: "postmark-password-123",
    });
  });

  it("names each problem with its path, refuses what is not JSON and a name twice", () => {
    const one = { name: "b", host: "h", user: "u", password: "p" };
    expect(() => parseImapAccounts(JSON.stringify([{ ...one, after: "burn" }]), read)).toThrow(
      /the IMAP accounts file is invalid:\n {2}0\.after: /,
    );
    expect(() => parseImapAccounts("[", read)).toThrow(/the IMAP accounts file is not JSON/);
    expect(() => parseImapAccounts(JSON.stringify([one, one]), read)).toThrow(AccountsError);
  });

  it("refuses moving taken mail into a folder it reads, and allows it when the mail is only flagged", () => {
    const one = { name: "b", host: "h", user: "u", password: "p", folders: ["INBOX", "Done"] };
    expect(() =>
      parseImapAccounts(JSON.stringify([{ ...one, after: "move", moveTo: "Done" }]), read),
    ).toThrow(/0\.moveTo: moveTo is one of the folders read/);
    expect(
      parseImapAccounts(JSON.stringify([{ ...one, after: "move", moveTo: "Rebound" }]), read),
    ).toHaveLength(1);
    expect(parseImapAccounts(JSON.stringify([{ ...one, after: "flag", moveTo: "Done" }]), read)).toHaveLength(
      1,
    );
  });
});
