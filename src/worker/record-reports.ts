// What a processed mail adds besides events: a DMARC aggregate or TLS report (or its refusal), and an
// authentication failure report's line in the authentication signal. In the batch's transaction; a mail
// re-processed first loses what it stored before.
//
// Each report goes to the tenant that owns the domain it is about (REBOUND_DOMAIN_TENANTS: a DMARC report's
// policy domain, an authentication failure's reported domain), else to the mail's own tenant (a signed return
// path's, else REBOUND_DEFAULT_TENANT). A TLS report speaks of several policy domains, possibly of several
// tenants: each tenant gets a row with its own policies (the report's organisation, id and dates repeated), and
// the policies of domains no tenant owns go to the mail's tenant; a refused report (no policies) to the mail's.
import type { Transaction } from "kysely";
import { authFailureOf } from "../core/auth-signal.js";
import { tenantOfDomain } from "../core/domain-tenant.js";
import type { Report } from "../core/report.js";
import type { TlsReport } from "../core/tlsrpt.js";
import type { Logger } from "../log.js";
import { deleteMailAuthFailures, saveAuthFailureReport } from "../store/authentication.js";
import { deleteMailDmarc, saveDmarcReport } from "../store/dmarc.js";
import type { Database } from "../store/schema.js";
import { deleteMailTlsReports, saveTlsReport } from "../store/tls-reports.js";

export interface ReportMail {
  mailId: string;
  tenant: string;
  receivedAt: Date;
  report: Report;
}

export async function recordReports(
  trx: Transaction<Database>,
  mails: ReportMail[],
  opts: { reprocess: boolean; logger: Logger; domainTenants?: ReadonlyMap<string, string> },
): Promise<void> {
  const owners = opts.domainTenants ?? new Map<string, string>();
  for (const m of mails) {
    if (opts.reprocess) {
      await deleteMailDmarc(trx, m.mailId);
      await deleteMailTlsReports(trx, m.mailId);
      await deleteMailAuthFailures(trx, m.mailId);
    }
    const r = m.report;
    const base = { tenant: m.tenant, mailId: m.mailId, source: r.source ?? r.kind, receivedAt: m.receivedAt };
    if (r.kind === "dmarc_report") {
      const tenant = tenantOfDomain(r.dmarc?.policy.domain, owners) ?? m.tenant;
      const id = await saveDmarcReport(trx, { ...base, tenant, report: r.dmarc, error: r.error });
      logStored(opts.logger, m.mailId, "DMARC aggregate report", id, r.error);
    } else if (r.kind === "tls_report") {
      for (const [tenant, report] of tlsReportsByTenant(r.tlsReport, owners, m.tenant)) {
        const id = await saveTlsReport(trx, { ...base, tenant, report, error: r.error });
        logStored(opts.logger, m.mailId, "TLS report", id, r.error);
      }
    } else {
      const auth = authFailureOf(r);
      if (auth)
        await saveAuthFailureReport(trx, {
          ...auth,
          tenant: tenantOfDomain(auth.domain, owners) ?? m.tenant,
          mailId: m.mailId,
          occurredAt: m.receivedAt,
          reporter: r.from?.slice(0, 255) ?? null,
        });
    }
  }
}

/**
 * A TLS report split by the tenant of each policy's domain (in the order the tenants first appear); the policies
 * of domains no tenant owns, and a report without policies or refused, under `fallback`.
 */
export function tlsReportsByTenant(
  report: TlsReport | undefined,
  owners: ReadonlyMap<string, string>,
  fallback: string,
): [string, TlsReport | undefined][] {
  if (!report || report.policies.length === 0) return [[fallback, report]];
  const parts = new Map<string, TlsReport>();
  for (const p of report.policies) {
    const tenant = tenantOfDomain(p.policyDomain, owners) ?? fallback;
    const part = parts.get(tenant);
    if (part) part.policies.push(p);
    else parts.set(tenant, { ...report, policies: [p] });
  }
  return [...parts];
}

function logStored(logger: Logger, mailId: string, what: string, id: string | null, error?: string): void {
  if (error) logger.warn({ mailId, err: error }, `${what} refused: kept with its error`);
  else if (id === null) logger.info({ mailId }, `${what} already stored (same organisation and report id)`);
}
