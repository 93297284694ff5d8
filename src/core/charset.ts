// Charset conversion for the MIME scanner: binary strings (one char per byte) -> UTF-16 text, RFC 2047 words.
import iconv from "iconv-lite";

const ALIASES: Record<string, string> = {
  "us-ascii": "latin1",
  ascii: "latin1",
  "iso-8859-1": "latin1",
  latin1: "latin1",
  utf8: "utf8",
  "utf-8": "utf8",
  "x-unknown": "latin1",
  unknown: "latin1",
  "ks_c_5601-1987": "cp949",
  "x-sjis": "shift_jis",
  "shift-jis": "shift_jis",
  "iso-2022-jp-2": "iso-2022-jp",
  "iso-2022-jp-3": "iso-2022-jp",
  csiso2022jp: "iso-2022-jp",
  gb2312: "gbk",
  "x-gbk": "gbk",
};

/**
 * Whether `s` has a character above U+007F: exactly when its UTF-8 form is longer than it (every other
 * character takes two bytes or more). Node counts that natively, at a small fraction of the cost of a regex
 * search (`/[^\x00-\x7f]/`) of a whole body.
 */
export function hasHighBytes(s: string): boolean {
  return Buffer.byteLength(s, "utf8") !== s.length;
}

const ISO2022 = /\x1b[$(]/;

/**
 * A binary string in `charset` to text. Unknown charsets fall back to UTF-8 when valid, else Latin-1. `ascii`:
 * the caller knows the string has no high bytes (it is not searched for them).
 */
export function decodeCharset(binary: string, charset: string | undefined, ascii = false): string {
  const name = (charset ?? "").trim().toLowerCase();
  const cs = ALIASES[name.includes('"') ? name.replace(/^"|"$/g, "") : name] ?? name;
  // One scan for high bytes; the ISO-2022-JP escape search only when there is an ESC at all (rare).
  const high = !ascii && hasHighBytes(binary);
  if (cs === "iso-2022-jp" || (!high && binary.includes("\x1b") && ISO2022.test(binary)))
    return decodeIso2022jp(binary);
  if (!high) return binary;
  if (cs === "latin1" || cs === "") return utf8IfValid(binary);
  if (cs === "utf8") return Buffer.from(binary, "latin1").toString("utf8");
  try {
    if (iconv.encodingExists(cs)) return iconv.decode(Buffer.from(binary, "latin1"), cs);
  } catch {
    /* fall through */
  }
  return utf8IfValid(binary);
}

/** Many "us-ascii" bodies carry raw UTF-8: keep it when it is valid UTF-8, else read as Latin-1. */
function utf8IfValid(binary: string): string {
  const buf = Buffer.from(binary, "latin1");
  const text = buf.toString("utf8");
  return text.includes("\ufffd") ? binary : text;
}

/**
 * ISO-2022-JP (and its -2/-3 kin, JIS X 0208 / 0212 / half-width katakana) to text, by re-encoding to EUC-JP
 * (a fixed byte mapping) and decoding that with iconv-lite.
 */
function decodeIso2022jp(binary: string): string {
  if (!ISO2022.test(binary)) return binary;
  const out = Buffer.allocUnsafe(binary.length * 2);
  let n = 0;
  let mode: "ascii" | "jis0208" | "jis0212" | "kana" = "ascii";
  for (let i = 0; i < binary.length; i++) {
    const c = binary.charCodeAt(i);
    if (c === 0x1b) {
      const seq = binary.slice(i + 1, i + 4);
      if (seq.startsWith("$B") || seq.startsWith("$@") || seq.startsWith("$(Q") || seq.startsWith("$(O")) {
        mode = "jis0208";
        i += seq.startsWith("$(") ? 3 : 2;
        continue;
      }
      if (seq.startsWith("$(D")) {
        mode = "jis0212";
        i += 3;
        continue;
      }
      if (seq.startsWith("(I")) {
        mode = "kana";
        i += 2;
        continue;
      }
      if (seq.startsWith("(B") || seq.startsWith("(J") || seq.startsWith("(H")) {
        mode = "ascii";
        i += 2;
        continue;
      }
    }
    if (c === 0x0a || c === 0x0d) mode = "ascii";
    if (mode === "ascii" || c < 0x21 || c > 0x7e) out[n++] = c & 0xff;
    else if (mode === "kana") {
      out[n++] = 0x8e;
      out[n++] = c | 0x80;
    } else {
      if (mode === "jis0212") out[n++] = 0x8f;
      out[n++] = c | 0x80;
      const d = binary.charCodeAt(i + 1);
      if (d >= 0x21 && d <= 0x7e) {
        out[n++] = d | 0x80;
        i++;
      }
    }
  }
  return iconv.decode(out.subarray(0, n), "euc-jp");
}

const ENCODED_WORD = /=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=/g;

/** RFC 2047 encoded words (adjacent words joined, whitespace between them dropped). */
export function decodeEncodedWords(value: string): string {
  const joined = value.replace(/(\?=)\s+(?==\?)/g, "$1");
  // Adjacent words of one charset are decoded together (multi-byte characters may span them).
  return joined.replace(/(?:=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=)+/g, (run) => {
    const chunks: { cs: string; bytes: string }[] = [];
    ENCODED_WORD.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = ENCODED_WORD.exec(run))) {
      const cs = m[1]!.split("*", 1)[0]!;
      const bytes =
        m[2]!.toUpperCase() === "B"
          ? Buffer.from(m[3]!, "base64").toString("latin1")
          : m[3]!
              .replace(/_/g, " ")
              .replace(/=([0-9A-Fa-f]{2})/g, (_x, h: string) => String.fromCharCode(parseInt(h, 16)));
      const last = chunks[chunks.length - 1];
      if (last && last.cs.toLowerCase() === cs.toLowerCase()) last.bytes += bytes;
      else chunks.push({ cs, bytes });
    }
    return chunks.map((c) => decodeCharset(c.bytes, c.cs)).join("");
  });
}
