// Japanese carriers and providers: KDDI/au (ezweb.ne.jp), NTT docomo, SoftBank, Biglobe, and Japanese-language
// bounce wordings.
import { P, table } from "./define.js";

export const japaneseRules = table("japan", [
  ["docomo-too-much-data", "mailboxfull", /552 too much mail data/i, "552 Too much mail data", P.provider],
  [
    "docomo-too-many-recipients",
    "ratelimited",
    /552 too many recipients/i,
    "552 Too many recipients",
    P.provider,
  ],
  [
    "kddi-account-disabled",
    "suspend",
    /the user\(s\) account is disabled/i,
    "The user(s) account is disabled.",
    P.provider,
  ],
  [
    "kddi-not-responding",
    "expired",
    /remote host is not responding|was not delivered within \d+ days and \d+ hours/i,
    "Your message was not delivered within 0 days and 1 hours. Remote host is not responding.",
    P.provider,
  ],
  [
    "kddi-domain-filter",
    "filtered",
    /rejected by the domain filter|this-message-rejected-by-the-domain-filter/i,
    "Each of the following recipients was rejected by the domain filter.",
    P.provider,
  ],
  [
    "kddi-recipient-refused",
    "filtered",
    /recipient id refuse to receive mail|user refuses to receive this mail/i,
    "550 Recipient ID refuse to receive mail",
    P.provider,
  ],
  [
    "biglobe-exceeded",
    "mailboxfull",
    /number of messages in recipient'?s mailbox exceeded/i,
    "The number of messages in recipient's mailbox exceeded the local limit.",
    P.provider,
  ],
  [
    // au (KDDI) answers a message its filters refuse with an anonymous "550 : User unknown" (an unknown address
    // names it: "550 <x@ezweb.ne.jp>: User unknown"); above the relaying provider's own wrapper of it
    "kddi-anonymous-user-unknown",
    "filtered",
    /\b550 : user unknown\b/i,
    "550 5.1.351 Remote server returned unknown recipient or mailbox unavailable -> 550 : User unknown",
    P.provider + 1,
  ],
  [
    "docomo-unknown-user",
    "userunknown",
    /550 unknown user \S{1,64}@\S{0,60}docomo/i,
    "550 Unknown user kijitora@docomo.ne.jp",
    P.provider,
  ],
  [
    "domino-ja-not-found",
    "userunknown",
    /domino ?ディレクトリ(?:に|には)見つかりません/i,
    "ユーザーNeko (kijitora@example.co.jp) は Domino ディレクトリには見つかりません。",
    P.mta,
  ],
  [
    "ja-mailbox-full",
    "mailboxfull",
    /(?:メールボックス|受信箱|メールボックスの容量)(?:が|は)?(?:いっぱい|一杯|満杯|容量(?:を)?超過|容量オーバー)|容量(?:を)?超過|容量が不足/i,
    "送信先のメールボックスがいっぱいのため配信できませんでした。",
    P.mailboxfull,
  ],
  [
    "ja-user-unknown",
    "userunknown",
    /(?:宛先|あて先|送信先)(?:の)?(?:メール)?アドレスが(?:見つかりません|存在しません)|存在しない(?:メール)?アドレス|該当するユーザーが(?:存在しません|いません)|ユーザー?が見つかりません/i,
    "送信先のメールアドレスが見つかりません。",
    P.userunknown,
  ],
  [
    "ja-host-unknown",
    "hostunknown",
    /ドメイン(?:名)?が(?:見つかりません|存在しません)|存在しないドメイン/i,
    "宛先のドメインが存在しません。",
    P.hostunknown,
  ],
  [
    "ja-rejected-filter",
    "filtered",
    /受信拒否|指定受信|迷惑メールフィルタ|ドメイン指定/i,
    "受信拒否設定により配信できませんでした。",
    P.filtered,
  ],
  [
    "ja-too-large",
    "emailtoolarge",
    /(?:メール|メッセージ)(?:の)?(?:サイズ|容量)が(?:大きすぎ|制限を超え)/i,
    "メールのサイズが大きすぎるため送信できませんでした。",
    P.emailtoolarge,
  ],
  [
    "ja-expired",
    "expired",
    /(?:一定時間|規定時間|時間内)(?:内)?に(?:配信|送信)(?:でき|され)ませんでした|配送期限切れ/i,
    "一定時間内に配信できませんでした。",
    P.expired,
  ],
  [
    "ja-suspend",
    "suspend",
    /(?:アカウント|利用)(?:が|は)?(?:停止|無効)/i,
    "このアカウントは利用停止中です。",
    P.suspend,
  ],
]);
