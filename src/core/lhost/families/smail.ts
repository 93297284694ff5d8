import { EMAIL_SRC as E } from "../text.js";
import { inHead, type Layout } from "../engine.js";
import { rx } from "./util.js";

export const smail: Layout = {
  // Smail 3 and Deutsche Telekom's (T-Online's) fork of it: banners between the parts of the notice.
  //   |------------------------- Message log follows: -------------------------|
  //    no valid recipients were found for this message
  //   |------------------------- Failed addresses follow: ---------------------|
  //    <x@t-online.de>
  //      552 5.2.2 <x@t-online.de> Quota exceeded (mailbox for user is full)
  //    x@y ... failed: unknown host                   (Smail 3: the address bare, its error on the line)
  //   |------------------------- Message text follows: ------------------------|
  id: "smail",
  detect: (_m, head) => inHead(head, /^\|-{5,}[\t ]*Failed addresses follow:/im),
  start: [/^\|-{5,}\s*Failed addresses follow:/i],
  end: [/^\|-{5,}\s*Message (?:text|header|body) follows:/i],
  recipient: [
    rx(`^[\\t ]+<(?<addr>${E})>[\\t ]*$`),
    rx(`^[\\t ]+(?<addr>${E}) \\.\\.\\. (?:failed: )?(?<rest>\\S.*)`),
  ],
  generalLines: false,
  blankEnds: true,
};
