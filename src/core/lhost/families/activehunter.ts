import { EMAIL_SRC as E } from "../text.js";
import type { Layout } from "../engine.js";
import { rx } from "./util.js";

export const activehunter: Layout = {
  // TransWARE Active!hunter (X-AHMailID): sendmail's headings, one `>>> addr <addr>` line per recipient.
  //     ----- The following addresses had permanent fatal errors -----
  //   >>> kijitora@example.org <kijitora@example.org>
  //     ----- Transcript of session follows -----
  //   550 sorry, no mailbox here by that name (#5.1.1 - chkusr)
  id: "activehunter",
  detect: (m) => m.headers.get("x-ahmailid") !== undefined,
  start: [/The following addresses had permanent fatal errors/i],
  recipient: [
    rx(`^>>>[\\t ]+\\S{1,254}[\\t ]+<(?<addr>${E})>[\\t ]*$`),
    // the transcript's reply naming one of them: `550 5.1.1 <addr>... User Unknown`
    rx(`^(?<rest>[245]\\d\\d[ -](?:[245]\\.\\d{1,3}\\.\\d{1,3}[\\t ]+)?<(?<addr>${E})>\\.\\.\\..*)`),
  ],
  generalLines: false,
  blankEnds: false,
  sharedDiagnostic: true,
  noise: [/^\s*-+\s*Transcript of session follows\s*-+\s*$/i],
};
