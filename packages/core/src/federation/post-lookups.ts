/**
 * What turning local posts into ActivityPub objects looks up, asked once for
 * a whole page of posts: their mentions, hashtags and media in one query each
 * (and the mentioned actors in one more), each parent post and its author
 * once, each author's blocks once. The addressing (`addressingFor`) and the
 * `Note` (`noteBuilder`) of a post share one set, so nothing is read twice.
 */
import type { Deps } from "../deps.ts";
import type { Actor, Media, Post } from "../domain/types.ts";

/** A post's parent and its author, as far as they are stored. */
export interface ParentOf {
  post: Post;
  author: Actor | null;
}

/** Lookups for a set of posts, each made once (see the module comment). */
export interface PostLookups {
  /** The actors a post mentions, in the order they were mentioned. */
  mentioned(post: Post): Promise<Actor[]>;
  /** The post a post answers, if it is stored. */
  parent(post: Post): Promise<ParentOf | null>;
  /** Whom an actor blocks (ids). */
  blockedBy(actorId: string): Promise<Set<string>>;
  /** A post's hashtags (names). */
  hashtags(post: Post): Promise<string[]>;
  /** A post's media. */
  media(post: Post): Promise<Media[]>;
}

/**
 * Lookups for `posts`: the batched ones (mentions, hashtags, media) cover
 * every post given here; a post not among them is looked up on its own.
 */
export function postLookups(deps: Deps, posts: readonly Post[]): PostLookups {
  const ids = [...new Set(posts.map((p) => p.id))];
  const covered = new Set(ids);
  const once = <T>(load: () => Promise<T>): (() => Promise<T>) => {
    let pending: Promise<T> | null = null;
    return () => {
      pending ??= load();
      return pending;
    };
  };
  const keyed = <T>(load: (key: string) => Promise<T>): ((key: string) => Promise<T>) => {
    const kept = new Map<string, Promise<T>>();
    return (key) => {
      let pending = kept.get(key);
      if (!pending) {
        pending = load(key);
        kept.set(key, pending);
      }
      return pending;
    };
  };

  const mentions = once(async () => {
    const byPost = await deps.stores.posts.mentionsOf(ids);
    const actors = await deps.stores.actors.getByIds([...new Set([...byPost.values()].flat())]);
    return { byPost, actors: new Map(actors.map((a) => [a.id, a])) };
  });
  const hashtags = once(() => deps.stores.posts.hashtagsOf(ids));
  const media = once(() => deps.stores.media.listByPosts(ids));
  const post = keyed((id) => deps.stores.posts.getById(id));
  const actor = keyed((id) => deps.stores.actors.getById(id));
  const blocks = keyed(async (id) => new Set(await deps.stores.blocks.list(id)));

  return {
    async mentioned(p) {
      if (!covered.has(p.id)) return postLookups(deps, [p]).mentioned(p);
      const { byPost, actors } = await mentions();
      const named = [...new Set(byPost.get(p.id) ?? [])];
      return named.map((id) => actors.get(id)).filter((a): a is Actor => a !== undefined);
    },
    async parent(p) {
      if (!p.inReplyToId) return null;
      const parent = await post(p.inReplyToId);
      return parent ? { post: parent, author: await actor(parent.authorId) } : null;
    },
    blockedBy: (actorId) => blocks(actorId),
    async hashtags(p) {
      if (!covered.has(p.id)) return postLookups(deps, [p]).hashtags(p);
      return (await hashtags()).get(p.id) ?? [];
    },
    async media(p) {
      if (!covered.has(p.id)) return postLookups(deps, [p]).media(p);
      return (await media()).get(p.id) ?? [];
    },
  };
}
