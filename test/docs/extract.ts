// The fenced shell examples of a Markdown file (```sh blocks), with the line each starts on.

export interface ShellExample {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  code: string;
}

export function extractShellExamples(markdown: string, file: string): ShellExample[] {
  const out: ShellExample[] = [];
  const lines = markdown.split("\n");
  let open: { line: number; lang: string; body: string[] } | undefined;
  lines.forEach((text, i) => {
    const fence = /^\s*```\s*([\w-]*)/.exec(text);
    if (!open) {
      if (fence) open = { line: i + 1, lang: fence[1] ?? "", body: [] };
      return;
    }
    if (fence && text.trim() === "```") {
      if (open.lang === "sh" || open.lang === "bash" || open.lang === "shell")
        out.push({ file, line: open.line, code: open.body.join("\n") });
      open = undefined;
      return;
    }
    open.body.push(text);
  });
  return out;
}
