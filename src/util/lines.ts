// The lines of a byte stream, each at most `maxBytes` long: a longer line is reported (its number and length)
// and skipped as it streams by, never held. Linear in the stream's size: each chunk is scanned once for its
// newlines, and a line split across chunks is joined once. The lines come a chunk's worth at a time (one
// await per chunk, not per line).

export type Line = { line: number; text: string } | { line: number; tooLong: number };

export async function* linesOf(
  source: AsyncIterable<Buffer | string>,
  maxBytes: number,
): AsyncGenerator<Line[]> {
  let parts: Buffer[] = [];
  let size = 0;
  /** Bytes of the current line when it is already too long (its bytes dropped). */
  let dropped = -1;
  let line = 0;
  let out: Line[] = [];
  const end = () => {
    line++;
    if (dropped >= 0) out.push({ line, tooLong: dropped });
    else {
      const text = (parts.length === 1 ? parts[0]! : Buffer.concat(parts, size)).toString("utf8");
      out.push({ line, text: text.endsWith("\r") ? text.slice(0, -1) : text });
    }
    parts = [];
    size = 0;
    dropped = -1;
  };
  const add = (b: Buffer) => {
    if (!b.length) return;
    if (dropped >= 0) dropped += b.length;
    else if (size + b.length > maxBytes) {
      dropped = size + b.length;
      parts = [];
      size = 0;
    } else {
      parts.push(b);
      size += b.length;
    }
  };
  for await (const chunk of source) {
    const buf = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    let from = 0;
    for (let nl = buf.indexOf(10, from); nl >= 0; nl = buf.indexOf(10, from)) {
      add(buf.subarray(from, nl));
      end();
      from = nl + 1;
    }
    add(buf.subarray(from));
    if (out.length) {
      yield out;
      out = [];
    }
  }
  if (size > 0 || dropped >= 0) end();
  if (out.length) yield out;
}
