import { inHead, type Layout } from "../engine.js";

export const postfix: Layout = {
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
};
