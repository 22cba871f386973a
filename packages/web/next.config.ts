import type { NextConfig } from "next";

/**
 * The Clique server serves this app in its own process, on the same origin and
 * port as the API and ActivityPub (packages/server/src/http/web-ui.ts).
 */
const config: NextConfig = {
  // CLIQUE_WEB_DIST lets two builds live side by side (one per developer's test server); the same
  // variable must be set for the build and the server that serves it.
  distDir: process.env.CLIQUE_WEB_DIST ?? ".next",
  // scripts/build.mjs passes the sources' fingerprint: the same sources give the same build id.
  generateBuildId: async () => process.env.CLIQUE_BUILD_ID ?? null,
  experimental: {
    // Subresource integrity (issue 15): Next writes `integrity="sha256-…"` on the scripts it
    // renders into a page, from a manifest made at build time (server/subresource-integrity-manifest.json).
    sri: { algorithm: "sha256" },
  },
  poweredByHeader: false,
  // The Clique server compresses what Next answers, after adding integrity attributes to
  // the HTML (packages/server/src/http/web-integrity.ts); Next's gzip would come first.
  compress: false,
  reactStrictMode: true,
  // Members' profile and post pages live at Mastodon-style addresses. A folder
  // can't be named `@…` in the App Router (that is a parallel-route slot), so
  // the public addresses are rewritten onto `/profile/…`.
  async rewrites() {
    return [
      { source: "/@:username", destination: "/profile/:username" },
      { source: "/@:username/:id", destination: "/profile/:username/:id" },
    ];
  },
};

export default config;
