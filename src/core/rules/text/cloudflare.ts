// Cloudflare Email Routing replies (https://developers.cloudflare.com/email-routing/postmaster/).
import { P, table } from "./define.js";

export const cloudflareRules = table("cloudflare", [
  [
    "upstream-error",
    "systemerror",
    /upstream error, please check https?:\/\/developers\.cloudflare\.com/i,
    "421 4.3.0 Upstream error, please check https://developers.cloudflare.com/email-routing/postmaster for possible reasons why.",
    P.provider,
  ],
  [
    "dmarc",
    "authfailure",
    /email routing .{0,60}(?:dmarc|spf|dkim)|sender domain .{1,80} does not pass (?:dmarc|spf)/i,
    "550 5.7.26 Email Routing rejected the message: DMARC policy of the sender domain is reject",
    P.provider,
  ],
  [
    "address-disabled",
    "suspend",
    /(?:routing|destination) address (?:is )?(?:disabled|not verified)/i,
    "550 5.1.1 Address not found: destination address is disabled",
    P.provider,
  ],
  [
    "rate",
    "ratelimited",
    /email routing .{0,40}rate limit/i,
    "421 4.7.28 Email Routing rate limit exceeded, try again later",
    P.provider,
  ],
]);
