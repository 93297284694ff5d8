import { inHead, type Layout } from "../engine.js";

export const courier: Layout = {
  // Courier:  This is a delivery status notification from mx.example.jp ...  UNDELIVERABLE MAIL
  // Your message to the following recipients cannot be delivered:  <x@y>:  mx.y [192.0.2.1]:  >>> RCPT TO:<x@y>  <<< 550 ...
  id: "courier",
  detect: (_m, head) =>
    inHead(
      head,
      /This is a delivery status notification from|UNDELIVERABLE MAIL|DELAYED MAIL|^[\t ]*Courier mail server at/im,
    ),
  start: [
    /recipients cannot be delivered|UNDELIVERABLE MAIL|DELAYED MAIL|has not been delivered to the following/i,
  ],
  blankEnds: false,
};
