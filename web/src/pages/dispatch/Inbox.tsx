/**
 * The business's inbox: every customer thread, latest first, with unread counts (live),
 * filters (all / unassigned / mine) and assignment to a team member. `?conversation=…`
 * opens one (the link in the new-message email).
 */
import { useMutation, usePaginatedQuery, useQuery } from "convex/react";
import { useState } from "react";
import { api } from "../../../../convex/_generated/api";
import type { Id } from "../../../../convex/_generated/dataModel";
import { Conversation } from "../../components/Conversation";
import { Badge, Button, Card, Empty, ErrorBox, ErrorBoundary, Loading, PageHeader, useRun } from "../../components/ui";
import { dateTime } from "../../lib/format";
import { navigate, useQueryParams } from "../../lib/router";
import { useReadySession } from "../../lib/session";

type Filter = "all" | "unassigned" | "mine";
const FILTERS: { value: Filter; label: string }[] = [
  { value: "all", label: "All" },
  { value: "unassigned", label: "Unassigned" },
  { value: "mine", label: "Mine" },
];

export function StaffInbox() {
  const session = useReadySession();
  const businessId = session.current?.businessId;
  if (!businessId) return <Empty title="Choose a business first" />;
  return <Inbox businessId={businessId} />;
}

function Inbox({ businessId }: { businessId: Id<"businesses"> }) {
  const params = useQueryParams();
  const selectedId = params.get("conversation");
  const [filter, setFilter] = useState<Filter>("all");
  const business = useQuery(api.businesses.get, { businessId });
  const unread = useQuery(api.messages.inboxUnread, { businessId });
  const { results, status, loadMore } = usePaginatedQuery(api.messages.inbox, { businessId, filter }, { initialNumItems: 30 });
  const tz = business?.timeZone ?? "UTC";
  return (
    <div>
      <PageHeader title="Inbox" subtitle={unread === undefined ? undefined : <span data-testid="inbox-unread">{unread} unread</span>} />
      <div className="inbox-layout">
        <Card
          title="Conversations"
          actions={
            <div className="segmented" role="group" aria-label="Show">
              {FILTERS.map((f) => (
                <Button key={f.value} variant={filter === f.value ? "primary" : "secondary"} className="btn-small" aria-pressed={filter === f.value} onClick={() => setFilter(f.value)}>
                  {f.label}
                </Button>
              ))}
            </div>
          }
        >
          {status === "LoadingFirstPage" ? (
            <Loading />
          ) : results.length === 0 ? (
            <Empty title="No conversations here" />
          ) : (
            <ul className="thread-list" data-testid="thread-list">
              {results.map((t) => (
                <li key={t._id} className={t._id === selectedId ? "thread-row active" : "thread-row"} data-conversation={t._id} data-customer={t.customerId}>
                  <a
                    href={`/inbox?conversation=${t._id}`}
                    onClick={(e) => {
                      e.preventDefault();
                      navigate(`/inbox?conversation=${t._id}`);
                    }}
                  >
                    <span className="thread-title">
                      {t.customerName}
                      {t.bookingId ? " · about a booking" : ""}
                    </span>
                    {t.unread > 0 && (
                      <Badge tone="info">
                        <span data-testid="unread-count">{t.unread}</span> new
                      </Badge>
                    )}
                    <span className="thread-preview muted small">{t.lastMessagePreview}</span>
                    <span className="muted small">{dateTime(t.lastMessageAt, tz)}</span>
                  </a>
                </li>
              ))}
            </ul>
          )}
          {status === "CanLoadMore" && (
            <Button variant="secondary" onClick={() => loadMore(30)}>
              Show more
            </Button>
          )}
        </Card>
        {selectedId ? (
          <ErrorBoundary resetKey={selectedId}>
            <Selected businessId={businessId} conversationId={selectedId} timeZone={tz} />
          </ErrorBoundary>
        ) : (
          <Card>
            <Empty title="Pick a conversation" />
          </Card>
        )}
      </div>
    </div>
  );
}

function Selected({ businessId, conversationId, timeZone }: { businessId: Id<"businesses">; conversationId: string; timeZone: string }) {
  const summary = useQuery(api.messages.get, { conversationId });
  const team = useQuery(api.messages.assignees, { businessId });
  const assign = useMutation(api.messages.assign);
  const run = useRun();
  if (summary === undefined) return <Loading />;
  return (
    <Card
      title={summary.customerName}
      actions={
        <>
          {summary.bookingId && <a href={`/bookings/${summary.bookingId}`}>Open the booking</a>}
          <label className="field field-inline">
            <span className="field-label">Assigned to</span>
            <select
              value={summary.assigneeId ?? ""}
              disabled={run.busy || team === undefined}
              onChange={(e) => void run.run(() => assign({ conversationId, membershipId: e.target.value === "" ? null : e.target.value }))}
            >
              <option value="">Nobody</option>
              {(team ?? []).map((m) => (
                <option key={m.membershipId} value={m.membershipId}>
                  {m.name} ({m.role})
                </option>
              ))}
            </select>
          </label>
        </>
      }
    >
      {run.error !== null && <ErrorBox error={run.error} compact />}
      <Conversation customerId={summary.customerId} bookingId={summary.bookingId} side="business" timeZone={timeZone} otherName={summary.customerName} />
    </Card>
  );
}
