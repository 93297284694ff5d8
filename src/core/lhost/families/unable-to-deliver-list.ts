import { inHead, type Layout } from "../engine.js";

export const unableToDeliverList: Layout = {
  // Unnamed X2 / MXLogic-likes:  Unable to deliver message to the following address(es).  <x@y>:  text
  id: "unable-to-deliver-list",
  detect: (_m, head) => inHead(head, /Unable to deliver message to the following address/i),
  start: [/Unable to deliver message to the following address/i],
};
