/**
 * The one place that decides who may see what.
 *
 * The rules are written once, as a list of *grants* per viewer
 * (`grantsFor`). Two entry points are built from them:
 *
 * - `canView(viewer, post, facts)` evaluates the grants for one object, asking
 *   `facts` for the relationships it needs;
 * - `visibilityFilter(viewer)` hands the same grants to a store, which turns
 *   them into a query filter for lists (the Kysely store compiles each grant
 *   kind into one SQL condition).
 *
 * A viewer that may not see an object is told it does not exist: callers map
 * "invisible" and "missing" to the same *not found*.
 *
 * Surfaces that must ask this module (and do):
 * - client API: statuses (read, context, history, edit/delete lookup), account
 *   statuses, home timeline (`get-visible-post.ts`, `list-*.ts` use cases);
 * - the ActivityPub object dispatchers and collections (federation issue);
 * - HTML pages, media, feeds, search and notifications as they arrive.
 */
import type { Audience, Post, Role } from "../domain/types.ts";

/** Who is looking. Remote viewers are identified by a verified signature. */
export type Viewer =
  | { kind: "anonymous" }
  | { kind: "member"; actorId: string; role: Role }
  | { kind: "remote"; actorId: string };

/** The anonymous viewer. */
export const ANONYMOUS: Viewer = { kind: "anonymous" };

/** One way a viewer may come to see a post. A post is visible if any grant allows it. */
export type Grant =
  /** The post's audience is one of these. */
  | { kind: "audience"; audiences: readonly Audience[] }
  /** The viewer wrote the post. */
  | { kind: "author"; actorId: string }
  /** The post's audience is one of these and the viewer is an approved follower of its author. */
  | { kind: "follower"; actorId: string; audiences: readonly Audience[] }
  /** The post is addressed to a circle that holds the viewer. */
  | { kind: "circle"; actorId: string }
  /** The post's audience is one of these and the viewer is one of its addressed recipients. */
  | { kind: "recipient"; actorId: string; audiences: readonly Audience[] };

/** What a list query needs to return only visible posts. */
export interface VisibilityFilter {
  grants: readonly Grant[];
  /** Public listings (tags, public timelines) leave out `unlisted` posts. */
  listing: "personal" | "public";
}

/** Relationships `canView` needs; implemented by the stores. */
export interface VisibilityFacts {
  /** False when the author is a local member who is suspended or removed. */
  authorIsActive(authorId: string): Promise<boolean>;
  /** Whether `followerId` follows `followeeId` and the follow was approved. */
  isApprovedFollower(followerId: string, followeeId: string): Promise<boolean>;
  /** Whether the circle holds the actor. */
  circleHolds(circleId: string, actorId: string): Promise<boolean>;
  /** Whether the post names the actor as a recipient. */
  isRecipient(postId: string, actorId: string): Promise<boolean>;
}

const OPEN: readonly Audience[] = ["public", "unlisted"];

/** The rules: what each kind of viewer may see. */
export function grantsFor(viewer: Viewer): Grant[] {
  // Anyone, signed in or not, sees what was published openly.
  if (viewer.kind === "anonymous") return [{ kind: "audience", audiences: OPEN }];
  const actorId = viewer.actorId;
  const personal: Grant[] = [
    // Authors always see their own posts.
    { kind: "author", actorId },
    // Followers-only posts reach approved followers.
    { kind: "follower", actorId, audiences: ["followers"] },
    // Circle posts reach whoever is in the circle *now*.
    { kind: "circle", actorId },
    // Direct posts reach the actors they name; followers-only posts also reach
    // the actors they mention, as on Mastodon.
    { kind: "recipient", actorId, audiences: ["direct", "followers"] },
  ];
  // Members of this Clique also see posts meant for the Clique; remote actors never do.
  if (viewer.kind === "member") {
    return [{ kind: "audience", audiences: [...OPEN, "clique"] }, ...personal];
  }
  return [{ kind: "audience", audiences: OPEN }, ...personal];
}

/** The list-query form of the rules, for stores. */
export function visibilityFilter(
  viewer: Viewer,
  listing: VisibilityFilter["listing"] = "personal",
): VisibilityFilter {
  return { grants: grantsFor(viewer), listing };
}

/** Whether `viewer` may see `post`. Missing and invisible are the same to callers. */
export async function canView(
  viewer: Viewer,
  post: Post,
  facts: VisibilityFacts,
): Promise<boolean> {
  // Deleted posts are gone for everyone.
  if (post.deletedAt !== null) return false;
  // Posts of suspended or removed members are hidden with them.
  if (!(await facts.authorIsActive(post.authorId))) return false;
  for (const grant of grantsFor(viewer)) {
    if (await grantAllows(grant, post, facts)) return true;
  }
  return false;
}

async function grantAllows(grant: Grant, post: Post, facts: VisibilityFacts): Promise<boolean> {
  switch (grant.kind) {
    case "audience":
      return grant.audiences.includes(post.audience);
    case "author":
      return post.authorId === grant.actorId;
    case "follower":
      return (
        grant.audiences.includes(post.audience) &&
        (await facts.isApprovedFollower(grant.actorId, post.authorId))
      );
    case "circle":
      return (
        post.audience === "circle" &&
        post.circleId !== null &&
        (await facts.circleHolds(post.circleId, grant.actorId))
      );
    case "recipient":
      return (
        grant.audiences.includes(post.audience) && (await facts.isRecipient(post.id, grant.actorId))
      );
    default: {
      const unreachable: never = grant;
      throw new Error(`unknown grant ${JSON.stringify(unreachable)}`);
    }
  }
}
