// The layouts of the plain-text bounces, one entry per MTA or provider family, tried in this order.
// Each says how to recognise the family cheaply, where its error block starts and ends, what its recipient
// lines look like, and which fixed sentences of its own state a reason. An example of the text is beside each.
import { EMAIL_SRC as E } from "./text.js";
import { fromOf, inHead, subjectOf, type Layout } from "./engine.js";
import type { Headers, ParsedMail } from "../mail.js";

const hdr = (m: ParsedMail, name: string): string => m.headers.get(name) ?? "";
const rx = (s: string, flags = "i"): RegExp => new RegExp(s, flags);

const QMAIL_BOUNCE = /\(qmail \d+ invoked for bounce\)/;

/**
 * A Received header of qmail's bounce. Decoding every Received header of every mail that reaches the layouts,
 * to test it, was among the costliest checks here: they are decoded only when the raw text of one has `qmail`
 * or an encoded word. Decoding keeps ASCII runs as they are (unfolding puts a space where a line was folded),
 * so an encoded word is the one way for `qmail` to appear.
 */
function qmailReceived(m: ParsedMail): boolean {
  const h = m.headers as Headers & { someRawIncludes?: (name: string, words: readonly string[]) => boolean };
  if (h.someRawIncludes && !h.someRawIncludes("received", ["qmail", "=?"])) return false;
  return h.getAll("received").some((r) => QMAIL_BOUNCE.test(r));
}

