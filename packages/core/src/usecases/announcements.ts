import type { Deps } from "../deps.ts";
import type { Announcement, MemberAnnouncement } from "../domain/timelines.ts";
import type { Member } from "../domain/types.ts";
import { fail, ok, type Result } from "../errors.ts";
import { isId, newId } from "../ids.ts";
import { mayTake } from "../permissions/permissions.ts";
import { escapeHtml } from "../text/linkify.ts";

/** What an admin writes. */
export interface AnnouncementInput {
  text: string;
  startsAt?: Date | null;
  endsAt?: Date | null;
  allDay?: boolean;
}

/** Why an announcement is refused. */
export type AnnouncementProblem = "not_allowed" | "not_found" | "empty_announcement";

/** Longest announcement text. */
export const MAX_ANNOUNCEMENT_LENGTH = 5000;

/** Plain text as announcement HTML: escaped, paragraphs and line breaks kept. */
function toHtml(text: string): string {
  return text
    .trim()
    .split(/\n{2,}/)
    .map((p) => `<p>${escapeHtml(p).replace(/\n/g, "<br>")}</p>`)
    .join("");
}

/** An admin (the permission table's `announcement.manage`) tells every member something. */
export async function createAnnouncement(
  deps: Deps,
  by: Member,
  input: AnnouncementInput,
): Promise<Result<Announcement, AnnouncementProblem>> {
  if (!mayTake(by.role, "announcement.manage")) return fail("not_allowed");
  if (input.text.trim() === "") return fail("empty_announcement");
  const now = deps.now();
  const announcement: Announcement = {
    id: newId(),
    text: input.text.trim(),
    contentHtml: toHtml(input.text),
    startsAt: input.startsAt ?? null,
    endsAt: input.endsAt ?? null,
    allDay: input.allDay ?? false,
    createdBy: by.id,
    publishedAt: now,
    updatedAt: now,
  };
  await deps.stores.announcements.create(announcement);
  return ok(announcement);
}

/** An admin edits an announcement. */
export async function updateAnnouncement(
  deps: Deps,
  by: Member,
  id: string,
  input: Partial<AnnouncementInput>,
): Promise<Result<Announcement, AnnouncementProblem>> {
  if (!mayTake(by.role, "announcement.manage")) return fail("not_allowed");
  if (!isId(id)) return fail("not_found");
  if (input.text !== undefined && input.text.trim() === "") return fail("empty_announcement");
  return deps.stores.transaction(async (tx) => {
    if (!(await tx.announcements.getById(id))) return fail("not_found");
    await tx.announcements.update(id, {
      ...(input.text !== undefined
        ? { text: input.text.trim(), contentHtml: toHtml(input.text) }
        : {}),
      ...(input.startsAt !== undefined ? { startsAt: input.startsAt } : {}),
      ...(input.endsAt !== undefined ? { endsAt: input.endsAt } : {}),
      ...(input.allDay !== undefined ? { allDay: input.allDay } : {}),
      updatedAt: deps.now(),
    });
    const updated = await tx.announcements.getById(id);
    return updated ? ok(updated) : fail("not_found");
  });
}

/** An admin deletes an announcement (and who dismissed it with it). */
export async function deleteAnnouncement(
  deps: Deps,
  by: Member,
  id: string,
): Promise<Result<true, AnnouncementProblem>> {
  if (!mayTake(by.role, "announcement.manage")) return fail("not_allowed");
  if (!isId(id) || !(await deps.stores.announcements.delete(id))) return fail("not_found");
  return ok(true);
}

/** The Clique's announcements for a member, newest first; dismissed ones only when asked. */
export async function listAnnouncements(
  deps: Deps,
  member: Member,
  options: { withDismissed?: boolean } = {},
): Promise<MemberAnnouncement[]> {
  const all = await deps.stores.announcements.list(member.id);
  return options.withDismissed ? all : all.filter((a) => !a.read);
}

/** A member marks an announcement read. */
export async function dismissAnnouncement(
  deps: Deps,
  member: Member,
  id: string,
): Promise<Result<true, "not_found">> {
  if (!isId(id) || !(await deps.stores.announcements.getById(id))) return fail("not_found");
  await deps.stores.announcements.dismiss(id, member.id, deps.now());
  return ok(true);
}
