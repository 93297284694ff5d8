// Reads a log file's complete lines from a position, and with `follow` keeps reading as it grows, through
// rotation: a file renamed away is read to its end before the new one at its path is taken from its start; a
// file truncated in place (copytruncate) is taken from its start. Positions are byte offsets after a line's
// newline, with the file's identity (device and inode) and a fingerprint of its first bytes, so that a restart
// resumes in the same file only: a file system gives a deleted file's inode to the next file made (ext4, tmpfs
// after logrotate's `create`), and the identity alone would then resume another file at the old one's offset.
// As log shippers do (Vector's checksum, Filebeat's fingerprint), the first bytes decide: a file under the saved
// identity whose first bytes differ is another file. A restart that finds another file at the path looks for its
// file beside it, renamed by the rotation (`mail.log.1`, `mail.log-20261207`; not compressed yet), and reads its
// rest first.
import { createHash } from "node:crypto";
import { open, readdir, stat, type FileHandle } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

export interface FilePosition {
  fileId: string;
  offset: number;
  /** `len:sha256` of the file's first `len` bytes: min(FINGERPRINT_BYTES, offset). None at offset 0, and in
   * positions saved before fingerprints (those resume on the identity alone, as they did). */
  fingerprint?: string;
}

/** Why a file was started over, with lines perhaps missed (said in a warning). */
export const RESTARTS = ["rotated", "truncated", "replaced", "truncated-followed"] as const;
export type Restart = (typeof RESTARTS)[number];

export const RESTART_SAID: Record<Restart, string> = {
  rotated: "the log was rotated or truncated while not followed: lines written meanwhile may be missed",
  truncated: "the log was rotated or truncated while not followed: lines written meanwhile may be missed",
  replaced:
    "the log was replaced while not followed (a file under the saved device and inode, but with other first bytes): read from its start; lines written to the old one meanwhile may be missed",
  "truncated-followed":
    "the log was truncated in place while followed (copytruncate): read from its start; lines written just before the truncation may be missed",
};

export interface LineBatch {
  lines: string[];
  /** Where the next line starts, in which file. */
  position: FilePosition;
  /** Set when the file was started over (rotated and not found again, truncated, replaced): lines may have been
   * missed. */
  restarted?: Restart;
}

export interface ReadOptions {
  follow: boolean;
  pollMs: number;
  /** Most bytes read at once (a batch holds the complete lines among them). */
  chunkBytes: number;
  /** A line longer than this is cut there (Postfix's are far shorter). */
  maxLine: number;
  signal?: AbortSignal;
}

/** How many first bytes of a file its fingerprint covers once it has read them (a few Postfix lines: their time,
 * process id and queue id make them unique). A saved fingerprint says its own length: this may change. */
const FINGERPRINT_BYTES = 1024;

const idOf = (s: { dev: number; ino: number }) => `${s.dev}:${s.ino}`;
const fingerprintOf = (head: Buffer) => `${head.length}:${createHash("sha256").update(head).digest("hex")}`;

