/** Database rows to domain objects: the only place that knows both shapes. */
import type { Selectable } from "kysely";
import type {
  AccessToken,
  Actor,
  Follow,
  Invite,
  Member,
  Post,
  PostEdit,
} from "../../domain/types.ts";
import { OPEN_INTERACTIONS, type PartAudience } from "../../domain/types.ts";
import type {
  AccessTokensTable,
  ActorsTable,
  FollowsTable,
  InvitesTable,
  MembersTable,
  PostEditsTable,
  PostsTable,
} from "./schema.ts";

/** Columns selected for a member: its actor row joined with its member row. */
export type MemberRow = Selectable<MembersTable> &
  Pick<
    Selectable<ActorsTable>,
    | "username"
    | "display_name"
    | "summary_html"
    | "manually_approves_followers"
    | "created_at"
    | "avatar"
    | "header"
  >;

export function toActor(row: Selectable<ActorsTable>): Actor {
  return {
    id: row.id,
    kind: row.kind,
    username: row.username,
    host: row.host,
    displayName: row.display_name,
    summaryHtml: row.summary_html,
    uri: row.uri,
    url: row.url,
    inboxUrl: row.inbox_url,
    sharedInboxUrl: row.shared_inbox_url,
    followersUrl: row.followers_url,
    type: row.type,
    manuallyApprovesFollowers: row.manually_approves_followers,
    createdAt: new Date(row.created_at),
    fetchedAt: row.fetched_at ? new Date(row.fetched_at) : null,
    avatar: row.avatar ?? null,
    header: row.header ?? null,
    originSuspendedAt: row.origin_suspended_at ? new Date(row.origin_suspended_at) : null,
  };
}

export function toMember(row: MemberRow): Member {
  return {
    id: row.id,
    username: row.username,
    displayName: row.display_name,
    bio: row.bio,
    bioHtml: row.summary_html,
    fields: row.fields,
    role: row.role,
    status: row.status,
    manuallyApprovesFollowers: row.manually_approves_followers,
    discoverable: row.discoverable,
    showFollows: row.show_follows,
    bioAudience: { audience: row.bio_audience as PartAudience, circleId: row.bio_circle_id },
    followsAudience: {
      audience: row.follows_audience as PartAudience,
      circleId: row.follows_circle_id,
    },
    defaultAudience: row.default_audience as Member["defaultAudience"],
    avatar: row.avatar ?? null,
    header: row.header ?? null,
    suspendedUntil: row.suspended_until ? new Date(row.suspended_until) : null,
    createdAt: new Date(row.created_at),
  };
}

export function toInvite(row: Selectable<InvitesTable>): Invite {
  return {
    id: row.id,
    codeHint: row.code_hint,
    createdBy: row.created_by,
    maxUses: row.max_uses,
    uses: row.uses,
    expiresAt: row.expires_at ? new Date(row.expires_at) : null,
    revokedAt: row.revoked_at ? new Date(row.revoked_at) : null,
    createdAt: new Date(row.created_at),
  };
}

export function toAccessToken(row: Selectable<AccessTokensTable>): AccessToken {
  return {
    id: row.id,
    memberId: row.member_id,
    kind: row.kind,
    name: row.name,
    createdAt: new Date(row.created_at),
    lastUsedAt: row.last_used_at ? new Date(row.last_used_at) : null,
    // OAuth (issue 11).
    appId: row.app_id,
    scopes: row.scopes.split(" ").filter((s) => s.length > 0),
  };
}

export function toFollow(row: Selectable<FollowsTable>): Follow {
  return {
    id: row.id,
    followerId: row.follower_id,
    followeeId: row.followee_id,
    state: row.state,
    uri: row.uri,
    createdAt: new Date(row.created_at),
  };
}

export function toPost(row: Selectable<PostsTable>): Post {
  return {
    id: row.id,
    authorId: row.author_id,
    uri: row.uri,
    url: row.url,
    audience: row.audience,
    circleId: row.circle_id,
    audienceOwnerId: row.audience_owner_id,
    inReplyToId: row.in_reply_to_id,
    inReplyToUri: row.in_reply_to_uri,
    contentType: row.content_type,
    source: row.source,
    contentHtml: row.content_html,
    spoilerText: row.spoiler_text,
    sensitive: row.sensitive,
    language: row.language,
    createdAt: new Date(row.created_at),
    editedAt: row.edited_at ? new Date(row.edited_at) : null,
    deletedAt: row.deleted_at ? new Date(row.deleted_at) : null,
    hiddenAt: row.hidden_at ? new Date(row.hidden_at) : null,
    interactionPolicy: row.interaction_policy ?? OPEN_INTERACTIONS,
  };
}

export function toPostEdit(row: Selectable<PostEditsTable>): PostEdit {
  return {
    id: row.id,
    postId: row.post_id,
    source: row.source,
    contentHtml: row.content_html,
    spoilerText: row.spoiler_text,
    sensitive: row.sensitive,
    createdAt: new Date(row.created_at),
  };
}
