#!/usr/bin/env node
// Reading CSV bodies: csv-parse behind bulkRecords (src/api/bulk.ts, what the API uses) against the reader Rebound
// had before (bench/lib/csv-reader-old.mjs), on an ordinary list and on hostile bodies (one record that never
// ends, sent in small chunks; an unclosed quote). Old and new alternate, several rounds, in one process, so
// each pair is measured within the same minute. Needs `npm run build` first.
//
//   node bench/csv.mjs [--rounds N]
import { dirname, join, resolve } from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { CsvReader } from "./lib/csv-reader-old.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const i = args.indexOf("--rounds");
const rounds = i >= 0 ? Number(args[i + 1]) : 3;
const { bulkRecords } = await import(join(root, "dist", "src", "api", "bulk.js"));

const chunked = (text, size) => {
  const buf = Buffer.from(text);
  const out = [];
  for (let k = 0; k < buf.length; k += size) out.push(buf.subarray(k, k + size));
  return out;
};

async function readNew(chunks) {
  let n = 0;
  const limits = { maxBytes: Infinity, maxRecordChars: 1 << 30 };
  for await (const batch of bulkRecords(Readable.from(chunks), "csv", limits)) n += batch.length;
  return n;
}

async function readOld(chunks) {
  const r = new CsvReader();
  let n = 0;
  for (const c of chunks) n += r.push(c.toString("utf8")).length;
  return n + r.end().length;
}

const list =
  "email,first_name,last_name,plan\n" +
  Array.from(
    { length: 200_000 },
    (_, k) => `user${k}@example${k % 97}.com,First${k},"Last, ${k}",${k % 3 ? "free" : "pro"}`,
  ).join("\n") +
  "\n";
const cases = [
  { name: "list 200k records (64 KiB chunks)", chunks: chunked(list, 65_536) },
  ...[256, 1024].map((kb) => ({
    name: `one ${kb} KiB record, no line break (1 KiB chunks)`,
    chunks: chunked("email\n" + "x".repeat(kb * 1024), 1024),
  })),
  ...[256, 1024].map((kb) => ({
    name: `unclosed quote, ${kb} KiB (1 KiB chunks)`,
    chunks: chunked('email\n"' + "y,".repeat(kb * 512), 1024),
  })),
];

const ms = async (f) => {
  const t = process.hrtime.bigint();
  await f().catch(() => undefined);
  return Number(process.hrtime.bigint() - t) / 1e6;
};

console.log(`node ${process.version}, ${rounds} rounds, old and new alternated; median ms`);
for (const c of cases) {
  const mb = c.chunks.reduce((s, b) => s + b.length, 0) / 1e6;
  const times = { old: [], new: [] };
  for (let r = 0; r < rounds; r++) {
    times.old.push(await ms(() => readOld(c.chunks)));
    times.new.push(await ms(() => readNew(c.chunks)));
  }
  const med = (a) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)];
  const o = med(times.old);
  const n = med(times.new);
  console.log(
    `${c.name.padEnd(48)} ${mb.toFixed(2)} MB  old ${o.toFixed(1).padStart(8)} ms (${(mb / (o / 1000)).toFixed(1)} MB/s)  csv-parse ${n.toFixed(1).padStart(8)} ms (${(mb / (n / 1000)).toFixed(1)} MB/s)`,
  );
}
