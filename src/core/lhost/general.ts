// The general fallback: a bounce-looking mail of no known family. The general recipient-line shapes of the
// engine, the block starting at the first sentence that announces failed recipients.
import { fromOf, parserOf, subjectOf, type Layout } from "./engine.js";

const BOUNCE_FROM =
  /mailer-daemon|postmaster|mail delivery|mail administrator|mail system|mail gateway|mailer|MAILER|bounce|daemon|listserv|list server|\bdsn\b/i;
/** A notice's subject of failure or delay, in the languages notices come in (read by the auto-reply reader too). */
export const BOUNCE_SUBJECT =
  /undeliver|not deliverable|undelivered|not delivered|delivery (?:status|fail|problem|notification)|returned mail|mail delivery failed|failed mail|failure notice|delivery failure|could not be delivered|non[- ]?remis|unzustellbar|nicht zustellbar|no entregado|non recapitato|niet bezorgd|недостав|не доставлено|配信|不達|エラー|返信不可|退信|投递|投遞|无法|無法|error|returned|failure|delayed|delay|postponed|retard|ritard|retraso|atraso|vertraagd|onbestelbaar|fehlgeschlagen|zustellung|non recapitato|não entregue|nao entregue|falha|fallo|échec|задерж|не доставлен|遅延|延迟|延遲|傳送|发送|전송 실패|배달 실패|발송 실패|반송|nie zosta[łl]a dostarczona|niedostarczon|(?:authori[sz]ation|permission|posting) denied|not distributed|message (?:blocked|rejected|refused)|kh[ôo]ng th[ểe] g[ửu]i|nedoru[čc]iteln|niedor[ęe]czon|olevererbar|f[öo]rsenad leverans|leveransfel|ikke leveret|leveringsfejl|toimitus ep[äa]onnistui|k[ée]zbes[íi]thetetlen|teslim edilemedi|iletilemedi|nelivrat|δεν παραδόθηκε|tidak terkirim|gagal terkirim|non consegnat|correo devuelto|mensagem devolvida|non distribu|αδυναμ[ιί]α παρ[αά]δοσης|αποτυχ[ιί]α παρ[αά]δοσης|δεν παραδ[οό]θηκε|μη παραδοθ[εέ]ν|καθυστ[εέ]ρηση παρ[αά]δοσης|ไม่สามารถส่ง|ส่งไม่สำเร็จ|ส่งไม่ได้|ล้มเหลว|ล่าช้า|تحو[یي]ل (?:داده )?نشد|تحو[یي]ل ناموفق|ارسال ناموفق|ارسال نشد|عدم تحو[یي]ل|تاخ[یي]ر در تحو[یي]ل|לא נמסר|מסירה נכשלה|כשל במסירה|עיכוב במסירה|nedoru[čc]ite[ľl]n|oneskoren|nebola doru[čc]en|doru[čc]enie zlyhalo|неуспешна доставка|недоставен|не е доставено|забавена доставка|nije isporu[čc]en|neisporu[čc]en|isporuka nije uspjel|isporuka nije uspel|odgo[đd]en|ni bilo (?:mogo[čc]e )?dostavljen|nedostavljiv|nelivrabil|livrare e[şș]uat|[îi]nt[âa]rziat|недоставлен|не вдалося доставити|затримк|ei toimitettu|toimittamaton|viiv[äa]stynyt|delivery deferred|notificaci[óo]n de (?:estado de )?entrega|^(?:your message|request) to (?:mailing list )?\S{1,100} rejected$|could not be forwarded|forwarding failed/i;

