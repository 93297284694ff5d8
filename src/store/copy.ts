// `COPY ... TO STDOUT` on PostgreSQL as a byte stream (the exports, and the API's index load).
import { once } from "node:events";
import type { Readable } from "node:stream";
import type { CompiledQuery } from "kysely";
import pg from "pg";
import { to as copyTo, type CopyToStreamQuery } from "pg-copy-streams";

/**
 * Runs a COPY on a connection of its own and hands out its bytes. The stream reads from the connection only as
 * fast as it is read (backpressure reaches PostgreSQL through the socket), so the COPY runs without the pool's
 * statement_timeout (an export lasts as long as its reader takes; the reader's own limits bound it). The
 * connection goes back to the pool at the end, with its timeout restored; after an error, or when the reader
 * goes away mid-way, it is closed instead, since it is left in the middle of the COPY.
 */
export async function copyOut(
  pool: pg.Pool,
  statement: string,
  query: (text: string) => CopyToStreamQuery = copyTo,
): Promise<Readable> {
  const client = await pool.connect();
  let released = false;
  const release = (err?: Error) => {
    if (released) return;
    released = true;
    client.release(err);
  };
  let stream: Readable;
  try {
    await client.query("set statement_timeout = 0");
    stream = client.query(query(statement));
  } catch (err) {
    release(err as Error);
    throw err;
  }
  let ended = false;
  stream.once("end", () => {
    ended = true;
    if (released) return;
    client.query("reset statement_timeout").then(
      () => release(),
      (err: Error) => release(err),
    );
  });
  // `on`, not `once`: closing the connection fails the COPY once more, after the stream is gone.
  stream.on("error", (err) => release(err));
  stream.once("close", () => {
    if (!ended) release(new Error("the COPY's reader went away before its end"));
  });
  return stream;
}

/** Takes a COPY's lines where they lie in the connection's buffers (its CopyData messages hold a line each). */
export interface LineSink {
  /** One line: buf[start, end), `end` just after its newline. */
  line(buf: Buffer, start: number, end: number): void;
  /** Hands out what the lines so far have made. */
  flush(push: (b: Buffer) => void): void;
}

/** pg-copy-streams' COPY TO query (7.0.0), and the parts of it that LinesCopy relies on. */
interface CopyToInternals extends CopyToStreamQuery {
  _buffer: { push(b: Buffer): void };
  _detach(): void;
  _cleanup(): void;
}

const ERROR_RESPONSE = 0x45;
const COPY_DATA = 0x64;
/** Messages that may come between CopyData messages: CopyOutResponse, NoticeResponse, ParameterStatus,
 * NotificationResponse. */
const PASSING = new Set([0x48, 0x4e, 0x53, 0x41]);

