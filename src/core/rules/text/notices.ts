// Wordings of mail systems' own notices and of remote replies, across languages, that the other tables lacked: a
// recipient who has blocked the sender, a domain with no route or no DNS record, an X.400 name the directory does
// not know, a refusal under policy restrictions, a sending server on a black list, a delivery given up after days.
import { P, table } from "./define.js";

export const noticeRules = table("notice", [
  // The recipient's own block list or filter refused the sender (Sisimai's `filtered`: the recipient's choice,
  // not the address), in English, Chinese, Portuguese, Spanish, French, German, Italian
  [
    "recipient-blocked-sender",
    "filtered",
    /recipient has (?:set|added|put) (?:a |you on (?:a |his |her |their )?)?(?:black|block) ?list (?:for|against) your|the recipient has blocked (?:you|your (?:address|domain|e-?mail)|the sender|mail from)|sender (?:address )?(?:is )?blocked by (?:the )?recipient|(?:加入|列入)了?(?:黑名单|黑名單)|拒绝接收您的邮件|拒絕接收您的郵件|remetente bloqueado pelo destinat[áa]rio|destinat[áa]rio bloqueou|remitente bloqueado por el destinatario|el destinatario (?:ha )?bloqueado|exp[ée]diteur (?:est )?bloqu[ée] par le destinataire|le destinataire (?:vous )?a bloqu[ée]|Absender (?:wurde )?vom Empf[äa]nger (?:blockiert|gesperrt)|mittente bloccato dal destinatario|il destinatario ha bloccato/i,
    "550 Mail rejected: the recipient has set a blocklist for your address",
    P.filtered,
  ],
  // The sending MTA found no route to the recipient's domain (Domino's router: `No route found to domain x from
  // server y`; Sisimai reads `unrouteable address` so): the domain does not resolve to a mail host.
  [
    "no-route-to-domain",
    "hostunknown",
    /no route (?:found )?to (?:the )?(?:recipient'?s? )?domain\b/i,
    "Router: No route found to domain example.net from server MAIL01/EXAMPLE.",
    P.hostunknown,
  ],
  // A domain that does not exist, in Czech/Slovak, Polish, Swedish/Danish/Norwegian, Korean (other languages:
  // lang.domain-not-found)
  [
    "domain-not-found",
    "hostunknown",
    /dom[ée]na (?:p[řr][íi]jemce |adres[áa]ta )?(?:\S{1,255} )?(?:neexistuje|nebyla nalezena)|domena (?:odbiorcy |adresata )?(?:\S{1,255} )?nie istnieje|dom[äa]n(?:en)? (?:\S{1,255} )?(?:finns inte|findes ikke|finnes ikke)|도메인(?:이|을)? (?:존재하지 않|찾을 수 없)/i,
    "550 5.1.2 Doména příjemce neexistuje",
    P.hostunknown,
  ],
  // An unknown address in Czech/Slovak, Polish, Swedish/Danish/Norwegian
  [
    "user-unknown",
    "userunknown",
    /(?:u[žz]ivatel|schr[áa]nka|adresa(?: p[řr][íi]jemce)?|[úu][čc]et) (?:\S{1,40} )?(?:neexistuje|nebyl nalezen|nebola n[áa]jden)|(?:adres (?:odbiorcy|e-?mail)|konto|skrzynka odbiorcy) (?:\S{1,40} )?nie istnieje|(?:adressen|mottagaren|anv[äa]ndaren|kontot|modtageren|mottakeren) (?:\S{1,40} )?(?:finns inte|findes ikke|finnes ikke)/i,
    "550 5.1.1 Uživatel neexistuje",
    P.userunknown,
  ],
  // X.400 (and gateways to it): the O/R name is not in the receiving domain's directory
  [
    "x400-unrecognized-orname",
    "userunknown",
    /unrecogni[sz]ed[- ]?O\/?R[- ]?(?:name|address)|(?:originator\/)?recipient name is not known in the directory/i,
    "Diagnostic code: unrecognised-ORName (0)",
    P.userunknown,
  ],
  // A refusal under the receiving server's policy restrictions (`554-Reject due to policy restrictions`), and the
  // same in German
  [
    "policy-restrictions",
    "policyviolation",
    /\b(?:reject(?:ed)?|refused|denied|blocked|not accepted) (?:due to|because of|by) (?:local |our )?polic(?:y|ies) restrictions?|aufgrund von (?:Richtlinien|Policy)(?:-?Einschr[äa]nkungen)?|Richtlinienversto[ßs]/i,
    "554-Transaction failed 554-Reject due to policy restrictions.",
    P.policyviolation,
  ],
  // The sending server's IP on a black list, in Spanish, Portuguese, French, Italian, German, Polish
  [
    "ip-on-black-list",
    "blocked",
    /(?:\bip|servidor|serveur|server|serwer)\b.{0,80} (?:en (?:una )?lista negra|(?:na|numa) lista (?:negra|de bloqueio)|(?:sur|dans) (?:une )?liste noire|in (?:una )?lista nera|auf (?:einer |der )?schwarzen liste|na czarnej li[śs]cie)/i,
    "550 5.7.1 la dirección IP 192.0.2.1 de su servidor figura en una lista negra",
    P.blocked,
  ],
  // A delivery the sending MTA gave up after days of tries (MMDF: `After 7 days (165 hours), your message could not be
  // fully delivered`)
  [
    "not-delivered-after-days",
    "expired",
    /after \d{1,4} (?:days?|hours?)(?: \(\d{1,6} hours?\))?,? (?:your |the )?(?:message|mail) (?:could not|couldn't|was not|has not been|cannot) (?:be )?(?:fully |completely )?delivered/i,
    "After 7 days (165 hours), your message could not be fully delivered.",
    P.expired,
  ],
]);
