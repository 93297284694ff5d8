// The layouts of the plain-text bounces, one module per MTA or provider family (the files beside this one), tried
// in this order: specific formats first, the loosest last. Each says how to recognise the family cheaply, where its
// error block starts and ends, what its recipient lines look like, and which fixed sentences of its own state a
// reason; an example of the text is beside each.
import type { Layout } from "../engine.js";
import { activehunter } from "./activehunter.js";
import { qmail } from "./qmail.js";
import { yahoo } from "./yahoo.js";
import { gmail } from "./gmail.js";
import { googlegroups } from "./googlegroups.js";
import { dragonfly } from "./dragonfly.js";
import { exchange2003 } from "./exchange2003.js";
import { deliveryErrorsList } from "./delivery-errors-list.js";
import { dsnSubjectStarList } from "./dsn-subject-star-list.js";
import { qmailClone } from "./qmail-clone.js";
import { recipientsReturnedErrors } from "./recipients-returned-errors.js";
import { amazonses } from "./amazonses.js";
import { amazonworkmail } from "./amazonworkmail.js";
import { kddi } from "./kddi.js";
import { mailfoundry } from "./mailfoundry.js";
import { fml } from "./fml.js";
import { notes } from "./notes.js";
import { apachejames } from "./apachejames.js";
import { verizon } from "./verizon.js";
import { mimecast } from "./mimecast.js";
import { biglobe } from "./biglobe.js";
import { mfilter } from "./mfilter.js";
import { zoho } from "./zoho.js";
import { imailserver } from "./imailserver.js";
import { trendmicro } from "./trendmicro.js";
import { exchange2007 } from "./exchange2007.js";
import { domino } from "./domino.js";
import { mailmarshal } from "./mailmarshal.js";
import { courier } from "./courier.js";
import { messagingserver } from "./messagingserver.js";
import { mcafee } from "./mcafee.js";
import { surfcontrol } from "./surfcontrol.js";
import { sendmail } from "./sendmail.js";
import { smail } from "./smail.js";
import { postfix } from "./postfix.js";
import { exim } from "./exim.js";
import { opensmtpd } from "./opensmtpd.js";
import { ezweb } from "./ezweb.js";
import { unableToDeliverList } from "./unable-to-deliver-list.js";

export const LAYOUTS: Layout[] = [
  qmail,
  yahoo,
  qmailClone,
  gmail,
  googlegroups,
  dragonfly,
  exchange2003,
  deliveryErrorsList,
  smail,
  activehunter,
  dsnSubjectStarList,
  recipientsReturnedErrors,
  amazonses,
  amazonworkmail,
  kddi,
  mailfoundry,
  fml,
  notes,
  apachejames,
  verizon,
  mimecast,
  biglobe,
  mfilter,
  zoho,
  imailserver,
  trendmicro,
  exchange2007,
  domino,
  mailmarshal,
  courier,
  messagingserver,
  mcafee,
  surfcontrol,
  sendmail,
  postfix,
  exim,
  opensmtpd,
  ezweb,
  unableToDeliverList,
];
