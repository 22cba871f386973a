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
 * A "view as" preview asks with a hypothetical viewer (`hypotheticalViewer`),
 * described by its relations rather than an actor id: the same rules decide.
 *
 * A viewer that may not see an object is told it does not exist: callers map
 * "invisible" and "missing" to the same *not found*.
 *
 * Remote moderation adds two guards that hold whatever a grant says: a blocked
 * server (or suspended account) sees nothing, and the posts of a limited
 * server (or silenced account) reach only the members who follow their author
 * and the members they are addressed to.
 *
 * Profile parts (bio, each field, the follower lists) and interaction
 * permissions (reply, like, boost) are judged by `canSeePart` and
 * `mayInteract`, which treat the part as a post of its owner addressed to the
 * part's audience: one set of rules for everything.
 *
 * Surfaces that ask this module (the server's `http/routes.ts` lists every
 * route, and the canary crawl test checks each one):
 * - client API: statuses (read, context, history, source, edit/delete/like
 *   lookups), account statuses, home timeline, accounts (bio and fields via
 *   `viewProfile`), follower/following lists, the member list;
 * - ActivityPub: the post object dispatcher, the outbox, the followers and
 *   following collections (signed viewer), the actor document (public parts
 *   only), inbound replies, likes and boosts (`mayInteract`);
 * - outbound addressing (`federation/wire.ts`) sends each post only to those
 *   its audience names;
 * - notifications: one about a post is listed only while its member may see
 *   the post (`listNotifications`), and one is written only about a post its
 *   member may see (`recordNotification`);
 * - live updates (the server's `streaming/`): every streamed post, edit,
 *   deletion and notification is judged per subscriber (`canView`);
 * - boosts in home feeds, bookmarks, favourites, pinned posts (and the
 *   actor's `featured` collection), `favourited_by`/`reblogged_by` (a post
 *   the viewer may see): every list filters its posts when it is read, so a
 *   post that became invisible leaves them (`list-interactions.ts`);
 * - the Clique's timeline and tag timelines (`list-timelines.ts`, a public
 *   listing: no unlisted posts), direct conversations (`conversations.ts`),
 *   and the profile and post HTML pages (`/@username`, through the same use
 *   cases as the API);
 * - media and feeds as they arrive; search answers accounts only.
 */

import type { RemoteStandingKind } from "../domain/remote-moderation.ts";
import type {
  Audience,
  AudienceRef,
  InteractionPolicy,
  Media,
  Post,
  Role,
} from "../domain/types.ts";
import { mayTake } from "../permissions/permissions.ts";

/**
 * Who is looking. Remote viewers are identified by a verified signature; a
 * `server` viewer is another server's instance actor, which fetches on behalf
 * of everyone on that host (that is how Mastodon fetches).
 */
export type Viewer =
  | { kind: "anonymous" }
  | { kind: "member"; actorId: string; role: Role }
  | { kind: "remote"; actorId: string }
  | { kind: "server"; host: string }
  | HypotheticalViewer;

/**
 * A viewer described by its relations instead of an actor id, for "view as"
 * previews: an approved follower of the accounts in `follows` (and of no one
 * else), a member of this Clique or not, in no circle, named on no post,
 * nobody's friend, blocked by no one and under no remote moderation. Its
 * grants need no lookups: the relations are known, so `grantsFor` turns them
 * into grants about the post alone, and `canView` and the list filter judge
 * it as they judge everyone. Having no actor id, it is never the author, and
 * the posts of limited (silenced) remote authors do not reach it.
 */
export type HypotheticalViewer = {
  kind: "hypothetical";
  follows: readonly string[];
  member: boolean;
};

/** A hypothetical viewer (see `HypotheticalViewer`). */
export function hypotheticalViewer(relations: {
  follows?: readonly string[];
  member?: boolean;
}): Viewer {
  return {
    kind: "hypothetical",
    follows: relations.follows ?? [],
    member: relations.member ?? false,
  };
}

/** The anonymous viewer. */
export const ANONYMOUS: Viewer = { kind: "anonymous" };

/** A member of this Clique as a viewer (what every use case acting for a member asks with). */
export function memberViewer(member: { id: string; role: Role }): Viewer {
  return { kind: "member", actorId: member.id, role: member.role };
}

/**
 * Whom a grant is about: one actor, or any actor on one host. For a post, a
 * host stands only for its actors that the post's author (and the owner of
 * the audience it borrowed) do not block (`notBlockedBy`, filled in per post):
 * a blocked actor's server must not see through her what she may not see herself.
 */
