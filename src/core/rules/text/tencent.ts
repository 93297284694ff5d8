// Tencent QQ Mail and Exmail replies (https://service.mail.qq.com/detail/122), and NetEase (163.com, 126.com) codes.
import { P, table } from "./define.js";

export const tencentRules = table("tencent", [
  [
    "auth",
    "authfailure",
    /(?:spf|dmarc) check failed/i,
    "550 DMARC check failed. http://service.mail.qq.com/cgi-bin/help?subtype=1&&no=1001508&&id=16.",
    P.provider,
  ],
  [
    "blocked",
    "blocked",
    /suspected bounce attacks|suspected spam ip|connection denied\b/i,
    "550 Suspected spam IP. http://service.mail.qq.com/detail/122/66",
    P.provider,
  ],
  [
    "rate",
    "ratelimited",
    /(?:ip|domain|sender|connection) frequency limited|frequency of receiving messages is limited|mailbox unavailable or access denined/i,
    "550 Connection frequency limited [Q1YzZ3kx Blocked IP 192.0.2.22]. http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000722",
    P.provider,
  ],
  [
    "spam",
    "spamdetected",
    /spam is embedded in the email|mail content denied/i,
    "550 Mail content denied. http://service.mail.qq.com/detail/122/171",
    P.provider,
  ],
  [
    "rejected",
    "rejected",
    /suspected spam\b(?! ip)|mail is rejected by recipients/i,
    "550 Mail is rejected by recipients. http://service.mail.qq.com/detail/122/92",
    P.provider - 2,
  ],
  [
    "deactivated",
    "suspend",
    /is a deactivated mailbox/i,
    "550 kijitora@qq.com is a deactivated mailbox. http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000742",
    P.provider,
  ],
  [
    "too-large",
    "emailtoolarge",
    /qq\.com.{0,80}message too large|message too large.{0,80}qq\.com/i,
    "552 Message too large. http://service.mail.qq.com/detail/122/168",
    P.provider,
  ],
  [
    // NetEase's DT:SPM (its help page help_spam_16): the content was judged spam (Sisimai reads the page's address so)
    "netease-dt-spm",
    "spamdetected",
    /\bdt:spm\b/i,
    "554 DT:SPM 163 mx3,DsCowAB3x1dXhdZ0A7cAAw--.1234S2 1710000000, please see http://mail.163.com/help/help_spam_16.htm?ip=192.0.2.25",
    P.provider - 2,
  ],
  [
    "netease-user-suspended",
    "suspend",
    /user suspended.{0,40}163\.com|163\.com.{0,80}user suspended/i,
    "550 User suspended http://mail.163.com/help/help_spam_16.htm",
    P.provider,
  ],
]);