export const generalLayout: Layout = {
  id: "general",
  detect: (m) => BOUNCE_SUBJECT.test(subjectOf(m)) || BOUNCE_FROM.test(fromOf(m)),
  start: [
    /following (?:recipients?|address(?:es|\(es\))?|destinations?)|failed (?:addresses|recipients)|could not be delivered|couldn't be delivered|was not delivered|wasn't delivered|undeliverable|unable to deliver|delivery (?:to .{1,200} )?(?:has )?failed|failed to deliver|permanent(?:ly)? (?:fatal )?error|did not reach/i,
    // the sendmail/Postfix apology, wrapped before "be delivered"
    /sorry to (?:have to )?inform you that your message|following addresses had permanent fatal errors|permanent fatal delivery errors?|could not be (?:fully|successfully|completely) delivered/i,
    // Japanese and Chinese (no case, no word boundaries)
    /配信に失敗|送信に失敗|配信(?:でき|出来)ませんでした|送信(?:でき|出来)ませんでした|配送(?:でき|出来)ませんでした|届けることができませんでした|宛先不明|無法投遞|无法投递|无法送达|無法送達|投递失败|投遞失敗|发送失败|發送失敗|未能送达|未能送達|无法发送|無法傳送|退信通知|退回的邮件|被退回/,
    // more ways to say it in the languages below
    /no se pudo entregar|error (?:en la|de) entrega|fallo en la entrega|n'a pas pu [eê]tre (?:livr|achemin)|[ée]chec de (?:la )?(?:remise|distribution|livraison)|non distribuable|konnte nicht (?:ausgeliefert|zugestellt)|Zustellung fehlgeschlagen|impossibile (?:recapitare|consegnare)|non recapitabile|mancata consegna|non [eè] stat[oa] (?:recapitat|consegnat)|falha na entrega|n[aã]o foi entregue|kan niet worden (?:bezorgd|afgeleverd)|niet (?:worden )?afgeleverd|onbestelbaar|недоставленн|не доставлено|доставка не удалась/i,
    // the same in other languages: es, fr, de, it, pt, nl, ru
    /no se ha podido entregar|no (?:pudo|puede) ser entregado|(?:siguiente|siguientes) direcci[oó]n(?:es)?|n'a pas pu [eê]tre (?:remis|distribu)|impossible de (?:remettre|distribuer)|adresses? suivantes?|nicht zugestellt werden|konnte nicht zugestellt|unzustellbar|folgenden? (?:Adressen?|Empf[aä]nger)|non (?:[eè] stato possibile consegnare|pu[oò] essere consegnato)|n[aã]o (?:foi poss[ií]vel entregar|p[oô]de ser entregue)|kon niet worden afgeleverd|не (?:может быть|могло быть|удалось|было) доставлено|не удалось доставить/i,
  ],
  // a mail of no known family must at least announce failed recipients before it is read as a bounce
  startRequired: true,
  // a delay warning, by its subject or its banner: its recipients are still retried (Action delayed)
  delayNotice:
    /^(?:warning: (?:could not send|message .{0,80} delayed)|delayed mail\b|delivery (?:status notification \()?delay(?:ed)?\b|message delayed\b|mail delivery delayed)|this is a warning message only|dies ist nur eine warnung|noch nicht zugestellt|ainda n[ãa]o foi entregue|ceci n'est qu'un avertissement|esto es s[óo]lo una advertencia|questo [èe] solo un avviso|isto [ée] apenas um aviso|^(?:oneskoren[ée]|zpo[žz]d[ěe]n[ée]?|op[óo][źz]nion[ae]?|verz[öo]gert|retard[ée]|retrasad[oa]|ritardat[oa]|atrasad[oa]|vertraagd|f[öo]rsenad|forsinket|viiv[äa]stynyt|[îi]nt[âa]rziat|zaka[šs]njel[ao]?|odgo[đd]en[ao]?|kasni|забавен[ао]?|затриман[ео]?|задержан[ео]?|отложен[ео]?|καθυστ[εέ]ρηση|ล่าช้า|עיכוב|تاخ[یي]ر)\s*:|\((?:затримка|задержка|delayed|delay)\)|bolo oneskoren|e[šs]te nedostali|^remise diff[ée]r[ée]e\s*:|n'a pas encore (?:pu )?[eê]tre (?:remis|distribu|livr)|(?:ще|ещё|еще) не доставлено|(?:bude|budeme) (?:na[ďd]alej|naďalej) pok[úu][šs]a|spr[óo]buje ponownie|будуть повторю|повторюватим/im,
  sharedDiagnostic: true,
  freeText: true,
};

// More announcements, appended: old MTAs' banners, delay warnings, the reasons old notices open with, and the same
// in the other languages.
generalLayout.start!.push(
  /list of failed recipients|failed recipients? -|(?:could not|couldn't|cannot|can't|were unable to|was unable to) deliver\b|did not receive (?:a copy of )?(?:this|your) message|could not be (?:reached|transferred)|not yet (?:been )?delivered|has been (?:delayed|postponed)|delivery (?:is |has been )?delayed|delayed to these recipients|error-for:|error description:|intended recipient:|undeliverable address:|encountered delivery problems|message delivery to \S+ failed|delivery failed \d+ attempts?|was aborted after|returned mail|transcript of (?:the )?session| - no such user here/i,
  // Exchange's "recipients or groups" and "could not be reached" in its languages
  /Empf[äa]nger oder Gruppen|destinataires ou (?:aux )?groupes|destinatarios o grupos|destinatari o (?:ai )?gruppi|destinat[áa]rios ou grupos|geadresseerden of groepen|получателям или группам|受信者またはグループ|收件人或(?:组|群组)|收件者或群組|konnten nicht erreicht werden|sont injoignables|n'a pas atteint tous les destinataires|no se pudo (?:entregar|llegar)|non (?:è stato possibile|[èe] stato) recapitat|n[ãa]o (?:foi poss[íi]vel )?(?:alcan[çc]ar|entregar)|konden niet worden bereikt|не удалось доставить сообщение/i,
  // more languages: Swedish, Danish, Norwegian, Czech, Slovak, Polish, Finnish, Hungarian, Turkish, Romanian, Greek
  /kunde inte levereras|kunne ikke (?:leveres|afleveres|levere)|nelze doru[čc]it|nebylo mo[žz]n[ée] doru[čc]it|nemo[žz]no doru[čc]i[tť]|nie (?:mo[żz]e zosta[ćc]|zosta[łl]a|mog[łl]a zosta[ćc]) (?:dostarczon|dor[ęe]czon)|nie mo[żz]na dostarczy[ćc]|ei voitu toimittaa|nem (?:siker[üu]lt k[ée]zbes[íi]teni|k[ée]zbes[íi]thet)|teslim edilemedi|nu a putut fi (?:livrat|trimis)|δεν ήταν δυνατή η παράδοση/i,
  // a recipient's line with the remote's reply, whatever the language around it: `<addr>: 550 5.1.1 ...`
  /^[ \t]*<[^\s<>@]{1,64}@[^\s<>]{1,255}>[ \t]*:[ \t]*[245]\d\d[ -]/m,
  // a mailing-list manager refusing a post: the list is the recipient that failed
  /your (?:message|post(?:ing)?) (?:to|for) (?:the )?(?:(?:mailing[- ])?list )?\S{1,255} (?:\([^)\n]{0,40}\) )?(?:was|has been) (?:rejected|refused|denied|not distributed)/i,
  // a forwarder's notice: the forward to the owner's other address failed (`forwarded, as its owner asked, to y@z,
  // which failed`)
  /could not be forwarded|forwarding (?:to \S{1,255} )?(?:has )?failed|\bto \S{1,255},? which (?:failed|was rejected|bounced)\b/i,
  // Mailman 2.1's refusal: `Your message to the X mailing-list was rejected for the following reasons:`
  /your (?:message|post(?:ing)?) to the \S{1,255} mailing[- ]list (?:was|has been) (?:rejected|refused|denied)/i,
  // Korean, and more Polish
  /전달(?:되지|하지) 못했습니다|(?:전송|배달|발송|배송)(?:되지|하지) 못했습니다|(?:전송|배달|발송)(?:에)? 실패|nie uda[łl]o si[ęe] dostarczy[ćc]|nie zosta[łl]a dostarczona|nie dor[ęe]czono/i,
  /(?:Adresse|Empf[äa]nger)(?:\(n\)|n)? (?:sind |ist )?fehlgeschlagen|nicht zugestellt werden|noch nicht zugestellt|n'a pas encore [eé]t[eé] (?:distribu|remis|livr)|n'a pas pu [eê]tre remis|no ha podido ser entregado|todav[ií]a no (?:ha podido|se ha)|non [eè] stato (?:possibile )?(?:recapitat|consegnat)|impossibile consegnare|n[aã]o p[oô]de ser entregue|n[aã]o foi poss[ií]vel entregar|ainda n[aã]o foi entregue|is niet afgeleverd|nog niet (?:afgeleverd|bezorgd)|не может быть доставлено|не удалось доставить|ещё не доставлено|еще не доставлено|配信が遅れ|配信を遅延|配信できませんでした|无法投递|無法傳送|无法发送|延迟投递|延遲投遞/i,
);

