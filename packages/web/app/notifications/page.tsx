import type { Metadata } from "next";
import { redirect } from "next/navigation";
import type { NotificationEntry } from "../../components/notification-item";
import { NotificationList } from "../../components/notification-list";
import { apiGet, currentAccount, nextMaxId } from "../../lib/api";

export const metadata: Metadata = { title: "Notifications" };

type Markers = { notifications?: { last_read_id: string } };

export default async function NotificationsPage() {
  const account = await currentAccount();
  if (!account) redirect("/signin?return_to=/notifications");
  const [page, markers] = await Promise.all([
    apiGet<NotificationEntry[]>("/api/v1/notifications?limit=20"),
    apiGet<Markers>("/api/v1/markers?timeline=notifications"),
  ]);
  const items = page.ok ? page.data : [];
  return (
    <div className="narrow">
      <h1>Notifications</h1>
      {page.ok ? null : (
        <p className="error" role="alert">
          Your notifications could not be loaded (the server answered {page.status}). Please reload
          the page.
        </p>
      )}
      <NotificationList
        initial={items}
        initialNext={page.ok && items.length > 0 ? nextMaxId(page.link) : null}
        lastReadId={markers.ok ? (markers.data.notifications?.last_read_id ?? null) : null}
      />
    </div>
  );
}
