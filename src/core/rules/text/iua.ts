// i.ua (Ukraine): every refusal links its numbered explanation, `https://mail.i.ua/err/<n>/`.
import { P, table } from "./define.js";

const err = (n: string): RegExp => new RegExp(`\\.i\\.ua/err/(?:${n})(?!\\d)`, "i");

export const iuaRules = table("iua", [
  [
    "err-1-gate",
    "norelaying",
    err("1|6"),
    "550 5.7.1 Use SMTP of your provider, see https://mail.i.ua/err/6/",
    P.provider,
  ],
  [
    "err-2-user",
    "userunknown",
    err("2"),
    "550 5.1.1 User is not found, see https://mail.i.ua/err/2/",
    P.provider,
  ],
  [
    "err-3-unused",
    "suspend",
    err("3"),
    "550 5.2.1 Mailbox is not used for more than 3 months, https://mail.i.ua/err/3/",
    P.provider,
  ],
  [
    "err-4-full",
    "mailboxfull",
    err("4"),
    "552 5.2.2 Mailbox is full, see https://mail.i.ua/err/4/",
    P.provider,
  ],
  [
    "err-5-limit",
    "ratelimited",
    err("5"),
    "550 5.7.1 Letter sending limit is exceeded, see https://mail.i.ua/err/5/",
    P.provider,
  ],
  [
    "err-7-helo",
    "blocked",
    err("7|9"),
    "550 5.7.1 IP-address of the sender is blacklisted, https://mail.i.ua/err/9/",
    P.provider,
  ],
  [
    "err-8-sender",
    "rejected",
    err("8"),
    "550 5.1.8 Couldn't check sender address, https://mail.i.ua/err/8/",
    P.provider,
  ],
  [
    "err-10-list",
    "filtered",
    err("10"),
    "550 5.7.1 Not in the list of allowed senders, https://mail.i.ua/err/10/",
    P.provider,
  ],
]);
