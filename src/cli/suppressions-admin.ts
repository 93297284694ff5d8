// `rebound suppressions check|add|remove|export|import`: the API's lookups and corrections for operators,
// straight on the database. Registered by src/cli/suppressions.ts.
//
//   check ADDRESS... [--tenant T] [--stream S] [--format text|json]
//   add ADDRESS [--tenant T] [--stream S] [--reason R] [--class C] [--expires ISO] [--note N]
//   remove ADDRESS [--tenant T] [--stream S] [--note N]
//   export [--tenant T] [--format csv|ndjson] [--hashed] [--stream S] [--reason R] [--class C] [--source X] [--state active|expired|all]
//   import FILE|- [--tenant T] [--format csv|ndjson] [--stream S] [--reason R] [--column NAME]
import { createReadStream } from "node:fs";
import type { Command } from "commander";
import { loadConfig } from "../config.js";
import { CLASSES, classOf, REASONS, type BounceClass, type Reason } from "../core/report.js";
import { BULK_FORMATS, type BulkFormat } from "../api/bulk.js";
import { importList, STREAM_RE } from "../api/import-list.js";
import { applying, governing } from "../api/present.js";
import { EXPORT_FORMATS, exportStream, type ExportFormat } from "../store/exports.js";
import { activeSuppressionsByHash, SUPPRESSION_STATES, type SuppressionState } from "../store/lookups.js";
import { removeSuppressions, upsertSuppression } from "../store/suppressions.js";
import type { CliIo } from "./io.js";
import { addressArg } from "./suppressions.js";
import { withDb } from "./with-db.js";

const OPERATOR = "cli";

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value))
    throw new Error(`${name} must be one of ${allowed.join(", ")} (got "${value}")`);
  return value as T;
}

function streamArg(s: string): string {
  if (!STREAM_RE.test(s)) throw new Error(`invalid stream "${s}"`);
  return s;
}

export function registerCheck(suppressions: Command, io: CliIo): void {
  suppressions
    .command("check")
    .description("may these addresses be mailed? (exit code 0 either way)")
    .argument("<addresses...>", "one or more addresses")
    .option("--tenant <name>", "the tenant (default: REBOUND_DEFAULT_TENANT)")
    .option("--stream <name>", "the stream (suppressions in it and in `*` apply); default: any")
    .option("--format <format>", "text | json", "text")
    .action(async (inputs: string[], opts: { tenant?: string; stream?: string; format: string }) => {
      const format = oneOf("--format", opts.format, ["text", "json"] as const);
      const config = loadConfig();
      const tenant = opts.tenant ?? config.defaultTenant;
      const addresses = inputs.map((a) => addressArg(config, a));
      await withDb(config, async (db, ctx) => {
        const hashes = addresses.map(await ctx.addressHasher());
        const rows = await activeSuppressionsByHash(db, tenant, hashes, new Date());
        for (const [i, address] of addresses.entries()) {
          const found = applying(
            rows.filter((r) => r.address_hash === hashes[i]),
            opts.stream,
          );
          const top = governing(found);
          const out = {
            address,
            suppressed: !!top,
            stream: top?.stream ?? null,
            reason: top?.reason ?? null,
            class: top?.class ?? null,
            expiresAt: top?.expires_at?.toISOString() ?? null,
          };
          io.stdout.write(
            format === "json"
              ? `${JSON.stringify(out)}\n`
              : `${address}\t${top ? `suppressed\t${top.stream}\t${top.reason}\t${out.expiresAt ?? "permanent"}` : "ok"}\n`,
          );
        }
      });
    });
}

export function registerAdd(suppressions: Command, io: CliIo): void {
  suppressions
    .command("add")
    .description("suppress an address by hand (source manual)")
    .argument("<address>", "the address")
    .option("--tenant <name>", "the tenant (default: REBOUND_DEFAULT_TENANT)")
    .option("--stream <name>", "the stream (`*`: every stream)", "*")
    .option("--reason <reason>", "one of Rebound's reasons", "suppressed")
    .option("--class <class>", "default: the reason's class")
    .option("--expires <time>", "ISO 8601 expiry (default: permanent)")
    .option("--note <text>", "why")
    .action(
      async (
        input: string,
        opts: {
          tenant?: string;
          stream: string;
          reason: string;
          class?: string;
          expires?: string;
          note?: string;
        },
      ) => {
        const config = loadConfig();
        const address = addressArg(config, input);
        const reason = oneOf<Reason>("--reason", opts.reason, REASONS);
        const cls = opts.class ? oneOf<BounceClass>("--class", opts.class, CLASSES) : classOf(reason);
        const at = new Date();
        const expiresAt = opts.expires ? new Date(opts.expires) : null;
        if (expiresAt && (Number.isNaN(expiresAt.getTime()) || expiresAt <= at))
          throw new Error("--expires must be a future ISO 8601 time");
        const tenant = opts.tenant ?? config.defaultTenant;
        const stream = streamArg(opts.stream);
        const res = await withDb(config, async (db, ctx) => {
          const addressHash = (await ctx.addressHasher())(address);
          return db.transaction().execute((tx) =>
            upsertSuppression(tx, {
              tenant,
              stream,
              address,
              addressHash,
              addressOriginal: input,
              reason,
              class: cls,
              source: "manual",
              expiresAt,
              note: opts.note ?? null,
              actor: OPERATOR,
              at,
            }),
          );
        });
        io.stdout.write(
          `${res.created ? "added" : "updated"} ${address} in stream ${stream} (tenant ${tenant})\n`,
        );
      },
    );
}

