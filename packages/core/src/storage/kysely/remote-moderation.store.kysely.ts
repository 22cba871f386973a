import { type Kysely, type Selectable, sql } from "kysely";
import type {
  ActorSanction,
  ActorSanctionKind,
  DomainBlock,
} from "../../domain/remote-moderation.ts";
import type {
  PurgeCounts,
  RemoteModerationSnapshot,
  RemoteModerationStore,
} from "../../stores/stores.ts";
import type { Database, RemoteActorSanctionsTable, RemoteDomainBlocksTable } from "./schema.ts";

/**
 * The channel every process listens on to forget its cached decisions
 * (`RemoteStanding`); a notification is delivered only when its transaction commits.
 */
export const REMOTE_MODERATION_CHANNEL = "clique_remote_moderation";

function toBlock(row: Selectable<RemoteDomainBlocksTable>): DomainBlock {
  return {
    id: row.id,
    domain: row.domain,
    severity: row.severity,
    reason: row.reason,
    publicComment: row.public_comment,
    createdBy: row.created_by,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

function toSanction(row: Selectable<RemoteActorSanctionsTable>): ActorSanction {
  return {
    actorId: row.actor_id,
    kind: row.kind,
    reason: row.reason,
    createdBy: row.created_by,
    createdAt: new Date(row.created_at),
  };
}

export class KyselyRemoteModerationStore implements RemoteModerationStore {
  private readonly db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  /** Tells every process to read the decisions again, once this commits. */
  private async changed(): Promise<void> {
    await sql`select pg_notify(${REMOTE_MODERATION_CHANNEL}, '')`.execute(this.db);
  }

  async listDomains(): Promise<DomainBlock[]> {
    const rows = await this.db
      .selectFrom("remote_domain_blocks")
      .selectAll()
      .orderBy("domain")
      .execute();
    return rows.map(toBlock);
  }

  async getDomain(id: string): Promise<DomainBlock | null> {
    const row = await this.db
      .selectFrom("remote_domain_blocks")
      .selectAll()
      .where("id", "=", id)
      .executeTakeFirst();
    return row ? toBlock(row) : null;
  }

  async getDomainByName(domain: string): Promise<DomainBlock | null> {
    const row = await this.db
      .selectFrom("remote_domain_blocks")
      .selectAll()
      .where("domain", "=", domain)
      .executeTakeFirst();
    return row ? toBlock(row) : null;
  }

  async saveDomain(block: DomainBlock): Promise<DomainBlock> {
    const row = await this.db
      .insertInto("remote_domain_blocks")
      .values({
        id: block.id,
        domain: block.domain,
        severity: block.severity,
        reason: block.reason,
        public_comment: block.publicComment,
        created_by: block.createdBy,
        created_at: block.createdAt,
        updated_at: block.updatedAt,
      })
      .onConflict((oc) =>
        oc.column("domain").doUpdateSet((eb) => ({
          severity: eb.ref("excluded.severity"),
          reason: eb.ref("excluded.reason"),
          public_comment: eb.ref("excluded.public_comment"),
          updated_at: eb.ref("excluded.updated_at"),
        })),
      )
      .returningAll()
      .executeTakeFirstOrThrow();
    await this.changed();
    return toBlock(row);
  }

  async deleteDomain(domain: string): Promise<DomainBlock | null> {
    const row = await this.db
      .deleteFrom("remote_domain_blocks")
      .where("domain", "=", domain)
      .returningAll()
      .executeTakeFirst();
    if (row) await this.changed();
    return row ? toBlock(row) : null;
  }

  async actorIdsOnDomain(domain: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom("actors")
      .select("id")
      .where("kind", "=", "remote")
      .where(sql<boolean>`clique_domain_covers(${domain}, host)`)
      .execute();
    return rows.map((r) => r.id);
  }

  async listSanctions(): Promise<ActorSanction[]> {
    const rows = await this.db
      .selectFrom("remote_actor_sanctions")
      .selectAll()
      .orderBy("created_at", "desc")
      .execute();
    return rows.map(toSanction);
  }

  async sanctionsOf(actorId: string): Promise<ActorSanction[]> {
    const rows = await this.db
      .selectFrom("remote_actor_sanctions")
      .selectAll()
      .where("actor_id", "=", actorId)
      .execute();
    return rows.map(toSanction);
  }

  async addSanction(s: ActorSanction): Promise<boolean> {
    const res = await this.db
      .insertInto("remote_actor_sanctions")
      .values({
        actor_id: s.actorId,
        kind: s.kind,
        reason: s.reason,
        created_by: s.createdBy,
        created_at: s.createdAt,
      })
      .onConflict((oc) => oc.columns(["actor_id", "kind"]).doNothing())
      .executeTakeFirst();
    const written = Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
    if (written) await this.changed();
    return written;
  }

  async removeSanction(actorId: string, kind: ActorSanctionKind): Promise<boolean> {
    const res = await this.db
      .deleteFrom("remote_actor_sanctions")
      .where("actor_id", "=", actorId)
      .where("kind", "=", kind)
      .executeTakeFirst();
    const removed = Number(res.numDeletedRows) > 0;
    if (removed) await this.changed();
    return removed;
  }

  async snapshot(): Promise<RemoteModerationSnapshot> {
    const [domains, sanctions] = await Promise.all([
      this.db.selectFrom("remote_domain_blocks").select(["domain", "severity"]).execute(),
      this.db
        .selectFrom("remote_actor_sanctions as s")
        .innerJoin("actors as a", "a.id", "s.actor_id")
        .select(["s.actor_id as actorId", "a.uri as uri", "s.kind as kind"])
        .execute(),
    ]);
    return { domains, sanctions };
  }

  async purgeActors(actorIds: readonly string[]): Promise<PurgeCounts> {
    if (actorIds.length === 0) return { posts: 0, follows: 0, interactions: 0 };
    const ids = [...actorIds];
    // Their likes and boosts of anyone's posts (those on their own posts go with the posts).
    const interactions = await this.db
      .deleteFrom("post_interactions")
      .where("actor_id", "in", ids)
      .executeTakeFirst();
    const follows = await this.db
      .deleteFrom("follows")
      .where((eb) => eb.or([eb("follower_id", "in", ids), eb("followee_id", "in", ids)]))
      .executeTakeFirst();
    // Their posts, with what hangs on them (edits, tags, mentions, recipients,
    // interactions, deliveries); replies to them keep their text and lose the thread.
    const posts = await this.db
      .deleteFrom("posts")
      .where("author_id", "in", ids)
      .executeTakeFirst();
    return {
      posts: Number(posts.numDeletedRows),
      follows: Number(follows.numDeletedRows),
      interactions: Number(interactions.numDeletedRows),
    };
  }
}
