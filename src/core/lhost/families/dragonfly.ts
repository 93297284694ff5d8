import { EMAIL_SRC as E } from "../text.js";
import { inHead, type Layout } from "../engine.js";
import { rx } from "./util.js";

export const dragonfly: Layout = {
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
};
