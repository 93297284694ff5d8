// Writing CSV fields (reading is src/api/bulk.ts, with csv-parse).

/** First characters that make a spreadsheet run a cell as a formula (OWASP's CSV injection advice). */
const FORMULA_START = /^[=+\-@\t\r]/;

/** A field as CSV: quoted when it must be, with a `'` before a cell a spreadsheet would run as a formula. */
export function csvField(v: string | null | undefined): string {
  if (v === null || v === undefined) return "";
  if (FORMULA_START.test(v)) v = `'${v}`;
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}
