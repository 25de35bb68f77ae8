/**
 * The CRM: staff search the business's customers by name, email or phone (newest customers
 * are listed while the box is empty) and open a customer's card, with what was sent to them
 * and whether it arrived.
 */
import { usePaginatedQuery, useQuery } from "convex/react";
import { useState } from "react";
import { api } from "../../../../convex/_generated/api";
import type { Id } from "../../../../convex/_generated/dataModel";
import { CustomerCard, CustomerSearchBox } from "../../components/CustomerSearch";
import { Button, Card, Empty, ErrorBoundary, Loading, PageHeader } from "../../components/ui";
import { useReadySession } from "../../lib/session";
import { CustomerNotifications } from "./Notifications";

export function OwnerCustomers() {
  const session = useReadySession();
  const businessId = session.current!.businessId!;
  const business = useQuery(api.businesses.get, { businessId });
  const [picked, setPicked] = useState<Id<"customers"> | null>(null);
  const [searching, setSearching] = useState(false);
  if (business === undefined) return <Loading />;
  const tz = business?.timeZone ?? "UTC";
  return (
    <div>
      <PageHeader title="Customers" subtitle="Search by name, email or phone." />
      <div className="grid-2">
        <Card>
          <CustomerSearchBox
            businessId={businessId}
            picked={picked}
            onPick={(c) => setPicked(c._id)}
            onTextChange={(text) => setSearching(text.trim() !== "")}
          />
          {!searching && <RecentCustomers businessId={businessId} picked={picked} onPick={setPicked} />}
        </Card>
        {picked && (
          <ErrorBoundary resetKey={picked}>
            <div className="stack">
              <CustomerCard customerId={picked} timeZone={tz} />
              <CustomerNotifications customerId={picked} tz={tz} />
            </div>
          </ErrorBoundary>
        )}
      </div>
    </div>
  );
}

function RecentCustomers({
  businessId,
  picked,
  onPick,
}: {
  businessId: Id<"businesses">;
  picked: Id<"customers"> | null;
  onPick: (id: Id<"customers">) => void;
}) {
  const { results, status, loadMore } = usePaginatedQuery(api.customers.list, { businessId }, { initialNumItems: 20 });
  if (status === "LoadingFirstPage") return <Loading />;
  if (results.length === 0) return <Empty title="No customers yet">They appear here when they book or staff add them.</Empty>;
  return (
    <>
      <h2 className="h3">Newest customers</h2>
      <ul className="search-results" aria-label="Newest customers">
        {results.map((c) => (
          <li key={c._id}>
            <button
              type="button"
              className={`search-result${picked === c._id ? " selected" : ""}`}
              aria-pressed={picked === c._id}
              onClick={() => onPick(c._id)}
            >
              <strong>{c.name}</strong>
              <span className="muted small">{[c.email, c.phone].filter(Boolean).join(" · ") || "no contact details"}</span>
            </button>
          </li>
        ))}
      </ul>
      {status === "CanLoadMore" && (
        <Button variant="secondary" className="btn-small" onClick={() => loadMore(20)}>
          Show more
        </Button>
      )}
    </>
  );
}
