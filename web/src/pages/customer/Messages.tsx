/**
 * The customer's conversations with each business they are a customer of: the general
 * thread and one per booking. `?customer=…&booking=…` opens a booking's thread (the booking
 * page's "Message the business"), `?conversation=…` one from a notification's link.
 */
import { useQuery } from "convex/react";
import { api } from "../../../../convex/_generated/api";
import type { Id } from "../../../../convex/_generated/dataModel";
import { Conversation } from "../../components/Conversation";
import { Badge, Card, Empty, ErrorBoundary, Loading, PageHeader } from "../../components/ui";
import { dateTime } from "../../lib/format";
import { Link, useQueryParams } from "../../lib/router";
import { useReadySession } from "../../lib/session";

export function CustomerMessages() {
  const session = useReadySession();
  const params = useQueryParams();
  const customers = session.contexts.filter((c) => c.role === "customer" && c.customerId);
  const conversationParam = params.get("conversation");
  const opened = useQuery(api.messages.get, conversationParam ? { conversationId: conversationParam } : "skip");
  const customerParam = (opened?.customerId ?? params.get("customer")) as Id<"customers"> | null;
  const bookingParam = (opened ? opened.bookingId : params.get("booking")) as Id<"bookings"> | null | undefined;
  const selected = customers.find((c) => c.customerId === customerParam) ?? customers[0];
  if (conversationParam && opened === undefined) return <Loading />;
  return (
    <div>
      <PageHeader title="Messages" subtitle="Write to the business about a booking or anything else." />
      {customers.length === 0 || !selected ? (
        <Empty title="No businesses yet">
          <Link href="/welcome">Find a service to book</Link>
        </Empty>
      ) : (
        <ErrorBoundary resetKey={`${selected.customerId}/${bookingParam ?? ""}`}>
          <CustomerThreads
            businessId={selected.businessId!}
            customerId={selected.customerId!}
            bookingId={selected.customerId === customerParam ? (bookingParam ?? undefined) : undefined}
          />
        </ErrorBoundary>
      )}
    </div>
  );
}

function CustomerThreads({ businessId, customerId, bookingId }: { businessId: Id<"businesses">; customerId: Id<"customers">; bookingId?: Id<"bookings"> }) {
  const business = useQuery(api.businesses.get, { businessId });
  const threads = useQuery(api.messages.forCustomer, { customerId });
  if (business === undefined || threads === undefined) return <Loading />;
  const tz = business?.timeZone ?? "UTC";
  const name = business?.name ?? "The business";
  const href = (b?: string) => `/messages?customer=${customerId}${b ? `&booking=${b}` : ""}`;
  const hasGeneral = threads.some((t) => t.bookingId === undefined);
  return (
    <div className="inbox-layout">
      <Card title={name}>
        <ul className="thread-list" data-testid="thread-list">
          {!hasGeneral && (
            <li className={bookingId === undefined ? "thread-row active" : "thread-row"}>
              <Link href={href()}>General</Link>
            </li>
          )}
          {threads.map((t) => (
            <li key={t._id} className={t.bookingId === bookingId ? "thread-row active" : "thread-row"} data-conversation={t._id}>
              <Link href={href(t.bookingId)}>
                <span className="thread-title">{t.bookingId ? "About a booking" : "General"}</span>
                {t.unread > 0 && <Badge tone="info">{t.unread} new</Badge>}
                <span className="thread-preview muted small">{t.lastMessagePreview}</span>
                <span className="muted small">{dateTime(t.lastMessageAt, tz)}</span>
              </Link>
            </li>
          ))}
        </ul>
      </Card>
      <Card title={bookingId ? "About your booking" : `General · ${name}`} actions={bookingId ? <Link href={`/bookings/${bookingId}`}>Open the booking</Link> : undefined}>
        <Conversation customerId={customerId} bookingId={bookingId} side="customer" timeZone={tz} otherName={name} />
      </Card>
    </div>
  );
}
