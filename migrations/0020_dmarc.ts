import { sql, type Kysely } from "kysely";

// DMARC aggregate reports (RFC 7489, RFC 9990) and their rows, SMTP TLS reports (RFC 8460), and the RFC 6591
// authentication failure reports (ARF auth-failure) counted per sending domain and IP. A report is kept once per
// tenant, reporting organisation and report id (a re-sent report changes nothing); a refused one (zip bomb, XML
// too large, not a report) is kept with its `error` and no rows. Rows of a mail are replaced when it is re-processed.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("dmarc_reports")
    .addColumn("id", "bigserial", (c) => c.primaryKey())
    .addColumn("tenant", "text", (c) => c.notNull())
    .addColumn("mail_id", "text", (c) => c.references("inbound_mails.id").onDelete("set null"))
    .addColumn("source", "text", (c) => c.notNull())
    .addColumn("schema", "text")
    .addColumn("org_name", "text")
    .addColumn("email", "text")
    .addColumn("report_id", "text")
    .addColumn("domain", "text")
    .addColumn("date_begin", "timestamptz")
    .addColumn("date_end", "timestamptz")
    .addColumn("policy", "jsonb")
    .addColumn("generator", "text")
    .addColumn("errors", "jsonb", (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn("records", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("messages", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("error", "text")
    .addColumn("received_at", "timestamptz", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("dmarc_reports_report_uq")
    .on("dmarc_reports")
    .columns(["tenant", "org_name", "report_id"])
    .unique()
    .execute();
  await db.schema.createIndex("dmarc_reports_mail_idx").on("dmarc_reports").column("mail_id").execute();
  await db.schema
    .createIndex("dmarc_reports_tenant_received_idx")
    .on("dmarc_reports")
    .columns(["tenant", "received_at"])
    .execute();

  await db.schema
    .createTable("dmarc_records")
    .addColumn("id", "bigserial", (c) => c.primaryKey())
    .addColumn("report", "bigint", (c) => c.notNull().references("dmarc_reports.id").onDelete("cascade"))
    .addColumn("tenant", "text", (c) => c.notNull())
    .addColumn("org_name", "text", (c) => c.notNull())
    .addColumn("domain", "text", (c) => c.notNull())
    .addColumn("date_begin", "timestamptz", (c) => c.notNull())
    .addColumn("date_end", "timestamptz", (c) => c.notNull())
    .addColumn("source_ip", "text", (c) => c.notNull())
    .addColumn("count", "bigint", (c) => c.notNull())
    .addColumn("disposition", "text")
    .addColumn("dkim", "text")
    .addColumn("spf", "text")
    .addColumn("header_from", "text", (c) => c.notNull())
    .addColumn("envelope_from", "text")
    .addColumn("envelope_to", "text")
    .addColumn("reasons", "jsonb", (c) => c.notNull())
    .addColumn("dkim_results", "jsonb", (c) => c.notNull())
    .addColumn("spf_results", "jsonb", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("dmarc_records_tenant_end_idx")
    .on("dmarc_records")
    .columns(["tenant", "date_end", "id"])
    .execute();
  await db.schema.createIndex("dmarc_records_report_idx").on("dmarc_records").column("report").execute();
  await db.schema
    .createIndex("dmarc_records_tenant_ip_idx")
    .on("dmarc_records")
    .columns(["tenant", "source_ip"])
    .execute();

  await db.schema
    .createTable("tls_reports")
    .addColumn("id", "bigserial", (c) => c.primaryKey())
    .addColumn("tenant", "text", (c) => c.notNull())
    .addColumn("mail_id", "text", (c) => c.references("inbound_mails.id").onDelete("set null"))
    .addColumn("source", "text", (c) => c.notNull())
    .addColumn("org_name", "text")
    .addColumn("report_id", "text")
    .addColumn("contact", "text")
    .addColumn("date_begin", "timestamptz")
    .addColumn("date_end", "timestamptz")
    .addColumn("policies", "jsonb", (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn("successful", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("failed", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("error", "text")
    .addColumn("received_at", "timestamptz", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("tls_reports_report_uq")
    .on("tls_reports")
    .columns(["tenant", "org_name", "report_id"])
    .unique()
    .execute();
  await db.schema.createIndex("tls_reports_mail_idx").on("tls_reports").column("mail_id").execute();
  await db.schema
    .createIndex("tls_reports_tenant_received_idx")
    .on("tls_reports")
    .columns(["tenant", "received_at", "id"])
    .execute();

  await db.schema
    .createTable("auth_failure_reports")
    .addColumn("id", "bigserial", (c) => c.primaryKey())
    .addColumn("tenant", "text", (c) => c.notNull())
    .addColumn("mail_id", "text", (c) => c.references("inbound_mails.id").onDelete("set null"))
    .addColumn("occurred_at", "timestamptz", (c) => c.notNull())
    .addColumn("domain", "text", (c) => c.notNull())
    .addColumn("source_ip", "text")
    .addColumn("failure", "text")
    .addColumn("incidents", "integer", (c) => c.notNull().defaultTo(1))
    .addColumn("reporter", "text")
    .addColumn("details", "jsonb", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("auth_failure_reports_tenant_at_idx")
    .on("auth_failure_reports")
    .columns(["tenant", "occurred_at"])
    .execute();
  await db.schema
    .createIndex("auth_failure_reports_mail_idx")
    .on("auth_failure_reports")
    .column("mail_id")
    .execute();
}

export async function down(): Promise<void> {
  throw new Error("migrations are forward-only");
}
