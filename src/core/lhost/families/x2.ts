import { inHead, type Layout } from "../engine.js";

export const x2: Layout = {
  // Unnamed X2 / MXLogic-likes:  Unable to deliver message to the following address(es).  <x@y>:  text
  id: "x2",
  detect: (_m, head) => inHead(head, /Unable to deliver message to the following address/i),
  start: [/Unable to deliver message to the following address/i],
};
