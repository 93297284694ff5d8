import { inHead, type Layout } from "../engine.js";

export const deliveryErrorsList: Layout = {
  // ---The following addresses had delivery errors---
  // kijitora@example.co.jp [User unknown]
  id: "delivery-errors-list",
  detect: (_m, head) => inHead(head, /^-+The following addresses had delivery errors-+\s*$/im),
  start: [/The following addresses had delivery errors/i],
};
