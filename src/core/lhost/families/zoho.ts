import { EMAIL_SRC as E } from "../text.js";
import { fromOf, type Layout } from "../engine.js";
import { rx } from "./util.js";

export const zoho: Layout = {
  // Zoho:  x@y Invalid Address, ERROR_CODE :550, ERROR_CODE :5.1.1 <x@y>... User Unknown
  id: "zoho",
  detect: (m) => /zoho/i.test(fromOf(m)) || m.headers.get("x-zohomail") !== undefined,
  recipient: [rx(`^\\s*<?(?<addr>${E})>?\\s+(?<rest>\\S.*)`)],
  reasons: [
    {
      id: "invalid-address",
      reason: "userunknown",
      pattern: /Invalid Address, ERROR_CODE :550, ERROR_CODE :5\.1\.1/i,
    },
  ],
};
