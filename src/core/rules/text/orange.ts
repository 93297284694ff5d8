// Orange (France Telecom: orange.fr, wanadoo.fr) and La Poste (laposte.net) replies: OFR/LPN/OUK error codes.
// https://www.postmastery.com/orange-postmaster-smtp-error-codes-ofr/
import { P, table } from "./define.js";

// The code after the label: OFR006_102, LPN007_102, OFR_416, LPNAAA_101, OUK_513.
const code = (n: string): RegExp => new RegExp(`\\b(?:ofr|lpn|ouk)[a-z0-9]{0,6}[_-]${n}\\b`, "i");

export const franceRules = table("orange", [
  [
    "101-blocked",
    "blocked",
    code("10[1-3]"),
    "550 mwinf5c04 ME Adresse IP source bloquee pour incident de spam. Client host blocked for spamming issues. OFR006_102 Ref http://csi.cloudmark.com/reset-request/?ip=192.0.2.1 [102]",
    P.provider,
  ],
  [
    "104-too-many-connections",
    "ratelimited",
    code("104"),
    "421 mwinf5c79 ME Trop de connexions, veuillez verifier votre configuration. Too many connections, slow down. OFR005_104 [104]",
    P.provider,
  ],
  [
    "108-service-refused",
    "blocked",
    code("(?:105|107|108|109|201|423|424)"),
    "550 5.5.0 Service refuse. Veuillez essayer plus tard. service refused, please try later. LPN001_108",
    P.provider,
  ],
  [
    "305-auth",
    "securityerror",
    code("(?:305|402)"),
    "550 5.5.0 Authentification requise. Authentication Required. LPN105_402",
    P.provider,
  ],
  [
    "401-spf",
    "authfailure",
    code("(?:401|517)"),
    "550 5.5.0 SPF: example.org is not allowed to send mail. LPN004_401",
    P.provider,
  ],
  [
    "405-invalid-sender",
    "rejected",
    code("(?:403|405|415|421)"),
    "501 5.1.0 Emetteur invalide. Invalid Sender. OFR004_405 [405]",
    P.provider,
  ],
  [
    "416-invalid-recipient",
    "userunknown",
    code("(?:416|418)"),
    "550 5.1.1 Adresse d au moins un destinataire invalide. Invalid recipient. OFR_416 [416]",
    P.provider,
  ],
  [
    "417-overquota",
    "mailboxfull",
    code("417"),
    "552 5.1.1 Boite du destinataire pleine. Recipient overquota. OFR_417 [417]",
    P.provider,
  ],
  [
    "420-archived",
    "suspend",
    code("(?:420|426)"),
    "550 5.5.0 Boite du destinataire archivee. Archived recipient. LPN007_420",
    P.provider,
  ],
  [
    "505-system",
    "systemerror",
    code("505"),
    "421 4.2.0 Service refuse. Veuillez essayer plus tard. Service refused, please try later. OFR005_505 [505]",
    P.provider,
  ],
  [
    "506-spam",
    "spamdetected",
    code("(?:506|513)"),
    "550 5.7.1 Mail rejete. Mail rejected. OFR_506 [506]",
    P.provider,
  ],
  [
    "510-blocked",
    "blocked",
    code("510"),
    "550 5.5.0 Service refuse. Veuillez essayer plus tard. service refused, please try later. LPN005_510",
    P.provider,
  ],
  [
    "514-size",
    "emailtoolarge",
    code("514"),
    "552 5.3.4 Taille limite du message atteinte. Message size limit reached. OFR_514",
    P.provider,
  ],
  [
    "630-policy",
    "policyviolation",
    code("630"),
    "554 5.7.1 <mx.example.net[192.0.2.1]:49309>: Client host rejected: #216 lpn LPN000_630",
    P.provider,
  ],
  [
    "999-service-refused",
    "ratelimited",
    code("999"),
    "421 mwinf5c77 ME Service refuse. Veuillez essayer plus tard. Service refused, please try later. OFR_999 [999]",
    P.provider,
  ],
  [
    "spf-dns",
    "authfailure",
    /spf\/dns de votre nom de domaine|spf check failed, please verify the spf\/dns/i,
    "421 smtp.orange.fr [192.0.2.1] Emetteur invalide, Veuillez verifier la configuration SPF/DNS de votre nom de domaine. Invalid Sender. SPF check failed.",
    P.provider,
  ],
  [
    "sfr-abuse",
    "blocked",
    /abus detecte gu_eib_0[24]/i,
    "554 5.7.1 <mx.example.net[192.0.2.1]>: Client host rejected: Abus detecte GU_EIB_02",
    P.provider,
  ],
  [
    "free-too-many-spams",
    "blocked",
    /too many spams from your ip/i,
    "421 Too many spams from your IP (192.0.2.1), please visit http://postmaster.free.fr/",
    P.provider,
  ],
  // The sentence of code 426 (Sisimai's FrancePTT: suspend) names the account's state: it decides before a code
  // in the same reply, as the words are what the provider meant (a reply may carry another code with them).
  [
    "426-account-blocked",
    "suspend",
    /le compte du destinataire est bloqu|the recipient account (?:is ?blocked|isn'?t enabled|is not enabled)/i,
    "550 5.5.0 Le compte du destinataire est bloque. The recipient account isblocked. LPN007_426",
    P.provider + 1,
  ],
]);
