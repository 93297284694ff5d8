// `rebound suppressions <subcommand>`: the operator's view of the suppression store. Each subcommand is one
// small function taking the `suppressions` command; add one by writing it and listing it in SUBCOMMANDS.
//
//   list [--tenant T] [--stream S] [--limit N] [--format table|json]   suppressions in id order (json: one per line)
//   show ADDRESS [--tenant T] [--format json|pretty]                   an address's suppressions, explained
import type { Command } from "commander";
import { loadConfig, type Config } from "../config.js";
import { normalizeAddress } from "../core/address.js";
import { explainSuppression, listSuppressions, type ExplainedSuppression } from "../store/suppressions.js";
import type { CliIo } from "./io.js";
import {
  registerAdd,
  registerCheck,
  registerExport,
  registerImport,
  registerRemove,
} from "./suppressions-admin.js";
import { withDb } from "./with-db.js";

type Subcommand = (suppressions: Command, io: CliIo) => void;

const SUBCOMMANDS: Subcommand[] = [
  registerList,
  registerShow,
  // check, add, remove, export, import: src/cli/suppressions-admin.ts
  registerCheck,
  registerAdd,
  registerRemove,
  registerExport,
  registerImport,
];

export function register(cmd: Command, io: CliIo): void {
  const suppressions = cmd;
  for (const sub of SUBCOMMANDS) sub(suppressions, io);
}

/** The normalised form of an address given on the command line; throws a clear error when it is invalid. */
export function addressArg(config: Config, input: string): string {
  const n = normalizeAddress(input, { caseSensitiveLocalPart: config.caseSensitiveLocalPart });
  if (!n.ok) throw new Error(`invalid address "${input}": ${n.message}`);
  return n.address;
}

const FORMATS = ["table", "json"] as const;

function registerList(suppressions: Command, io: CliIo): void {
  suppressions
    .command("list")
    .description("list suppressions in id order")
    .option("--tenant <name>", "only this tenant")
    .option("--stream <name>", "only this stream (`*` for every-stream suppressions)")
    .option("--limit <n>", "at most this many rows", "1000")
    .option("--format <format>", `output: ${FORMATS.join(" | ")}`, "table")
    .action(async (opts: { tenant?: string; stream?: string; limit: string; format: string }) => {
      if (!(FORMATS as readonly string[]).includes(opts.format))
        throw new Error(`--format must be one of ${FORMATS.join(", ")}`);
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new Error("--limit must be a positive integer");
      const config = loadConfig();
      await withDb(config, async (db) => {
        const rows = await listSuppressions(db, { tenant: opts.tenant, stream: opts.stream, limit });
        for (const r of rows) {
          const row = {
            id: String(r.id),
            tenant: r.tenant,
            stream: r.stream,
            address: r.address,
            reason: r.reason,
            class: r.class,
            source: r.source,
            rule: r.rule,
            count: r.count,
            firstSeen: r.first_seen.toISOString(),
            lastSeen: r.last_seen.toISOString(),
            expiresAt: r.expires_at?.toISOString() ?? null,
          };
          io.stdout.write(
            opts.format === "json"
              ? `${JSON.stringify(row)}\n`
              : `${[row.tenant, row.stream, row.address ?? `(erased ${r.address_hash.slice(0, 12)})`, row.reason, row.source, row.expiresAt ?? "permanent", row.lastSeen].join("\t")}\n`,
          );
        }
      });
    });
}

function registerShow(suppressions: Command, io: CliIo): void {
  suppressions
    .command("show")
    .description("an address's suppressions with the events and rules that caused them")
    .argument("<address>", "the address")
    .option("--tenant <name>", "the tenant (default: REBOUND_DEFAULT_TENANT)")
    .option("--format <format>", "json | pretty", "pretty")
    .action(async (input: string, opts: { tenant?: string; format: string }) => {
      if (opts.format !== "json" && opts.format !== "pretty")
        throw new Error("--format must be json or pretty");
      const config = loadConfig();
      const address = addressArg(config, input);
      const tenant = opts.tenant ?? config.defaultTenant;
      await withDb(config, async (db, ctx) => {
        const explained = await explainSuppression(db, tenant, (await ctx.addressHasher())(address));
        if (opts.format === "json") {
          io.stdout.write(
            `${JSON.stringify({ tenant, address, suppressed: explained.some((s) => s.active), suppressions: explained }, null, 2)}\n`,
          );
        } else {
          io.stdout.write(pretty(tenant, address, explained));
        }
      });
    });
}

function pretty(tenant: string, address: string, list: ExplainedSuppression[]): string {
  if (!list.length) return `${address} (tenant ${tenant}): not suppressed\n`;
  const out: string[] = [];
  for (const s of list) {
    const until = s.expiresAt ? `until ${s.expiresAt.toISOString()}` : "permanently";
    out.push(
      `${address} (tenant ${tenant}) is ${s.active ? "" : "no longer "}suppressed in stream ${s.stream} ${until}`,
    );
    out.push(
      `  reason ${s.reason} (${s.class}), source ${s.source}, seen ${s.count}x since ${s.firstSeen.toISOString()}`,
    );
    if (s.rule) out.push(`  rule   ${s.rule}`);
    if (s.note) out.push(`  note   ${s.note}`);
    for (const e of s.events) {
      const decision = e.decision as { rule?: string; why?: string } | null;
      out.push(
        `  event ${e.id} ${e.occurredAt} ${e.kind} ${e.reason}/${e.class} status ${e.status ?? "-"} rule ${e.rule ?? "-"} (${e.parser ?? "-"}, classifier ${e.classifierVersion ?? "-"})${e.verified ? " verified" : " UNVERIFIED"}`,
      );
      if (e.diagnostic) out.push(`        ${e.diagnostic}`);
      if (decision?.why) out.push(`        policy ${decision.rule}: ${decision.why}`);
    }
    for (const l of s.log)
      out.push(`  log   ${l.at} ${l.action}${l.actor ? ` by ${l.actor}` : ""}${l.note ? `: ${l.note}` : ""}`);
  }
  return `${out.join("\n")}\n`;
}
