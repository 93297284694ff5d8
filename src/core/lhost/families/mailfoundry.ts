import { EMAIL_SRC as E } from "../text.js";
import { inHead, type Layout } from "../engine.js";
import { rx } from "./util.js";

export const mailfoundry: Layout = {
  // Unable to deliver message to: <x@y>  Delivery failed for the following reason:  Server ... failed with: 550 ...
  id: "mailfoundry",
  detect: (_m, head) =>
    inHead(head, /Unable to deliver message to:?\s*</i) &&
    inHead(head, /Delivery failed for the following reason/i),
  recipient: [rx(`Unable to deliver message to:?\\s*<?(?<addr>${E})>?`)],
  blankEnds: false,
};
