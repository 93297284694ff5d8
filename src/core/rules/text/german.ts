// German providers (GMX, WEB.DE, 1&1/IONOS, T-Online, Freenet) and German-language wordings.
import { P, table } from "./define.js";

export const germanRules = table("germany", [
  [
    "gmx-rdns",
    "requireptr",
    /bad dns ptr resource record|postmaster\.(?:gmx|web|1und1|mail)\.\S{1,8}\/\S{0,40}[?&]c=rdns/i,
    "554-No SMTP service 554-Bad DNS PTR resource record. 554 For explanation visit http://postmaster.gmx.com/en/error-messages?ip=192.0.2.22&c=rdns",
    P.provider,
  ],
  [
    "gmx-blocklist",
    "blocked",
    /postmaster\.(?:gmx|web|1und1|mail)\.\S{1,8}\/\S{0,40}[?&]c=(?:bl|rbl|sp|hi|irbl)\b/i,
    "554-Transaction failed 554-Reject due to policy restrictions. 554 For explanation visit http://postmaster.web.de/error-messages?ip=192.0.2.1&c=bl",
    P.provider,
  ],
  [
    "gmx-not-found",
    "userunknown",
    /weil die adresse nicht gefunden wurde oder keine e-mails empfangen kann|mailbox not found\. bitte pruefen/i,
    "550 Requested action not taken: mailbox unavailable weil die Adresse nicht gefunden wurde oder keine E-Mails empfangen kann",
    P.provider,
  ],
  [
    "tonline-reputation",
    "badreputation",
    /none\/bad reputation/i,
    "554 IP=192.0.2.1 - A problem occurred. (Ask your postmaster for help or to contact tosa@rx.t-online.de to clarify.) (none/bad reputation)",
    P.provider,
  ],
  [
    "tonline-bl",
    "blocked",
    /to contact \S{1,40}t-online\.de to clarify\.\) \(bl\)|\(ask your postmaster for help or to contact .{1,80} to clarify\.\) \(bl\)/i,
    "554 IP=192.0.2.254 - A problem occurred. (Ask your postmaster for help or to contact neko@example.org to clarify.) (BL)",
    P.provider,
  ],
  [
    "de-user-unknown",
    "userunknown",
    /(?:empfänger|empfaenger|benutzer|postfach|adresse|mailbox)(?: \S{1,40})? (?:unbekannt|existiert nicht|nicht gefunden|nicht vorhanden|ungültig|ungueltig)|(?:unbekannter|ungültiger|ungueltiger) (?:empfänger|empfaenger|benutzer)/i,
    "550 5.1.1 Empfänger unbekannt",
    P.userunknown,
  ],
  [
    "de-mailbox-full",
    "mailboxfull",
    /(?:postfach|mailbox|speicher(?:platz)?)(?: des empfängers| des empfaengers)? (?:ist )?(?:voll|überfüllt|ueberfuellt)|speicherplatz (?:ist )?(?:erschöpft|erschoepft|überschritten)|quota überschritten/i,
    "552 5.2.2 Postfach des Empfängers ist voll",
    P.mailboxfull,
  ],
  [
    "de-too-large",
    "emailtoolarge",
    /nachricht (?:ist )?zu groß|nachricht zu gross|maximale nachrichtengröße/i,
    "552 5.3.4 Nachricht ist zu groß",
    P.emailtoolarge,
  ],
  [
    "de-suspend",
    "suspend",
    /(?:postfach|konto|account)(?: \S{1,40})? (?:ist )?(?:gesperrt|deaktiviert|stillgelegt)/i,
    "550 5.2.1 Das Postfach ist gesperrt",
    P.suspend,
  ],
  [
    "de-spam",
    "spamdetected",
    /als spam (?:erkannt|eingestuft)|spamverdacht/i,
    "554 5.7.1 Nachricht wurde als Spam erkannt",
    P.spamdetected,
  ],
]);
