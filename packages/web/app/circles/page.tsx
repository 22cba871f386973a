import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { CircleManager } from "../../components/circle-manager";
import { apiGet, currentAccount } from "../../lib/api";
import type { Account, Circle } from "../../lib/types";

export const metadata: Metadata = { title: "Circles" };

export default async function CirclesPage() {
  const viewer = await currentAccount();
  if (!viewer) redirect("/signin?return_to=/circles");
  const [circles, members] = await Promise.all([
    apiGet<Circle[]>("/api/v1/clique/circles"),
    apiGet<(Account & { status?: string })[]>("/api/v1/clique/members"),
  ]);
  if (!circles.ok) {
    return (
      <div className="narrow">
        <h1>Circles</h1>
        <p className="error" role="alert">
          Your circles could not be loaded (the server answered {circles.status}). Please try again.
        </p>
      </div>
    );
  }
  // Members of the Clique to pick from (not oneself), and every account already in a circle.
  const clique = members.ok
    ? members.data.filter((m) => m.id !== viewer.id && (m.status ?? "active") === "active")
    : [];
  const known = new Map(clique.map((m) => [m.id, m as Account]));
  const missing = [...new Set(circles.data.flatMap((c) => c.member_ids))].filter(
    (id) => !known.has(id),
  );
  const others = await Promise.all(missing.map((id) => apiGet<Account>(`/api/v1/accounts/${id}`)));
  for (const result of others) if (result.ok) known.set(result.data.id, result.data);

  return (
    <div className="narrow">
      <h1>Circles</h1>
      <p className="muted">
        A circle is a small group of people you choose, like “Close family”. You can share a post
        with just one circle. Only you see your circles and who is in them.
      </p>
      <CircleManager
        initialCircles={circles.data}
        members={clique}
        accounts={Object.fromEntries(known)}
      />
    </div>
  );
}
