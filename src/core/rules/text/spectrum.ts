// Spectrum / Charter replies: AUP#I-nnnn and AUP#O-nnnn codes
// (https://www.spectrum.net/support/internet/understanding-email-error-codes).
import { P, table } from "./define.js";

const aup = (range: string): RegExp => new RegExp(`aup#(?:in?|o(?:ut)?)-?(?:${range})\\b`, "i");

export const spectrumRules = table("spectrum", [
  [
    "1000-blocked",
    "blocked",
    aup("1000|12[0-4]\\d|1250"),
    "550 5.1.0 <sender@example.com> sender rejected. AUP#I-1000",
    P.provider,
  ],
  [
    "1010-rejected",
    "rejected",
    aup("10[1-7]\\d|1080|15[02]0"),
    "550 5.1.0 <sender@example.com> sender rejected. AUP#O-1010",
    P.provider,
  ],
  [
    "1090-system",
    "systemerror",
    aup("1090"),
    "451 4.3.0 The email you're trying to send can't be processed. AUP#I-1090",
    P.provider,
  ],
  [
    "1100-ptr",
    "requireptr",
    aup("11[0-4]\\d|1150"),
    "550 5.7.1 Reverse DNS lookup failed. AUP#I-1100",
    P.provider,
  ],
  [
    "1160-policy",
    "policyviolation",
    aup("11[6-8]\\d|1190|1560"),
    "550 5.7.1 Domain security policy violation. AUP#I-1160",
    P.provider,
  ],
  ["1260-ipv6", "networkerror", aup("1260"), "550 5.7.1 IPv6 not supported. AUP#I-1260", P.provider],
  [
    "1300-rate",
    "ratelimited",
    aup("1[34]\\d\\d|15[458]0"),
    "550 5.1.0 <sender@amazonses.com> sender rejected. Please see https://www.spectrum.net/support/internet/understanding-email-error-codes for more information. AUP#In-1310",
    P.provider,
  ],
  ["1530-size", "emailtoolarge", aup("1530"), "552 5.3.4 Message size exceeds 20MB. AUP#O-1530", P.provider],
]);
