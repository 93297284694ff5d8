// Russian providers (mail.ru, Yandex, Rambler) and Russian-language wordings.
import { P, table } from "./define.js";

export const russianRules = table("russia", [
  [
    "mailru-dmarc",
    "authfailure",
    /help\.mail\.ru\/mail-help\/postmaster\/dmarc/i,
    "550 5.7.1 This message was not accepted due to domain (example.org) owner DMARC policy (RFC 7489) https://help.mail.ru/mail-help/postmaster/dmarc",
    P.provider,
  ],
  [
    "mailru-spam",
    "spamdetected",
    /spam message rejected\. please visit http:\/\/help\.mail\.ru|spam message rejected\./i,
    "550 spam message rejected. Please visit http://help.mail.ru/notspam-support/id?c=XXXX",
    P.provider,
  ],
  [
    "mailru-dynamic",
    "blocked",
    /we do not accept mail from dynamic ips/i,
    "550 We do not accept mail from dynamic IPs. Please visit http://help.mail.ru/",
    P.provider,
  ],
  [
    "mailru-account-disabled",
    "suspend",
    /is unavailable: account is disabled|user is terminated/i,
    "550 Message was not accepted -- invalid mailbox. Local mailbox kijitora@mail.ru is unavailable: account is disabled",
    P.provider,
  ],
  [
    "yandex-spam",
    "spamdetected",
    /message rejected under suspicion of spam|yandex\.\S{1,10}\/support\/mail\/spam/i,
    "554 5.7.1 Message rejected under suspicion of SPAM; https://ya.cc/1IrBc",
    P.provider,
  ],
  ["yandex-no-such-user", "userunknown", /no such user!/i, "550 5.7.1 No such user!", P.provider],
  [
    "drbl",
    "spamdetected",
    /listed in work\.drbl\.imedia\.ru/i,
    "550 5.7.1 Rejected: 192.0.2.1 listed in work.drbl.imedia.ru",
    P.provider,
  ],
  [
    "ru-user-unknown",
    "userunknown",
    /(?:пользователь|получатель|адресат|почтовый ящик|адрес)[^.\n]{0,40}? (?:не существует|не найден|неизвестен)|(?:нет такого|несуществующий) (?:пользователя|адреса|ящика)/i,
    "550 Пользователь не найден",
    // also "Причина: пользователь с таким именем не существует." (a few words between)
    P.userunknown,
  ],
  [
    "ru-mailbox-full",
    "mailboxfull",
    /(?:ящик|почтовый ящик)(?: \S{1,40})? (?:переполнен|заполнен)|превышен(?:а)? (?:квота|лимит|размер ящика)/i,
    "552 Почтовый ящик переполнен",
    P.mailboxfull,
  ],
  [
    "ru-suspend",
    "suspend",
    /(?:ящик|аккаунт|учетная запись|учётная запись)(?: \S{1,40})? (?:заблокирован|отключен|удален|удалён)/i,
    "550 Почтовый ящик заблокирован",
    P.suspend,
  ],
  [
    "ru-spam",
    "spamdetected",
    /(?:подозрение на спам|похоже на спам|распознано как спам|отклонено как спам)/i,
    "554 Сообщение отклонено: подозрение на спам",
    P.spamdetected,
  ],
  [
    "ru-too-large",
    "emailtoolarge",
    /(?:письмо|сообщение) слишком (?:большое|велико)|превышен(?:ный)? (?:максимальный )?размер (?:письма|сообщения)/i,
    "552 Сообщение слишком большое",
    P.emailtoolarge,
  ],
  [
    "ru-address-not-found",
    "userunknown",
    /адрес(?: электронной почты)?(?:,? который вы ввели,?)? не (?:найден|существует)/i,
    "Адрес электронной почты, который вы ввели, не найден.",
    P.userunknown,
  ],
]);
