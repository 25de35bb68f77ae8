/** The customer's bookings at each business they are a customer of, upcoming first; live. */
import { usePaginatedQuery, useQuery } from "convex/react";
import { api } from "../../../../convex/_generated/api";
import { UPCOMING_STATUSES } from "../../../../domain/bookingStatus";
import { bookingTitle } from "../../../../domain/pricing";
import type { Id } from "../../../../convex/_generated/dataModel";
import { roomIds } from "../../../../party/rooms";
import { Button, Card, Empty, ErrorBoundary, LiveDot, Loading, PageHeader, StatusBadge } from "../../components/ui";
import { useAuthBridge } from "../../lib/auth";
import { money, planFrequencyLabel, whenText } from "../../lib/format";
import { useRoom } from "../../lib/live";
import { Link } from "../../lib/router";
import { useReadySession } from "../../lib/session";

export function MyBookings() {
  const session = useReadySession();
  const customers = session.contexts.filter((c) => c.role === "customer" && c.customerId);
  return (
    <div>
      <PageHeader title="My bookings" />
      {customers.length === 0 ? (
        <Empty title="No bookings yet">
          <Link href="/welcome">Find a service to book</Link>
        </Empty>
      ) : (
        customers.map((c) => (
          <ErrorBoundary key={c.key}>
            <BusinessBookings businessId={c.businessId!} customerId={c.customerId!} />
          </ErrorBoundary>
        ))
      )}
    </div>
  );
}

const UPCOMING = new Set<string>(UPCOMING_STATUSES);

function BusinessBookings({ businessId, customerId }: { businessId: Id<"businesses">; customerId: Id<"customers"> }) {
  const business = useQuery(api.businesses.get, { businessId });
  const bridge = useAuthBridge();
  const { results, status, loadMore } = usePaginatedQuery(api.bookings.listForCustomer, { customerId }, { initialNumItems: 25 });
  const live = useRoom("bookings", roomIds.customerBookings(businessId, customerId), {}, bridge.partyToken);
  if (business === undefined || status === "LoadingFirstPage") return <Loading />;
  const tz = business?.timeZone ?? "UTC";
  const upcoming = results.filter((b) => UPCOMING.has(b.status)).sort((a, b) => a.start - b.start);
  const past = results.filter((b) => !UPCOMING.has(b.status));
  return (
    <Card
      title={business?.name ?? "Business"}
      actions={
        <>
          <LiveDot status={live.status} />
          <Link className="btn btn-primary btn-small" href={`/book/${businessId}`}>
            Book again
          </Link>
        </>
      }
    >
      <Plans customerId={customerId} />
      {results.length === 0 && <Empty title="No bookings here yet" />}
      {upcoming.length > 0 && (
        <>
          <h3>Upcoming</h3>
          <BookingList bookings={upcoming} tz={tz} />
        </>
      )}
      {past.length > 0 && (
        <>
          <h3>Past and cancelled</h3>
          <BookingList bookings={past} tz={tz} />
        </>
      )}
      {status === "CanLoadMore" && (
        <Button variant="secondary" onClick={() => loadMore(25)}>
          Show more
        </Button>
      )}
    </Card>
  );
}

/** The customer's recurring plans at this business, each linking to its page. */
function Plans({ customerId }: { customerId: Id<"customers"> }) {
  const plans = useQuery(api.series.forCustomer, { customerId });
  const active = (plans ?? []).filter((p) => p.status !== "cancelled");
  if (active.length === 0) return null;
  return (
    <>
      <h3>Recurring plans</h3>
      <ul className="booking-list" data-testid="plan-list">
        {active.map((p) => (
          <li key={p.seriesId} className="booking-row">
            <Link href={`/plans/${p.seriesId}`} className="booking-link">
              <span className="booking-what">
                {planFrequencyLabel(p.frequency, p.interval)} at {p.localTime}
              </span>
              <span className="booking-meta">{p.status}</span>
            </Link>
          </li>
        ))}
      </ul>
    </>
  );
}

type Row = { _id: Id<"bookings">; status: string; start: number; end: number; items: { productId: string; name: string; quantity: number }[]; quote: { totalMinor: number; currency: string } };

function BookingList({ bookings, tz }: { bookings: Row[]; tz: string }) {
  return (
    <ul className="booking-list" data-testid="booking-list">
      {bookings.map((b) => {
        const when = whenText(b.start, b.end, tz);
        return (
          <li key={b._id} className="booking-row" data-booking={b._id}>
            <Link href={`/bookings/${b._id}`} className="booking-link">
              <span className="booking-what">{bookingTitle(b.items)}</span>
              <span className="booking-when">
                {when.main}
                {when.viewer && <span className="muted small"> · {when.viewer}</span>}
              </span>
              <span className="booking-meta">
                <StatusBadge status={b.status} />
                <span>{money(b.quote.totalMinor, b.quote.currency)}</span>
              </span>
            </Link>
          </li>
        );
      })}
    </ul>
  );
}
