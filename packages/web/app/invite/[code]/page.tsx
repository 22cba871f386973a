import type { Metadata } from "next";
import { JoinInviteForm } from "../../../components/join-invite-form";
import { apiGet, currentAccount } from "../../../lib/api";
import { displayName, profileHref } from "../../../lib/format";
import { single } from "../../../lib/params";
import type { Account } from "../../../lib/types";

export const metadata: Metadata = { title: "You are invited" };

type InviteStatus = "valid" | "expired" | "used_up" | "revoked" | "full" | "unknown";

interface InvitePreview {
  clique: { name: string; description: string; member_cap: number; members: number };
  inviter: Account | null;
  seats_left: number;
  status: InviteStatus;
}

/** Why an invite cannot be used, in plain words. */
const CLOSED: Record<Exclude<InviteStatus, "valid">, { title: string; text: string }> = {
  expired: {
    title: "This invite has expired",
    text: "Invites only work for a limited time. Ask the person who sent it for a new link.",
  },
  used_up: {
    title: "This invite has been used up",
    text: "Everyone this invite was meant for has already joined with it. Ask the person who sent it for a new link.",
  },
  revoked: {
    title: "This invite was withdrawn",
    text: "The person who made it (or an admin) cancelled it. Ask them for a new link if you should still join.",
  },
  full: {
    title: "This Clique is full",
    text: "Every seat is taken, so nobody new can join right now. The person who invited you can ask the owner to make room.",
  },
  unknown: {
    title: "This invite link does not work",
    text: "The link may be incomplete or mistyped. Check that you copied all of it, or ask for a new one.",
  },
};

export default async function InvitePage({
  params,
  searchParams,
}: {
  params: Promise<{ code: string }>;
  searchParams: Promise<{ oidc?: string }>;
}) {
  const { code: raw } = await params;
  const { oidc: oidcReturn } = await single(searchParams);
  const code = safeDecode(raw);
  const [preview, account, oidc] = await Promise.all([
    apiGet<InvitePreview>(`/api/v1/clique/invites/preview?code=${encodeURIComponent(code)}`),
    currentAccount(),
    apiGet<{ enabled: boolean; name: string | null }>("/api/v1/clique/oidc"),
  ]);

  if (!preview.ok) {
    const reason = preview.status === 404 ? CLOSED.unknown : null;
    return (
      <div className="narrow card stack">
        <h1>{reason?.title ?? "This invite could not be opened"}</h1>
        <p role="alert">
          {reason?.text ??
            "The server did not answer as expected. Please reload the page in a moment."}
        </p>
      </div>
    );
  }

  const { clique, inviter, seats_left: seatsLeft, status } = preview.data;
  const sso = oidc.ok && oidc.data.enabled ? (oidc.data.name ?? "single sign-on") : null;
  return (
    <div className="narrow stack join-page">
      <section className="card stack" aria-labelledby="invite-title">
        <h1 id="invite-title">
          {status === "valid" ? `Join ${clique.name}` : (CLOSED[status]?.title ?? "This invite")}
        </h1>
        {status === "valid" ? (
          <p>You are invited to {clique.name}, a private space for a small group of people.</p>
        ) : null}
        {clique.description ? <p className="join-description">{clique.description}</p> : null}
        {inviter ? (
          <div className="row join-inviter">
            {/* biome-ignore lint/performance/noImgElement: avatars are small files of this server */}
            <img className="avatar" src={inviter.avatar} alt="" width={44} height={44} />
            <p>
              Invited by{" "}
              <a className="status-author" href={profileHref(inviter)}>
                {displayName(inviter)}
              </a>{" "}
              <span className="muted">@{inviter.username}</span>
            </p>
          </div>
        ) : null}
        <p className="muted">
          {clique.members} {clique.members === 1 ? "member" : "members"} ·{" "}
          {seatsLeft === 1 ? "1 seat left" : `${seatsLeft} seats left`}
        </p>
      </section>

      {status !== "valid" ? (
        <section className="card stack" aria-label="Why you cannot join">
          <p role="alert">{(CLOSED[status] ?? CLOSED.unknown).text}</p>
          <p className="muted small">
            Already a member? <a href="/signin">Sign in</a>.
          </p>
        </section>
      ) : account ? (
        <section className="card stack" aria-label="Already signed in">
          <p>
            You are signed in as @{account.username}, so you are already a member here. This invite
            is for someone new: pass the link on to them.
          </p>
          <p>
            <a className="button" href="/home">
              Go to your home page
            </a>
          </p>
        </section>
      ) : (
        <section className="card stack" aria-labelledby="join-form-title">
          <h2 id="join-form-title">
            {oidcReturn === "1" ? "Choose your name here" : "Make your account"}
          </h2>
          {oidcReturn === "1" ? (
            <p>
              {sso ? `${sso} confirmed who you are.` : "Single sign-on confirmed who you are."} Now
              pick the username people here will know you by.
            </p>
          ) : null}
          <JoinInviteForm code={code} oidc={oidcReturn === "1"} />
          {sso && oidcReturn === "1" ? (
            <p className="muted small">
              Took too long?{" "}
              <a href={`/auth/oidc/start?intent=signup&invite=${encodeURIComponent(code)}`}>
                Sign in with {sso} again
              </a>
              .
            </p>
          ) : null}
          {sso && oidcReturn !== "1" ? (
            <div className="stack">
              <p className="muted">Or, instead of choosing a password:</p>
              <p>
                <a
                  className="button secondary"
                  href={`/auth/oidc/start?intent=signup&invite=${encodeURIComponent(code)}`}
                >
                  Join with {sso}
                </a>
              </p>
            </div>
          ) : null}
          <p className="muted small">
            Already a member? <a href="/signin">Sign in</a>.
          </p>
        </section>
      )}
    </div>
  );
}

/** The code as typed; a malformed escape is kept as it came (the API then calls it unknown). */
function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
