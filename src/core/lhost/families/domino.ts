import { inHead, type Layout } from "../engine.js";

export const domino: Layout = {
  // Lotus Domino:  Your message  Subject: x  was not delivered to:  x@y  because:  User x (x@y) not listed in Domino Directory
  id: "domino",
  // and in French: `n'a pas été remis à :` ... `parce que :`
  detect: (_m, head) =>
    inHead(head, /^[\t ]*(?:was not delivered to:|n'a pas [ée]t[ée] remis [àa] ?:)[\t ]*$/im),
  start: [/^[\t ]*(?:was not delivered to:|n'a pas [ée]t[ée] remis [àa] ?:)[\t ]*$/i],
  blankEnds: false,
  failureNotice: /^\s*DELIVERY FAILURE:/,
  noise: [/^\s*(?:because|parce que) ?:\s*$/i],
  reasons: [
    {
      id: "not-listed",
      reason: "userunknown",
      pattern:
        /not listed in (?:the )?(?:Domino Directory|public Name & Address Book)|non r[ée]pertori[ée] dans l'annuaire|No such user/i,
    },
    // the notice's own verdict alone under `because:` (no SMTP reply): the address, not a filter's answer
    {
      id: "user-unknown-alone",
      reason: "userunknown",
      pattern: /^(?:user|recipient|addressee) unknown\.?$/i,
    },
    {
      id: "mailbox-full",
      reason: "mailboxfull",
      pattern: /mailbox (?:is )?full|exceeded (?:its|the) quota/i,
    },
    // Sisimai's Domino table: a route the router cannot take is the server's filter, an ambiguous name its error
    { id: "cannot-route", reason: "filtered", pattern: /Cannot route mail to user/i },
    {
      id: "several-matches",
      reason: "systemerror",
      pattern: /Several matches found in (?:the )?Domino Directory/i,
    },
  ],
};
