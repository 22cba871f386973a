/** The parts of Clique's Mastodon-shaped API that the pages read. */

export type Audience =
  | "public"
  | "unlisted"
  | "followers"
  | "friends"
  | "clique"
  | "circle"
  | "direct";

export interface Account {
  id: string;
  username: string;
  acct: string;
  display_name: string;
  note: string;
  url: string;
  avatar: string;
  header: string;
  locked: boolean;
  bot: boolean;
  created_at: string;
  followers_count: number;
  following_count: number;
  statuses_count: number;
  fields: { name: string; value: string; verified_at: string | null }[];
  suspended?: boolean;
  clique_role?: "owner" | "admin" | "moderator" | "member";
}

export interface CredentialAccount extends Account {
  source: {
    privacy: string;
    audience: Audience;
    note: string;
    fields: {
      name: string;
      value: string;
      audience: string;
      circle_id: string | null;
    }[];
    bio_audience: string;
    follows_audience: string;
  };
}

export interface MediaAttachment {
  id: string;
  type: "image" | "video" | "gifv" | "audio" | "unknown";
  url: string | null;
  preview_url: string | null;
  description: string | null;
  blurhash: string | null;
  meta?: { original?: { width?: number; height?: number } } | null;
}

export interface Status {
  id: string;
  created_at: string;
  in_reply_to_id: string | null;
  sensitive: boolean;
  spoiler_text: string;
  visibility: string;
  uri: string;
  url: string;
  replies_count: number;
  reblogs_count: number;
  favourites_count: number;
  favourited: boolean;
  reblogged: boolean;
  bookmarked: boolean;
  pinned: boolean;
  content: string;
  reblog: Status | null;
  account: Account;
  media_attachments: MediaAttachment[];
  mentions: { id: string; username: string; acct: string; url: string }[];
  audience?: Audience;
  circle_id?: string | null;
  edited_at: string | null;
}

export interface Notification {
  id: string;
  type: string;
  created_at: string;
  account: Account;
  status?: Status | null;
}

export interface CliqueInfo {
  name: string;
  description: string;
  member_cap: number;
  members: number;
  members_can_invite: boolean;
}

export interface Circle {
  id: string;
  name: string;
  member_ids: string[];
  created_at: string;
}
