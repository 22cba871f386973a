export * from "./crawl.ts";
export * from "./database.ts";
export * from "./fake-remote.ts";
export * from "./processes.ts";
export * from "./tls.ts";
export * from "./world.ts";
