// Where JSON text first goes wrong: the offset of the first character that cannot continue a JSON text (the
// end of the text when it stops short), or -1 when it is valid. Node 20's JSON.parse does not always say where;
// the alerts file's errors name the line. One pass, an explicit stack (no recursion), linear in the text.

type Expect = "value" | "valueOrEnd" | "key" | "keyOrEnd" | "colon" | "commaOrEnd" | "done";

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const LITERALS = ["true", "false", "null"];

export function jsonErrorOffset(t: string): number {
  let i = 0;
  const stack: string[] = [];
  let expect: Expect = "value";
  const afterValue = (): Expect => (stack.length ? "commaOrEnd" : "done");
  /** Past a string starting at i; the offset of a bad character, or -1. */
  const string = (): number => {
    i++;
    while (i < t.length) {
      const c = t.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return -1;
      }
      if (c < 0x20) return i;
      i += c === 0x5c ? 2 : 1;
    }
    return t.length;
  };
  for (;;) {
    while (i < t.length && (t[i] === " " || t[i] === "\t" || t[i] === "\n" || t[i] === "\r")) i++;
    if (i >= t.length) return expect === "done" ? -1 : t.length;
    const c = t[i]!;
    switch (expect) {
      case "done":
        return i;
      case "colon":
        if (c !== ":") return i;
        i++;
        expect = "value";
        break;
      case "commaOrEnd": {
        const top = stack[stack.length - 1];
        if (c === ",") {
          i++;
          expect = top === "{" ? "key" : "value";
        } else if ((c === "}" && top === "{") || (c === "]" && top === "[")) {
          i++;
          stack.pop();
          expect = afterValue();
        } else return i;
        break;
      }
      case "keyOrEnd":
      case "key": {
        if (expect === "keyOrEnd" && c === "}") {
          i++;
          stack.pop();
          expect = afterValue();
          break;
        }
        if (c !== '"') return i;
        const bad = string();
        if (bad >= 0) return bad;
        expect = "colon";
        break;
      }
      case "valueOrEnd":
      case "value": {
        if (expect === "valueOrEnd" && c === "]") {
          i++;
          stack.pop();
          expect = afterValue();
        } else if (c === "{" || c === "[") {
          stack.push(c);
          i++;
          expect = c === "{" ? "keyOrEnd" : "valueOrEnd";
        } else if (c === '"') {
          const bad = string();
          if (bad >= 0) return bad;
          expect = afterValue();
        } else {
          const lit = LITERALS.find((l) => t.startsWith(l, i));
          NUMBER.lastIndex = i;
          if (lit) i += lit.length;
          else if (NUMBER.test(t)) i = NUMBER.lastIndex;
          else return i;
          expect = afterValue();
        }
        break;
      }
    }
  }
}
