import { describe, expect, it } from "vitest";
import { permanenceOf } from "../../src/core/reason.js";

// The words a notice uses to say whether its failure is final or will be retried, read when no status, reply code
// or Action says it (issue 14: old MTAs and free-text notices).
const said = (text: string): boolean | null =>
  permanenceOf("onhold", undefined, undefined, undefined, text).permanent;

describe("permanence words", () => {
  it("reads a final verdict in the notices' own words as permanent", () => {
    for (const text of [
      "<vera.holm@quill.example>  delivery failed; will not continue trying",
      "The message was not delivered and will not be retried.",
      "No more delivery attempts will be made for this recipient.",
      "Échec définitif de la remise au destinataire.",
      "Die Nachricht wird nicht mehr zugestellt.",
      "Errore fatale durante la consegna.",
    ])
      expect(said(text), text).toBe(true);
  });

  it("reads a retry announced in the notices' own words as transient", () => {
    for (const text of [
      "The message is being retried; you will be told if it fails.",
      "Our server will keep trying for another 3 days.",
      "The message remains in the queue of mx.example.net.",
      "Die Zustellung wird weiterhin versucht.",
      "El mensaje será reintentado más adelante.",
    ])
      expect(said(text), text).toBe(false);
  });

  it("leaves the permanence unknown where the words say neither", () => {
    expect(said("User's mailbox is full: <kim@example.net> Unable to deliver mail.")).toBeNull();
    expect(said("The recipient will not continue to receive mail at this address")).toBeNull();
  });
});
