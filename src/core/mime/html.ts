// HTML parts to readable text, in time linear in their length.
import { decodeHTMLStrict } from "entities";

/**
 * Strip HTML to text (good enough to read a bounce's words). Linear in the HTML's length: the blocks and tags are
 * cut by scans that never look at a character twice (patterns that did, `<[^>]*>` from every `<` of a run with no
 * `>`, `[ \t]+\n` from every space of a long run, took seconds on 60 KB).
 */
export function htmlToText(html: string): string {
  return decodeEntities(stripTags(dropBlocks(html)))
    .replace(/(?<![\t ])[\t ]+\n/g, "\n")
    .replace(/\n{3,}/g, "\n\n");
}

/**
 * Character references decoded once, by the `entities` library (every HTML named entity: `&ndash;`, `&eacute;`,
 * `&rsquo;`, ...; decimal and hex numbers), only where they end with `;` (a URL's `&not=1` stays as written).
 * `&nbsp;` becomes a plain space, as the line patterns expect.
 */
function decodeEntities(text: string): string {
  if (!text.includes("&")) return text;
  return decodeHTMLStrict(text.replace(/&nbsp;/gi, " "));
}

const BLOCK_OPEN = /<(script|style|head)/gi;
const BLOCK_CLOSE: Record<string, RegExp> = {
  script: /<\/script\s*>/gi,
  style: /<\/style\s*>/gi,
  head: /<\/head\s*>/gi,
};

/**
 * `<script>`, `<style>` and `<head>` blocks, each to its closing tag, to one space. Where a block has no closing
 * tag it is left, as is every later opening of the same name (none of them has one either): each close is
 * searched for once per position it is found at, not once per opening.
 */
function dropBlocks(html: string): string {
  if (!html.includes("<")) return html;
  const closeAt: Record<string, { from: number; at: number; end: number }> = {};
  let out = "";
  let pos = 0;
  BLOCK_OPEN.lastIndex = 0;
  for (let m = BLOCK_OPEN.exec(html); m; m = BLOCK_OPEN.exec(html)) {
    const name = m[1]!.toLowerCase();
    let c = closeAt[name];
    if (!c || (c.at >= 0 && c.at < m.index + m[0].length)) {
      const re = BLOCK_CLOSE[name]!;
      re.lastIndex = m.index + m[0].length;
      const close = re.exec(html);
      c = {
        from: re.lastIndex,
        at: close ? close.index : -1,
        end: close ? close.index + close[0].length : -1,
      };
      closeAt[name] = c;
    }
    if (c.at < 0) continue;
    out += html.slice(pos, m.index) + " ";
    pos = c.end;
    BLOCK_OPEN.lastIndex = pos;
  }
  return pos === 0 ? html : out + html.slice(pos);
}

const LINE_TAGS = /^(?:br\s*\/?|\/(?:p|div|tr|li|h\d|table))>/i;
const CELL_END = /^\/t[dh]\s*>/i;

/** A link's mailto target (`<a href="mailto:x@y?subject=...">`): the address, up to a `?` or the quote. */
const MAILTO_HREF = /^a\s[^>]{0,200}?\bhref\s*=\s*["']?mailto:([^"'?>\s]{3,320})/i;
const LINK_END = /^\/a\s*>/i;

/**
 * Tags dropped (a `<` to the next `>`), and the line-breaking ones (`<br>`, `</p>`, ...) made newlines. A mailto
 * link whose text is no address (`<a href="mailto:x@y">Ruth Ortiz</a>`) keeps its address after the text, as a
 * text part writes it (`Ruth Ortiz <x@y>`): an HTML-only notice may name its recipient only so.
 */
function stripTags(html: string): string {
  let out = "";
  let pos = 0;
  let mailto: string | undefined;
  let linkFrom = 0;
  for (let lt = html.indexOf("<"); lt >= 0; lt = html.indexOf("<", pos)) {
    const gt = html.indexOf(">", lt);
    if (gt < 0) break;
    out += html.slice(pos, lt);
    const tag = html.slice(lt + 1, gt + 1);
    const link = tag.length > 7 && (tag[0] === "a" || tag[0] === "A") ? MAILTO_HREF.exec(tag) : null;
    if (link) {
      mailto = decodeURIComponentSafe(link[1]!);
      linkFrom = out.length;
    } else if (mailto && LINK_END.test(tag)) {
      if (!out.slice(linkFrom).includes("@")) out += ` <${mailto}>`;
      mailto = undefined;
    }
    if (LINE_TAGS.test(tag)) out += "\n";
    // a table cell ends with a tab, so a row of an NDR's table reads `addr<TAB>reason`
    else if (CELL_END.test(tag)) out += "\t";
    pos = gt + 1;
  }
  return pos === 0 ? html : out + html.slice(pos);
}

/** A URL's `%40`-style escapes decoded, or the text as it is when they are not valid UTF-8. */
function decodeURIComponentSafe(text: string): string {
  if (!text.includes("%")) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
