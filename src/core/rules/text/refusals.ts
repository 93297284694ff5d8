// Refusals in the words mailbox providers around the world write them, that no MTA family owns (blind round 9):
// the sending IP "in blacklist" without a verb (Aliyun, Chinese and Russian providers), the recipient's reception
// settings (the Japanese carriers' 受信拒否設定 in English), and the sender's domain refused for its DNS at MAIL
// FROM (Web.de, GMX, IONOS: "Sender address has no valid DNS MX or A/AAAA resource record").
import { P, table } from "./define.js";

export const refusalRules = table("generic", [
  [
    "ip-in-blacklist",
    "blocked",
    /\b(?:ip|ip address|client|client host|host)(?: \[?[0-9a-f.:]{3,45}\]?)? (?:is )?(?:in|on) (?:the |a |our )?(?:[\w.-]{1,30} )?(?:black ?list|block ?list|deny ?list)\b/i,
    "554 IP [192.0.2.130] in blacklist, please contact your mail administrator.",
    P.blocked,
  ],
  // Outranks the bare "Recipient address rejected" (an unknown address) as the recipient's own filter rule does.
  [
    "reception-settings",
    "filtered",
    /(?:refused|rejected|denied|blocked) by (?:the )?recipient'?s? (?:own )?(?:mail )?(?:reception|receiving|receive|receipt|incoming[- ]mail|acceptance) (?:settings?|filters?|rules?|restrictions?|preferences)|recipient'?s? (?:mail )?(?:reception|receiving) (?:settings?|restrictions?) (?:refused|rejected|denied|blocked)/i,
    "550 5.7.1 <user@example.jp>: Recipient address rejected: Mail from your domain is refused by the recipient's reception settings",
    P.userunknown + 1,
  ],
  // Said at MAIL FROM of the sender's domain; outranks the "mailbox unavailable" that often opens the same reply.
  [
    "sender-domain-without-dns",
    "rejected",
    /sender (?:address|domain|e-?mail domain)(?: \S{1,100})? (?:has|had) no (?:valid )?(?:dns )?(?:mx|a\b|a\/aaaa|resource record|mail exchanger)|(?:sender|envelope sender|mail from) domain (?:has no|without a?) ?(?:valid )?(?:mx|dns)\b/i,
    "550-Requested action not taken: mailbox unavailable 550-Sender address has no valid DNS MX or A/AAAA resource record",
    P.userunknown + 1,
  ],
]);
