import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { SignInForm } from "../../components/sign-in-form";
import { apiGet, currentAccount } from "../../lib/api";
import { isLocalPath } from "../../lib/format";
import { single } from "../../lib/params";

export const metadata: Metadata = { title: "Sign in" };

const ERRORS: Record<string, string> = {
  oidc_unknown:
    "That single sign-on account is not linked to a member here. Sign in with your password and link it in Settings, or join with an invite.",
  oidc_failed: "Single sign-on did not complete. Please try again.",
};

export default async function SignInPage({
  searchParams,
}: {
  searchParams: Promise<{ return_to?: string; error?: string }>;
}) {
  const { return_to: returnTo, error } = await single(searchParams);
  const target = returnTo && isLocalPath(returnTo) ? returnTo : "/home";
  if (await currentAccount()) redirect(target);
  const oidc = await apiGet<{ enabled: boolean; name: string | null }>("/api/v1/clique/oidc");
  return (
    <div className="narrow card stack">
      <h1>Sign in</h1>
      {error ? (
        <p className="error" role="alert">
          {ERRORS[error] ?? "Signing in did not work. Please try again."}
        </p>
      ) : null}
      <SignInForm returnTo={target} />
      {oidc.ok && oidc.data.enabled ? (
        <p>
          <a
            className="button secondary"
            href={`/auth/oidc/start?intent=signin&return_to=${encodeURIComponent(target)}`}
          >
            Sign in with {oidc.data.name ?? "single sign-on"}
          </a>
        </p>
      ) : null}
      <p className="muted small">New here? Joining takes an invite link from a member.</p>
    </div>
  );
}
