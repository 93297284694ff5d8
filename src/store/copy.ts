// `COPY ... TO STDOUT` on PostgreSQL as a byte stream (the exports, and the API's index load).
import type { Readable } from "node:stream";
import type pg from "pg";
import { to as copyTo } from "pg-copy-streams";

/**
 * Runs a COPY on a connection of its own and hands out its bytes. The stream reads from the connection only as
 * fast as it is read (backpressure reaches PostgreSQL through the socket). The connection goes back to the pool
 * at the end; after an error, or when the reader goes away mid-way, it is closed instead, since it is left in
 * the middle of the COPY.
 */
export async function copyOut(pool: pg.Pool, statement: string): Promise<Readable> {
  const client = await pool.connect();
  let released = false;
  const release = (err?: Error) => {
    if (released) return;
    released = true;
    client.release(err);
  };
  let stream: Readable;
  try {
    stream = client.query(copyTo(statement));
  } catch (err) {
    release(err as Error);
    throw err;
  }
  stream.once("end", () => release());
  // `on`, not `once`: closing the connection fails the COPY once more, after the stream is gone.
  stream.on("error", (err) => release(err));
  stream.once("close", () => release(new Error("the COPY's reader went away before its end")));
  return stream;
}
