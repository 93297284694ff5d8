import { inHead, type Layout } from "../engine.js";

export const x1: Layout = {
  // ---The following addresses had delivery errors---
  // kijitora@example.co.jp [User unknown]
  id: "x1",
  detect: (_m, head) => inHead(head, /^-+The following addresses had delivery errors-+\s*$/im),
  start: [/The following addresses had delivery errors/i],
};
