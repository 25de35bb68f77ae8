/**
 * Staff find a customer by name, email or phone (`search.customers`, live: a customer added
 * or renamed elsewhere shows up while the box is open) and open their card: contact details,
 * addresses and latest bookings. Used by the CRM page and the dispatch board's lookup.
 */
import { useQuery } from "convex/react";
import type { FunctionReturnType } from "convex/server";
import { useRef, useState } from "react";
import { api } from "../../../convex/_generated/api";
import type { Id } from "../../../convex/_generated/dataModel";
import { bookingTitle } from "../../../domain/pricing";
import { MAX_SEARCH_TEXT } from "../../../domain/search";
import { dateTime, statusLabel } from "../lib/format";
import { Card, Empty, ErrorBoundary, Field, Loading, StatusBadge } from "./ui";

export type CustomerHit = FunctionReturnType<typeof api.search.customers>[number];

/** The latest non-undefined value, so results stay on screen while the next ones load. */
function useLatest<T>(value: T | undefined): T | undefined {
  const last = useRef<T | undefined>(undefined);
  if (value !== undefined) last.current = value;
  return value ?? last.current;
}

export function CustomerSearchBox({
  businessId,
  onPick,
  onTextChange,
  picked,
}: {
  businessId: Id<"businesses">;
  onPick: (customer: CustomerHit) => void;
  onTextChange?: (text: string) => void;
  picked?: Id<"customers"> | null;
}) {
  const [text, setText] = useState("");
  const trimmed = text.trim();
  const live = useQuery(api.search.customers, trimmed === "" ? "skip" : { businessId, text: trimmed, limit: 10 });
  const results = useLatest(trimmed === "" ? [] : live);
  return (
    <div className="customer-search">
      <Field label="Find a customer" hint="Name, email, or phone with country code (+44…)">
        <input
          type="search"
          name="customerSearch"
          value={text}
          maxLength={MAX_SEARCH_TEXT}
          autoComplete="off"
          placeholder="e.g. Jane, jane@…, +1 212…"
          onChange={(e) => {
            setText(e.target.value);
            onTextChange?.(e.target.value);
          }}
        />
      </Field>
      {trimmed !== "" && results === undefined && <Loading label="Searching…" />}
      {trimmed !== "" && results !== undefined && results.length === 0 && live !== undefined && (
        <p className="muted" role="status">
          No customer matches “{trimmed}”.
        </p>
      )}
      {trimmed !== "" && results !== undefined && results.length > 0 && (
        <ul className="search-results" aria-label="Matching customers">
          {results.map((c) => (
            <li key={c._id}>
              <button
                type="button"
                className={`search-result${picked === c._id ? " selected" : ""}`}
                aria-pressed={picked === c._id}
                onClick={() => onPick(c)}
              >
                <strong>{c.name}</strong>
                <span className="muted small">{[c.email, c.phone].filter(Boolean).join(" · ") || "no contact details"}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

type History = FunctionReturnType<typeof api.customers.history>;

/** One customer's contact details, addresses and latest bookings (staff view). */
export function CustomerCard({
  customerId,
  timeZone,
  onShowDay,
}: {
  customerId: Id<"customers">;
  timeZone: string;
  onShowDay?: (localDate: string) => void;
}) {
  const data = useQuery(api.customers.get, { customerId });
  const history: History | undefined = useQuery(api.customers.history, { customerId, paginationOpts: { numItems: 5, cursor: null } });
  if (data === undefined) return <Loading />;
  const { customer, addresses } = data;
  return (
    <Card title={customer.name} className="customer-card">
      <dl className="facts">
        <dt>Email</dt>
        <dd>{customer.email ? <a href={`mailto:${customer.email}`}>{customer.email}</a> : <span className="muted">none</span>}</dd>
        <dt>Phone</dt>
        <dd>{customer.phone ? <a href={`tel:${customer.phone}`}>{customer.phone}</a> : <span className="muted">none</span>}</dd>
        {customer.tags.length > 0 && (
          <>
            <dt>Tags</dt>
            <dd>{customer.tags.join(", ")}</dd>
          </>
        )}
        <dt>Addresses</dt>
        <dd>
          {addresses.length === 0 ? (
            <span className="muted">none</span>
          ) : (
            addresses.map((a) => (
              <div key={a._id}>
                {a.label ? `${a.label}: ` : ""}
                {a.address.line1}, {a.address.city} {a.address.postalCode}
              </div>
            ))
          )}
        </dd>
      </dl>
      <h3>Latest bookings</h3>
      {history === undefined ? (
        <Loading />
      ) : history.page.length === 0 ? (
        <Empty title="No bookings yet" />
      ) : (
        <ul className="plain-list" aria-label={`Bookings of ${customer.name}`}>
          {history.page.map((b) => (
            <li key={b._id}>
              <StatusBadge status={b.status} /> {dateTime(b.start, timeZone)} · {bookingTitle(b.items)}
              {onShowDay && (
                <button
                  type="button"
                  className="linklike small"
                  aria-label={`Show ${dateTime(b.start, timeZone)} (${statusLabel(b.status)}) on the board`}
                  data-local-date={b.localDate}
                  onClick={() => onShowDay(b.localDate)}
                >
                  Show on board
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}

/** The dispatch board's lookup: a folding search with the picked customer's card. */
export function CustomerLookup({
  businessId,
  timeZone,
  onShowDay,
}: {
  businessId: Id<"businesses">;
  timeZone: string;
  onShowDay: (localDate: string) => void;
}) {
  const [picked, setPicked] = useState<Id<"customers"> | null>(null);
  return (
    <details className="customer-lookup">
      <summary>Customer lookup</summary>
      <div className="grid-2">
        <CustomerSearchBox businessId={businessId} picked={picked} onPick={(c) => setPicked(c._id)} />
        {picked && (
          <ErrorBoundary resetKey={picked}>
            <CustomerCard customerId={picked} timeZone={timeZone} onShowDay={onShowDay} />
          </ErrorBoundary>
        )}
      </div>
    </details>
  );
}
