import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { type MemberEntry, memberName, type Role } from "../../components/members-format";
import { type InviteEntry, MembersInvites } from "../../components/members-invites";
import { MembersRoster } from "../../components/members-roster";
import { apiGet, currentAccount } from "../../lib/api";
import type { CliqueInfo } from "../../lib/types";

export const metadata: Metadata = { title: "Members" };

const MANAGERS = new Set(["owner", "admin"]);

export default async function MembersPage() {
  const account = await currentAccount();
  if (!account) redirect("/signin?return_to=/members");
  const role = (account.clique_role ?? "member") as Role;
  if (!MANAGERS.has(role)) {
    return (
      <div className="narrow card">
        <h1>Members</h1>
        <p>Only the Clique&apos;s owner and admins manage members.</p>
      </div>
    );
  }
  const [clique, members, invites] = await Promise.all([
    apiGet<CliqueInfo>("/api/v1/clique"),
    apiGet<MemberEntry[]>("/api/v1/clique/members"),
    apiGet<InviteEntry[]>("/api/v1/clique/invites"),
  ]);
  if (!members.ok && (members.status === 403 || members.status === 404)) {
    return (
      <div className="narrow card">
        <h1>Members</h1>
        <p>Only the Clique&apos;s owner and admins manage members.</p>
      </div>
    );
  }
  const list = members.ok ? members.data : [];
  const names = Object.fromEntries(list.map((m) => [m.id, memberName(m)]));
  return (
    <div className="members-page">
      <h1>Members</h1>
      {clique.ok ? (
        <section className="card" aria-labelledby="seats-heading">
          <h2 id="seats-heading">Seats</h2>
          <p id="seats-text">
            {clique.data.members} of {clique.data.member_cap} seats used
            {clique.data.members >= clique.data.member_cap
              ? ": the Clique is full. New people can join once someone leaves or the owner raises the limit."
              : `: room for ${clique.data.member_cap - clique.data.members} more.`}
          </p>
          <progress
            value={Math.min(clique.data.members, clique.data.member_cap)}
            max={clique.data.member_cap}
            aria-labelledby="seats-text"
          />
        </section>
      ) : null}
      <section aria-labelledby="members-heading">
        <h2 id="members-heading">Everyone in the Clique</h2>
        {members.ok ? (
          <MembersRoster viewer={{ id: account.id, role }} members={list} />
        ) : (
          <p className="error" role="alert">
            The member list could not be loaded (the server answered {members.status}).
          </p>
        )}
      </section>
      <section aria-labelledby="invites-heading">
        <h2 id="invites-heading">Invites</h2>
        <p className="muted">
          An invite is a link that lets someone create an account here. Each person who joins takes
          a seat.
        </p>
        {invites.ok ? (
          <MembersInvites initial={invites.data} names={names} />
        ) : (
          <p className="error" role="alert">
            The invites could not be loaded (the server answered {invites.status}).
          </p>
        )}
      </section>
    </div>
  );
}
