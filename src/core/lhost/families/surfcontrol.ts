import { inHead, type Layout } from "../engine.js";

export const surfcontrol: Layout = {
  // SurfControl:  Your message could not be sent.  A transcript of the attempts to send the message follows.
  // Addressed To: x@y  ...  Failed to send to identified host,  x@y: [192.0.2.5], 550 x@y... No such user
  id: "surfcontrol",
  detect: (_m, head) => inHead(head, /A transcript of the attempts to send the message follows/i),
  end: [/^-+\s*Message non-deliverable/i],
  blankEnds: false,
};