/** A file's first `len` bytes (fewer if it is shorter). */
async function headOf(fh: FileHandle, len: number): Promise<Buffer> {
  const head = Buffer.alloc(len);
  let got = 0;
  while (got < len) {
    const { bytesRead } = await fh.read(head, got, len - got, got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return head.subarray(0, got);
}

/** Whether the file's first bytes are the fingerprinted ones (true for a position saved without one). */
async function startsAsSaved(fh: FileHandle, from: FilePosition): Promise<boolean> {
  if (from.fingerprint === undefined) return true;
  const len = Number(from.fingerprint.slice(0, from.fingerprint.indexOf(":")));
  if (!Number.isSafeInteger(len) || len <= 0 || len > 1 << 20) return false;
  const head = await headOf(fh, len);
  return head.length === len && fingerprintOf(head) === from.fingerprint;
}

export async function* readLogLines(
  path: string,
  from: FilePosition | undefined,
  opts: ReadOptions,
): AsyncGenerator<LineBatch> {
  let fh: FileHandle = await open(path, "r");
  let st = await fh.stat();
  let fileId = idOf(st);
  let offset = 0;
  /** The file's bytes [0, min(FINGERPRINT_BYTES, offset)): what its fingerprint covers. */
  let head: Buffer = Buffer.alloc(0);
  let fingerprint: string | undefined;
  let restarted: Restart | undefined;
  /** Reading the saved position's file, found again under its rotated name: the file at the path comes next. */
  let rotatedAway = false;
  if (from && from.fileId === fileId && from.offset <= st.size && (await startsAsSaved(fh, from))) {
    offset = from.offset;
  } else if (from) {
    const old = await findRotated(path, from);
    if (old) {
      await fh.close();
      fh = old;
      fileId = from.fileId;
      offset = from.offset;
      rotatedAway = true;
    } else restarted = from.fileId !== fileId ? "rotated" : from.offset > st.size ? "truncated" : "replaced";
  }
  if (offset > 0) {
    head = await headOf(fh, Math.min(FINGERPRINT_BYTES, offset));
    fingerprint = fingerprintOf(head);
  }
  const buf = Buffer.alloc(opts.chunkBytes);
  /** The bytes after the last newline read: the start of a line not complete yet. */
  let pending = Buffer.alloc(0);
  /** Moves the offset past `n` bytes of `data` (read at the offset), the fingerprint with it while it grows. */
  const advance = (data: Buffer, n: number) => {
    if (head.length < FINGERPRINT_BYTES) {
      head = Buffer.concat([head, data.subarray(0, Math.min(n, FINGERPRINT_BYTES - head.length))]);
      fingerprint = fingerprintOf(head);
    }
    offset += n;
  };
  /** Takes the file from its start (another file, or this one truncated). */
  const startOver = () => {
    offset = 0;
    head = Buffer.alloc(0);
    fingerprint = undefined;
    pending = Buffer.alloc(0);
  };
  /** Inside a line longer than maxLine: its bytes are passed over up to its newline (memory stays bounded). */
  let skipping = false;
  try {
    for (;;) {
      if (opts.signal?.aborted) return;
      const { bytesRead } = await fh.read(buf, 0, buf.length, offset + pending.length);
      if (bytesRead > 0) {
        const data = pending.length
          ? Buffer.concat([pending, buf.subarray(0, bytesRead)])
          : buf.subarray(0, bytesRead);
        const lastNl = data.lastIndexOf(0x0a);
        if (lastNl < 0) {
          if (data.length > opts.maxLine) {
            advance(data, data.length);
            pending = Buffer.alloc(0);
            skipping = true;
          } else pending = Buffer.from(data);
          continue;
        }
        advance(data, lastNl + 1);
        pending = Buffer.from(data.subarray(lastNl + 1));
        const lines = data.toString("utf8", 0, lastNl).split("\n");
        if (skipping) {
          lines.shift();
          skipping = false;
        }
        for (let i = 0; i < lines.length; i++)
          if (lines[i]!.length > opts.maxLine) lines[i] = lines[i]!.slice(0, opts.maxLine);
        yield {
          lines,
          position: { fileId, offset, ...(fingerprint ? { fingerprint } : {}) },
          ...(restarted ? { restarted } : {}),
        };
        restarted = undefined;
        continue;
      }
      // At the end of the file.
      if (!opts.follow && !rotatedAway) return;
      const now = await stat(path).catch(() => undefined);
      const cur = await fh.stat();
      if (now && idOf(now) !== fileId) {
        rotatedAway = false;
        // Rotated: what was left in the old file was read above; take the new one from its start. (A file
        // followed is held open: its inode cannot go to another file meanwhile.)
        await fh.close();
        fh = await open(path, "r");
        st = await fh.stat();
        fileId = idOf(st);
        startOver();
        continue;
      }
      if (!opts.follow) return;
      if (cur.size < offset + pending.length) {
        startOver();
        restarted = "truncated-followed";
        continue;
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, opts.pollMs);
        opts.signal?.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
      });
    }
  } finally {
    await fh.close();
  }
}

/** The saved position's file beside `path` under a rotated name, opened, if it is there and holds the position. */
async function findRotated(path: string, from: FilePosition): Promise<FileHandle | undefined> {
  const base = basename(path);
  const names = await readdir(dirname(path)).catch(() => [] as string[]);
  for (const name of names) {
    if (name === base || !name.startsWith(base) || !".-_".includes(name[base.length] ?? "")) continue;
    const full = join(dirname(path), name);
    const s = await stat(full).catch(() => undefined);
    if (!s?.isFile() || idOf(s) !== from.fileId || s.size < from.offset) continue;
    const fh = await open(full, "r").catch(() => undefined);
    if (fh && idOf(await fh.stat()) === from.fileId && (await startsAsSaved(fh, from))) return fh;
    await fh?.close();
  }
  return undefined;
}
