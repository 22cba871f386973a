import { type Context, Hono } from "hono";
import type { AppEnv } from "../../http/env.ts";
import { renderAccount } from "./render.ts";
import { serializeInstanceV1, serializeInstanceV2 } from "./serializers.ts";

async function instanceFacts(c: Context<AppEnv>) {
  const { clique } = c.get("services");
  const settings = await clique.getSettings();
  const users = await clique.countSeated();
  const owner = (await clique.listMembers("active")).find((m) => m.role === "owner");
  const contact = owner ? await renderAccount(c, owner.id) : null;
  return { settings, users, contact };
}

/** `/api/v1/instance` (mounted at `/api/v1`). */
export const instanceV1Api = new Hono<AppEnv>();
instanceV1Api.get("/instance", async (c) => {
  const { clique, config } = c.get("services");
  const [f, posts] = await Promise.all([instanceFacts(c), clique.countOpenLocalPosts()]);
  return c.json(
    serializeInstanceV1(
      config.origin,
      f.settings,
      { users: f.users, posts },
      f.contact,
      config.media,
    ),
  );
});

/** `/api/v2/instance` (mounted at `/api/v2`). */
export const instanceV2Api = new Hono<AppEnv>();
instanceV2Api.get("/instance", async (c) => {
  const { config } = c.get("services");
  const f = await instanceFacts(c);
  return c.json(
    serializeInstanceV2(config.origin, f.settings, { users: f.users }, f.contact, config.media),
  );
});
