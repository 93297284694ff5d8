#!/usr/bin/env node
import { run } from "../dist/src/cli/index.js";

run(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`rebound: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
