// What a processed mail adds besides events: a DMARC aggregate or TLS report (or its refusal), and an
// authentication failure report's line in the authentication signal. In the batch's transaction; a mail
// re-processed first loses what it stored before.
//
// Each report goes to the tenant that owns the domain it is about (REBOUND_DOMAIN_TENANTS: a DMARC report's
// policy domain, a TLS report's first policy domain one owns, an authentication failure's reported domain), else
// to the mail's own tenant (a signed return path's, else REBOUND_DEFAULT_TENANT).
import type { Transaction } from "kysely";
import { authFailureOf } from "../core/auth-signal.js";
import { tenantOfDomain, tenantOfDomains } from "../core/domain-tenant.js";
import type { Report } from "../core/report.js";
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
      const domains = r.tlsReport?.policies.map((p) => p.policyDomain) ?? [];
      const tenant = tenantOfDomains(domains, owners) ?? m.tenant;
      const id = await saveTlsReport(trx, { ...base, tenant, report: r.tlsReport, error: r.error });
      logStored(opts.logger, m.mailId, "TLS report", id, r.error);
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

function logStored(logger: Logger, mailId: string, what: string, id: string | null, error?: string): void {
  if (error) logger.warn({ mailId, err: error }, `${what} refused: kept with its error`);
  else if (id === null) logger.info({ mailId }, `${what} already stored (same organisation and report id)`);
}
