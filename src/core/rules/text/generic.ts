// Generic English wordings per reason, as many MTAs and providers phrase them. Priorities follow Sisimai's
// order of checks (see define.ts), so a text naming two reasons resolves the way Sisimai's labels expect.
import { P, table } from "./define.js";

export const genericRules = table("generic", [
  // --- mailboxfull ---------------------------------------------------------------------------------------
  [
    "mailbox-full",
    "mailboxfull",
    /mailbox (?:is )?full|full mailbox|mailbox (?:size )?(?:limit )?exceeded|mailfolder is full|(?:mailbox|mail ?box|in-?box|post ?office box) (?:of|for) (?:the )?(?:recipient|user|addressee|receiver) (?:is )?(?:full|over (?:its )?(?:quota|limit))/i,
    "550 5.2.2 <kijitora@example.jp>... Mailbox Full",
    P.mailboxfull,
  ],
  [
    "over-quota",
    "mailboxfull",
    /over ?quota|quota (?:has been |was )?exceeded|exceeded (?:the |his |her |their )?(?:storage |mailbox )?quota|quota violation|quota full/i,
    "552 5.2.2 <neko@example.org> Quota exceeded (mailbox for user is full)",
    P.mailboxfull,
  ],
  [
    "disk-quota",
    "mailboxfull",
    /disk quota|maildir quota|mailbox quota|account is (?:over|above) (?:its |the )?quota|user is over (?:the )?quota/i,
    "x-unix; /var/mail/kijitora/Maildir/tmp/1.neko: Disk quota exceeded",
    P.mailboxfull,
  ],
  [
    "storage-exceeded",
    "mailboxfull",
    /exceeded (?:its |the |their |his |her |your )?storage (?:allocation|allowance|limit)|(?:storage|mailbox) (?:space )?(?:is )?(?:full|exhausted)|out of storage space|storage quota|mailbox would exceed (?:the )?maximum allowed storage|space has been used up|(?:mailbox|mail ?(?:database|file|store)) (?:has )?exceeded (?:its |the )?(?:size )?(?:quota|limit)/i,
    "552 Requested mail action aborted: exceeded storage allocation",
    P.mailboxfull,
  ],
  [
    "mailbox-exceeded-limit",
    "mailboxfull",
    /mailbox (?:exceeds|exceeded|has exceeded)(?: the)? (?:allowed |local )?(?:size|limit)|messages in (?:recipient's |the )?mailbox exceeded|too many messages (?:on the server|in (?:the|this) mailbox)|mailbox has too many messages/i,
    "The number of messages in recipient's mailbox exceeded the local limit.",
    P.mailboxfull,
  ],
  [
    "no-space",
    "mailboxfull",
    /no space left on device|not (?:enough|sufficient) (?:disk |storage )?space (?:for|in) (?:the )?(?:user|mailbox|recipient)/i,
    "550 Error writing to mailbox: No space left on device",
    P.mailboxfull,
  ],
  [
    "too-much-mail",
    "mailboxfull",
    /too much mail data|user has exceeded (?:the )?(?:quota|limit)|has exceeded (?:his|her|their) (?:storage|disk|mailbox) (?:quota|limit|space)/i,
    "552 Too much mail data",
    P.mailboxfull,
  ],
  [
    "receiving-limit",
    "mailboxfull",
    /account disabled temporarly for exceeding receiving limits|account storage limit/i,
    "550 5.2.2 account disabled temporarly for exceeding receiving limits",
    P.mailboxfull,
  ],

  // --- emailtoolarge --------------------------------------------------------------------------------------
  [
    "message-too-large",
    "emailtoolarge",
    /message (?:is )?too (?:large|big)|mail (?:is )?too (?:large|big)|message file too big|too big for (?:the )?system|message size (?:is )?too (?:large|big)/i,
    "552 5.3.4 Message too large",
    P.emailtoolarge,
  ],
  [
    "size-exceeds",
    "emailtoolarge",
    /(?:message|mail|email|e-mail) (?:size|length) exceeds|exceeds? (?:the )?(?:fixed |maximum |max )?(?:message|mail|email) size|(?:size|length) exceeds (?:the )?(?:fixed|maximum|max|administrative|allowed)|max(?:imum)? (?:message|email|mail) size (?:limit )?exceeded|message size limit|exceeded (?:the )?maximum (?:incoming|inbound) message size|exceeded maximum inbound message size/i,
    "552 5.2.3 Message size exceeds fixed maximum message size (10485760)",
    P.emailtoolarge,
  ],
  [
    "size-limit",
    "emailtoolarge",
    /size limit (?:exceeded|reached)|exceeds? (?:the )?size limit|message exceeded (?:\w+ )?(?:message )?size limits?|message (?:length|size) exceeds (?:administrative )?limit|line limit exceeded|message header size exceeds limit/i,
    "552 5.2.3 Message length exceeds limit set by recipient",
    P.emailtoolarge,
  ],
  [
    // a limit counted in characters or bytes (a pager or SMS gateway's page, an MTA's byte cap)
    "size-limit-units",
    "emailtoolarge",
    /exceeds? (?:the )?(?:maximum of |limit of )?\d{1,10}[ -]?(?:characters?|chars?|bytes?|octets?)(?: (?:page|message|sms|text|size))? limit/i,
    "554 Message exceeds the 160 character page limit",
    P.emailtoolarge,
  ],
  [
    "recip-size-limit",
    "emailtoolarge",
    /recipsizelimit|message too large for this recipient|maximum email size exceeded/i,
    "550 5.2.3 RESOLVER.RST.RecipSizeLimit; message too large for this recipient",
    P.emailtoolarge,
  ],

  // --- suspend ----------------------------------------------------------------------------------------------
  [
    "account-disabled",
    "suspend",
    /(?:account|mailbox|address|user) (?:has been |is |was )?(?:disabled|deactivated|suspended|frozen|locked|blocked)\b|(?:disabled|deactivated|suspended|inactive|frozen) (?:recipient|account|mailbox|user)|recipient (?:account )?(?:is )?disabled/i,
    "550 5.2.1 <kijitora@example.jp>: Recipient address rejected: Account disabled",
    P.suspend,
  ],
  [
    "account-inactive",
    "suspend",
    /(?:account|mailbox|address|user) (?:is |has been )?(?:currently |temporarily )?(?:inactive|not active|suspended|expired)|inactive (?:email )?(?:account|address|user|mailbox)|invalid\/inactive user|temporarily inactive/i,
    "550 5.1.1 <kijitora@icloud.com>: inactive email address",
    P.suspend,
  ],
  [
    "account-discontinued",
    "suspend",
    /disabled or discontinued|has been (?:temporarily )?suspended|is currently suspended|user suspended|recipient suspend(?:ed)? the service|is unavailable: user is terminated|archived recipient|mailbox unavailable or access denied|no longer accepts mail|temporary locked|is (?:a )?deactivated mailbox|account is locked/i,
    "554 delivery error: dd Sorry your message to neko@example.co.jp cannot be delivered. This account has been disabled or discontinued [#102].",
    P.suspend,
  ],
  [
    "mailbox-disabled-not-accepting",
    "suspend",
    /mailbox disabled, not accepting messages|user or domain is disabled|this mailbox is disabled/i,
    "550 5.2.1 <kijitora@libsisimai.org>... Mailbox disabled, not accepting messages",
    P.suspend,
  ],
  // A mailbox closed by its administrator (Mirapoint, Openwave): it exists but takes no mail, as a suspended one.
  [
    "mailbox-closed",
    "suspend",
    /\b(?:mailbox|account) (?:has been |is |was )?(?:closed|shut down)\b|\bclosed by the (?:administrator|postmaster)\b/i,
    "Reason: The recipient's mailbox has been closed by the administrator and no longer receives mail.",
    P.suspend,
  ],

  // --- hasmoved ---------------------------------------------------------------------------------------------
  [
    "has-moved",
    "hasmoved",
    /no longer on (?:this )?server|has been replaced by|mailbox has moved|address has (?:been )?(?:moved|changed)|user has moved|no forwarding address/i,
    "550 5.1.6 recipient no longer on server: kijitora@example.go.jp",
    P.hasmoved,
  ],
  [
    "not-our-user",
    "hasmoved",
    /\bnot our (?:user|customer)\b|user not local; please try/i,
    "551 not our customer",
    P.hasmoved,
    undefined,
    undefined,
    // RFC 5321's 551 (user not local) words: a specific status decides before them (Sisimai reads hasmoved only from
    // X.1.6 or `has been replaced by`): Comcast's `550 5.1.1 <x@y> Not our Customer` is an unknown user
    { yieldsToStatus: true },
  ],

  // --- norelaying -------------------------------------------------------------------------------------------
  [
    "relay-denied",
    "norelaying",
    /relay(?:ing)? (?:access )?(?:denied|not permitted|prohibited|not allowed)|(?:no|unable to|cannot|not allowed to|refuse to) relay\b|relaying mail to .{1,80} is not allowed|relay access denied|open relay (?:is )?not allowed|insecure mail relay/i,
    "554 5.7.1 <kijitora@example.com>: Relay access denied",
    P.norelaying,
  ],
  [
    "not-configured-to-relay",
    "norelaying",
    /not configured to relay|not (?:a gateway|local host)\b|as a relay\b|we don't handle mail for|specified domain is not allowed|not an open relay|not permitted to relay|isn't in my list of allowed rcpthosts|requires authentication when attempting to send to a non-local/i,
    "550 5.7.1 This system is not configured to relay mail from <sender@example.org> to <kijitora@example.net> for 192.0.2.1",
    P.norelaying,
  ],
  [
    "ses-not-verified",
    "norelaying",
    // Sisimai's NoRelaying lists "email address is not verified." alone: Amazon WorkMail's DSN ends the sentence there
    /email address is not verified\./i,
    "554 Message rejected: Email address is not verified. The following identities failed the check in region US-EAST-1: sender@example.jp",
    P.norelaying,
  ],

  // --- authfailure ------------------------------------------------------------------------------------------
  [
    "dmarc",
    "authfailure",
    /dmarc (?:policy|verification|check|validation|authentication|failure|fail|reject)|(?:fails?|failed|failing) (?:to pass )?dmarc|not pass dmarc|due to (?:the )?(?:sending )?domain'?s dmarc|per dmarc policy|dmarc\s?=\s?fail/i,
    "550 5.7.1 This message was not accepted due to domain (example.org) owner DMARC policy (RFC 7489)",
    P.authfailure,
  ],
  [
    "spf",
    "authfailure",
    /spf (?:check|validation|verification|authentication|record)s? (?:failed|fail|error)|(?:fails?|failed) (?:to pass )?spf|spf\s?=\s?fail|bad spf records?|sender policy framework|spf\.pobox\.com|not allowed to send (?:mail )?from .{1,100} per it'?s spf|spf (?:sender invalid|hard ?fail)|invalid spf record|inspect your spf settings|spf check: fail/i,
    "550 Bad SPF records for [example.org:192.0.2.2], see http://spf.pobox.com/",
    P.authfailure,
  ],
  [
    "spf-policy",
    "authfailure",
    /(?:per|by|due to|violat\w{0,3}) (?:the )?spf policy|spf policy (?:violation|fail)/i,
    "550 5.7.1 Email rejected per SPF policy",
    P.authfailure,
  ],
  [
    "dkim",
    "authfailure",
    /dkim (?:check|validation|verification|signature|authentication)s? (?:failed|fail|error|invalid)|(?:fails?|failed) (?:to pass )?dkim|dkim\s?=\s?(?:fail|did not pass)|no (?:valid|passing|acceptable) dkim signature|dkim sender invalid/i,
    "550 5.7.20 Message rejected: No passing DKIM signature found",
    P.authfailure,
  ],
  [
    "unauthenticated",
    "authfailure",
    /(?:sender|mail|email|message) is unauthenticated|authenticate with (?:either )?spf (?:or|and) dkim|unauthenticated (?:email|mail|message)s? from .{1,80} (?:is|are) not accepted|authentication checks? (?:failed|did not pass)|fails? to pass authentication checks|doesn'?t meet the required authentication level|domain authentication fail|both spf and dkim/i,
    "550 5.7.26 This mail has been blocked because the sender is unauthenticated. Gmail requires all senders to authenticate with either SPF or DKIM.",
    P.authfailure,
  ],

  // --- userunknown ------------------------------------------------------------------------------------------
  [
    "user-unknown",
    "userunknown",
    /\b(?:user|recipient|addressee|mailbox|address|account|local[- ]?part|alias|destination|e-?mail address) (?:name )?(?:is )?unknown\b|unknown (?:user|recipient|mailbox|address|addressee|local[- ]?part|alias|e-?mail address|or illegal alias|account)\b|\buser ?unknown\b/i,
    "550 5.1.1 <kijitora@example.jp>: Recipient address rejected: User unknown in local recipient table",
    P.userunknown,
  ],
  [
    // a paging or SMS gateway's word for an address it has no account for (GSM MAP's "Unknown subscriber")
    "subscriber-unknown",
    "userunknown",
    /\bsubscriber (?:is )?unknown\b|\bunknown subscriber\b/i,
    "550 <5551234567@pager.example> Subscriber unknown",
    P.userunknown,
  ],
  [
    "no-such-user",
    "userunknown",
    /no such (?:user|recipient|mailbox|address|account|person|local user|e-?mail)|no (?:mailbox|account) (?:here )?by that name|no mail ?box (?:available|found|here)|there is no one at this address|no one (?:here )?by that name/i,
    "550 5.1.1 <kijitora@example.jp>... No such user",
    P.userunknown,
  ],
  [
    "does-not-exist",
    "userunknown",
    /(?:user|recipient|mailbox|address|account|e-?mail account|e-?mail address|addressee|local part)(?: name)?(?: \S{1,80})? (?:does not|doesn'?t|did not|not) exists?\b|(?:user|recipient|mailbox|address|account) not found|(?:mailbox|user|recipient|address) (?:is )?(?:invalid|not valid)|invalid (?:recipient|mailbox|user|address|e-?mail address)\b/i,
    "550 5.1.1 <kijitora@example.jp>: Recipient address rejected: User kijitora does not exist",
    P.userunknown,
  ],
  [
    "not-a-valid-user",
    "userunknown",
    /(?:is )?not a (?:valid|known|registered|local) (?:user|recipient|mailbox|address)|not an active address|is not a valid mailbox|recipient (?:is )?not (?:accepted|local|ok)|bad (?:destination mailbox |recipient )address|no valid recipients|recipient (?:address )?rejected: (?:invalid|unknown|userunknown|undeliverable)|address (?:unknown|invalid)\b|email address could not be found|unknown e-?mail address/i,
    "550 5.1.1 <kijitora@example.com>: Recipient address rejected: Invalid user",
    P.userunknown,
  ],
  [
    "recipient-access-denied",
    "userunknown",
    /recipient address rejected: access denied|(?<!sender |sender e-?mail |ip |mail from )\baddress rejected(?:\.? ?$|\.? ?[<(\[]|\.? see\b| [^\s:]{1,64}@)|\baddress rejected\.$/i,
    "550 #5.1.0 Address rejected.",
    P.userunknown,
  ],
  [
    "address-rejected-weak",
    "userunknown",
    /(?<!sender |sender e-?mail |ip |mail from |recipient addresses )\baddress rejected\b/i,
    "550 5.1.1 <kijitora@example.jp>: Recipient address rejected: unverified address",
    P.weak + 5,
  ],
  [
    "bad-destination-system",
    "hostunknown",
    /bad destination system address/i,
    "550 5.1.2 <kijitora@example.net>: Recipient address rejected: Bad destination system address",
    P.userunknown + 1,
  ],
  [
    "invalid-final-userid",
    "userunknown",
    /invalid final delivery userid/i,
    "550 Invalid final delivery userid",
    P.userunknown,
  ],
  [
    "userunknown-pairs",
    "userunknown",
    /<\S{1,200}> not found|non-?existent (?:user|recipient|address|mailbox)|no \S{1,64} in name directory|rcpt <\S{1,200}> does not exist|recipient \S{1,200} was not found in|user \S{1,100} was not found|user \(\S{1,100}\) unknown|\bbad recipient\b|this user doesn'?t have a \S{1,60} account/i,
    "550 5.1.1 <kijitora@example.jp> not found",
    P.userunknown,
  ],
  [
    "name-not-recognized",
    "userunknown",
    /recipient name is not recognized|unknown or illegal (?:user|alias)|no such user here|user not known/i,
    "The recipient name is not recognized MSEXCH:IMS:EXAMPLE:KIJITORA 0 (000C05A6) Unknown Recipient",
    P.userunknown,
  ],
  [
    // old gateways' words (CompuServe's `Receiver not found: 74213.3306`)
    "receiver-not-found",
    "userunknown",
    /\b(?:receiver|addressee) (?:not found|does not exist|doesn't exist)\b/i,
    "Receiver not found: 74213.3306",
    P.userunknown,
  ],
  [
    "mailbox-unavailable",
    "userunknown",
    /mailbox (?:is )?(?:unavailable|not available|not present|not found)|requested action not taken: mailbox unavailable|mailbox unavailable\b/i,
    "550 Requested action not taken: mailbox unavailable",
    P.userunknown - 5,
  ],
  [
    "resolver-adr",
    "userunknown",
    /resolver\.adr\.(?:recipnotfound|exrecipnotfound|recipientnotfound)|recipient not found by smtp address lookup|address not present in directory|not listed in (?:the )?(?:public name & address book|domino directory)|no such address here|is not a known user|this user doesn't have a .{1,40} account/i,
    "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
    P.userunknown,
  ],
  [
    "badrcptto",
    "userunknown",
    /badrcptto|badrecipientto|not in my validrcptto|envelope recipient (?:has been denied|is in my badrcptto)|user missing home directory|vdeliver: invalid or unknown virtual user|this spectator does not exist|no account by that name/i,
    "553 sorry, this recipient is in my badrecipientto list (#5.7.1)",
    P.userunknown,
  ],
  [
    "recipient-invalid-tokens",
    "userunknown",
    /(?:recipient|user|address|mailbox)\(?s?\)? (?:was |were )?(?:rejected|refused|unknown|invalid)(?: \(?(?:unknown|invalid|not found)\)?)/i,
    "550 Recipient invalid (unknown)",
    P.userunknown - 5,
  ],

  // --- filtered ---------------------------------------------------------------------------------------------
  [
    "filtered",
    "filtered",
    /message filtered|filtered by (?:the )?(?:recipient|user)|rejected (?:due to|by) (?:the )?user(?:'s)? (?:rules|filter|settings)|user (?:refuses|rejects?)(?: to receive)?|refused due to recipient preferences|you have been blocked by the recipient|recipient (?:is only accepting|refuse to receive|id refuse)|is not accepting (?:any )?mail|account is protected by|has restricted sms e-mail/i,
    "550 5.2.0 Message Filtered",
    P.filtered,
  ],
  [
    "domain-filter",
    "filtered",
    /rejected by (?:the )?(?:domain|address|recipient'?s?) filter|domain filter|not in the list mail address management/i,
    "550 Message rejected by the domain filter of the recipient",
    P.filtered,
  ],
  // The recipient's own list of refused senders (GMX/Web.de's "not allowed to receive mail from", Domino's mail
  // rules): the recipient's setting refuses this sender, as Sisimai's "you have been blocked by the recipient".
  [
    "recipients-sender-block-list",
    "filtered",
    /\bis not allowed to receive (?:e-?mail |mail |messages )?from\b|recipient'?s? (?:sender )?(?:block ?list|blocked senders? list)|(?:mail )?rules refuse (?:mail|messages) from (?:this|the) sender/i,
    "550 Requested action not taken: <kijitora@web.de> is not allowed to receive mail from <sender@example.org>",
    P.filtered,
  ],
  // The recipient refuses this sender, not all mail (qmail-style filters: "Sorry, this recipient does not accept
  // mail from your address (filter)"): the recipient's filter, not a domain that takes no mail (null MX).
  [
    "recipient-refuses-sender",
    "filtered",
    /(?:recipient|user|mailbox|addressee) (?:does not|doesn'?t|will not|won'?t) accept (?:e-?)?mail from (?:your (?:address|domain)|you\b|this sender|the sender)/i,
    "Error Description: Sorry, this recipient does not accept mail from your address (filter)",
    P.filtered,
  ],

  // --- requireptr -------------------------------------------------------------------------------------------
  [
    "no-ptr",
    "requireptr",
    /(?:no|missing|without a?|bad|invalid|valid) (?:dns )?ptr(?:[- ]?records?| resource record)|ptr record (?:setup|not found|missing|lookup failed)|does not have a ptr record|have a ptr record|no ptr record found|ips with missing ptr records/i,
    "550 5.7.25 The IP address sending this message does not have a PTR record setup",
    P.requireptr,
  ],
  [
    "reverse-dns",
    "requireptr",
    /reverse dns (?:lookup )?(?:for .{1,60} )?(?:failed|required|failure|is required|mismatch)|(?:no|missing|without|invalid|bad) (?:valid )?(?:reverse dns|rdns)|fix reverse dns|reverse lookup (?:failed|rejected)|rdns (?:check |lookup )?(?:failed|failure|required)|must have a reverse dns record|reverse dns (?:entry|name)|rejected - no rdns|forbidden by invalid rdns record/i,
    "554 5.7.1 [C14] Missing reverse DNS for 203.0.113.2",
    P.requireptr,
  ],
  [
    "hostname-lookup",
    "requireptr",
    /cannot find your hostname|cannot resolve your (?:address|hostname)|ip name lookup failed|unresolvable relay host name|service permits \d+ unverifyable sending ips|mismatches client ip|does not match the ip address of the hostname|corresponding forward dns entry does not point to the sending ip|generic dns ptr|dns check failure - try again later|dns lookup failure: .{1,80} try again later/i,
    "450 4.7.1 Client host rejected: cannot find your hostname, [192.0.2.22]",
    P.requireptr,
  ],

  // --- notcompliantrfc --------------------------------------------------------------------------------------
  [
    "not-rfc-compliant",
    "notcompliantrfc",
    /not (?:rfc ?(?:5322|2822|822|5321)|rfc) compliant|headers are not rfc compliant|rfcmessagenoncompliant|does not comply with rfc|non[- ]?compliant with rfc|message must be rfc 5322|has detected that this message is not rfc/i,
    "550 5.7.1 This message is not RFC 5322 compliant. There are multiple Subject headers.",
    P.notcompliantrfc,
  ],
  [
    "duplicated-message-id",
    "notcompliantrfc",
    /duplicated message-id/i,
    "Duplicated Message-ID in <neko@example.co.jp>.",
    P.notcompliantrfc,
  ],
  [
    "multiple-headers",
    "notcompliantrfc",
    /multiple (?:addresses in )?(?:from|subject|to|date|message-id|sender|cc)\b.{0,20}headers?|messages with multiple addresses|duplicate header|missing (?:a )?valid (?:address in the from|message-id)|(?:blank|empty) from:? (?:address|header)|ip addresses are not allowed as a from/i,
    "550 5.7.1 Messages with multiple addresses in From: header are not accepted.",
    P.notcompliantrfc,
  ],

  // --- badreputation ----------------------------------------------------------------------------------------
  [
    "reputation",
    "badreputation",
    /(?:poor|bad|low|negative|none\/bad) (?:\w+ )?(?:sender |email |ip )?reputation|reputation (?:of the sending|is too low|score)|due to (?:ip|sender|domain) reputation|ip\/domain reputation problems|temporarily deferred due to unexpected volume or user complaints|sending mta'?s poor reputation|ip reputation - \(reject\)/i,
    "550 5.7.1 Our system has detected that this message is likely suspicious due to the very low reputation of the sending IP address.",
    P.badreputation,
  ],

  // --- contenterror -----------------------------------------------------------------------------------------
  [
    "content-error",
    "contenterror",
    /improper use of 8-bit data|header(?:s)? (?:too large|size exceeds maximum)|message header size, or recipient list, exceeds|mime complexity|invalid mime headers|improperly-formatted binary content|unnecessary base64 encoding|too many received: headers|header error|stray linefeeds|bare (?:lf|line ?feed)s?|invalid characters? in (?:the )?(?:message|header)|message content (?:is )?(?:malformed|invalid)|invalid message content|too many related errors/i,
    "550 5.6.9 improper use of 8-bit data in message header",
    P.contenterror,
  ],

  // --- virusdetected ----------------------------------------------------------------------------------------
  [
    "virus",
    "virusdetected",
    /virus(?:es)? (?:found|detected)|(?:infected|contains?) (?:with )?(?:a |an )?virus|virus infected|malware (?:detected|found)|potentially executable attachment|used by recent viruses|phishing\/malicious_url detected|prohibited virus|(?:contains|detected) (?:a )?(?:trojan|worm|malicious (?:content|code|attachment))/i,
    "550 5.7.0 Recipient address rejected: Virus detected",
    P.virusdetected,
  ],

  // --- failedstarttls ---------------------------------------------------------------------------------------
  [
    "starttls",
    "failedstarttls",
    // Not RFC 3207's "530 5.7.0 Must issue a STARTTLS command first": the server asks for TLS that was never tried
    // (Sisimai: the X.7.0 security error; Gmail's own failedstarttls is read by its host, rules/rhost.ts).
    /starttls (?:is )?required|does not support (?:tls|starttls|ssl)|tls (?:is )?required|requires? (?:tls|encryption|a secure connection)|encryption (?:is )?(?:needed|required)|starttls[- ](?:not[- ]supported|failed|failure)|tls (?:negotiation|handshake) failed|failed mta-sts validation|route requires (?:encryption|tls|high-strength)|tls\/sslv3 connection required|certificate (?:verification|validation) failed|certificate-(?:expired|host-mismatch)|tlsa-invalid|dnssec-invalid/i,
    "530 5.7.10 STARTTLS is required to send mail",
    P.failedstarttls,
  ],

  // --- notaccept --------------------------------------------------------------------------------------------
  [
    "null-mx",
    "notaccept",
    /null ?mx|an mx or srv record indicated no smtp service|no mx (?:record )?found for (?:domain|the domain)|does not accept (?:any )?(?:e-?)?mail|doesn'?t (?:receive|accept) (?:e-?)?mail|not accepting (?:any )?(?:e-?)?mail\b|mail receiving disabled|no mx record found for domain=|no route for current request|accepts no mail|does not receive (?:e-?)?mail|smtp protocol returned a permanent error/i,
    "The domain libsisimai.org doesn't receive email according to the administrator: returned Null MX",
    P.notaccept,
  ],
  [
    "not-accepting-network",
    "notaccept",
    /system not accepting network messages|host does not accept mail|not accept(?:ing)? (?:e-?)?mail over ipv6/i,
    "521 5.3.2 System not accepting network messages",
    P.notaccept,
  ],

  // --- rejected (the envelope sender) -----------------------------------------------------------------------
  // A list server refusing the sender's post (LISTSERV's `You are not authorized to send mail to the X list`,
  // Sisimai's "you are not allowed to post to this mailing list"): the sender is refused, not its credentials.
  [
    "not-allowed-to-post-to-list",
    "rejected",
    /\b(?:are|were) not (?:authori[sz]ed|allowed|permitted) to (?:send (?:mail|messages?)|post) to (?:the |this )?(?:\S{1,100} )?(?:mailing )?list\b/i,
    "You are not authorized to send mail to the HISTNET-L list from your jdoe@example.org account.",
    P.rejected,
  ],
  [
    "sender-rejected",
    "rejected",
    /sender (?:address |e-?mail address |domain )?(?:was |is )?(?:rejected|refused|denied|invalid|blacklisted|blocked|not allowed|not permitted|unknown)|(?:invalid|unknown|bad|unroutable|bogus|unverified) (?:envelope )?(?:sender|mail from|return[- ]path)\b|mail from (?:address )?(?:rejected|refused|denied|not owned by user)/i,
    "501 5.1.8 Sender address rejected",
    P.rejected,
  ],
  [
    "sender-domain",
    "rejected",
    /domain of sender address .{1,120} does not exist|sender domain (?:must exist|is empty|does not exist|not found|unresolvable)|sender (?:address )?rejected: domain not found|from: domain is invalid|domain is invalid\. please provide a valid from|unresolvable rfc\.?5321 (?:from )?domain|sender envelope domain not allowed|sender verify failed|sender verification (?:failed|failure)|could not verify sender|can'?t determine purported responsible address/i,
    "553 5.1.8 <root@host.example>... Domain of sender address root@host.example does not exist",
    P.userunknown + 2,
  ],
  [
    "sender-blocklisted",
    "rejected",
    /(?:your|sender'?s?|the) (?:e-?mail )?address (?:has been|is) (?:blacklisted|blocked|banned)|your domain has been (?:blocked|blacklisted)|(?:sending|sending to\/from) (?:to\/from )?an address that has been blacklisted|sender is (?:in my black ?list|spammer|on (?:a|the) block ?list)|envelope sender is in my badmailfrom|badmailfrom|envelope blocked|sender not pre-approved|not on the recipient'?s list of senders|isn'?t on the recipient'?s list|sender not in allowed-senders list|you are not allowed to post to this (?:mailing )?list|not a member of this (?:mailing )?list|you are not a member|access denied \(sender blacklisted\)|senderfilterconfig|administrative prohibition/i,
    "Sorry, you are sending to/from an address that has been blacklisted",
    P.rejected,
  ],
  [
    "group-permission",
    "rejected",
    /may not exist, or you may not have permission to post messages|you do not have permission to post to this group/i,
    "We're writing to let you know that the group you tried to contact (example) may not exist, or you may not have permission to post messages to the group.",
    P.rejected,
  ],
  [
    "empty-sender",
    "rejected",
    /null sender (?:is )?not allowed|empty envelope senders? not allowed|(?:returned|bounce) mail not accepted here|no third-party dsns|unsigned dsn|batv (?:failed|validation|defense|: no tag)|backscatter protection|bouncedeny|fully qualified email address required|syntax error: empty email address|mx records for .{1,80} (?:do not exist|not found)|not a registered gateway user|e2110|sending this from a different address or alias/i,
    "550 Returned mail not accepted here",
    P.rejected,
  ],
  [
    "all-recipients-access-denied",
    "rejected",
    /recipient addresses rejected ?: access denied/i,
    "550 5.4.1 All recipient addresses rejected : Access denied",
    P.userunknown + 1,
  ],
  [
    "sender-domain-553",
    "rejected",
    /\b553 (?:5\.1\.[078] )?\S{1,80}(?: \S{1,80})? does not exist\b/i,
    "553 5.1.0 neko22nyaan neko.example.com does not exist E2110",
    P.rejected,
  ],
  [
    "mail-from-command",
    "rejected",
    /access denied \(in reply to mail from command\)|\(in reply to mail from command\)/i,
    "550 5.7.1 Access denied (in reply to MAIL FROM command)",
    P.weak + 5,
  ],

  // --- hostunknown ------------------------------------------------------------------------------------------
  [
    // DNS said the domain does not exist (NXDOMAIN) in a permanent failure: under a 4.x.x the DNS failing is
    // networkerror (generic.network)
    "nxdomain",
    "hostunknown",
    /\bnxdomain\b|(?:domain|host) (?:name )?\S{0,255} ?(?:couldn't|could not|cannot|can't) be found/i,
    "550 5.1.2 The domain example.invalid couldn't be found (DNS answered NXDOMAIN)",
    P.hostunknown,
    "5",
  ],
  [
    "host-unknown",
    "hostunknown",
    /host (?:or domain name )?(?:is )?unknown|unknown (?:host|domain)\b|(?:host|domain)(?: name)? not found|no such (?:domain|host)|domain (?:does not|doesn'?t) exists?|(?:recipient )?domain must exist|domain (?:name )?(?:is )?(?:invalid|not reachable|unreachable)|invalid domain\b|host unreachable|name or service not known|unrout(?:e)?able (?:address|domain|mail domain)|mail domain mentioned in email address is unknown|account or domain may not exist|nonexistent domain|dns domain .{1,80} does not exist/i,
    "550 Host unknown",
    P.hostunknown,
  ],

  // --- spamdetected -----------------------------------------------------------------------------------------
  [
    "spam",
    "spamdetected",
    /(?:detected|identified|classified|scored|flagged|considered|marked|rejected|blocked|refused|looks? like|seems to be|appears to be) (?:as |to be )?(?:a |likely )?spam\b|spam (?:detected|message|content|score|blocked|refused|rejected|rejection|filter|check|not accepted|is embedded)|(?:high |with a )probability (?:of|more than .{1,10}) ?(?:being )?spam|\bubes?\b|unsolicited (?:bulk )?(?:e-?mail|mail|message|commercial)|(?:likely|appears to be) unsolicited|spam-like|bulk (?:e-?mail|mail|advertising)|content filter rejection|message content rejected|spamassassin|spam ?(?:bouncer|profiler)|spamprofiler|- spam\b|too much spam|spam points|spam or virus|spamming not allowed|we dont accept spam|uribl|message refused by (?:mailmarshal|trustwave)|rejected as spam|recurrent pattern detection|(?:detected|identified|classified|considered|marked|rejected|flagged) as junk\b|junk (?:e-?)?mail filter/i,
    "550 5.7.1 Message content rejected, UBE, id=00000-22-225",
    P.spamdetected,
  ],
  [
    "spam-pairs",
    "spamdetected",
    /mail score \(.{1,20} over|our filters rate at and above .{1,20} percent probability of being spam|rejected by .{1,60} \(spam\)|rejected due to spam (?:classification|content)|rule imposed as .{1,80} is blacklisted on|spam .{1,40} exceeded|mail rejete\. mail rejected\. .{0,20}506/i,
    "550 5.7.1 Mail score (9.5) over MESSAGE_SCORE_LIMIT",
    P.spamdetected,
  ],
  [
    "spam-profile",
    "spamdetected",
    /may consider spam|matches a profile the internet community/i,
    "554 5.7.1 The message from (<x@example.com>) with the subject of (test) matches a profile the Internet community may consider spam.",
    P.spamdetected,
  ],
  [
    "spam-content",
    "spamdetected",
    /unacceptable content|rejecting (?:banned |mail )?content|mail content denied|banned content|5\.7\.0 reject, id=|message (?:was )?rejected for (?:possible |policy reasons|spam)|your message (?:has triggered|failed several antispam)|temporarily blocked by our filter|blacklisted url|sender domain listed at|denied due to spam list|listed in work\.drbl|anti-?spam blocking urls?|(?:contains?|containing|includes?|including) (?:an? |one or more )?(?:blocked|blacklisted|blocklisted|banned|spam|phishing) (?:urls?|links?|uris?)\b/i,
    "554 5.7.0 Reject, id=22222-22 NekoNyaan-2y:2 - SPAM",
    P.spamdetected,
  ],

  // --- ratelimited ------------------------------------------------------------------------------------------
  [
    "rate-limited",
    "ratelimited",
    /rate ?limit(?:ed|ing)?|too many (?:messages|mails|emails|connections|sessions|concurrent|recipients|requests|connection)|(?:sending|receiving|message) (?:rate|quota|limit) (?:exceeded|reached)|receiving mail (?:too quickly|at a rate)|try again slower|slow down|throttl(?:ed|ing)|(?:connection|frequency|sending|recipient) limit(?:ed| exceeded| reached)?|(?:daily|hourly) (?:sending |relay |recipient )?(?:quota|limit)|max(?:imum)? (?:number of )?(?:messages|emails|recipients|connections)(?: per)? .{0,30}(?:reached|exceeded)|exceeded the max emails per hour|has sent too many|due to excessive volume|trop de connexions|too many errors from your ip|limits? (?:for|on|to) (?:how many|the number of) (?:messages|e-?mails|mails|recipients)|(?:messages|e-?mails|mails) (?:can|may) be (?:sent|accepted|received) (?:per|each|an?) (?:hour|day|minute)/i,
    "421 4.7.0 Too many connections, slow down",
    P.ratelimited,
  ],

  // --- blocked (the sending IP or host) ---------------------------------------------------------------------
  [
    "blocklist",
    "blocked",
    /blocked using\b|blacklisted (?:by|at|on|in)|(?:listed|is) (?:in|on|at) (?:the |a |our )?(?:\S{1,40} ){0,2}(?:black ?list|block ?list|dnsbl|rbl|spamhaus|sbl|xbl|pbl|barracuda|spamcop|sorbs|cbl)|\b(?:ip|address|host) (?:address )?is (?:block|black) ?listed\b|(?:black ?list|block ?list|dnsbl|rbl)(?:ed)? (?:reject|listing|lookup)|spamhaus|spamcop|sorbs\.net|barracudacentral|abuseat\.org|senderscore|cloudmark|proofpoint\.com\/dnsbl|dnsbl|\brbl\b|mailspike|uceprotect|invaluement|junkemailfilter|multi-blacklist/i,
    "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org",
    P.blocked,
  ],
  [
    "ip-blocked",
    "blocked",
    /(?:ip|ip address|client|client host|sending (?:ip|host|server)|your (?:host|server|network|ip)|source ip|server ip)(?: \[?[0-9a-f.:]{3,45}\]?)? (?:has been |is |was )?(?:temporarily |permanently )?(?:blocked|blacklisted|banned|not allowed)\b|(?:blocked|banned|denied|refused) (?:sending |your |the |source )?ip|client host rejected|mail server at .{1,80} is blocked|sender ip address rejected|bad sender ip|adresse ip source bloquee|blocked for (?:abuse|spam)|part of their network is on our block ?list|we do not accept mail from dynamic|(?:dynamic|residential|dial-?up) ip|dynamic\/zombied|not currently accepting mail from your ip|please use the smtp server of your isp|use (?:the )?smtp (?:server )?of your (?:isp|provider)|too many spams from your ip|your (?:ip|network) is (?:temporary )?(?:blacklisted|blocked)|you are not allowed to connect|go away\b|connection (?:refused|dropped|rejected) by|extreme bad ip profile|access (?:from ip address .{1,60} )?(?:is )?blocked|server access forbidden by your ip|your server requires confirmation|confirm this mail server|helo command rejected|invalid ip for sending mail|is not allowed to send mail from|rejecting open proxy|looks suspiciously like spammer|you are sending spam|currently sending spam|too many unwanted messages|messages from .{1,60} weren'?t sent|was blocked by\b|is in a black list|rbl reject/i,
    "550 5.7.1 IP address blacklisted by recipient",
    P.blocked,
  ],
  [
    "not-accepting-connections",
    "blocked",
    /not accepting connections|refused to talk to me|service not available, closing transmission channel|smtp error from remote mail server after initial connection|connection (?:was )?(?:dropped|reset) by (?:remote host|peer)|connection reset by peer|no access from mail server|may not be mail exchanger|has not passed validation|was not authenticated\b|to submit messages to this e-mail system has been rejected/i,
    "554 st11p00im-smtpin013.me.com ESMTP not accepting connections",
    P.blocked,
  ],
  [
    "connection-refused-by",
    "blocked",
    /connection refused by \S|deferred: connection refused by/i,
    "Deferred: Connection refused by mx.example.ne.jp.",
    P.mta + 1,
    undefined,
    // on a delay warning ("transient non-fatal errors", "Will keep trying"), the refused connection is the delay
    "expired",
  ],
  [
    "blocked-pairs",
    "blocked",
    /messages from .{1,60} temporarily deferred due to user complaints|(?:ip|domain|email) .{1,80} is blacklisted|is blocked by earthlink|server ip .{1,60} listed as abusive|your access ip .{1,60} has been rejected|rejected based on blacklist|mail from .{1,80} refused(?::|, see)|invalid ip for sending|bad ip profile/i,
    "421 4.7.0 [TS01] Messages from 192.0.2.1 temporarily deferred due to user complaints - 4.16.55.1",
    P.blocked,
  ],
  [
    "blocked-more",
    "blocked",
    /@\S{1,100}:blocked\)|(?:found|listed) on (?:a|an|our|the) (?:\S{1,30} )?block ?list|ip has been found on|rbl restriction/i,
    "550 permanent failure for one or more recipients (kijitora@example.com:blocked)",
    P.blocked,
  ],
  [
    "greylisted",
    "blocked",
    /greylist(?:ed|ing)?|graylist(?:ed|ing)?/i,
    "451 4.7.1 Greylisted, try again after some time",
    P.blocked,
  ],

  // --- policyviolation --------------------------------------------------------------------------------------
  [
    "policy",
    "policyviolation",
    /(?:rejected|refused|not accepted|denied|blocked) (?:for|due to|by) (?:local |organi[sz]ation(?:al)? |security |content )?polic(?:y|ies)(?: reasons?)?|local policy violation|policy violation detected|polic(?:y|ies) (?:reasons|rejection)|violat(?:es|ion of) (?:our |the )?(?:local )?polic|denied by policy|illegal attachment|prohibited (?:attachment|file type)|attachment (?:extension|type) is (?:forbidden|not allowed)|not accepting mail with (?:attachments|embedded images)|do not accept messages containing|members-only list|closed mailing list|message given low priority|organizational settings|protocol violation|mass mailer|content presents a potential|anti-spoofing policy|content examination policy|host network,? not allowed|geographical restriction|not subscribed to this group|allowable number of posts/i,
    "554 5.7.9 Message not accepted for policy reasons.",
    P.policyviolation,
  ],

  // --- suppressed -------------------------------------------------------------------------------------------
  [
    "ses-suppressed",
    "suppressed",
    /suppressed sending to this address|has a recent history of bouncing|on the (?:account-level |global )?suppression list/i,
    "Amazon SES has suppressed sending to this address because it has a recent history of bouncing as an invalid address.",
    P.mta,
  ],
  [
    "suppressed",
    "suppressed",
    /(?:address|recipient) (?:is )?(?:on|in) (?:the |your |an? )?(?:account-level |global )?suppression list|suppression list|previously (?:bounced|marked as spam|unsubscribed)|address is suppressed|recipient is suppressed|bounced address|spam reporting address/i,
    "554 The address is on the account-level suppression list",
    P.suppressed,
  ],

  // --- systemfull -------------------------------------------------------------------------------------------
  [
    "system-full",
    "systemfull",
    /mail system full|insufficient (?:system )?(?:disk space|storage|system resources|resources)|(?:disk|spool|queue|file ?system) (?:is )?full|system (?:storage|disk) (?:is )?(?:full|exhausted)|(?:not enough|low) (?:disk )?space on (?:the )?(?:server|system|disk)/i,
    "452 4.3.1 Insufficient system storage",
    P.systemfull,
  ],

  // --- systemerror ------------------------------------------------------------------------------------------
  [
    // OpenSMTPD's own words for a message it finds looping through itself (no SMTP code); a local loop is a
    // configuration fault as "loops back to myself" is (Sisimai's SystemError)
    "bare-loop-detected",
    "systemerror",
    /^\s*loop detected\.?\s*$/i,
    "Loop detected",
    P.systemerror,
  ],
  [
    "system-error",
    "systemerror",
    /(?:internal|local|temporary|unexpected|system|server) (?:server |system |configuration )?(?:error|failure|problem)|error in processing|local configuration error|config(?:uration)? error|misconfigured|loops back to myself|mail (?:forwarding |routing )?loop|aliasing\/forwarding loop|would create a mail loop|loop was found|queue file write error|can'?t create (?:user )?output file|could not load drd|interrupted system call|temporary local problem|timeout waiting for input|service (?:is )?(?:currently )?(?:unavailable|not available)|try again later\.? \(?(?:in reply|$)|server busy|temporarily (?:unavailable|rejected|deferred)\b|upstream error|unable to (?:connect to|contact) (?:the )?(?:ldap|database|directory|backend|daemon)|ldap server|directory server|not capable of selected features|relayed to non-compliant|encountered an error|recipient error\. please try again later|transaction failed\b/i,
    "451 4.3.0 Local error in processing",
    P.systemerror,
  ],

  [
    "temporarily-unavailable-4xx",
    "systemerror",
    /(?:service|server|system|mailbox) (?:is )?temporarily unavailable|please try again later/i,
    "451 4.3.0 Service temporarily unavailable, please try again later",
    P.systemerror + 1,
    "4",
  ],
  // --- networkerror -----------------------------------------------------------------------------------------
  [
    "host-name-not-found",
    "hostunknown",
    /dns lookup failure: host \S{1,100} not found|\bhost \S{1,100} not found\b(?!, try again)/i,
    "DNS lookup failure: host cx.example.org not found",
    P.hostunknown,
  ],
  [
    "host-not-found-try-again",
    "networkerror",
    /host not found, try again/i,
    "Name service error for domain example.com: Host not found, try again",
    P.hostunknown + 1,
  ],
  [
    "queue-expiry",
    "expired",
    /envelope expired|could not be delivered for too long|will be deleted from queue|unable to connect successfully to the destination mail server/i,
    "Unable to deliver message to the following recipients, due to being unable to connect successfully to the destination mail server.",
    P.expired,
  ],
  [
    "network-error",
    "networkerror",
    /no route to host|host is unreachable|network (?:is )?unreachable|network error|host name lookup failure|host not found, try again|(?:malformed|unexpected) (?:or unexpected )?name server reply|dns (?:error|query failed|lookup failed|failure|timeout)|temporary (?:dns|lookup) failure|lost connection with|connection (?:lost|closed|reset|broken)|(?:too many|maximum) hops|hop count exceeded|exceeded (?:the )?maximum hop count|routing loop|mail loop|message looping|forwarding loop|unable to resolve route|unrouteable mail domain|could not connect and send|dns records for the destination computer could not be found|retry on ipv4|(?:read|write) error|broken pipe|ssl (?:handshake|read|write)/i,
    "X-Postfix; connect to nyaan.example.com[192.0.2.2]:25: No route to host",
    P.networkerror,
  ],

  // --- expired ----------------------------------------------------------------------------------------------
  [
    "expired",
    "expired",
    /connection timed out|will be retried for \d+ more days?|message still undelivered after|will keep trying until message is|host not reachable|timed? ?out (?:while|during|waiting)|(?:delivery|message|queue) (?:time |lifetime )?(?:has )?expired|message expired|retry timeout exceeded|retry time not reached|queue lifetime (?:of \d{1,4} \w{1,10} )?(?:exceeded|expired)|exceeded (?:the |its )?(?:maximum )?queue lifetime|giving up(?: on)?|gave up|could not (?:be )?deliver(?:ed)? (?:for|within) (?:the last )?\d+|not (?:been )?delivered (?:within|for) \d+|too long in (?:the )?queue|in the queue too long|has been delayed|delayed (?:for )?more than|unable to deliver (?:this )?message after|have been failing for a long time|could not find a gateway|server did not respond|not reachable within the allowed queue period|did not accept our requests to connect|(?:remote )?host is not responding|delivery attempts will continue|has not been collected after|no answer from host|connection refused|timed out\b|timeout\b/i,
    "X-Postfix; connect to example.org[203.0.113.225]:25: Connection timed out",
    P.expired,
  ],

  // --- securityerror ----------------------------------------------------------------------------------------
  [
    "auth-required",
    "securityerror",
    /authentication (?:is )?required|(?:must|please) (?:authenticate|log ?in)|smtp auth(?:entication)? (?:is )?required|turn on smtp authentication|unauthenticated senders? not allowed|not authorized to send mail|authentication (?:credentials invalid|failure|failed)|(?:invalid|incorrect) (?:authentication|credentials|username or password)|username and password not accepted|application-specific password|too many login attempts|relay requires authentication|authentication turned on|submitter failed to authenticate|verification failure|you don'?t authenticate|account not subscribed to ses|not authorized to perform ses|is a dead domain|client was not authenticated|sender was not authenticated/i,
    "550 5.7.1 RESOLVER.RST.AuthRequired; authentication required",
    P.securityerror,
  ],

  // --- mailererror ------------------------------------------------------------------------------------------
  [
    "mailer-error",
    "mailererror",
    /mailer error|procmail:|bin\/procmail|bin\/maildrop|command (?:failed|died with status|output)|pipe to \|\/|\|\| exit |x-unix; \d+|\bexit (?:code|status) \d+|unknown mailer error|delivery to command failed/i,
    'X-Unix; procmail: Lock failure on "/var/mail/kijitora.lock"',
    P.mailererror,
  ],

  // --- vague wording, weak hints ----------------------------------------------------------------------------
  [
    "no-smtp-service",
    "notaccept",
    /an mx or srv record indicated no smtp service|no mx (?:record )?found for domain/i,
    "an MX or SRV record indicated no SMTP service",
    P.mta,
  ],
  ["exit-code-only", "mailererror", /^\d{1,3}$/i, "255", P.mailererror],
  // --- syntaxerror: the sender's SMTP dialogue (a command, its arguments or their order) was refused -------
  [
    "command-unrecognized",
    "syntaxerror",
    /command (?:unrecognized|unrecognised|not recognized|not recognised|not implemented|not understood)|unrecognized command|unknown (?:smtp )?command|bad sequence of commands|(?:improper|wrong|invalid) (?:sequence|order) of commands|command out of sequence|(?:need|send) (?:mail|rcpt|helo|ehlo)(?: from| to)?(?: command)? first|no valid recipients? given|pipelining not (?:allowed|advertised)|smtp protocol error|smtp syntax error/i,
    "503 5.5.1 Bad sequence of commands",
    P.syntaxerror,
  ],
  [
    "syntax-error",
    "syntaxerror",
    /syntax error(?! (?:in|of) (?:the )?(?:recipient|address|e-?mail address|mailbox))|(?:parameter|argument)s? (?:not implemented|not recognized|unrecognized)|invalid (?:command )?(?:parameter|argument)s?\b|line too long|command line too long|unrecognized parameter/i,
    "501 5.5.2 Syntax error in parameters or arguments",
    P.syntaxerror,
  ],
  [
    "on-hold",
    "onhold",
    /\bon hold\b/i,
    "550 5.0.0 <kijitora@example.org>: Recipient address rejected: On hold",
    P.onhold,
  ],
  ["access-denied", "rejected", /\baccess denied\b/i, "550 5.7.1 Access denied", P.weak],
  [
    "blocked-word",
    "blocked",
    /\bblocked\b|\bbanned\b|\bblacklisted\b/i,
    "554 Blocked - see https://support.proofpoint.com/dnsbl-lookup.cgi?ip=192.0.2.225",
    P.weak,
  ],
  [
    "service-refused",
    "blocked",
    /service refused|not allowed to (?:connect|send)|connection not accepted/i,
    "550 5.5.0 Service refuse. Veuillez essayer plus tard. service refused, please try later.",
    P.weak,
  ],
  // --- Sisimai's fixed phrases that generic words above would read otherwise -----------------------------------
  [
    // vpopmail/chkuser: the sender neither authenticated nor sends for a local domain (not the plain rcpthosts refusal)
    "not-authenticated-rcpthosts",
    "securityerror",
    /you don'?t authenticate or the domain isn'?t in my list of allowed rcpthosts/i,
    "553 sorry, you don't authenticate or the domain isn't in my list of allowed rcpthosts (#5.7.1)",
    P.mta,
  ],
  [
    // an attachment policy, not a virus found: Sisimai reads it as securityerror
    "executable-in-archive",
    "securityerror",
    /executable files are not allowed(?: in compressed files)?/i,
    "552 5.7.0 Executable files are not allowed in compressed files",
    P.mta,
  ],
  [
    // a mailing list that takes posts from its members only refused the sender (the envelope sender refused)
    "list-members-only",
    "rejected",
    /(?:is|are) not (?:a )?(?:subscriber|member)s? of (?:the|this) (?:mailing )?list|accepts? (?:posts|messages|submissions) (?:only )?from (?:its )?(?:subscribers|members)(?: only)?|non-?member (?:posts|submissions|messages) (?:are )?(?:not allowed|not accepted|rejected)|non-?members (?:are )?not (?:allowed|permitted) to (?:post|send)/i,
    "The sender is not a subscriber of the list; the list accepts posts from subscribers only.",
    P.mta,
  ],
  [
    "recipient-account-not-found-filter",
    "filtered",
    /not found recipient account/i,
    "550 5.1.1 Not found recipient account",
    P.mta,
  ],
  [
    "header-size-policy",
    "contenterror",
    /message header size, or recipient list, exceeds policy limit|routing loop detected -- too many received:? headers/i,
    "552 5.3.4 Message header size, or recipient list, exceeds policy limit",
    P.mta,
  ],
  [
    "failed-after-tries",
    "expired",
    /failed to deliver to domain \S{1,255} after \d{1,4} tries|your message could not be delivered for more than \d{1,4} (?:days?|hours?)/i,
    "Failed to deliver to domain example.org after 12 tries",
    P.expired,
  ],
  [
    "domino-not-listed",
    "userunknown",
    // Domino's French notice: "Utilisateur x (x@y) non répertorié dans l'annuaire Domino" (Sisimai's Lhost::Domino)
    /not listed in (?:the )?(?:public name & address book|domino directory)|non r[ée]pertori[ée] dans l'annuaire/i,
    "User peter (peter@example.org) not listed in Domino Directory",
    P.mta,
  ],
  // Appended: the recipient's own filter named in the refusal ("access denied by the recipient's filter") is
  // its filter's answer, not an unknown address; it outranks the bare "recipient address rejected: access denied".
  [
    "recipients-own-filter",
    "filtered",
    /(?:denied|rejected|refused|blocked|filtered) by (?:the )?recipient'?s? (?:own )?(?:personal )?(?:mail |spam |content |policy )?(?:filter|rules?|settings|preferences|blacklist|block ?list)/i,
    "550 5.7.1 Recipient address rejected: access denied by the recipient's filter",
    P.userunknown + 1,
  ],
  // The same filter named after the refusal, as m-FILTER and MXLogic relay it: "Rejected by the content filter of
  // the recipient domain" (the recipient side's filter, Sisimai's filtered).
  [
    "recipient-side-filter",
    "filtered",
    /(?:denied|rejected|refused|blocked) by (?:the )?(?:content |policy |mail )?filter(?:ing)?(?: rules?)? of (?:the )?recipient(?:'s)?(?: domain)?\b/i,
    "550 5.7.1 Rejected by the content filter of the recipient domain",
    P.userunknown + 1,
  ],
  [
    "given-up-after-attempts",
    "expired",
    /(?:was|were|has been) aborted after \d{1,4}(?:\.\d{1,2})? (?:day|hour|minute)|delivery failed \d{1,4} attempts?|failed (?:after )?\d{1,4} delivery attempts|after more than \d{1,4} (?:hours|days) (?:on|in) the queue/i,
    "Delivery to the following recipients was aborted after 2 day(s)",
    P.expired,
  ],
  [
    "destination-not-reached",
    "networkerror",
    /destination (?:mail )?server (?:could not|couldn't|cannot) be reached|could not (?:reach|connect to) the (?:destination|recipient'?s?|remote) (?:mail )?server|unable to connect to (?:the )?(?:destination|remote|recipient'?s?) (?:mail )?server/i,
    "Delivery has been postponed because the destination server could not be reached",
    P.networkerror,
  ],
  [
    "domain-not-registered",
    "hostunknown",
    /domain name (?:\(\S{1,255}\) )?does not (?:appear to )?(?:be registered|exist)/i,
    "The message could not be delivered because the domain name (example.invalid) does not appear to be registered.",
    P.hostunknown,
  ],
  [
    "delivery-still-attempted",
    "expired",
    /delivery is delayed to|will continue to be attempted|will keep trying to deliver|(?:hasn't|has not) been delivered yet/i,
    "This message hasn't been delivered yet. Delivery will continue to be attempted.",
    P.expired,
  ],
  [
    "domain-without-mail-server",
    "hostunknown",
    /domain has no (?:mail server|mail exchanger|mx record)|no (?:mx|mail exchanger) (?:or a )?record|no mail (?:servers?|exchangers?) (?:appears? to |seems? to )?exists? for|no mail (?:servers?|exchangers?) (?:were |was |could be )?found for|(?:could not|couldn't|unable to|cannot|can't) find (?:any |a )?mail (?:servers?|exchangers?) for/i,
    "The recipient's domain has no mail server (no MX or A record).",
    P.hostunknown,
  ],
]);
