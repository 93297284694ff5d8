// The general fallback: a bounce-looking mail of no known family. The general recipient-line shapes of the
// engine, the block starting at the first sentence that announces failed recipients.
import { fromOf, parserOf, subjectOf, type Layout } from "./engine.js";

const BOUNCE_FROM = /mailer-daemon|postmaster|mail delivery|mail administrator|mailer|MAILER|bounce|daemon/i;
const BOUNCE_SUBJECT =
  /undeliver|undelivered|not delivered|delivery (?:status|fail|problem|notification)|returned mail|mail delivery failed|failure notice|delivery failure|could not be delivered|non[- ]?remis|unzustellbar|nicht zustellbar|no entregado|non recapitato|niet bezorgd|недостав|не доставлено|配信|不達|エラー|返信不可|退信|投递|投遞|无法|無法|error/i;

export const generalLayout: Layout = {
  id: "general",
  detect: (m) => BOUNCE_SUBJECT.test(subjectOf(m)) || BOUNCE_FROM.test(fromOf(m)),
  start: [
    /following (?:recipients?|address(?:es|\(es\))?|destinations?)|failed (?:addresses|recipients)|could not be delivered|couldn't be delivered|was not delivered|wasn't delivered|undeliverable|unable to deliver|delivery (?:to .* )?(?:has )?failed|failed to deliver|permanent(?:ly)? (?:fatal )?error|did not reach/i,
    // the sendmail/Postfix apology, wrapped before "be delivered"
    /sorry to (?:have to )?inform you that your message|following addresses had permanent fatal errors/i,
    // Japanese and Chinese (no case, no word boundaries)
    /配信に失敗|送信に失敗|配信(?:でき|出来)ませんでした|送信(?:でき|出来)ませんでした|配送(?:でき|出来)ませんでした|届けることができませんでした|宛先不明|無法投遞|无法投递|无法送达|無法送達|投递失败|投遞失敗|发送失败|發送失敗|未能送达|未能送達|无法发送|無法傳送|退信通知|退回的邮件|被退回/,
    // more ways to say it in the languages below
    /no se pudo entregar|error (?:en la|de) entrega|fallo en la entrega|n'a pas pu [eê]tre (?:livr|achemin)|[ée]chec de (?:la )?(?:remise|distribution|livraison)|non distribuable|konnte nicht (?:ausgeliefert|zugestellt)|Zustellung fehlgeschlagen|impossibile (?:recapitare|consegnare)|non recapitabile|mancata consegna|non [eè] stat[oa] (?:recapitat|consegnat)|falha na entrega|n[aã]o foi entregue|kan niet worden (?:bezorgd|afgeleverd)|niet (?:worden )?afgeleverd|onbestelbaar|недоставленн|не доставлено|доставка не удалась/i,
    // the same in other languages: es, fr, de, it, pt, nl, ru
    /no se ha podido entregar|no (?:pudo|puede) ser entregado|(?:siguiente|siguientes) direcci[oó]n(?:es)?|n'a pas pu [eê]tre (?:remis|distribu)|impossible de (?:remettre|distribuer)|adresses? suivantes?|nicht zugestellt werden|konnte nicht zugestellt|unzustellbar|folgenden? (?:Adressen?|Empf[aä]nger)|non (?:[eè] stato possibile consegnare|pu[oò] essere consegnato)|n[aã]o (?:foi poss[ií]vel entregar|p[oô]de ser entregue)|kon niet worden afgeleverd|не (?:может быть|могло быть|удалось|было) доставлено|не удалось доставить/i,
  ],
  // a mail of no known family must at least announce failed recipients before it is read as a bounce
  startRequired: true,
  sharedDiagnostic: true,
};

export const generalParser = parserOf(generalLayout);
