#!/usr/bin/env -S node --disable-warning=ExperimentalWarning
import { CommanderError } from "commander";
import { CliError } from "../cli/context.ts";
import { buildProgram } from "../cli/program.ts";
import { ConfigError } from "../config.ts";

const program = buildProgram().exitOverride();
try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Commander already printed help or the problem.
    process.exitCode = error.exitCode;
  } else if (error instanceof CliError || error instanceof ConfigError) {
    console.error(`error: ${error.message}`);
    process.exitCode = 1;
  } else {
    console.error("error:", error instanceof Error ? error.message : error);
    process.exitCode = 1;
  }
}
