import { inHead, subjectOf, type Layout } from "../engine.js";

export const sendmail: Layout = {
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
  // a warning: `Warning: could not send message for past 4 hours`, `transient non-fatal errors`
  delayNotice:
    /^Warning: could not send message|The following addresses had transient non-fatal errors|THIS IS A WARNING MESSAGE ONLY/im,
};
