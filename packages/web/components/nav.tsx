"use client";

import { usePathname } from "next/navigation";
import { useEffect, useState } from "react";
import { api } from "../lib/client";

interface NavProps {
  account: { username: string; role: string } | null;
}

const STAFF = new Set(["owner", "admin"]);
const MODERATORS = new Set(["owner", "admin", "moderator"]);

/** The site's main navigation, with the unread-notification count. */
export function Nav({ account }: NavProps) {
  const path = usePathname();
  const [unread, setUnread] = useState(0);
  useEffect(() => {
    if (!account) return;
    let stop = false;
    const poll = () =>
      api<{ count: number }>("/api/v1/notifications/unread_count")
        .then((r) => !stop && setUnread(r.count))
        .catch(() => {});
    poll();
    const timer = setInterval(poll, 30_000);
    return () => {
      stop = true;
      clearInterval(timer);
    };
  }, [account]);

  const links: { href: string; label: string; extra?: number }[] = account
    ? [
        { href: "/home", label: "Home" },
        { href: "/clique", label: "Clique" },
        { href: "/notifications", label: "Notifications", extra: unread },
        { href: "/chats", label: "Chats" },
        { href: `/@${account.username}`, label: "Profile" },
        { href: "/circles", label: "Circles" },
        { href: "/people", label: "People" },
        ...(STAFF.has(account.role) ? [{ href: "/members", label: "Members" }] : []),
        ...(MODERATORS.has(account.role) ? [{ href: "/moderation", label: "Moderation" }] : []),
        { href: "/settings", label: "Settings" },
      ]
    : [{ href: "/signin", label: "Sign in" }];

  return (
    <nav className="site-nav" aria-label="Main">
      <ul>
        {links.map((link) => (
          <li key={link.href}>
            <a href={link.href} aria-current={path === link.href ? "page" : undefined}>
              {link.label}
              {link.extra ? (
                <span className="badge">
                  {link.extra}
                  <span className="visually-hidden"> unread</span>
                </span>
              ) : null}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}