export type Who = { actorId: string } | { host: string; notBlockedBy?: readonly string[] };

/** One way a viewer may come to see a post. A post is visible if any grant allows it. */
export type Grant =
  /** The post's audience is one of these. */
  | { kind: "audience"; audiences: readonly Audience[] }
  /**
   * The viewer wrote the post, or owns the audience it borrowed (a reply in
   * someone's followers, friends, circle or conversation is always theirs to see).
   */
  | { kind: "author"; actorId: string }
  /** The post's audience is one of these and the viewer is an *active* member of this Clique. */
  | { kind: "member"; actorId: string; audiences: readonly Audience[] }
  /**
   * The post's audience is one of these and `who` is an approved follower of
   * its audience owner (its author, or for borrowed audiences the parent's author).
   */
  | { kind: "follower"; who: Who; audiences: readonly Audience[] }
  /** The post is addressed to a circle that holds `who`. */
  | { kind: "circle"; who: Who }
  /** The post's audience is one of these and `who` is one of its addressed recipients. */
  | { kind: "recipient"; who: Who; audiences: readonly Audience[] }
  /**
   * The post is for the friends of its audience owner (its author, or for a
   * borrowed audience the parent's author) and `who` is one: they follow each other.
   */
  | { kind: "friend"; who: Who }
  /**
   * The post's audience is one of these and its audience owner (its author,
   * or for borrowed audiences the parent's author) is one of `ownerIds`: the
   * `follower` grant for a hypothetical viewer, whose follows are known.
   */
  | { kind: "followed"; ownerIds: readonly string[]; audiences: readonly Audience[] };

/** What a list query needs to return only visible posts. */
export interface VisibilityFilter {
  grants: readonly Grant[];
  /** Public listings (tags, public timelines) leave out `unlisted` posts. */
  listing: "personal" | "public";
  /** The viewing actor, for the block rule (an author's block limits them to open posts). */
  viewerActorId: string | null;
  /** The viewing member, for the limit rule (a limited author's posts reach only some members). */
  memberActorId: string | null;
  /** The viewing remote account or server, for the domain block rule (a blocked one sees nothing). */
  remoteViewer: Who | null;
}

/** Relationships `canView` needs; implemented by the stores. */
export interface VisibilityFacts {
  /**
   * False when the author is a local member who is suspended or removed, or a
   * remote account whose own server says it is suspended.
   */
  authorIsActive(authorId: string): Promise<boolean>;
  /** Whether the actor is a local member whose membership is active. */
  isActiveMember(actorId: string): Promise<boolean>;
  /** Whether `who` follows `followeeId` and the follow was approved. */
  isApprovedFollower(who: Who, followeeId: string): Promise<boolean>;
  /** Whether the circle holds `who`. */
  circleHolds(circleId: string, who: Who): Promise<boolean>;
  /** Whether the post names `who` as a recipient. */
  isRecipient(postId: string, who: Who): Promise<boolean>;
  /** Whether `who` and the author follow each other (both follows approved). */
  isFriend(who: Who, authorId: string): Promise<boolean>;
  /** Whether `blockerId` blocks `actorId`. */
  blocks(blockerId: string, actorId: string): Promise<boolean>;
  /**
   * How remote moderation judges an actor: `blocked` (its server is blocked or
   * it is suspended), `limited` (its server is limited or it is silenced), or
   * `ok` (always, for members).
   */
  remoteStanding(actorId: string): Promise<RemoteStandingKind>;
  /** How remote moderation judges a host: by the most severe domain block covering it. */
  hostStanding(host: string): Promise<RemoteStandingKind>;
  /**
   * Which of `posts` the list filter lets through, as indexes into `posts`:
   * `canView` for many posts in one query (issue 13). The posts need not be
   * stored: profile parts are judged as posts (`canSeeParts`). Their own
   * fields (audience, circle, deletion...) are taken as given; their
   * author's standing, follows, circles and recipients are read from storage.
   */
  visibleAmong(posts: readonly Post[], filter: VisibilityFilter): Promise<Set<number>>;
}

const OPEN: readonly Audience[] = ["public", "unlisted"];

