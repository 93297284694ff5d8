// Small helpers the family layouts share.
import type { ParsedMail } from "../../mail.js";

/** One header of the bounce, or "" when absent. */
export const hdr = (m: ParsedMail, name: string): string => m.headers.get(name) ?? "";
/** A pattern built from a string (to splice in the address pattern), case-insensitive by default. */
export const rx = (s: string, flags = "i"): RegExp => new RegExp(s, flags);
/** Every Received header of the bounce, one a line ("" when none). */
export const receivedOf = (m: ParsedMail): string => m.headers.getAll("received").join("\n");