export function registerRemove(suppressions: Command, io: CliIo): void {
  suppressions
    .command("remove")
    .description("remove an address's suppression (logged with the note)")
    .argument("<address>", "the address")
    .option("--tenant <name>", "the tenant (default: REBOUND_DEFAULT_TENANT)")
    .option("--stream <name>", "only this stream (default: every stream)")
    .option("--note <text>", "why")
    .action(async (input: string, opts: { tenant?: string; stream?: string; note?: string }) => {
      const config = loadConfig();
      const address = addressArg(config, input);
      const tenant = opts.tenant ?? config.defaultTenant;
      const removed = await withDb(config, async (db, ctx) =>
        removeSuppressions(db, {
          tenant,
          stream: opts.stream !== undefined ? streamArg(opts.stream) : undefined,
          address,
          addressHash: (await ctx.addressHasher())(address),
          actor: OPERATOR,
          note: opts.note ?? null,
          at: new Date(),
        }),
      );
      if (removed.length === 0) {
        io.stderr.write(
          `rebound: ${address} is not suppressed${opts.stream ? ` in stream ${opts.stream}` : ""} (tenant ${tenant})\n`,
        );
        io.exitCode = 1;
        return;
      }
      io.stdout.write(`removed ${address} from stream ${removed.join(", ")} (tenant ${tenant})\n`);
    });
}

export function registerExport(suppressions: Command, io: CliIo): void {
  suppressions
    .command("export")
    .description("export a tenant's suppressions to standard output (streamed)")
    .option("--tenant <name>", "the tenant (default: REBOUND_DEFAULT_TENANT)")
    .option("--format <format>", EXPORT_FORMATS.join(" | "), "csv")
    .option("--hashed", "SHA-256 of the normalised address instead of the address")
    .option("--stream <name>", "only this stream")
    .option("--reason <reason>", "only this reason")
    .option("--class <class>", "only this class")
    .option("--source <source>", "only this source")
    .option("--state <state>", SUPPRESSION_STATES.join(" | "), "active")
    .action(
      async (opts: {
        tenant?: string;
        format: string;
        hashed?: boolean;
        stream?: string;
        reason?: string;
        class?: string;
        source?: string;
        state: string;
      }) => {
        const format = oneOf<ExportFormat>("--format", opts.format, EXPORT_FORMATS);
        const state = oneOf<SuppressionState>("--state", opts.state, SUPPRESSION_STATES);
        const config = loadConfig();
        const tenant = opts.tenant ?? config.defaultTenant;
        await withDb(config, async (db) => {
          const filter = {
            tenant,
            stream: opts.stream,
            reason: opts.reason,
            class: opts.class,
            source: opts.source,
            state,
          };
          const rows = await exportStream(db, filter, new Date(), { format, hashed: !!opts.hashed });
          for await (const chunk of rows) {
            if (!io.stdout.write(chunk)) await new Promise<void>((r) => io.stdout.once("drain", () => r()));
          }
        });
      },
    );
}

export function registerImport(suppressions: Command, io: CliIo): void {
  suppressions
    .command("import")
    .description(
      "import suppressions from a CSV or NDJSON file (`-`: standard input); prints the summary as JSON",
    )
    .argument("<file>", "the file, or - for standard input")
    .option("--tenant <name>", "the tenant (default: REBOUND_DEFAULT_TENANT)")
    .option("--format <format>", `${BULK_FORMATS.join(" | ")} (default: from the file name, else csv)`)
    .option("--stream <name>", "for rows that name none (`*`: every stream)", "*")
    .option("--reason <reason>", "for rows that name none", "suppressed")
    .option("--column <name>", "the address column or field")
    .action(
      async (
        file: string,
        opts: { tenant?: string; format?: string; stream: string; reason: string; column?: string },
      ) => {
        const format: BulkFormat = opts.format
          ? oneOf("--format", opts.format, BULK_FORMATS)
          : /\.(nd)?jsonl?$/i.test(file)
            ? "ndjson"
            : "csv";
        const reason = oneOf<Reason>("--reason", opts.reason, REASONS);
        const config = loadConfig();
        const tenant = opts.tenant ?? config.defaultTenant;
        const body = file === "-" ? io.stdin : createReadStream(file);
        const summary = await withDb(config, async (db, ctx) =>
          importList(db, body, {
            format,
            tenant,
            actor: OPERATOR,
            stream: streamArg(opts.stream),
            reason,
            column: opts.column,
            caseSensitiveLocalPart: config.caseSensitiveLocalPart,
            hashAddress: await ctx.addressHasher(),
            at: new Date(),
            // A local file: no byte limit; records as long as the API takes.
            limits: { maxBytes: Infinity, maxRecordChars: config.apiBulkMaxRecordChars },
          }),
        );
        io.stdout.write(`${JSON.stringify(summary)}\n`);
        if (summary.invalid > 0) io.exitCode = 2;
      },
    );
}