/** The rules: what each kind of viewer may see. */
export function grantsFor(viewer: Viewer): Grant[] {
  // Anyone, signed in or not, sees what was published openly.
  if (viewer.kind === "anonymous") return [{ kind: "audience", audiences: OPEN }];
  // A hypothetical viewer holds only the relations it describes: no circle,
  // no mention, no friendship, never the author.
  if (viewer.kind === "hypothetical") return hypotheticalGrants(viewer);
  const who: Who =
    viewer.kind === "server" ? { host: viewer.host.toLowerCase() } : { actorId: viewer.actorId };
  const personal: Grant[] = [
    // Followers-only posts reach approved followers.
    { kind: "follower", who, audiences: ["followers"] },
    // Circle posts reach whoever is in the circle *now*.
    { kind: "circle", who },
    // Direct posts reach the actors they name; followers-only posts also reach
    // the actors they mention, as on Mastodon.
    { kind: "recipient", who, audiences: ["direct", "followers"] },
    // Friends-only posts reach those the author follows and who follow back.
    { kind: "friend", who },
  ];
  // A server sees what any of its actors may see, and nothing it authored itself.
  if (viewer.kind === "server") return [{ kind: "audience", audiences: OPEN }, ...personal];
  // Authors always see their own posts.
  const own: Grant = { kind: "author", actorId: viewer.actorId };
  // Members of this Clique also see posts meant for the Clique; remote actors never do.
  // Only while their membership is active: a suspended or removed member's viewer
  // (which authentication should never build) must not keep the Clique's posts.
  if (viewer.kind === "member") {
    const clique: Grant = { kind: "member", actorId: viewer.actorId, audiences: ["clique"] };
    return [{ kind: "audience", audiences: OPEN }, clique, own, ...personal];
  }
  return [{ kind: "audience", audiences: OPEN }, own, ...personal];
}

/**
 * The grants of a hypothetical viewer: the same stages as for a real one,
 * with each relationship answered from what the viewer describes.
 */
function hypotheticalGrants(viewer: HypotheticalViewer): Grant[] {
  const grants: Grant[] = [{ kind: "audience", audiences: OPEN }];
  // Followers-only posts reach approved followers (mentions do not apply: it is named on no post).
  if (viewer.follows.length > 0)
    grants.push({ kind: "followed", ownerIds: viewer.follows, audiences: ["followers"] });
  // Members see posts meant for the Clique (a hypothetical member is always active).
  if (viewer.member) grants.push({ kind: "audience", audiences: ["clique"] });
  return grants;
}

/** The list-query form of the rules, for stores. */
export function visibilityFilter(
  viewer: Viewer,
  listing: VisibilityFilter["listing"] = "personal",
): VisibilityFilter {
  return {
    grants: grantsFor(viewer),
    listing,
    viewerActorId: viewerActorOf(viewer),
    memberActorId: viewer.kind === "member" ? viewer.actorId : null,
    remoteViewer:
      viewer.kind === "remote"
        ? { actorId: viewer.actorId }
        : viewer.kind === "server"
          ? { host: viewer.host.toLowerCase() }
          : null,
  };
}

/** The viewer's own actor id, if it has one. */
export function viewerActorOf(viewer: Viewer): string | null {
  return viewer.kind === "member" || viewer.kind === "remote" ? viewer.actorId : null;
}

/** Audiences anyone may see; blocks do not hide them (they are public anyway). */
export const OPEN_AUDIENCES = OPEN;

/** Whether `viewer` may see `post`. Missing and invisible are the same to callers. */
export async function canView(
  viewer: Viewer,
  post: Post,
  facts: VisibilityFacts,
): Promise<boolean> {
  // Deleted posts, and posts a moderator hid from the Clique, are gone for everyone.
  if (post.deletedAt !== null || (post.hiddenAt ?? null) !== null) return false;
  // Posts of suspended or removed members are hidden with them (and those of
  // accounts their own server suspended).
  if (!(await facts.authorIsActive(post.authorId))) return false;
  // A blocked server and its accounts, and a suspended account, see nothing
  // here, not even what is public: their signed fetches find nothing.
  if (await isShutOut(viewer, facts)) return false;
  // A post from elsewhere answers to what moderation decided about its author.
  if (post.uri !== null) {
    const standing = await facts.remoteStanding(post.authorId);
    // Nothing of a blocked server or a suspended account is shown (what was
    // stored is purged when the decision is taken; what arrives late stays hidden).
    if (standing === "blocked") return false;
    // A limited server's and a silenced account's posts reach only the members
    // who follow their author, and the members they are addressed to.
    if (standing === "limited" && !(await reachesDespiteLimit(viewer, post, facts))) return false;
  }
  // Someone the author blocks sees only what is open to everyone; so does
  // someone blocked by the owner of the audience a reply borrowed.
  const viewerActor = viewerActorOf(viewer);
  if (viewerActor !== null && viewerActor !== post.authorId && !OPEN.includes(post.audience)) {
    for (const blocker of blockersOf(post))
      if (await facts.blocks(blocker, viewerActor)) return false;
  }
  for (const grant of grantsFor(viewer)) {
    if (await grantAllows(grant, post, facts)) return true;
  }
  return false;
}

