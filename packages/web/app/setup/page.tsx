import type { Metadata } from "next";
import { JoinSetupForm } from "../../components/join-setup-form";
import { apiGet } from "../../lib/api";
import { single } from "../../lib/params";

export const metadata: Metadata = { title: "Set up your Clique" };

/** First run: the owner names the Clique and makes their account, with the token from the server's log. */
export default async function SetupPage({
  searchParams,
}: {
  searchParams: Promise<{ token?: string }>;
}) {
  const { token } = await single(searchParams);
  const setup = await apiGet<{ needed: boolean }>("/api/v1/clique/setup");
  if (!setup.ok) {
    return (
      <div className="narrow card stack">
        <h1>Set up your Clique</h1>
        <p className="error" role="alert">
          The server did not answer. Please reload this page in a moment.
        </p>
      </div>
    );
  }
  if (!setup.data.needed) {
    return (
      <div className="narrow card stack">
        <h1>This Clique is set up</h1>
        <p>Everything is ready. Members sign in with their username and password.</p>
        <p>
          <a className="button" href="/signin">
            Go to sign in
          </a>
        </p>
      </div>
    );
  }
  const trimmed = token?.trim() ?? "";
  return (
    <div className="narrow card stack">
      <h1>Set up your Clique</h1>
      {trimmed ? (
        <>
          <p>
            Give your Clique a name and make the owner's account: that is you. You can change the
            name, description and member limit later.
          </p>
          <JoinSetupForm token={trimmed} />
        </>
      ) : (
        <div className="stack">
          <p className="error" role="alert">
            This page needs the setup link with its secret code.
          </p>
          <p>
            When the server starts for the first time, it prints a line like{" "}
            <code>Set up this Clique at …/setup?token=…</code> in its log. Open that exact link
            (copy all of it) to continue. Only someone who can read the server's log can set it up.
          </p>
        </div>
      )}
    </div>
  );
}