export const LAYOUTS: Layout[] = [
  {
    // Hi. This is the qmail-send program at mx.example.jp.
    // <kijitora@example.ne.jp>:
    // Sorry, no mailbox here by that name. (#5.1.1)
    id: "qmail",
    detect: (m, head) =>
      qmailReceived(m) ||
      inHead(
        head,
        /This is the qmail-send program|qmail-send program at|I'm afraid I wasn't able to deliver your message|I am afraid I wasn't able to deliver/i,
      ) ||
      (/^failure notice/i.test(subjectOf(m)) && inHead(head, /\(#[45]\.\d+\.\d+\)/)),
    start: [/qmail-send program|I'm afraid I wasn't able to deliver|wasn't able to deliver your message/i],
    end: [
      /^--- Below this line is a copy of the message|^--- Enclosed are the original headers of the message/i,
    ],
    reasons: [
      { id: "sender-rejected", reason: "rejected", pattern: /Connected to \S+ but sender was rejected/i },
      { id: "name-rejected", reason: "blocked", pattern: /Connected to \S+ but my name was rejected/i },
      { id: "no-mailbox", reason: "userunknown", pattern: /no mailbox here by that name/i },
      { id: "quota", reason: "mailboxfull", pattern: /disk quota exceeded/i },
      { id: "too-big", reason: "emailtoolarge", pattern: /Message size exceeds fixed maximum message size/i },
      {
        id: "no-host",
        reason: "hostunknown",
        pattern: /Sorry, I couldn't find any host (?:named|by that name)/i,
      },
      { id: "no-space", reason: "systemfull", pattern: /mailbox unavailable \(not enough free space\)/i },
      {
        id: "no-connection",
        reason: "networkerror",
        pattern:
          /Sorry, I wasn't able to establish an SMTP connection|Sorry, I couldn't find a mail exchanger or IP address|Although I'm listed as a best-preference MX or A for that host/i,
      },
      {
        id: "not-allowed-rcpthosts",
        reason: "norelaying",
        pattern: /that domain isn't in my list of allowed rcpthosts/i,
      },
      { id: "ldap-disabled", reason: "suspend", pattern: /Mailaddress is administrative?le?y disabled/i },
      {
        id: "queue-too-long",
        reason: "expired",
        pattern: /this message has been in the queue too long/i,
        unless: /\b[45]\d\d\b|does not like recipient/i,
      },
    ],
  },
  {
    // Sorry, we were unable to deliver your message to the following address.
    // <kijitora@example.jp>:
    // Remote host said:
    // 550 5.1.1 <kijitora@example.jp>... User Unknown [RCPT_TO]
    id: "yahoo",
    detect: (m, head) =>
      inHead(head, /unable to deliver your message to the following address/i) &&
      (/yahoo/i.test(fromOf(m)) || /^Failure Notice/i.test(subjectOf(m))),
    start: [/unable to deliver your message to the following address/i],
    blankEnds: false,
  },
  {
    // Delivery to the following recipient failed permanently:
    //      userunknown@example.jp
    // Technical details of permanent failure: ...
    // ** Address not found ** Your message wasn't delivered to x@y because the address couldn't be found
    id: "gmail",
    detect: (m, head) =>
      (/google(?:mail)?\.com/i.test(fromOf(m)) || /^Delivery Status Notification/i.test(subjectOf(m))) &&
      inHead(
        head,
        /Delivery to the following recipients? (?:failed|has been delayed)|Technical details of (?:permanent|temporary) failure|Your message wasn't delivered to|There was a (?:temporary )?problem delivering your message|Message not delivered/i,
      ) &&
      !inHead(head, /google ?groups|googlegroups/i),
    start: [
      /Delivery to the following recipients? (?:failed|has been delayed)|Your message wasn't delivered to|There was a (?:temporary )?problem delivering your message to|Message not delivered|Address not found|Message blocked/i,
    ],
    end: [/^\s*-+\s*(?:Original message|Message truncated)/i, /^\s*(?:LEARN MORE|Learn more about)/i],
    recipient: [
      rx(`(?:wasn't|was not) delivered to (?<addr>${E}) (?<rest>because.*)`),
      rx(`problem delivering your message to (?<addr>${E})\\.?(?<rest>.*)`),
      rx(`^\\s*(?<addr>${E})\\s*$`),
    ],
    generalLines: false,
    blankEnds: false,
    sharedDiagnostic: true,
    reasons: [
      { id: "address-not-found", reason: "userunknown", pattern: /because the address couldn't be found/i },
      {
        id: "domain-not-found",
        reason: "hostunknown",
        pattern:
          /DNS Error: (?:Domain name not found|DNS type '\w{1,10}' lookup of \S{1,255} responded with code NXDOMAIN)/i,
      },
    ],
  },
  {
    // Google Groups: the group does not exist or does not let the sender post (X-Failed-Recipients names it)
    id: "googlegroups",
    detect: (m, head) =>
      /google(?:mail)?\.com/i.test(fromOf(m)) &&
      (m.headers.get("x-failed-recipients") !== undefined || inHead(head, /Google Groups|googlegroups/i)) &&
      /google ?groups|googlegroups/i.test(head + hdr(m, "x-failed-recipients")),
    recipient: [rx(`^\\s*(?=.*googlegroups)(?<addr>${E})`)],
    generalLines: false,
    reasons: [{ id: "group-refused", reason: "rejected", pattern: /./ }],
    sharedDiagnostic: true,
  },
  {
    // This is the DragonFly Mail Agent v0.13 at df.example.jp.
    // There was an error delivering your mail to <x@y>.
    // mx.y [192.0.2.1] did not like our RCPT TO: 550 5.1.1 ...
    id: "dragonfly",
    detect: (_m, head) => inHead(head, /DragonFly Mail Agent|There was an error delivering your mail to/i),
    start: [/There was an error delivering your mail to/i],
    recipient: [rx(`error delivering your mail to <?(?<addr>${E})>?\\.?`)],
    generalLines: false,
    blankEnds: false,
    end: [/^Message headers follow/i],
    strip:
      /^.{0,200}?\bdid not like our (?:final )?(?:RCPT TO|MAIL FROM|DATA|HELO|EHLO|STARTTLS|[A-Z ]{2,12}):\s*/,
    reasons: [
      {
        id: "unable-to-find-host",
        reason: "hostunknown",
        pattern: /DNS lookup failure|unable to find|NXDOMAIN/i,
      },
      { id: "unable-to-connect", reason: "networkerror", pattern: /unable to connect|connection refused/i },
    ],
  },
  {
    // Your message  To: ...  did not reach the following recipient(s):
    // kijitora@example.jp on Thu, 29 Apr 2010 00:00:00 -0000
    //     The recipient name is not recognized  MSEXCH:IMS:... (000C05A6) Unknown Recipient
    id: "exchange2003",
    detect: (_m, head) =>
      inHead(
        head,
        /did not reach the following recipient\(s\)|MSEXCH:|did not reach the following recipient|did not reach some or all of the intended recipients/i,
      ),
    start: [/did not reach the following recipient|following recipient\(s\) could not be reached/i],
    recipient: [rx(`^\\s*'?(?<addr>${E})'?\\s+on\\s+\\S.*$`)],
    reasons: [
      {
        id: "name-not-recognized",
        reason: "userunknown",
        pattern: /recipient name is not recognized|\(000C05A6\)|Unknown Recipient/i,
      },
      {
        id: "mailbox-full",
        reason: "mailboxfull",
        pattern: /mailbox (?:is )?full|exceeded (?:the )?storage|\(0004010E\)/i,
      },
      {
        id: "no-route",
        reason: "networkerror",
        pattern: /could not find a route|\(000D06B5\)|\(00010256\)/i,
      },
      { id: "expired", reason: "expired", pattern: /\(0000052D\)|\(000B099C\)|message (?:has )?expired/i },
      { id: "size", reason: "emailtoolarge", pattern: /message (?:size )?exceeds|too large/i },
      { id: "restricted", reason: "filtered", pattern: /\(000C0595\)|not authorized|restriction/i },
    ],
  },
  {
    // ---The following addresses had delivery errors---
    // kijitora@example.co.jp [User unknown]
    id: "x1",
    detect: (_m, head) => inHead(head, /^-+The following addresses had delivery errors-+\s*$/im),
    start: [/The following addresses had delivery errors/i],
  },
  {
    // Delevery to the following recipients was aborted after 5.0 hour(s):
    // Delivery to the following recipients failed permanently:   * kijitora@example.or.jp
    id: "x3",
    detect: (m, head) =>
      /^Delivery status notification$/i.test(subjectOf(m)) &&
      inHead(
        head,
        /(?:Delevery|Delivery) to the following recipients|automatically generated Delivery Status Notification/i,
      ),
    start: [/(?:Delevery|Delivery) to the following recipients/i],
    recipient: [
      rx(`^\\s*\\*\\s*(?<addr>${E})(?<rest>.*)`),
      rx(`^(?<rest>.*?)\\bfor\\s+<?(?<addr>${E})>?\\s*$`),
    ],
    blankEnds: false,
    sharedDiagnostic: true,
    reasons: [{ id: "aborted-after", reason: "expired", pattern: /was aborted after [\d.]+ hour/i }],
  },
  {
    // The following recipients returned permanent errors: x@y. Reason: SMTP Server <192.0.2.1> refused ...
    id: "x6",
    detect: (m, head) =>
      inHead(head, /The following recipients returned (?:permanent|temporary) errors/i) ||
      (/^There was an error sending your mail/i.test(subjectOf(m)) && inHead(head, /(?<!\d)\d+ error\(s\):/)),
    recipient: [
      rx(`recipients returned (?:permanent|temporary) errors:\\s*(?<addr>${E})\\.?\\s*(?<rest>.*)`),
      rx(`^(?<rest>.*(?:rejected|refused) recipient <?(?<addr>${E})>?.*)`),
    ],
    generalLines: false,
  },
  {
    // The following message to <x@y> was undeliverable.  The reason for the problem: 5.3.0 - Other mail system problem
    id: "amazonses",
    detect: (m, head) =>
      /amazonses\.com/i.test(fromOf(m)) || inHead(head, /The following message to <.+> was undeliverable/i),
    recipient: [rx(`message to <?(?<addr>${E})>? was undeliverable`)],
    blankEnds: false,
    end: [/^-+\s*Original message/i],
  },
  {
    // An error occurred while trying to deliver the mail to the following recipients:  x@y  Technical report: ...
    id: "amazonworkmail",
    detect: (_m, head) =>
      inHead(head, /An error occurred while trying to deliver the mail to the following recipients/i),
    start: [/An error occurred while trying to deliver the mail/i],
    blankEnds: false,
  },
  {
    // Could not be delivered to: <x@dion.ne.jp>  As their mailbox is full.
    id: "kddi",
    detect: (m, head) =>
      inHead(head, /Could not be delivered to:\s*</i) ||
      (/dion\.ne\.jp|\.au\.com|ezweb\.ne\.jp/i.test(fromOf(m)) && inHead(head, /Your mail sent on/i)),
    recipient: [rx(`Could not be delivered to:?\\s*<?(?<addr>${E})>?`)],
    blankEnds: false,
    reasons: [
      { id: "mailbox-full", reason: "mailboxfull", pattern: /As their mailbox is full/i },
      { id: "no-domain", reason: "hostunknown", pattern: /As the remote domain do(?:es)?n'?t exist/i },
      { id: "relay-error", reason: "networkerror", pattern: /Due to the following SMTP relay error/i },
    ],
  },
  {
    // Unable to deliver message to: <x@y>  Delivery failed for the following reason:  Server ... failed with: 550 ...
    id: "mailfoundry",
    detect: (_m, head) =>
      inHead(head, /Unable to deliver message to:?\s*</i) &&
      inHead(head, /Delivery failed for the following reason/i),
    recipient: [rx(`Unable to deliver message to:?\\s*<?(?<addr>${E})>?`)],
    blankEnds: false,
  },
  {
    // You are not a member of this mailing list <ml@example.org>.   (fml)
    id: "fml",
    detect: (m, head) =>
      /fml/i.test(hdr(m, "x-mlserver") + hdr(m, "list-software")) ||
      inHead(head, /not a member of this mailing list/i),
    recipient: [
      rx(`(?<rest>not a member of this mailing list) <?(?<addr>${E})>?`),
      rx(`^(?<rest>.*?)<(?<addr>${E})>`),
    ],
    generalLines: false,
    end: [/^Original mail as follows/i, /^-+\s*original message/i],
    reasons: [
      { id: "duplicated-message-id", reason: "notcompliantrfc", pattern: /Duplicated Message-ID/i },
      {
        id: "not-member",
        reason: "rejected",
        pattern: /not a member|not member|only members|denied|reject/i,
      },
      { id: "loop", reason: "systemerror", pattern: /loop/i },
    ],
  },
  {
    // ------- Failure Reasons  --------  User not listed in public Name & Address Book  x@y  ------- Returned Message
    id: "notes",
    detect: (_m, head) => inHead(head, /^-+\s*Failure Reasons\s*-+/im),
    start: [/^-+\s*Failure Reasons\s*-+/i],
    end: [/^-+\s*Returned Message\s*-+/i],
    sharedDiagnostic: true,
    reasons: [
      {
        id: "not-listed",
        reason: "userunknown",
        pattern: /not listed in (?:public )?Name & Address Book|ディレクトリのリストにありません/i,
      },
    ],
  },
  {
    // Apache James (and Verizon's vtext.com gateway):  Error: Invalid user address  Error message below:
    // 550 - Requested action not taken: no such user here   Message details: ... RCPT TO: x@y
    id: "apachejames",
    detect: (_m, head) =>
      inHead(head, /^Error message below:/im) && inHead(head, /^[\t ]*Message details:/im),
    recipient: [rx(`^\\s*RCPT TO:\\s*<?(?<addr>${E})>?`)],
    generalLines: false,
    blankEnds: false,
    sharedDiagnostic: true,
  },
  {
    // Message could not be delivered to mobile.  Error: No valid recipients for this MM
    id: "verizon",
    detect: (m, head) =>
      /vtext\.com|vzwpix\.com|verizon/i.test(fromOf(m)) || inHead(head, /could not be delivered to mobile/i),
    recipient: [rx(`^\\s*To:\\s*(?:[^<]*<)?(?<addr>${E})>?\\s*$`)],
    generalLines: false,
    recipientFromOriginal: true,
    sharedDiagnostic: true,
    noise: [/^\s*(?:Subject|Date|From|CC|Sent):/i],
    reasons: [
      { id: "no-valid-recipients", reason: "userunknown", pattern: /No valid recipients for this MM/i },
    ],
  },
  {
    // An email that you attempted to send to the following address could not be delivered:  -- x@y
    id: "mimecast",
    detect: (_m, head) => inHead(head, /attempted to send to the following address could not be delivered/i),
    recipient: [rx(`^\\s*--\\s+(?<addr>${E})\\s*$`)],
    blankEnds: false,
    end: [/^This condition occurred after|^If you sent the email to multiple recipients/i],
    reasons: [
      {
        id: "address-incorrect",
        reason: "userunknown",
        pattern: /Recipient email address is possibly incorrect/i,
      },
      { id: "mailbox-full", reason: "mailboxfull", pattern: /mailbox is full|over quota/i },
    ],
  },
  {
    // Biglobe:  ----- The following addresses had delivery problems -----  x@y  ----- Non-delivered information -----
    id: "biglobe",
    detect: (m, head) =>
      /biglobe/i.test(fromOf(m)) && inHead(head, /The following addresses had delivery problems/i),
    start: [/The following addresses had delivery problems/i],
    blankEnds: false,
    reasons: [
      {
        id: "mailbox-exceeded",
        reason: "mailboxfull",
        pattern: /recipient's mailbox exceeded the local limit/i,
      },
      { id: "no-user", reason: "userunknown", pattern: /Invalid recipient|User unknown/i },
    ],
  },
  {
    // m-FILTER:  x@y  -------server message  550 unknown user <x@y>  -------SMTP command  DATA
    id: "mfilter",
    detect: (_m, head) => inHead(head, /^-{5,}server message\s*$/im) || inHead(head, /m-FILTER/i),
    end: [/^-+original message/i],
    blankEnds: false,
    noise: [/^-{5,}(?:server message|SMTP command)\s*$/i],
  },
  {
    // Zoho:  x@y Invalid Address, ERROR_CODE :550, ERROR_CODE :5.1.1 <x@y>... User Unknown
    id: "zoho",
    detect: (m) => /zoho/i.test(fromOf(m)) || m.headers.get("x-zohomail") !== undefined,
    recipient: [rx(`^\\s*<?(?<addr>${E})>?\\s+(?<rest>\\S.*)`)],
    reasons: [
      {
        id: "invalid-address",
        reason: "userunknown",
        pattern: /Invalid Address, ERROR_CODE :550, ERROR_CODE :5\.1\.1/i,
      },
    ],
  },
  {
    // IMail:  Unknown user: x@y   /   User mailbox exceeds allowed size: x@y
    id: "imailserver",
    detect: (m, head) =>
      /^Undeliverable Mail\s*$/i.test(subjectOf(m)) &&
      inHead(head, /^[A-Za-z][^:]{3,60}:\s*[^\s@]+@\S+[\t ]*$/m),
    recipient: [rx(`^\\s*(?<rest>[A-Za-z][^:<>@]{3,60}):\\s*<?(?<addr>${E})>?\\s*$`)],
    blankEnds: false,
    end: [/^Original message follows/i],
    reasons: [
      {
        id: "unknown-user",
        reason: "userunknown",
        pattern: /^(?:Unknown user|Invalid final delivery userid)/i,
      },
      { id: "mailbox-size", reason: "mailboxfull", pattern: /^User mailbox exceeds allowed size/i },
      {
        id: "host-not-found",
        reason: "hostunknown",
        pattern: /^(?:Unknown host|Host not found|Domain not found)/i,
      },
      { id: "timed-out", reason: "expired", pattern: /^(?:Request timed out|Delivery expired)/i },
      { id: "no-answer", reason: "networkerror", pattern: /^(?:No answer from host|Could not connect)/i },
    ],
  },
  {
    // Trend Micro InterScan:  Sent <<< RCPT TO:<x@y>  Received >>> 550 5.1.1 <x@y>... User unknown
    id: "trendmicro",
    detect: (m, head) =>
      /InterScan|Trend ?Micro/i.test(fromOf(m) + hdr(m, "x-mailer")) || inHead(head, /^Sent <<< RCPT TO:/m),
    recipient: [
      rx(`^\\s*Sent <<< RCPT TO:\\s*<?(?<addr>${E})>?`),
      rx(`^(?<rest>Unable to deliver message to <?(?<addr>${E})>?.*)`),
    ],
    blankEnds: false,
    end: [/^\*+\s*End of message\s*\*+/i],
    reasons: [
      {
        id: "check-address",
        reason: "userunknown",
        pattern: /Please check if address is correct|No such user/i,
      },
    ],
  },
  {
    // Exchange 2007+:  Delivery has failed to these recipients or groups:  x@y  The e-mail address you entered couldn't be found ...
    id: "exchange2007",
    detect: (_m, head) =>
      inHead(
        head,
        /Delivery has failed to these recipients or (?:distribution lists|groups)|Diagnostic information for administrators|Remote Server returned '/i,
      ),
    start: [
      /Delivery has failed to these recipients|Diagnostic information for administrators|could not be delivered to/i,
    ],
    end: [/^Original message headers:/i],
    blankEnds: false,
  },
  {
    // Lotus Domino:  Your message  Subject: x  was not delivered to:  x@y  because:  User x (x@y) not listed in Domino Directory
    id: "domino",
    detect: (_m, head) => inHead(head, /^[\t ]*was not delivered to:[\t ]*$/im),
    start: [/^[\t ]*was not delivered to:[\t ]*$/i],
    blankEnds: false,
    noise: [/^\s*because:\s*$/i],
    reasons: [
      {
        id: "not-listed",
        reason: "userunknown",
        pattern: /not listed in (?:the )?(?:Domino Directory|public Name & Address Book)|No such user/i,
      },
      {
        id: "mailbox-full",
        reason: "mailboxfull",
        pattern: /mailbox (?:is )?full|exceeded (?:its|the) quota/i,
      },
    ],
  },
  {
    // MailMarshal:  Could not be delivered because of  550 5.1.1 User unknown  The following recipients were affected:  x@y
    id: "mailmarshal",
    detect: (_m, head) =>
      inHead(head, /Could not be delivered because of/i) &&
      inHead(head, /The following recipients were affected/i),
    recipient: [rx(`^\\s+(?<addr>${E})\\s*$`)],
    generalLines: false,
    end: [/^Additional Information\s*$/i],
    sharedDiagnostic: true,
  },
  {
    // Courier:  This is a delivery status notification from mx.example.jp ...  UNDELIVERABLE MAIL
    // Your message to the following recipients cannot be delivered:  <x@y>:  mx.y [192.0.2.1]:  >>> RCPT TO:<x@y>  <<< 550 ...
    id: "courier",
    detect: (_m, head) =>
      inHead(
        head,
        /This is a delivery status notification from|UNDELIVERABLE MAIL|DELAYED MAIL|^[\t ]*Courier mail server at/im,
      ),
    start: [
      /recipients cannot be delivered|UNDELIVERABLE MAIL|DELAYED MAIL|has not been delivered to the following/i,
    ],
    blankEnds: false,
  },
  {
    // Sun/Oracle Messaging Server:  This report relates to a message you sent with the following header fields:
    // Your message cannot be delivered to the following recipients:  Recipient address: x@y  Reason: ...  Diagnostic code: smtp;550 ...
    id: "messagingserver",
    detect: (_m, head) =>
      inHead(head, /This report relates to a message you sent with the following header fields/i) ||
      inHead(head, /^[\t ]*Recipient address:\s*\S+@/im),
    start: [/cannot be delivered to the following recipients|has been delayed|following recipients:/i],
    blankEnds: false,
  },
  {
    // McAfee (and kin):  --- The following addresses had delivery problems ---  <x@y>   (User unknown x@y)
    id: "mcafee",
    detect: (m, head) =>
      inHead(head, /^[\t -]*The following addresses had delivery problems[\t -]*$/im) &&
      !/biglobe/i.test(fromOf(m)),
    start: [/The following addresses had delivery problems/i],
    blankEnds: false,
  },
  {
    // SurfControl:  Your message could not be sent.  A transcript of the attempts to send the message follows.
    // Addressed To: x@y  ...  Failed to send to identified host,  x@y: [192.0.2.5], 550 x@y... No such user
    id: "surfcontrol",
    detect: (_m, head) => inHead(head, /A transcript of the attempts to send the message follows/i),
    end: [/^-+\s*Message non-deliverable/i],
    blankEnds: false,
  },
  {
    // Sendmail:  ----- The following addresses had permanent fatal errors -----  <x@y>  (reason: 550 5.1.1 User unknown)
    //  ----- Transcript of session follows -----  ... while talking to mx.y:  >>> RCPT To:<x@y>  <<< 550 5.1.1 <x@y>... User unknown
    id: "sendmail",
    detect: (m, head) =>
      inHead(
        head,
        /^[\t ]*-+\s*(?:The following addresses had (?:permanent fatal|transient non-fatal) errors|Transcript of session follows)/im,
      ) || /^Returned mail: |^Warning: could not send message/i.test(subjectOf(m)),
    start: [
      /The following addresses had (?:permanent fatal|transient non-fatal|delivery) (?:errors|problems)|Transcript of session follows/i,
    ],
    end: [
      /^\s*-+\s*(?:Original message follows|Unsent message follows|Message header follows|Returned message follows|Original message header follows)/i,
    ],
    blankEnds: false,
    recipientFromOriginal: true,
    sharedDiagnostic: true,
  },
  {
    // Postfix:  This is the mail system at host mx.example.jp. ...  <x@y>: host mx.y[192.0.2.1] said: 550 5.1.1 ...
    id: "postfix",
    detect: (_m, head) =>
      inHead(
        head,
        /This is the (?:mail system|Postfix program) at host|^[\t ]*The (?:mail system|Postfix program)[\t ]*$/im,
      ),
    start: [
      /^[\t ]*The (?:mail system|Postfix program)[\t ]*$/i,
      /This is the (?:mail system|Postfix program) at host/i,
    ],
    end: [/^-+\s*(?:Undelivered message|Original message)/i],
    recipientFromOriginal: true,
    reasons: [
      {
        id: "host-not-found",
        reason: "hostunknown",
        pattern: /Host (?:or domain name )?not found\. Name service error/i,
      },
      {
        id: "name-service-temp",
        reason: "networkerror",
        pattern: /Name service error for (?:domain|name)=?\S+: Host not\s+found, try again/i,
      },
    ],
  },
  {
    // Exim (also mail.ru, GMX, MXLogic):  This message was created automatically by mail delivery software.
    // A message that you sent could not be delivered to one or more of its recipients. ...
    //   x@y
    //     SMTP error from remote mail server after RCPT TO:<x@y>: host mx [ip]: 550 5.1.1 ...
    id: "exim",
    detect: (m, head) =>
      inHead(
        head,
        /This message was created automatically by mail delivery software|could not be delivered to one or more of its|following address(?:\(es\))? failed|router encountered the following error/i,
      ) ||
      /^Mail delivery failed|^Warning: message .+ delayed|^Mail failure|^Message frozen|error\(s\) in forwarding or filtering/i.test(
        subjectOf(m),
      ) ||
      m.headers.get("x-failed-recipients") !== undefined ||
      (/^Mail Delivery System/i.test(fromOf(m)) && /^<?\w{6}-\w{6}-\w{2,4}@/.test(hdr(m, "message-id"))),
    start: [
      /could not be delivered to|following address(?:\(es\))? failed|address(?:\(es\))? failed:|^[\t ]*failed:[\t ]*$|has not yet been delivered|rejected by the local scanning code|contained one or more recipient addresses|has been frozen|was frozen on arrival|router encountered the following error/i,
    ],
    end: [
      /^-+\s*This is a copy of (?:the|your) message|^Included is a copy of the message header|^-+\s*The body of the message is|^-+\s*The header of the original message is following/i,
      /^\s*Reporting-MTA:/i,
    ],
    recipient: [
      rx(`^\\s+generated by <?(?<addr>${E})>?\\s*$`),
      // \`  alias@example.org <real@example.net>: reply\`
      rx(`^\\s+[^\\s@]+@\\S+ <(?<addr>${E})>:(?<rest>.*)`),
    ],
    // exim's own words (deliver.c, route.c, transports): Sisimai's table
    reasons: [
      {
        id: "mailbox-full",
        reason: "mailboxfull",
        pattern: /mailbox is full|error: quota exceed|Mailbox quota (?:usage )?exceeded/i,
      },
      { id: "pipe-failed", reason: "mailererror", pattern: /(?:^|\s)pipe to \|/i, scope: "block" },
      {
        id: "helo-refused",
        reason: "blocked",
        pattern: /SMTP error from remote (?:mail server|mailer) after (?:EHLO|HELO)\b/i,
      },
      {
        id: "user-not-found",
        reason: "userunknown",
        pattern: /\(user not found\)|\buser not found\b/i,
        unless: /\b[45]\d\d\b/,
      },
      {
        id: "no-smtp-service",
        reason: "notaccept",
        pattern: /an MX or SRV record indicated no SMTP service|no host found for existing SMTP connection/i,
      },
      {
        id: "unrouteable",
        reason: "hostunknown",
        pattern:
          /Unrouteable address|all relevant MX records point to non-existent hosts|all host address lookups failed permanently/i,
      },
      {
        id: "local-delivery",
        reason: "systemerror",
        pattern: /delivery to (?:file|pipe) forbidden|local delivery failed|LMTP error after/i,
      },
      { id: "too-many-received", reason: "contenterror", pattern: /Too many ["']?Received["']? headers/i },
      {
        id: "delayed",
        reason: "expired",
        pattern:
          /retry timeout exceeded|retry time not reached for any host|No action is required on your part|all hosts have been failing for a long time|has been frozen|was frozen on arrival|Delay reason:/i,
        unless: /\b5\d\d[ -]|\b5\.\d{1,3}\.\d{1,3}\b/,
      },
    ],
  },
  {
    // OpenSMTPD:  An error has occurred while attempting to deliver a message for the following list of recipients:
    // x@y: 550 5.1.1 ...
    id: "opensmtpd",
    detect: (_m, head) =>
      inHead(
        head,
        /This is the MAILER-DAEMON, please DO NOT REPLY|An error has occurred while attempting to deliver a message/i,
      ),
    start: [/while attempting to deliver a message/i],
    end: [/^\s*Below is a copy of the original message/i],
    reasons: [
      { id: "invalid-domain", reason: "hostunknown", pattern: /Invalid domain name|Domain not found/i },
      { id: "no-mx", reason: "notaccept", pattern: /No MX found for domain/i },
      {
        id: "network",
        reason: "networkerror",
        pattern: /Network error on destination MXs|Unable to connect/i,
      },
      { id: "user-unknown", reason: "userunknown", pattern: /Invalid recipient|user unknown/i },
      { id: "expired", reason: "expired", pattern: /Envelope expired|message expired/i },
    ],
  },
  {
    // EZweb:  <x@ezweb.ne.jp>  Each of the following recipients was rejected by a remote mail server.
    id: "ezweb",
    detect: (m) =>
      /ezweb\.ne\.jp|au\.com/i.test(fromOf(m)) ||
      /ezweb|au\.com/i.test(hdr(m, "received")) ||
      /^Mail System Error - Returned Mail$/i.test(subjectOf(m)),
    end: [/^-{10,}\s*$/],
    blankEnds: false,
    sharedDiagnostic: true,
    reasons: [
      {
        id: "over-quota",
        reason: "mailboxfull",
        pattern: /The user\(s\) account is temporarily over quota/i,
      },
      {
        id: "account-disabled",
        reason: "suspend",
        pattern: /The user\(s\) account is (?:disabled|temporarily limited)/i,
      },
      { id: "not-delivered-within", reason: "expired", pattern: /Your message was not delivered within /i },
      {
        id: "rejected-by-remote",
        reason: "filtered",
        pattern:
          /Each of the following recipients was rejected by a remote mail server|The following recipients did not receive this message/i,
        unless: /\b[45]\d\d\b/,
      },
    ],
  },
  {
    // Unnamed X2 / MXLogic-likes:  Unable to deliver message to the following address(es).  <x@y>:  text
    id: "x2",
    detect: (_m, head) => inHead(head, /Unable to deliver message to the following address/i),
    start: [/Unable to deliver message to the following address/i],
  },
];
