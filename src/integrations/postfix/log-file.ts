// Reads a log file's complete lines from a position, and with `follow` keeps reading as it grows, through
// rotation: a file renamed away is read to its end before the new one at its path is taken from its start; a
// file truncated in place (copytruncate) is taken from its start. Positions are byte offsets after a line's
// newline, with the file's identity (device and inode), so that a restart resumes in the same file only. A
// restart that finds another file at the path looks for its file beside it, renamed by the rotation (`mail.log.1`,
// `mail.log-20261207`; not compressed yet), and reads its rest first.
import { open, readdir, stat, type FileHandle } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

export interface FilePosition {
  fileId: string;
  offset: number;
}

export interface LineBatch {
  lines: string[];
  /** Where the next line starts, in which file. */
  position: FilePosition;
  /** Set when the file was rotated (and not found again) or truncated under a saved position: lines may have
   * been missed. */
  restarted?: "rotated" | "truncated";
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

const idOf = (s: { dev: number; ino: number }) => `${s.dev}:${s.ino}`;

export async function* readLogLines(
  path: string,
  from: FilePosition | undefined,
  opts: ReadOptions,
): AsyncGenerator<LineBatch> {
  let fh: FileHandle = await open(path, "r");
  let st = await fh.stat();
  let fileId = idOf(st);
  let offset = 0;
  let restarted: LineBatch["restarted"];
  /** Reading the saved position's file, found again under its rotated name: the file at the path comes next. */
  let rotatedAway = false;
  if (from && from.fileId === fileId) {
    if (from.offset <= st.size) offset = from.offset;
    else restarted = "truncated";
  } else if (from) {
    const old = await findRotated(path, from);
    if (old) {
      await fh.close();
      fh = old;
      fileId = from.fileId;
      offset = from.offset;
      rotatedAway = true;
    } else restarted = "rotated";
  }
  const buf = Buffer.alloc(opts.chunkBytes);
  /** The bytes after the last newline read: the start of a line not complete yet. */
  let pending = Buffer.alloc(0);
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
            offset += data.length;
            pending = Buffer.alloc(0);
            skipping = true;
          } else pending = Buffer.from(data);
          continue;
        }
        pending = Buffer.from(data.subarray(lastNl + 1));
        offset += lastNl + 1;
        const lines = data.toString("utf8", 0, lastNl).split("\n");
        if (skipping) {
          lines.shift();
          skipping = false;
        }
        for (let i = 0; i < lines.length; i++)
          if (lines[i]!.length > opts.maxLine) lines[i] = lines[i]!.slice(0, opts.maxLine);
        yield { lines, position: { fileId, offset }, ...(restarted ? { restarted } : {}) };
        restarted = undefined;
        continue;
      }
      // At the end of the file.
      if (!opts.follow && !rotatedAway) return;
      const now = await stat(path).catch(() => undefined);
      const cur = await fh.stat();
      if (now && idOf(now) !== fileId) {
        rotatedAway = false;
        // Rotated: what was left in the old file was read above; take the new one from its start.
        await fh.close();
        fh = await open(path, "r");
        st = await fh.stat();
        fileId = idOf(st);
        offset = 0;
        pending = Buffer.alloc(0);
        continue;
      }
      if (!opts.follow) return;
      if (cur.size < offset + pending.length) {
        offset = 0;
        pending = Buffer.alloc(0);
        restarted = "truncated";
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
    if (fh && idOf(await fh.stat()) === from.fileId) return fh;
    await fh?.close();
  }
  return undefined;
}
