// The non-standard bounce extractors, in the order they are tried (specific formats first, the general
// fallback last). The pipeline runs them when a mail has no usable delivery-status part.
import { amazonSesJson } from "./amazonses.js";
import { parserOf } from "./engine.js";
import { generalNoticeParser, generalParser } from "./general.js";
import { LAYOUTS } from "./families/index.js";
import type { LhostParser } from "./types.js";

export const lhostParsers: LhostParser[] = [
  amazonSesJson,
  ...LAYOUTS.map(parserOf),
  generalParser,
  generalNoticeParser,
];

export type { ExtractedRecipient, LhostParser } from "./types.js";