/** Whether the viewer is a remote account or server that remote moderation shut out. */
async function isShutOut(viewer: Viewer, facts: VisibilityFacts): Promise<boolean> {
  if (viewer.kind === "remote") return (await facts.remoteStanding(viewer.actorId)) === "blocked";
  if (viewer.kind === "server") return (await facts.hostStanding(viewer.host)) === "blocked";
  return false;
}

/** Whether a limited author's post still reaches the viewer: a member who follows them, or whom it names. */
async function reachesDespiteLimit(
  viewer: Viewer,
  post: Post,
  facts: VisibilityFacts,
): Promise<boolean> {
  if (viewer.kind !== "member") return false;
  const who: Who = { actorId: viewer.actorId };
  return (
    (await facts.isApprovedFollower(who, post.authorId)) || (await facts.isRecipient(post.id, who))
  );
}

/** Whose blocks limit who sees a post: its author, and the owner of the audience it borrowed. */
function blockersOf(post: Post): string[] {
  return post.audienceOwnerId && post.audienceOwnerId !== post.authorId
    ? [post.authorId, post.audienceOwnerId]
    : [post.authorId];
}

/** `who` as it stands for `post`: a host, without the actors blocked by the post's blockers. */
function whoFor(who: Who, post: Post): Who {
  return "host" in who ? { host: who.host, notBlockedBy: blockersOf(post) } : who;
}

async function grantAllows(grant: Grant, post: Post, facts: VisibilityFacts): Promise<boolean> {
  if ("who" in grant) grant = { ...grant, who: whoFor(grant.who, post) };
  switch (grant.kind) {
    case "audience":
      return grant.audiences.includes(post.audience);
    case "author":
      return post.authorId === grant.actorId || post.audienceOwnerId === grant.actorId;
    case "member":
      return grant.audiences.includes(post.audience) && (await facts.isActiveMember(grant.actorId));
    case "follower":
      return (
        grant.audiences.includes(post.audience) &&
        (await facts.isApprovedFollower(grant.who, post.audienceOwnerId ?? post.authorId))
      );
    case "circle":
      return (
        post.audience === "circle" &&
        post.circleId !== null &&
        (await facts.circleHolds(post.circleId, grant.who))
      );
    case "recipient":
      return (
        grant.audiences.includes(post.audience) && (await facts.isRecipient(post.id, grant.who))
      );
    case "friend":
      return (
        post.audience === "friends" &&
        (await facts.isFriend(grant.who, post.audienceOwnerId ?? post.authorId))
      );
    case "followed":
      return (
        grant.audiences.includes(post.audience) &&
        grant.ownerIds.includes(post.audienceOwnerId ?? post.authorId)
      );
    default: {
      const unreachable: never = grant;
      throw new Error(`unknown grant ${JSON.stringify(unreachable)}`);
    }
  }
}

const NO_POST_ID = "00000000-0000-0000-0000-000000000000";

/**
 * Whether `viewer` may see a part of `ownerId`'s profile (a field, the bio,
 * the follower lists) or use a permission (reply, like, boost) given to
 * `ref`. Built on `canView`: the part is judged exactly like a post of the
 * owner addressed to that audience, so the two can never disagree.
 */
export async function canSeePart(
  viewer: Viewer,
  ownerId: string,
  ref: AudienceRef,
  facts: VisibilityFacts,
): Promise<boolean> {
  return (
    partWithoutLookups(viewer, ownerId, ref) ?? canView(viewer, partAsPost(ownerId, ref), facts)
  );
}

/** The stages of `canSeePart` that need no lookup; `null` when the rules must be asked. */
function partWithoutLookups(viewer: Viewer, ownerId: string, ref: AudienceRef): boolean | null {
  // The owner always sees their own profile.
  if (viewerActorOf(viewer) === ownerId) return true;
  // Everyone / nobody need no relationship lookups.
  if (ref.audience === "public") return true;
  if (ref.audience === "nobody") return false;
  return null;
}

