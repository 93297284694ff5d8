// Report attachments unpacked with bounded output: gzip (RFC 1952), zip (its first entry whose name ends as asked)
// or the bytes as they are. Inflation is fed in small slices and its output counted as it comes, so that a zip
// bomb (a few KB that inflate to gigabytes, whatever sizes its headers claim) stops at the cap having held at
// most the cap and one slice's output. Pure: bytes in, bytes out or an UnpackError that says why.
import { createRequire } from "node:module";

/**
 * fflate, loaded when the first attachment is inflated: loading it took some 13 ms of CPU in every thread that
 * loads the classifier, for the few mails that carry a packed report.
 */
let fflate: typeof import("fflate") | undefined;
const loadCjs = createRequire(import.meta.url);
const inflater = (): typeof import("fflate") => (fflate ??= loadCjs("fflate") as typeof import("fflate"));

export interface UnpackLimits {
  /** Most bytes the unpacked content may have. */
  maxBytes: number;
  /** Most entries of a zip archive's central directory that are looked at. */
  maxZipEntries: number;
}

/** 16 MiB: far above the largest daily report of a big receiver, and parsed well within the classifier's deadline. */
export const UNPACK_LIMITS: UnpackLimits = { maxBytes: 16 * 1024 * 1024, maxZipEntries: 16 };

/** Why an attachment could not be unpacked: a closed vocabulary, stored with the refusal. */
export const UNPACK_ERRORS = ["too_large", "bad_archive", "no_report_in_archive"] as const;
export type UnpackErrorCode = (typeof UNPACK_ERRORS)[number];

export class UnpackError extends Error {
  constructor(
    readonly code: UnpackErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "UnpackError";
  }
}

/** Compressed bytes fed to the inflater at once: its output per slice is at most ~1,032 times this (deflate's bound). */
const SLICE = 4096;

export type Packing = "gzip" | "zip" | "none";

/** The packing of some bytes, from their magic numbers. */
export function packingOf(bytes: Uint8Array): Packing {
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return "gzip";
  if (bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04) return "zip";
  return "none";
}

/**
 * The content of `bytes`, unpacked by its magic numbers; from a zip, the first entry whose lower-cased name ends
 * with one of `extensions` (else the first entry). Throws UnpackError.
 */
export function unpack(
  bytes: Uint8Array,
  extensions: readonly string[],
  limits: UnpackLimits = UNPACK_LIMITS,
): Uint8Array {
  const packing = packingOf(bytes);
  if (packing === "gzip") return gunzipBounded(bytes, limits.maxBytes);
  if (packing === "zip") return unzipBounded(bytes, extensions, limits);
  if (bytes.length > limits.maxBytes) throw tooLarge(limits.maxBytes);
  return bytes;
}

function tooLarge(max: number): UnpackError {
  return new UnpackError("too_large", `the report unpacks to more than ${max} bytes: refused`);
}

/** Feed `input` to a streaming inflater slice by slice, stopping as soon as the output passes `max`. */
function drain(
  make: (ondata: (chunk: Uint8Array, final: boolean) => void) => { push(c: Uint8Array, f?: boolean): void },
  input: Uint8Array,
  max: number,
  what: string,
): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  let ended = false;
  const stream = make((chunk, final) => {
    total += chunk.length;
    if (total > max) throw tooLarge(max);
    chunks.push(chunk);
    if (final) ended = true;
  });
  try {
    for (let at = 0; at < input.length && !ended; at += SLICE) {
      const end = Math.min(input.length, at + SLICE);
      stream.push(input.subarray(at, end), end === input.length);
    }
  } catch (err) {
    if (err instanceof UnpackError) throw err;
    throw new UnpackError("bad_archive", `${what}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!ended) throw new UnpackError("bad_archive", `${what}: the compressed data ends early`);
  return concat(chunks, total);
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

export function gunzipBounded(bytes: Uint8Array, max: number): Uint8Array {
  return drain(
    (ondata) => new (inflater().Gunzip)((chunk, final) => ondata(chunk, final)),
    bytes,
    max,
    "bad gzip data",
  );
}

function inflateBounded(bytes: Uint8Array, max: number): Uint8Array {
  return drain(
    (ondata) => new (inflater().Inflate)((chunk, final) => ondata(chunk, final)),
    bytes,
    max,
    "bad zip entry",
  );
}

interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  localOffset: number;
}

/** The entries of a zip's central directory (APPNOTE 4.3.12, 4.3.16), at most `max`. */
function zipEntries(b: Uint8Array, max: number): ZipEntry[] {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  // The end of central directory record: its signature within the last 22 + 65,535 bytes.
  let eocd = -1;
  for (let i = b.length - 22; i >= Math.max(0, b.length - 22 - 65535); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new UnpackError("bad_archive", "not a zip archive: no end of central directory");
  const count = view.getUint16(eocd + 10, true);
  let at = view.getUint32(eocd + 16, true);
  const out: ZipEntry[] = [];
  for (let n = 0; n < Math.min(count, max); n++) {
    if (at + 46 > b.length || view.getUint32(at, true) !== 0x02014b50)
      throw new UnpackError("bad_archive", "bad zip archive: broken central directory");
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    out.push({
      method: view.getUint16(at + 10, true),
      compressedSize: view.getUint32(at + 20, true),
      localOffset: view.getUint32(at + 42, true),
      name: Buffer.from(b.subarray(at + 46, at + 46 + nameLength)).toString("latin1"),
    });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return out;
}

function unzipBounded(b: Uint8Array, extensions: readonly string[], limits: UnpackLimits): Uint8Array {
  const entries = zipEntries(b, limits.maxZipEntries).filter((e) => !e.name.endsWith("/"));
  const entry = entries.find((e) => extensions.some((x) => e.name.toLowerCase().endsWith(x))) ?? entries[0];
  if (!entry) throw new UnpackError("no_report_in_archive", "the zip archive holds no file");
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const at = entry.localOffset;
  if (at + 30 > b.length || view.getUint32(at, true) !== 0x04034b50)
    throw new UnpackError("bad_archive", `bad zip archive: no local header for ${entry.name}`);
  const start = at + 30 + view.getUint16(at + 26, true) + view.getUint16(at + 28, true);
  const data = b.subarray(start, Math.min(b.length, start + entry.compressedSize));
  if (entry.method === 0) {
    if (data.length > limits.maxBytes) throw tooLarge(limits.maxBytes);
    return data;
  }
  if (entry.method !== 8)
    throw new UnpackError(
      "bad_archive",
      `zip entry ${entry.name}: compression method ${entry.method} unsupported`,
    );
  return inflateBounded(data, limits.maxBytes);
}
