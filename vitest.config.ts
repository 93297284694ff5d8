import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Vitest's default is one file at a time below the number of cores: one on CI's two. Most files spend their
    // time waiting on servers, child processes and PostgreSQL rather than computing, and each makes its own
    // database schema, ports and folders (the machine's other test runs share it the same way), so two or more
    // at a time overlap those waits.
    maxWorkers: Math.max(2, availableParallelism()),
  },
});
