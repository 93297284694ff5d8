// The general fallback: a bounce-looking mail of no known family. The general recipient-line shapes of the
// engine, the block starting at the first sentence that announces failed recipients.
import { fromOf, parserOf, subjectOf, type Layout } from "./engine.js";

const BOUNCE_FROM = /mailer-daemon|postmaster|mail delivery|mail administrator|mailer|MAILER|bounce|daemon/i;
const BOUNCE_SUBJECT =
  /undeliver|undelivered|not delivered|delivery (?:status|fail|problem|notification)|returned mail|mail delivery failed|failure notice|delivery failure|could not be delivered|non[- ]?remis|unzustellbar|nicht zustellbar|no entregado|non recapitato|niet bezorgd|недостав|не доставлено|配信|不達|エラー|返信不可|error/i;

export const generalLayout: Layout = {
  id: "general",
  detect: (m) => BOUNCE_SUBJECT.test(subjectOf(m)) || BOUNCE_FROM.test(fromOf(m)),
  start: [
    /following (?:recipients?|address(?:es|\(es\))?|destinations?)|failed (?:addresses|recipients)|could not be delivered|couldn't be delivered|was not delivered|wasn't delivered|undeliverable|unable to deliver|delivery (?:to .{1,200} )?(?:has )?failed|failed to deliver|permanent(?:ly)? (?:fatal )?error|did not reach/i,
    // the same in other languages: es, fr, de, it, pt, nl, ru
    /no se ha podido entregar|no (?:pudo|puede) ser entregado|(?:siguiente|siguientes) direcci[oó]n(?:es)?|n'a pas pu [eê]tre (?:remis|distribu)|impossible de (?:remettre|distribuer)|adresses? suivantes?|nicht zugestellt werden|konnte nicht zugestellt|unzustellbar|folgenden? (?:Adressen?|Empf[aä]nger)|non (?:[eè] stato possibile consegnare|pu[oò] essere consegnato)|n[aã]o (?:foi poss[ií]vel entregar|p[oô]de ser entregue)|kon niet worden afgeleverd|не (?:может быть|могло быть|удалось|было) доставлено|не удалось доставить/i,
  ],
  // a mail of no known family must at least announce failed recipients before it is read as a bounce
  startRequired: true,
  sharedDiagnostic: true,
};

export const generalParser = parserOf(generalLayout);
