import type { Metadata, Viewport } from "next";
import type { ReactNode } from "react";
import { Nav } from "../components/nav";
import { apiGet, currentAccount } from "../lib/api";
import type { CliqueInfo } from "../lib/types";
import "./globals.css";

export async function generateMetadata(): Promise<Metadata> {
  const clique = await apiGet<CliqueInfo>("/api/v1/clique");
  const name = clique.ok ? clique.data.name : "Clique";
  return { title: { default: name, template: `%s · ${name}` } };
}

export const viewport: Viewport = { width: "device-width", initialScale: 1 };

export default async function RootLayout({ children }: { children: ReactNode }) {
  const [account, clique] = await Promise.all([
    currentAccount(),
    apiGet<CliqueInfo>("/api/v1/clique"),
  ]);
  const name = clique.ok ? clique.data.name : "Clique";
  return (
    <html lang="en">
      <body>
        <a className="skip-link" href="#main">
          Skip to content
        </a>
        <header className="site-header">
          <div className="site-header-inner">
            <a className="brand" href={account ? "/home" : "/"}>
              {name}
            </a>
            <Nav
              account={
                account
                  ? { username: account.username, role: account.clique_role ?? "member" }
                  : null
              }
            />
          </div>
        </header>
        <main id="main">{children}</main>
        <footer className="site-footer">
          <p>
            {name} is a Clique: a private social space its members host themselves. No ads, no
            tracking.
          </p>
        </footer>
      </body>
    </html>
  );
}
