import type { Command } from "commander";
import type { CliIo } from "./io.js";

// Placeholder: replaced by the `rebound reprocess` command.
export function register(_program: Command, _io: CliIo): void {}
