// Which line of a raw bounce decided it: the line carrying the diagnostic the classifier read, else the
// report's Diagnostic-Code, Status or Feedback-Type field. Plain string searches, linear in the mail's size.

export interface DecisiveEvidence {
  diagnostic: string | null;
  status: string | null;
  feedbackType: string | null;
}

export interface DecisiveLine {
  /** 1-based, in the text as given; null when no line could be told. */
  line: number | null;
  text: string | null;
}

/** How much of the diagnostic is looked for (a folded header continues on the next line). */
const NEEDLE_CHARS = 40;

const squeeze = (s: string) => s.split(/\s+/).filter(Boolean).join(" ").toLowerCase();

export function decisiveLine(raw: string, e: DecisiveEvidence): DecisiveLine {
  const lines = raw.split("\n").map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
  const lower = lines.map((l) => l.toLowerCase());
  const found = (i: number): DecisiveLine => ({ line: i + 1, text: lines[i]! });

  if (e.diagnostic) {
    // "smtp; 550 5.1.1 ..." is written in the report as "Diagnostic-Code: smtp; 550 ...": look for the text after
    // the type, squeezed, in each squeezed line.
    const semi = e.diagnostic.indexOf(";");
    const body = squeeze(semi >= 0 && semi < 20 ? e.diagnostic.slice(semi + 1) : e.diagnostic);
    const needle = body.slice(0, NEEDLE_CHARS);
    // The whole start of the diagnostic, then (a long one folded over lines) its first words; each in the
    // report's own field first (the human part often repeats it), then on any line.
    for (const n of [needle, needle.slice(0, 16)]) {
      if (n.length < 8) continue;
      const has = (i: number) => squeeze(lines[i]!).includes(n);
      for (let i = 0; i < lines.length; i++)
        if (lower[i]!.startsWith("diagnostic-code:") && has(i)) return found(i);
      for (let i = 0; i < lines.length; i++) if (has(i)) return found(i);
    }
  }
  for (const field of [
    "diagnostic-code:",
    e.status ? "status:" : "",
    e.feedbackType ? "feedback-type:" : "",
  ]) {
    if (!field) continue;
    const i = lower.findIndex((l) => l.startsWith(field));
    if (i >= 0) return found(i);
  }
  return { line: null, text: null };
}
