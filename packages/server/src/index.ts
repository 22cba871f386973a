/** @clique/server's public API: configuration, composition and the HTTP server. */

export { type Composition, compose } from "./compose.ts";
export { type Config, ConfigError, ENVIRONMENT_VARIABLES, loadConfig } from "./config.ts";
export { createApp } from "./http/app.ts";
export { type RunningServer, startServer } from "./server.ts";
