import { EMAIL_SRC as E } from "../text.js";
import { fromOf, inHead, type Layout } from "../engine.js";
import { rx } from "./util.js";

export const amazonses: Layout = {
  // The following message to <x@y> was undeliverable.  The reason for the problem: 5.3.0 - Other mail system problem
  id: "amazonses",
  detect: (m, head) =>
    /amazonses\.com/i.test(fromOf(m)) || inHead(head, /The following message to <.+> was undeliverable/i),
  recipient: [rx(`message to <?(?<addr>${E})>? was undeliverable`)],
  blankEnds: false,
  end: [/^-+\s*Original message/i],
};