// A provider's own notice with failures under headings, a security service's block notice, Vietnamese
generalLayout.start!.push(
  /delivery problems with|(?:permanent|temporary) failures?\b|the message you sent to \S{1,255} was (?:blocked|rejected|refused)|không thể gửi (?:thư )?(?:đến|tới)|gửi thư (?:thất bại|không thành công)/i,
);

// "Not (yet) been able to" in the Nordic, Czech/Slovak, Korean and French ways: `har ännu inte kunnat levereras`,
// `se nepodařilo doručit`, `전달되지 않았습니다`, `n'a pas encore pu être distribué`
generalLayout.start!.push(
  /(?:har|hat|er|ha) (?:ännu |endnu |enda )?(?:inte|ikke|ikkje) (?:kunnat|kunnet|kunne) (?:levereras|leveres|afleveres)|se (?:nepoda[řr]ilo|nepodarilo) doru[čc]i[tť]|nedoru[čc]iteln|(?:전달|전송|배달|발송|배송)(?:되지|하지) 않았습니다|n'a pas (?:encore )?pu [eê]tre (?:distribu|remis|livr|achemin|transmis)/i,
);

// Old gateways and list servers (issue 14 §2): `Message not deliverable to the following cc:Mail recipient:`,
// `Receiver not found: 74213.3306` (CompuServe), `The following subscriber address has failed permanently`
// (LISTSERV), and a notice whose only recipient is in a quoted SMTP dialogue (`Session log:`, `SMTP transcript:`,
// or the dialogue's own `>>> RCPT TO:<addr>` line), whatever words surround it.
generalLayout.start!.push(
  /not deliverable to\b|following (?:[\w:.-]{1,30} ){1,3}(?:recipients?|address(?:es)?|subscribers?|members?|destinations?)\b|(?:subscriber|recipient|member)s? (?:address(?:es)? )?(?:has|have) failed|failed permanently|^[ \t]*(?:receiver|recipient|addressee|user) (?:not found|unknown)[ \t]*:/im,
  /^[ \t]*(?:smtp |the )?(?:session|conversation|dialog(?:ue)?|transaction) (?:log|transcript)\b|\bsmtp (?:session|transcript|dialog(?:ue)?|conversation|transaction) (?:log|follows|was)?|transcript of (?:the )?(?:smtp )?(?:session|conversation|dialog(?:ue)?)|^[ \t]*(?:>>>|-->|sent:?)[ \t]*RCPT TO:[ \t]*<[^\s<>@]{1,64}@/im,
);

