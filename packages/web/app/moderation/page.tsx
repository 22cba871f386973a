import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { memberName } from "../../components/members-format";
import { type AuditEntry, ModerationAudit } from "../../components/moderation-audit";
import { type DomainEntry, ModerationDomains } from "../../components/moderation-domains";
import { ModerationReports, type ReportEntry } from "../../components/moderation-reports";
import { apiGet, currentAccount, nextMaxId } from "../../lib/api";
import { single } from "../../lib/params";

export const metadata: Metadata = { title: "Moderation" };

const MODERATORS = new Set(["owner", "admin", "moderator"]);
const BLOCKERS = new Set(["owner", "admin"]);

function NotAllowed() {
  return (
    <div className="narrow card">
      <h1>Moderation</h1>
      <p>Only the Clique&apos;s moderators, admins and owner handle reports and moderation.</p>
    </div>
  );
}

export default async function ModerationPage({
  searchParams,
}: {
  searchParams: Promise<{ reports?: string }>;
}) {
  const account = await currentAccount();
  if (!account) redirect("/signin?return_to=/moderation");
  const role = account.clique_role ?? "member";
  if (!MODERATORS.has(role)) return <NotAllowed />;
  const closed = (await single(searchParams)).reports === "closed";
  const query: Record<string, string> = { resolved: closed ? "true" : "false" };
  const [reports, domains, audit, members] = await Promise.all([
    apiGet<ReportEntry[]>(
      `/api/v1/admin/reports?${new URLSearchParams({ ...query, limit: "20" })}`,
    ),
    // Servers are blocked by admins and owners only (the API says no to moderators).
    BLOCKERS.has(role)
      ? apiGet<DomainEntry[]>("/api/v1/clique/domains")
      : Promise.resolve({ ok: false as const, status: 403 }),
    apiGet<AuditEntry[]>("/api/v1/clique/moderation/audit?limit=40"),
    apiGet<{ id: string; username: string; display_name?: string; status: string }[]>(
      "/api/v1/clique/members",
    ),
  ]);
  if (!reports.ok && (reports.status === 403 || reports.status === 404)) return <NotAllowed />;
  const names: Record<string, string> = members.ok
    ? Object.fromEntries(members.data.map((m) => [m.id, memberName(m)]))
    : {};
  const list = reports.ok ? reports.data : [];
  return (
    <div className="moderation-page">
      <h1>Moderation</h1>
      <nav aria-label="Moderation sections" className="row small">
        <a href="#reports-heading">Reports</a>
        <a href="#servers-heading">Other servers</a>
        <a href="#audit-heading">Audit log</a>
      </nav>
      <section aria-labelledby="reports-heading">
        <h2 id="reports-heading">Reports</h2>
        <nav aria-label="Which reports" className="tabs">
          <a href="/moderation" aria-current={closed ? undefined : "page"}>
            Open
          </a>
          <a href="/moderation?reports=closed" aria-current={closed ? "page" : undefined}>
            Closed
          </a>
        </nav>
        {reports.ok ? (
          <ModerationReports
            initial={list}
            initialNext={list.length >= 20 ? nextMaxId(reports.link) : null}
            query={query}
            empty={closed ? "No closed reports." : "No open reports. All is calm."}
            removedIds={
              members.ok ? members.data.filter((m) => m.status === "removed").map((m) => m.id) : []
            }
          />
        ) : (
          <p className="error" role="alert">
            The reports could not be loaded (the server answered {reports.status}).
          </p>
        )}
      </section>
      <section aria-labelledby="servers-heading">
        <h2 id="servers-heading">Other servers</h2>
        {domains.ok ? (
          <ModerationDomains initial={domains.data} />
        ) : (
          <p className="muted">Only admins and the owner block or limit other servers.</p>
        )}
      </section>
      <section aria-labelledby="audit-heading">
        <h2 id="audit-heading">Audit log</h2>
        <p className="muted">
          Every moderation action, who took it and why. Nothing here can be edited.
        </p>
        {audit.ok ? (
          <ModerationAudit initial={audit.data} names={names} />
        ) : (
          <p className="error" role="alert">
            The audit log could not be loaded (the server answered {audit.status}).
          </p>
        )}
      </section>
    </div>
  );
}
