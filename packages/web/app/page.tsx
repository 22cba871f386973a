import { redirect } from "next/navigation";
import { apiGet, currentAccount } from "../lib/api";
import type { CliqueInfo } from "../lib/types";

export default async function Landing() {
  const [account, clique] = await Promise.all([
    currentAccount(),
    apiGet<CliqueInfo>("/api/v1/clique"),
  ]);
  if (account) redirect("/home");
  if (!clique.ok) {
    return (
      <div className="narrow card stack">
        <h1>This Clique is not set up yet</h1>
        <p>
          The person running this server finishes setting it up with the link the server printed
          when it started (<code>/setup?token=…</code>), or on the server with{" "}
          <code>npx clique init --name "Our Clique" --owner yourname</code>.
        </p>
      </div>
    );
  }
  const { name, description, members, member_cap } = clique.data;
  return (
    <div className="narrow stack">
      <section className="card stack">
        <h1>{name}</h1>
        {description ? <p>{description}</p> : null}
        <p className="muted">
          A private social space for {members} of at most {member_cap} people. Joining is by
          invitation from a member.
        </p>
        <p className="row">
          <a className="button" href="/signin">
            Sign in
          </a>
        </p>
      </section>
    </div>
  );
}