/** A part of a profile (or a permission) to judge: `ref`, given by `ownerId`. */
export interface PartQuestion {
  ownerId: string;
  ref: AudienceRef;
}

/**
 * `canSeePart` for many parts at once (the parts of every author on a page):
 * the same stages, then every part that needs the rules judged as a post of
 * its owner by the list filter, in one query (`VisibilityFacts.visibleAmong`).
 * The answers come in the order of `parts`.
 */
export async function canSeeParts(
  viewer: Viewer,
  parts: readonly PartQuestion[],
  facts: VisibilityFacts,
): Promise<boolean[]> {
  const answers = parts.map((p) => partWithoutLookups(viewer, p.ownerId, p.ref));
  // Each distinct question is asked once.
  const keyOf = (p: PartQuestion) => `${p.ownerId} ${p.ref.audience} ${p.ref.circleId ?? ""}`;
  const asked = new Map<string, number>();
  const questions: Post[] = [];
  parts.forEach((p, i) => {
    if (answers[i] !== null || asked.has(keyOf(p))) return;
    asked.set(keyOf(p), questions.length);
    questions.push(partAsPost(p.ownerId, p.ref));
  });
  const seen =
    questions.length > 0
      ? await facts.visibleAmong(questions, visibilityFilter(viewer))
      : new Set<number>();
  return parts.map((p, i) => answers[i] ?? seen.has(asked.get(keyOf(p)) ?? -1));
}

function partAsPost(ownerId: string, ref: AudienceRef): Post {
  return {
    id: NO_POST_ID,
    authorId: ownerId,
    uri: null,
    url: null,
    audience: ref.audience as Audience,
    circleId: ref.circleId ?? null,
    audienceOwnerId: null,
    inReplyToId: null,
    inReplyToUri: null,
    contentType: "text/plain",
    source: "",
    contentHtml: "",
    spoilerText: "",
    sensitive: false,
    language: null,
    createdAt: new Date(0),
    editedAt: null,
    deletedAt: null,
    interactionPolicy: { reply: ref, like: ref, boost: ref },
  };
}

/**
 * The audience that really holds a permission of `post`: boosts are only of
 * posts open to everyone (a boost would show a restricted post to the
 * booster's followers), so on any other post nobody but the author may boost.
 */
export function effectivePermission(post: Post, kind: keyof InteractionPolicy): AudienceRef {
  if (kind === "boost" && !OPEN.includes(post.audience)) return { audience: "nobody" };
  return post.interactionPolicy[kind];
}

/** Whether `viewer` may reply to, like or boost `post` (it must also be able to see it). */
export async function mayInteract(
  viewer: Viewer,
  post: Post,
  kind: keyof InteractionPolicy,
  facts: VisibilityFacts,
): Promise<boolean> {
  if (!(await canView(viewer, post, facts))) return false;
  // A block either way ends the conversation: someone the author blocks may
  // still read a public post, but not answer, like or boost it, and nobody
  // answers an author they block themselves.
  const actor = viewerActorOf(viewer);
  if (
    actor !== null &&
    actor !== post.authorId &&
    ((await facts.blocks(post.authorId, actor)) || (await facts.blocks(actor, post.authorId)))
  )
    return false;
  return canSeePart(viewer, post.authorId, effectivePermission(post, kind), facts);
}

/**
 * Whether a post may leave this server at all. Clique-only posts never go
 * over ActivityPub: they are neither sent nor served, whoever asks.
 */
export function federates(post: Pick<Post, "audience">): boolean {
  return post.audience !== "clique";
}

/**
 * Whether a profile part (or permission) given to `ref` is open to everyone:
 * the anonymous viewer's grants allow it without asking about anyone. The
 * actor document, which every server caches, carries only such parts.
 */
export function isOpenToEveryone(ref: AudienceRef): boolean {
  if (ref.audience === "nobody") return false;
  return grantsFor(ANONYMOUS).some(
    (g) => g.kind === "audience" && g.audiences.includes(ref.audience as Audience),
  );
}

// How far each audience reaches; a reply may not reach further than its parent.
const REACH: Record<Audience, number> = {
  direct: 0,
  circle: 1,
  friends: 1,
  followers: 2,
  clique: 2,
  unlisted: 3,
  public: 3,
};

