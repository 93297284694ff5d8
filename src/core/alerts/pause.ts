// Which pause holds a send: pure. A pause of the whole stream comes first, then one for the recipient's provider.

/** A pause in force (provider null: every provider). */
export interface ActivePause {
  stream: string;
  provider: string | null;
  since: Date;
  reason: string;
  incidentId: string | null;
  by: "rule" | "hand";
  note: string | null;
}

export function pauseFor(
  pauses: readonly ActivePause[],
  stream: string,
  provider: string | null,
): ActivePause | undefined {
  let forProvider: ActivePause | undefined;
  for (const p of pauses) {
    if (p.stream !== stream) continue;
    if (p.provider === null) return p;
    if (provider !== null && p.provider === provider) forProvider ??= p;
  }
  return forProvider;
}

/** A pause as the lookups name it. */
export const lookupPause = (p: ActivePause) => ({
  provider: p.provider,
  since: p.since.toISOString(),
  reason: p.reason,
  incidentId: p.incidentId,
});