/** pg-copy-streams' COPY TO query class, checked, and LinesCopy on top of it: made on first use. */
let linesCopy: (new (text: string, sink: LineSink) => CopyToInternals) | undefined;
function linesCopyClass(): new (text: string, sink: LineSink) => CopyToInternals {
  if (linesCopy) return linesCopy;
  const probe = copyTo("") as unknown as CopyToInternals & Record<string, unknown>;
  // A later pg-copy-streams that renamed these would break LinesCopy: better said at once than mid-export.
  if (
    ![probe._parse, probe._detach, probe._cleanup, probe._buffer?.push].every((f) => typeof f === "function")
  )
    throw new Error("pg-copy-streams is not the one LinesCopy (src/store/copy.ts) was written for");
  const CopyToQuery = probe.constructor as new (text: string) => CopyToInternals;

  /**
   * A COPY TO whose lines go to a sink as they lie in the socket's chunks, and whose stream hands out what
   * the sink makes of them. pg-copy-streams' own parser took each message out as a Buffer of its own, then
   * joined them: two objects per row, a third of the API's CPU in an export. This one replaces it (`_parse`,
   * called with each chunk read from the socket), and hands back to node-postgres, as it does, what follows
   * CopyDone or an error.
   */
  class LinesCopy extends CopyToQuery {
    /** A message cut by the end of a chunk. */
    private carry: Buffer | undefined;
    /** What stopped the COPY's messages: an ErrorResponse, or CopyDone (or any other message). */
    private stopped = 0;

    constructor(
      text: string,
      private readonly sink: LineSink,
    ) {
      super(text);
    }

    _parse(chunk: Buffer): boolean | undefined {
      if (this.carry) {
        let c = this.carry;
        if (c.length < 5) {
          const k = Math.min(5 - c.length, chunk.length);
          c = Buffer.concat([c, chunk.subarray(0, k)]);
          chunk = chunk.subarray(k);
          if (c.length < 5) {
            this.carry = c;
            return true;
          }
        }
        const need = 1 + c.readUInt32BE(1) - c.length;
        if (chunk.length < need) {
          this.carry = Buffer.concat([c, chunk]);
          return true;
        }
        this.carry = undefined;
        const msg = Buffer.concat([c, chunk.subarray(0, need)]);
        chunk = chunk.subarray(need);
        const at = this.messages(msg);
        if (this.stopped) return this.stop(Buffer.concat([msg.subarray(at), chunk]));
      }
      const at = this.messages(chunk);
      if (this.stopped) return this.stop(chunk.subarray(at));
      if (at < chunk.length) this.carry = Buffer.from(chunk.subarray(at));
      return this.flush();
    }

    /** Hands the whole messages of buf to the sink until one stops the COPY; returns where it stopped. */
    private messages(buf: Buffer): number {
      let p = 0;
      for (;;) {
        if (buf.length - p < 5) return p;
        const code = buf[p]!;
        if (code === ERROR_RESPONSE) {
          this.stopped = code;
          return p;
        }
        const end = p + 1 + buf.readUInt32BE(p + 1);
        if (end > buf.length) return p;
        if (code === COPY_DATA) this.sink.line(buf, p + 5, end);
        else if (!PASSING.has(code)) {
          this.stopped = code;
          return end;
        }
        p = end;
      }
    }

    /** Hands out the sink's output; false when the reader has enough for now. */
    private flush(): boolean {
      let drained = true;
      this.sink.flush((b) => (drained = this.push(b) && drained));
      return drained;
    }

    /** After an ErrorResponse (node-postgres reads it, and fails the stream) or CopyDone (the end). */
    private stop(rest: Buffer): boolean | undefined {
      const drained = this.flush();
      this._buffer.push(rest);
      this._detach();
      if (this.stopped === ERROR_RESPONSE) return undefined;
      this.push(null);
      this._cleanup();
      return drained;
    }
  }

  linesCopy = LinesCopy;
  return LinesCopy;
}

/** Like copyOut, but the stream hands out what `sink` makes of the COPY's lines (see LinesCopy). */
export async function copyOutLines(pool: pg.Pool, statement: string, sink: LineSink): Promise<Readable> {
  return copyOut(pool, statement, (text) => new (linesCopyClass())(text, sink));
}

/**
 * A compiled query's text with its values in place (COPY takes no bind parameters). Kysely compiles every value
 * to a `$n` placeholder (the statement's own text has none), so each is replaced by its value, quoted by
 * node-postgres.
 */
export function inlineParameters(q: CompiledQuery): string {
  return q.sql.replace(/\$(\d+)/g, (_, n: string) => literal(q.parameters[Number(n) - 1]));
}

function literal(v: unknown): string {
  if (typeof v === "string") return pg.escapeLiteral(v);
  if (v instanceof Date) return `${pg.escapeLiteral(v.toISOString())}::timestamptz`;
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  throw new Error(`cannot write ${typeof v} into a COPY statement`);
}

/** The byte a backslash sequence of COPY's text format stands for (COPY TO writes no octal nor hex ones). */
export const COPY_UNESCAPED = new Uint8Array(256).map((_, c) => c);
COPY_UNESCAPED[98] = 8; // \b
COPY_UNESCAPED[102] = 12; // \f
COPY_UNESCAPED[110] = 10; // \n
COPY_UNESCAPED[114] = 13; // \r
COPY_UNESCAPED[116] = 9; // \t
COPY_UNESCAPED[118] = 11; // \v

/** Runs a COPY to its end, each line handed to `sink` (copyOutLines, read at once rather than streamed on). */
export async function copyAllLines(pool: pg.Pool, statement: string, sink: LineSink): Promise<void> {
  const stream = await copyOutLines(pool, statement, sink);
  stream.resume();
  await once(stream, "end");
}
