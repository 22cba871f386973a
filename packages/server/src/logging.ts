import { AsyncLocalStorage } from "node:async_hooks";
import { configure, getConsoleSink, type LogLevel } from "@logtape/logtape";
import type { Config } from "./config.ts";

let configured = false;

/**
 * Sets up hierarchical logging (`["clique", ...]` for ours, `["fedify", ...]`
 * for Fedify's). Secrets never reach a log call: connection strings, tokens and
 * passwords are not passed as properties anywhere.
 */
export async function setupLogging(level: Config["logLevel"]): Promise<void> {
  if (configured) return;
  configured = true;
  await configure({
    // Fedify attaches request context to its log records through this.
    contextLocalStorage: new AsyncLocalStorage(),
    sinks: { console: getConsoleSink() },
    loggers: [
      { category: ["clique"], lowestLevel: level as LogLevel, sinks: ["console"] },
      {
        category: ["fedify"],
        lowestLevel: level === "debug" ? "debug" : "warning",
        sinks: ["console"],
      },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["console"] },
    ],
  });
}
