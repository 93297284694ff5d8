// Runs the `rebound` CLI from the TypeScript sources (tests and benches spawn it as a child process).
import { run } from "../../src/cli/index.js";

process.exitCode = await run(process.argv);
