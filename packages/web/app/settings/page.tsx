import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { SettingsApps } from "../../components/settings-apps";
import { SettingsAudience } from "../../components/settings-audience";
import { SettingsModeration } from "../../components/settings-moderation";
import { SettingsPassword } from "../../components/settings-password";
import { SettingsSessions } from "../../components/settings-sessions";
import { SettingsSignOut } from "../../components/settings-sign-out";
import { SettingsSso } from "../../components/settings-sso";
import type {
  AuditEntry,
  AuthorizedApp,
  LinkedIdentity,
  SessionInfo,
} from "../../components/settings-types";
import { apiGet, currentAccount } from "../../lib/api";
import { single } from "../../lib/params";

export const metadata: Metadata = { title: "Settings" };

const SSO_MESSAGES: Record<string, { text: string; ok: boolean }> = {
  linked: { text: "Linked. You can now sign in with it too.", ok: true },
  oidc_taken: {
    text: "That account is already linked to another member here, so it was not linked to yours.",
    ok: false,
  },
  oidc_failed: { text: "Linking did not complete. Please try again.", ok: false },
};

export default async function SettingsPage({
  searchParams,
}: {
  searchParams: Promise<{ linked?: string; error?: string }>;
}) {
  const { linked, error } = await single(searchParams);
  const account = await currentAccount();
  if (!account) redirect("/signin?return_to=/settings");
  const [apps, sessions, oidc, audit] = await Promise.all([
    apiGet<AuthorizedApp[]>("/api/v1/clique/apps"),
    apiGet<SessionInfo[]>("/api/v1/clique/sessions"),
    apiGet<{ enabled: boolean; name: string | null }>("/api/v1/clique/oidc"),
    apiGet<AuditEntry[]>("/api/v1/clique/moderation/audit?limit=50"),
  ]);
  const sso = oidc.ok && oidc.data.enabled ? (oidc.data.name ?? "single sign-on") : null;
  const identities = sso ? await apiGet<LinkedIdentity[]>("/api/v1/clique/oidc/identities") : null;
  const ssoMessage =
    linked === "oidc" ? SSO_MESSAGES.linked : error ? SSO_MESSAGES[error] : undefined;

  return (
    <div className="narrow settings">
      <h1>Settings</h1>
      <nav aria-label="Settings sections" className="settings-toc">
        <ul>
          <li>
            <a href="#password">Password</a>
          </li>
          <li>
            <a href="#audience">Default audience</a>
          </li>
          <li>
            <a href="#apps">Authorised apps</a>
          </li>
          <li>
            <a href="#sessions">Sessions</a>
          </li>
          {sso ? (
            <li>
              <a href="#sso">Single sign-on</a>
            </li>
          ) : null}
          <li>
            <a href="#export">Export</a>
          </li>
          <li>
            <a href="#moderation">Moderators' actions</a>
          </li>
          <li>
            <a href="#sign-out">Sign out</a>
          </li>
        </ul>
      </nav>

      {ssoMessage && !sso ? (
        <p
          className={ssoMessage.ok ? "success" : "error"}
          role={ssoMessage.ok ? "status" : "alert"}
        >
          {ssoMessage.text}
        </p>
      ) : null}

      <section className="card stack" id="password" aria-labelledby="password-title">
        <h2 id="password-title">Password</h2>
        <SettingsPassword />
      </section>

      <section className="card stack" id="audience" aria-labelledby="audience-title">
        <h2 id="audience-title">Default audience for new posts</h2>
        <SettingsAudience current={account.source.audience} />
      </section>

      <section className="card stack" id="apps" aria-labelledby="apps-title">
        <h2 id="apps-title">Authorised apps</h2>
        {apps.ok ? (
          <SettingsApps initial={apps.data} />
        ) : (
          <p className="error" role="alert">
            Could not load your apps. Please reload the page.
          </p>
        )}
      </section>

      <section className="card stack" id="sessions" aria-labelledby="sessions-title">
        <h2 id="sessions-title">Sessions</h2>
        {sessions.ok ? (
          <SettingsSessions initial={sessions.data} />
        ) : (
          <p className="error" role="alert">
            Could not load your sessions. Please reload the page.
          </p>
        )}
      </section>

      {sso ? (
        <section className="card stack" id="sso" aria-labelledby="sso-title">
          <h2 id="sso-title">Single sign-on</h2>
          {ssoMessage ? (
            <p
              className={ssoMessage.ok ? "success" : "error"}
              role={ssoMessage.ok ? "status" : "alert"}
            >
              {ssoMessage.text}
            </p>
          ) : null}
          <SettingsSso provider={sso} initial={identities?.ok ? identities.data : []} />
        </section>
      ) : null}

      <section className="card stack" id="export" aria-labelledby="export-title">
        <h2 id="export-title">Export</h2>
        <p>
          Take a copy of everything you posted: one zip file with your posts, your photos and
          videos, and your profile.
        </p>
        <p>
          <a className="button secondary" href="/api/v1/clique/export" download>
            Download my posts and photos
          </a>
        </p>
      </section>

      <section className="card stack" id="moderation" aria-labelledby="moderation-title">
        <h2 id="moderation-title">What moderators did about you</h2>
        {audit.ok ? (
          <SettingsModeration entries={audit.data} />
        ) : (
          <p className="error" role="alert">
            Could not load this list. Please reload the page.
          </p>
        )}
      </section>

      <section className="card stack" id="sign-out" aria-labelledby="sign-out-title">
        <h2 id="sign-out-title">Sign out</h2>
        <p>Sign out of this browser. Your other sessions stay signed in.</p>
        <SettingsSignOut memberId={account.id} />
      </section>
    </div>
  );
}