// The same announcement in Greek, Thai, Persian, Hebrew, Slovak, Bulgarian, Croatian/Serbian/Slovenian, Romanian,
// Ukrainian and Finnish: "could not be delivered", "was not delivered", "delivery failed", "to the following
// recipient(s)", and Exchange's "did not reach some or all of the recipients" in those languages.
generalLayout.start!.push(
  /δεν (?:ήταν|είναι|ηταν|ειναι) δυνατ[όήοη] (?:να παραδοθ|η παράδοση|η παραδοση)|δεν παραδ[οό]θηκε|αδυναμ[ιί]α παρ[αά]δοσης|αποτυχ[ιί]α παρ[αά]δοσης|η παρ[αά]δοση (?:\S{1,30} ){0,6}απ[εέ]τυχε|(?:στον|στους|στην|στις) παρακ[αά]τω παραλ[ηή]πτ/i,
  /ไม่สามารถส่ง|ส่งไม่สำเร็จ|การส่ง(?:จดหมาย|อีเมล)?ล้มเหลว|ส่ง(?:จดหมาย|อีเมล)?ไม่ได้|ผู้รับต่อไปนี้|ยังไม่ได้ส่ง/,
  /تحو[یي]ل (?:داده )?نشد|قابل تحو[یي]ل ن[یي]ست|ارسال نشد|ارسال ناموفق|تحو[یي]ل ناموفق|گ[یي]رنده(?:\u200c?گان)? ز[یي]ر/,
  /לא נמסר|לא ניתן (?:היה )?למסור|המסירה נכשלה|מסירה נכשלה|כשל במסירה|לנמען הבא|לנמענים הבאים|טרם נמסר/,
  /nebola doru[čc]en|nemohla by[ťt] doru[čc]en|sa nepodarilo doru[čc]i[ťt]|nedoru[čc]ite[ľl]n|doru[čc]enie (?:\S{1,30} ){0,4}(?:zlyhalo|bolo oneskoren)|nasleduj[úu]c(?:im|emu|i) adres[áa]t|e[šs]te nedostali/i,
  /не (?:можа|може|можеше) да бъде доставен|не (?:беше|е|бе) доставен|неуспешна доставка|доставката (?:\S{1,30} ){0,4}(?:е )?неуспешна|следни(?:я|те) получател/i,
  /nije (?:mogla biti |mogao biti |moguće |moguce )?isporu[čc]en|nije mogu[ćc]e isporu[čc]iti|isporuka (?:\S{1,30} ){0,4}nije uspjela|nije uspela|neisporu[čc]en|sljede[ćc](?:em|im) primatelj|slede[ćc](?:em|im) prima(?:ocu|ocima)|ni bilo (?:mogo[čc]e )?(?:dostaviti|dostavljeno)/i,
  /nu a ajuns la (?:unii sau la )?(?:to[ţțt]i )?destinatari|nu (?:au|a) putut fi (?:contacta[ţțt]i|livrat|trimis|remis)|nelivrabil|livrare (?:e[şșs]uat|nereu[şșs]it)|urm[ăa]torii destinatari/i,
  /не вдалося доставити|не може бути доставлен|не було доставлено|доставка не вдалася|(?:таким|наступним) (?:адресатам|одержувачам)/i,
  /ei saavuttanut (?:kaikkia|joitakin|seuraavia)|viesti[äa] ei voitu toimittaa|toimitus (?:\S{1,30} ){0,3}ep[äa]onnistui|seuraaville vastaanottajille/i,
);

