// The CSV reader Rebound had before csv-parse (src/api/csv.ts until the bulk limits), kept here only for
// bench/csv.mjs to compare against: it rescans a record that has not ended at every chunk (quadratic).

export class CsvReader {
  buf = "";
  started = false;

  /** Feed a chunk of text; returns the records completed by it. */
  push(chunk) {
    if (!this.started) {
      this.started = true;
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
    }
    this.buf += chunk;
    return this.drain(false);
  }

  /** The last record, when the input does not end with a line break. */
  end() {
    return this.drain(true);
  }

  drain(final) {
    const out = [];
    const buf = this.buf;
    let pos = 0;
    const n = buf.length;
    let quote = -2;
    while (pos < n) {
      const nl = buf.indexOf("\n", pos);
      // The next quote, searched again only once passed (searching at every record would be quadratic).
      if (quote !== -1 && quote < pos) quote = buf.indexOf('"', pos);
      if (quote === -1 || (nl !== -1 && quote > nl)) {
        // The fast path: a record without quotes.
        if (nl === -1 && !final) break;
        let end = nl === -1 ? n : nl;
        const next = nl === -1 ? n : nl + 1;
        if (end > pos && buf.charCodeAt(end - 1) === 13) end--;
        const raw = buf.slice(pos, end);
        out.push({ fields: raw.split(","), raw });
        pos = next;
        continue;
      }
      const rec = parseQuoted(buf, pos, final);
      if (!rec) break;
      out.push(rec.record);
      pos = rec.next;
    }
    this.buf = buf.slice(pos);
    return out;
  }
}

/** Parse one record that has quotes; undefined when it is not complete in `buf` yet. */
function parseQuoted(buf, start, final) {
  const fields = [];
  let field = "";
  let i = start;
  let inQuotes = false;
  const n = buf.length;
  while (i < n) {
    const c = buf[i];
    if (inQuotes) {
      if (c === '"') {
        if (i + 1 >= n && !final) return undefined;
        if (buf[i + 1] === '"') {
          field += '"';
          i += 2;
        } else {
          inQuotes = false;
          i++;
        }
      } else {
        field += c;
        i++;
      }
    } else if (c === '"' && field === "" && (i === start || buf[i - 1] === ",")) {
      // A quote opens a quoted field only at its start; elsewhere it is an ordinary character.
      inQuotes = true;
      i++;
    } else if (c === ",") {
      fields.push(field);
      field = "";
      i++;
    } else if (c === "\n" || (c === "\r" && buf[i + 1] === "\n")) {
      fields.push(field);
      const raw = buf.slice(start, i);
      return { record: { fields, raw }, next: i + (c === "\n" ? 1 : 2) };
    } else if (c === "\r" && i + 1 >= n && !final) {
      return undefined;
    } else {
      field += c;
      i++;
    }
  }
  if (!final) return undefined;
  fields.push(field);
  return { record: { fields, raw: buf.slice(start, n).replace(/\r$/, "") }, next: n };
}
