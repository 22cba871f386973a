/**
 * What Mastodon apps read at start-up, as Clique keeps it: read positions
 * (markers), the Clique's announcements, and members' direct conversations.
 */

/** The timelines a read position is kept for. */
export const MARKER_TIMELINES = ["home", "notifications"] as const;
/** A timeline a read position is kept for. */
export type MarkerTimeline = (typeof MARKER_TIMELINES)[number];

/** Where a member stopped reading a timeline. */
export interface Marker {
  timeline: MarkerTimeline;
  /** The id of the last item read (a post's or a notification's). */
  lastReadId: string;
  /** Counts the saves, so that apps can tell whose save is newer. */
  version: number;
  updatedAt: Date;
}

/** Something the Clique's admins tell every member. */
export interface Announcement {
  id: string;
  /** What the admin wrote (plain text). */
  text: string;
  /** `text` as HTML (escaped, links and line breaks). */
  contentHtml: string;
  startsAt: Date | null;
  endsAt: Date | null;
  allDay: boolean;
  createdBy: string | null;
  publishedAt: Date;
  updatedAt: Date;
}

/** An announcement as one member sees it. */
export interface MemberAnnouncement extends Announcement {
  /** Whether this member dismissed it. */
  read: boolean;
}

/** A member's read state of one direct conversation. */
export interface ConversationState {
  conversationId: string;
  /** The newest post they read (`null`: none marked). */
  readUpTo: string | null;
  /** Hidden up to this post: a newer post brings the conversation back. */
  hiddenUpTo: string | null;
}
