// `rebound sends import FILE|- [--tenant T] [--batch-id ID] [--format ndjson|json]`: what was sent, from a file,
// as `POST /v1/sends` takes it (the same checks, the same summary, printed as JSON; exit 2 when some record was
// refused). Providers are resolved as the worker resolves them (REBOUND_PROVIDER_DNS).
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { loadConfig } from "../config.js";
import { importSends, jsonSends, ndjsonSends, type SendInput } from "../monitor/sends-import.js";
import { providerResolverOf } from "../monitor/provider-resolver.js";
import type { CliIo } from "./io.js";
import { withDb } from "./with-db.js";

const FORMATS = ["ndjson", "json"] as const;
const BATCH_ID = /^[A-Za-z0-9._:-]{1,100}$/;

export function register(sends: Command, io: CliIo): void {
  sends
    .command("import")
    .description("import sends (messages or counts) from an NDJSON or JSON file (`-`: standard input)")
    .argument("<file>", "the file, or - for standard input")
    .option("--tenant <name>", "the tenant (default: REBOUND_DEFAULT_TENANT)")
    .option("--batch-id <id>", "the upload's id: its counts are recorded once under it (required for counts)")
    .option("--format <format>", `${FORMATS.join(" | ")} (default: json for *.json, else ndjson)`)
    .action(async (file: string, opts: { tenant?: string; batchId?: string; format?: string }) => {
      const format = opts.format ?? (/\.json$/i.test(file) ? "json" : "ndjson");
      if (!(FORMATS as readonly string[]).includes(format))
        throw new Error(`--format must be one of ${FORMATS.join(", ")}`);
      if (opts.batchId !== undefined && !BATCH_ID.test(opts.batchId))
        throw new Error("--batch-id must be 1-100 letters, digits, '.', '_', ':' or '-'");
      const config = loadConfig();
      const body = file === "-" ? io.stdin : createReadStream(file);
      let inputs: AsyncIterable<SendInput[]> | Iterable<SendInput[]>;
      if (format === "json") {
        const text = file === "-" ? await readAll(io.stdin) : await readFile(file, "utf8");
        const doc: unknown = JSON.parse(text);
        const list = Array.isArray(doc) ? doc : (doc as { sends?: unknown })?.sends;
        if (!Array.isArray(list)) throw new Error('the JSON file is an array of sends or {"sends": [...]}');
        inputs = jsonSends(list);
      } else inputs = ndjsonSends(body);
      const providers = providerResolverOf(config);
      try {
        const summary = await withDb(config, (db) =>
          importSends(db, inputs, {
            tenant: opts.tenant ?? config.defaultTenant,
            now: new Date(),
            streams: config.streams,
            caseSensitiveLocalPart: config.caseSensitiveLocalPart,
            batchId: opts.batchId,
            providers,
          }),
        );
        io.stdout.write(`${JSON.stringify(summary)}\n`);
        if (summary.invalid > 0) io.exitCode = 2;
      } finally {
        providers?.close();
      }
    });
}

async function readAll(stream: AsyncIterable<Buffer | string>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(typeof c === "string" ? Buffer.from(c) : c);
  return Buffer.concat(parts).toString("utf8");
}
