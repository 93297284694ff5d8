// Wordings of old MTAs, webmail providers and free-text notices that the bounce handlers of other projects (mailing
// list managers, PHP and Ruby bounce parsers) meet and the other tables did not know: per reason, in English and in
// the languages those notices come in (German, Polish, Italian, Spanish). Each example is written in the style of
// such a reply, with invented names.
import { P, table } from "./define.js";

export const legacyRules = table("legacy", [
  // --- mailboxfull ---------------------------------------------------------------------------------------
  [
    "storage-exhausted",
    "mailboxfull",
    /exhausted (?:(?:the|its|his|her|their) )?(?:allowed |available )?(?:storage|disk|mailbox) (?:space|quota|allowance)|user has exceeded (?:(?:the|its|his|her|their) )?(?:allowed |storage |mailbox |disk )?(?:limit|space|size|allowance)/i,
    "552 User has exhausted allowed storage space",
    P.mailboxfull,
  ],
  [
    "de-too-many-mails",
    "mailboxfull",
    /zu ?viele (?:e-?mails|mails|nachrichten) (?:auf dem server|im postfach)/i,
    "452 Benutzer hat zuviele Mails auf dem Server",
    P.mailboxfull,
  ],
  // --- suspend ----------------------------------------------------------------------------------------------
  [
    "mailbox-not-accepting",
    "suspend",
    /mail is not currently being accepted for this (?:mailbox|account|user)|mailbox is currently unavailable|(?:mailbox|account) (?:is )?temporarily (?:disabled|deactivated)|mailbox (?:is )?(?:locked|blocked) (?:or|and) (?:suspended|disabled)/i,
    "550 mail is not currently being accepted for this mailbox",
    P.suspend,
  ],
  [
    "de-pl-disabled",
    "suspend",
    /(?:mailbox|postfach) deaktiviert|konto (?:jest )?zablokowane|(?:zablokowane administracyjnie|konto jest nieaktywne|lub nieaktywne)\b/i,
    "550 Adressat unbekannt oder Mailbox deaktiviert",
    P.suspend,
  ],
  // --- hasmoved -----------------------------------------------------------------------------------------------
  [
    "old-address",
    "hasmoved",
    /old address (?:is )?no longer valid/i,
    "550 Old address no longer valid, please update your records",
    P.hasmoved,
  ],
  // --- norelaying ---------------------------------------------------------------------------------------------
  [
    "no-relaying",
    "norelaying",
    /no relaying allowed|we do not relay\b|relaying (?:is )?not (?:allowed|permitted)/i,
    "550 No relaying allowed for example.net",
    P.norelaying,
  ],
  // --- authfailure --------------------------------------------------------------------------------------------
  [
    "domainkeys",
    "authfailure",
    /does not pass domainkeys|domainkeys (?:verification|check) failed/i,
    "550 Message does not pass DomainKeys verification",
    P.authfailure,
  ],
  // --- userunknown --------------------------------------------------------------------------------------------
  [
    "no-such-user-words",
    "userunknown",
    /no one (?:here )?with that (?:e-?mail )?address|no such (?:mail ?drop|person at this address)|doesn't handle mail for that user|does not handle mail for that user|not known to this system|e-?mail address (?:was )?not found|(?:was )?not found in (?:the )?ldap (?:server|directory)|unable to find alias|unknown (?:virtual|local) user|invalid account\b|not a (?:valid|known) (?:user|mailbox|account)/i,
    "550 Sorry, no one with that email address here",
    P.userunknown,
  ],
  [
    "host-name-unknown",
    "hostunknown",
    /host ?name is unknown|unknown host ?name\b/i,
    "550 Host name is unknown",
    P.hostunknown,
  ],
  [
    "pl-no-account",
    "userunknown",
    /nie ma takiego (?:konta|u[żz]ytkownika|adresu)|(?:konto|adres|skrzynka) (?:\S{1,40} )?nie istnieje/i,
    "550 Nie ma takiego konta",
    P.userunknown,
  ],
  // --- blocked ------------------------------------------------------------------------------------------------
  [
    "dnsbl",
    "blocked",
    /(?:found|listed) (?:in|on|at) (?:a |the |an )?(?:dns ?|ip ?|realtime )?(?:black ?|block ?|deny ?)list|dial-?up or dynamic[- ]ip|dynamic[- ]ip (?:address(?:es)? )?(?:denied|not allowed|rejected)/i,
    "554 Service unavailable; Client host [192.0.2.8] found in a DNS blacklist",
    P.blocked,
  ],
  // --- spamdetected -------------------------------------------------------------------------------------------
  [
    "declared-spam",
    "spamdetected",
    /(?:declared|classified|identified) (?:as )?spam\b|odrzucona przez (?:system )?antyspam/i,
    "550 Your message was declared Spam",
    P.spamdetected,
  ],
  // --- networkerror -------------------------------------------------------------------------------------------
  [
    "cannot-connect",
    "networkerror",
    /(?:can't|cannot|could not|couldn't|unable to) connect to (?:the )?(?:remote )?(?:host|server|mail ?server|mx\b|\S{1,255}\.[a-z]{2,})/i,
    "Delivery failed: can't connect to mx.example.net",
    P.networkerror,
  ],
]);
