import { sql, type Kysely } from "kysely";

// Raw mails are compressed with lz4 rather than PostgreSQL's default pglz where the server has it (PostgreSQL
// 14+ built with lz4, as Debian's and the official images are): the intake writes every mail and the worker
// reads it back, and pglz costs several times lz4's CPU on both sides for about the same size on mail text.
// Rows already stored keep their compression; servers without lz4 (the embedded PGlite) keep pglz.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    do $$ begin
      if exists (select 1 from pg_settings
                 where name = 'default_toast_compression' and 'lz4' = any(enumvals)) then
        execute 'alter table inbound_mails alter column raw set compression lz4';
      end if;
    end $$`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error("migrations are forward-only");
}
