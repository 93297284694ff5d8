// What the worker adds to events before it writes them: the recipient's mailbox provider (the table, else the MX
// hosts through the resolver, bounded by its timeout), and, for an event whose returned original names a
// Message-ID that a send was recorded under, that send's campaign, sending IP, time and sending domain.
import type { Kysely } from "kysely";
import { providerOf, type Provider } from "../core/provider.js";
import { normalizeMessageId } from "../core/send-record.js";
import type { Database } from "../store/schema.js";
import { sendsByMessageId } from "../store/sends.js";
import type { ProviderLookup } from "./provider-resolver.js";

export interface Tie {
  provider: string;
  campaign: string | null;
  sendingIp: string | null;
  sentAt: Date | null;
  /** The send's sending domain, when its record gave one. */
  sendingDomain: string | null;
}

export interface TieInput {
  tenant: string;
  domain: string;
  /** The returned original's Message-ID, as its header gave it. */
  messageId?: string;
}

export async function tieEvents(
  db: Kysely<Database>,
  providers: ProviderLookup | undefined,
  inputs: TieInput[],
): Promise<Tie[]> {
  if (!inputs.length) return [];
  const ids = inputs.map((i) => (i.messageId ? normalizeMessageId(i.messageId) : ""));
  const wanted = inputs.flatMap((i, n) => (ids[n] ? [{ tenant: i.tenant, messageId: ids[n] }] : []));
  const sends = await sendsByMessageId(db, wanted);
  const untied = inputs.filter((i, n) => !sends.has(JSON.stringify([i.tenant, ids[n]])));
  const resolved: Map<string, Provider> = providers
    ? await providers.resolveAll(untied.map((i) => i.domain))
    : new Map();
  return inputs.map((i, n) => {
    const send = sends.get(JSON.stringify([i.tenant, ids[n]]));
    if (send)
      return {
        provider: send.provider,
        campaign: send.campaign || null,
        sendingIp: send.sendingIp || null,
        sentAt: send.sentAt,
        sendingDomain: send.sendingDomain,
      };
    const d = i.domain.toLowerCase();
    return {
      provider: resolved.get(d) ?? providerOf(d),
      campaign: null,
      sendingIp: null,
      sentAt: null,
      sendingDomain: null,
    };
  });
}