// "Could not be delivered to all / one or more recipients" said around the recipients in German and Spanish
// (`konnte leider nicht an alle Empfänger zugestellt werden`, Kerio's `No ha sido posible entregar su mensaje a uno o
// varios destinatarios`), and a gateway's deferral of a held message (`Your message ... has been deferred`).
generalLayout.start!.push(
  /nicht an (?:alle|einige|einen|die folgenden) Empf[äa]nger(?:innen)? zugestellt werden|no (?:ha sido|fue|es) posible entregar|has been deferred:/i,
  // a list server refusing a post by the sender's rights (LISTSERV: `You are not authorized to send mail to the X list`)
  // (LISTSERV pads its words with two spaces)
  /(?:are|were) {1,3}not {1,3}(?:authori[sz]ed|allowed|permitted) {1,3}to {1,3}(?:send {1,3}(?:mail|messages?)|post) {1,3}to {1,3}(?:the {1,3})?\S{1,100} {1,3}(?:mailing {1,3})?list\b/i,
);

export const generalParser = parserOf(generalLayout);

/** A mail system's own sender: the daemon or the postmaster, not a person or a list. */
const SYSTEM_FROM =
  /mailer-daemon|postmaster|mail ?delivery (?:subsystem|system|service)|mail system|mail server|mdaemon|<(?:mmdf|smtp|mail|mailer|daemon|mta)@/i;
/** The body speaks of a refusal or a failure: an SMTP failure reply with its enhanced code, or the words. */
const FAILURE_TEXT =
  /(?<![\d.])[45]\d\d[ -][45]\.\d{1,3}\.\d{1,3}\b|\b(?:rejected|refused|not accepted|would not (?:take|accept)|failed|failure|undeliverable|not (?:be )?delivered|permanent error|no such (?:user|mailbox|address|domain)|does not exist|unknown (?:user|recipient|domain|host)|mailbox (?:is )?full|blocked|denied)\b/i;

/**
 * A mail system's notice in its own prose, with no sentence that announces failed recipients (`I tried to hand it
 * over to the server that receives mail for x@y, but ...`): from the daemon or the postmaster, under a subject of
 * failure, with a failure reply or words in its text, and no delivery-status part (whose recipients are the
 * report's own). Its whole text is the block; tried after the general layout, so an announcement, where there is
 * one, still starts the block.
 */
export const generalNoticeLayout: Layout = {
  ...generalLayout,
  detect: (m, head) =>
    m.statusText === undefined &&
    SYSTEM_FROM.test(fromOf(m)) &&
    BOUNCE_SUBJECT.test(subjectOf(m)) &&
    FAILURE_TEXT.test(head),
  startRequired: false,
};

export const generalNoticeParser = parserOf(generalNoticeLayout);
