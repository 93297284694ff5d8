// The shared polling helper lives in test/helpers/until.ts; this path stays for the tests that import it here.
export { until, type UntilOptions } from "../helpers/until.js";