/**
 * Whether a reply would reach people who cannot see its parent: a wider
 * audience, or a different restricted one (another circle, the replier's own
 * followers...). Direct replies name their readers and never count as widening.
 */
export function widens(
  parent: Pick<Post, "audience" | "circleId" | "authorId" | "audienceOwnerId">,
  reply: Pick<Post, "audience" | "circleId" | "authorId" | "audienceOwnerId">,
): boolean {
  if (reply.audience === "direct") return false;
  if (OPEN.includes(parent.audience)) return false;
  if (REACH[reply.audience] > REACH[parent.audience]) return true;
  if (reply.audience !== parent.audience) return true;
  if (reply.audience === "circle") return reply.circleId !== parent.circleId;
  // Followers or friends of someone else are other people.
  if (reply.audience === "followers" || reply.audience === "friends")
    return (
      (reply.audienceOwnerId ?? reply.authorId) !== (parent.audienceOwnerId ?? parent.authorId)
    );
  return false;
}

/** The audience a reply ends up with. */
export interface ReplyAudience {
  audience: Audience;
  circleId: string | null;
  /** Set when the reply borrowed its parent's audience: the parent's audience owner. */
  audienceOwnerId: string | null;
  /** Whether the reply also goes to whoever the parent was addressed to (and its author). */
  addressParent: boolean;
}

/**
 * The one rule for the audience of a reply, local or remote.
 *
 * - Nothing chosen: the reply takes its parent's audience.
 * - A choice that reaches no one who cannot see the parent: kept.
 * - A wider choice: `onWider` decides. `"refuse"` (Clique's own clients, which
 *   can ask the author to confirm), `"allow"` (the author confirmed), or
 *   `"narrow"` (Mastodon clients, which cannot confirm, and replies from other
 *   servers): the reply takes its parent's audience, so nothing leaks.
 *
 * Taking the parent's audience means borrowing it: the reply is seen by
 * whoever may see the parent, and by the parent's author.
 */
export function replyAudience(
  parent: Post,
  chosen: { audience?: Audience | undefined; circleId?: string | null | undefined },
  replierId: string,
  onWider: "refuse" | "allow" | "narrow",
): ReplyAudience | "audience_wider_than_parent" {
  const borrowed = (): ReplyAudience => ({
    audience: parent.audience,
    circleId: parent.audience === "circle" ? parent.circleId : null,
    // Open audiences belong to nobody; a restricted one stays its owner's.
    audienceOwnerId: OPEN.includes(parent.audience)
      ? null
      : (parent.audienceOwnerId ?? parent.authorId),
    addressParent: parent.audience === "direct" || parent.audience === "followers",
  });
  if (chosen.audience === undefined) return borrowed();
  const reply = {
    audience: chosen.audience,
    circleId: chosen.audience === "circle" ? (chosen.circleId ?? null) : null,
    authorId: replierId,
    audienceOwnerId: null,
  };
  if (!widens(parent, reply) || onWider === "allow")
    return { ...reply, audienceOwnerId: null, addressParent: false };
  if (onWider === "refuse") return "audience_wider_than_parent";
  return borrowed();
}

/**
 * Whether `viewer` may see a photo or video: whoever may see the post it is
 * attached to; before it is attached, only the member who uploaded it.
 * `post` is the post it is attached to (`null` when there is none).
 */
export async function canViewMedia(
  viewer: Viewer,
  media: Pick<Media, "ownerId" | "postId">,
  post: Post | null,
  facts: VisibilityFacts,
): Promise<boolean> {
  if (media.postId === null) return viewerActorOf(viewer) === media.ownerId;
  if (post === null || post.id !== media.postId) return false;
  return canView(viewer, post, facts);
}

/** Whether a post's media may be served to anyone, as public static files. */
export function isOpenPost(post: Pick<Post, "audience">): boolean {
  return OPEN.includes(post.audience);
}

/** Whether `viewer` may see the Clique's member list, given who it is shown to. */
export function canSeeMemberList(viewer: Viewer, audience: "public" | "clique" | "staff"): boolean {
  // Staff always see it (the permission table says who they are); they run the Clique.
  if (viewer.kind === "member" && mayTake(viewer.role, "member.list_all")) return true;
  if (audience === "public") return true;
  // Remote viewers and anonymous ones are never "the Clique".
  return (
    audience === "clique" &&
    (viewer.kind === "member" || (viewer.kind === "hypothetical" && viewer.member))
  );
}
