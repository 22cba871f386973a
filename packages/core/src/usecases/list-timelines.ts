import type { Deps } from "../deps.ts";
import type { Post } from "../domain/types.ts";
import { fail, ok, type Result } from "../errors.ts";
import type { Page } from "../stores/stores.ts";
import { normalizeHashtag } from "../text/linkify.ts";
import { type Viewer, visibilityFilter } from "../visibility/visibility.ts";

/** Why a timeline is not shown: anonymous visitors, while the Clique keeps its timelines to members. */
export type TimelineProblem = "members_only";

/** Options of the Clique's timeline. */
export interface LocalTimelineOptions {
  onlyMedia?: boolean;
}

/**
 * Whether this viewer may read timelines at all: members always; anonymous
 * visitors (and remote accounts, which the client API treats alike) only when
 * the Clique's `publicTimelineAnonymous` setting is on.
 */
async function mayReadTimelines(deps: Deps, viewer: Viewer): Promise<boolean> {
  if (viewer.kind === "member") return true;
  const settings = await deps.stores.settings.get();
  return settings?.publicTimelineAnonymous === true;
}

/**
 * The Clique's own timeline: posts by its members that the viewer may see,
 * newest first. For a member that includes Clique-only posts, and circle and
 * direct posts they are in; anonymous visitors see public posts only, and only
 * when the Clique allows it. Unlisted posts stay off timelines (that is what
 * unlisted means).
 */
export async function listLocalTimeline(
  deps: Deps,
  viewer: Viewer,
  page: Page,
  options: LocalTimelineOptions = {},
): Promise<Result<Post[], TimelineProblem>> {
  if (!(await mayReadTimelines(deps, viewer))) return fail("members_only");
  const posts = await deps.stores.posts.list(
    { kind: "local", onlyMedia: options.onlyMedia ?? false },
    visibilityFilter(viewer, "public"),
    page,
  );
  return ok(posts);
}

/** Which hashtags a tag timeline is about (names as typed, with or without `#`). */
export interface TagTimelineQuery {
  tag: string;
  any?: readonly string[];
  all?: readonly string[];
  none?: readonly string[];
  /** Only posts by the Clique's members. */
  localOnly?: boolean;
  onlyMedia?: boolean;
}

const tagName = (name: string) => normalizeHashtag(name.replace(/^#/, "").trim());

/**
 * Posts carrying a hashtag that the viewer may see, newest first (Mastodon's
 * `any[]`, `all[]` and `none[]` narrow it). The same rule as the Clique's
 * timeline decides whether anonymous visitors may read it.
 */
export async function listTagTimeline(
  deps: Deps,
  viewer: Viewer,
  query: TagTimelineQuery,
  page: Page,
): Promise<Result<Post[], TimelineProblem>> {
  if (!(await mayReadTimelines(deps, viewer))) return fail("members_only");
  const clean = (names: readonly string[] | undefined) =>
    [...new Set((names ?? []).map(tagName))].filter((n) => n !== "");
  const any = clean([query.tag, ...(query.any ?? [])]);
  const posts = await deps.stores.posts.list(
    {
      kind: "tag",
      any,
      all: clean(query.all),
      none: clean(query.none),
      localOnly: query.localOnly ?? false,
      onlyMedia: query.onlyMedia ?? false,
    },
    visibilityFilter(viewer, "public"),
    page,
  );
  return ok(posts);
}
