import regexp from "eslint-plugin-regexp";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "data/", "coverage/"] },
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-restricted-properties": [
        "error",
        { object: "process", property: "env", message: "Read configuration in src/config.ts only." },
      ],
    },
  },
  { files: ["src/config.ts", "bench/**", "test/**", "bin/**"], rules: { "no-restricted-properties": "off" } },
  // Every regex in src/ runs in time linear in its input: one that can backtrack super-linearly (nested or
  // adjacent quantifiers that can trade characters) or that a search re-runs from every position of a long run
  // fails the lint, even where the harm is only potential. Sticky (`y`) regexes are tried only where the code puts
  // them, so a search never moves them. test/core/rules-linear.test.ts checks the rule tables' patterns (built at
  // run time, out of the lint's sight) with recheck.
  {
    files: ["src/**/*.ts"],
    plugins: { regexp },
    rules: {
      "regexp/no-super-linear-backtracking": ["error", { report: "potential" }],
      "regexp/no-super-linear-move": [
        "error",
        { report: "potential", ignorePartial: false, ignoreSticky: true },
      ],
    },
  },
);
