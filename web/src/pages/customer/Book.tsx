/**
 * The customer booking flow, one page in steps:
 *   1. Where: postal code → zone (`zones.resolve`)
 *   2. What: industry → products and extras into a cart, live price and duration (`availability.quote`)
 *   3. When: a day, then a live slot (`availability.slots`, reactive; the PartyKit availability
 *      room shows "someone is checking out this slot" and carries our own hold pings)
 *   4. Details and pay: `customers.registerSelf` → `bookings.hold` → `bookings.confirm` →
 *      `payments.startCheckout` → the checkout page → back to /bookings/:id; or, for a
 *      recurring plan (weekly, every 2 / 4 weeks, monthly, with its discount), the next visits
 *      as `series.check` places them (conflicts with the reason and the alternative time),
 *      then `series.create` → /plans/:id
 * The draft lives in sessionStorage so sign-in and the payment redirect do not lose it.
 */
import { useAction, useMutation, useQuery } from "convex/react";
import type { FunctionReturnType } from "convex/server";
import { useEffect, useMemo, useRef, useState } from "react";
import { api } from "../../../../convex/_generated/api";
import type { Id } from "../../../../convex/_generated/dataModel";
import { MAX_SEARCH_TEXT } from "../../../../domain/search";
import { roomIds } from "../../../../party/rooms";
import {
  Button,
  Card,
  Empty,
  ErrorBoundary,
  ErrorBox,
  Field,
  LiveDot,
  Loading,
  Notice,
  onRadioGroupKeyDown,
  PageHeader,
  radioTabIndex,
  useFocusOnArrival,
  useRun,
} from "../../components/ui";
import { explainError } from "../../lib/errors";
import { instantToLocal } from "../../../../domain/time";
import { addDays, localDateLabel, minutes, money, time, timeWithViewer, todayIn, viewerTimeZone, zoneName, zonesDiffer } from "../../lib/format";
import { useRoom } from "../../lib/live";
import { navigate } from "../../lib/router";
import { useSession } from "../../lib/session";
import { takeWidgetHandoff } from "../../lib/widgetHandoff";

type Business = NonNullable<FunctionReturnType<typeof api.businesses.get>>;
type Catalogue = FunctionReturnType<typeof api.catalogue.forBusiness>;
type Industry = Catalogue["industries"][number];
type Product = Industry["categories"][number]["products"][number];
type Extra = Industry["extras"][number];

export type CartLine = { productId: Id<"products">; quantity: number; extras: { extraId: Id<"extras">; quantity: number }[] };

type Draft = {
  postalCode: string;
  country: string;
  zone: { zoneId: Id<"zones">; name: string } | null;
  industryId: Id<"industries"> | null;
  cart: CartLine[];
  date: string | null;
  slot: number | null;
  line1: string;
  line2: string;
  city: string;
  notes: string;
  /** "once" or a `series.frequencyOptions` key. */
  frequency: string;
};

const EMPTY_DRAFT: Draft = {
  postalCode: "",
  country: "",
  zone: null,
  industryId: null,
  cart: [],
  date: null,
  slot: null,
  line1: "",
  line2: "",
  city: "",
  notes: "",
  frequency: "once",
};

function draftKey(businessId: string) {
  return `bp.draft.${businessId}`;
}

function useDraft(businessId: string) {
  const [draft, setDraft] = useState<Draft>(() => {
    const handedOver = takeWidgetHandoff(businessId);
    if (handedOver !== null) {
      return {
        ...EMPTY_DRAFT,
        zone: handedOver.zone ? { zoneId: handedOver.zone.zoneId as Id<"zones">, name: handedOver.zone.name } : null,
        postalCode: handedOver.postalCode ?? "",
        industryId: (handedOver.industryId ?? null) as Id<"industries"> | null,
        cart: (handedOver.cart ?? []) as unknown as CartLine[],
        date: handedOver.date ?? null,
        slot: handedOver.slot ?? null,
      };
    }
    try {
      const raw = window.sessionStorage.getItem(draftKey(businessId));
      return raw ? { ...EMPTY_DRAFT, ...(JSON.parse(raw) as Partial<Draft>) } : EMPTY_DRAFT;
    } catch {
      return EMPTY_DRAFT;
    }
  });
  useEffect(() => {
    window.sessionStorage.setItem(draftKey(businessId), JSON.stringify(draft));
  }, [businessId, draft]);
  const update = (patch: Partial<Draft>) => setDraft((d) => ({ ...d, ...patch }));
  const reset = () => {
    window.sessionStorage.removeItem(draftKey(businessId));
    setDraft(EMPTY_DRAFT);
  };
  return { draft, update, reset };
}

export function BookBySlug({ slug }: { slug: string }) {
  const business = useQuery(api.businesses.getBySlug, { slug });
  if (business === undefined) return <Loading />;
  if (business === null) return <Empty title="We could not find that business">Check the address you were given.</Empty>;
  return <BookFlow business={business} />;
}

export function BookPage({ businessId }: { businessId: Id<"businesses"> }) {
  const business = useQuery(api.businesses.get, { businessId });
  if (business === undefined) return <Loading />;
  if (business === null) return <Empty title="This business is not taking bookings">It may not be open yet, or no longer.</Empty>;
  return <BookFlow business={business} />;
}

function BookFlow({ business }: { business: Business }) {
  const { draft, update, reset } = useDraft(business._id);
  const catalogue = useQuery(api.catalogue.forBusiness, { businessId: business._id });
  const tz = business.timeZone;
  const whatStep = useRef<HTMLDivElement>(null);
  useFocusOnArrival(whatStep, draft.zone !== null && catalogue !== undefined);

  return (
    <div className="book">
      <PageHeader
        title={`Book with ${business.name}`}
        subtitle={
          <>
            Times are shown in {business.name}'s time zone ({zoneName(tz)})
            {zonesDiffer(tz, viewerTimeZone) ? `, with yours (${zoneName(viewerTimeZone)}) alongside.` : "."}
          </>
        }
      />
      <div className="book-grid">
        <div className="book-steps">
          <Card title="1. Where is the service?">
            <ZoneStep business={business} draft={draft} update={update} />
          </Card>
          {draft.zone && (
            <Card title="2. What do you need?">
              {catalogue === undefined ? (
                <Loading label="Loading services…" />
              ) : (
                <div ref={whatStep}>
                  <CatalogueStep businessId={business._id} catalogue={catalogue} draft={draft} update={update} />
                </div>
              )}
            </Card>
          )}
          {draft.zone && draft.cart.length > 0 && (
            <Card title="3. When?">
              <ErrorBoundary resetKey={JSON.stringify([draft.cart, draft.date])}>
                <SlotStep business={business} zoneId={draft.zone.zoneId} draft={draft} update={update} />
              </ErrorBoundary>
            </Card>
          )}
          {draft.zone && draft.cart.length > 0 && draft.slot !== null && (
            <Card title="4. Your details and payment">
              <DetailsStep business={business} draft={draft} update={update} reset={reset} />
            </Card>
          )}
        </div>
        <aside className="book-summary">
          <Card title="Your booking">
            <Summary business={business} catalogue={catalogue} draft={draft} />
          </Card>
        </aside>
      </div>
    </div>
  );
}

// ---------------------------------------------------------------------------------------
// 1. Where

function ZoneStep({ business, draft, update }: { business: Business; draft: Draft; update: (p: Partial<Draft>) => void }) {
  const [postalCode, setPostalCode] = useState(draft.postalCode);
  const [country, setCountry] = useState(draft.country);
  const [asked, setAsked] = useState<{ postalCode: string; country: string } | null>(null);
  const activeZones = useQuery(api.zones.listActive, { businessId: business._id });
  // The booking page opens on its first question.
  const postalInput = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (!draft.zone) postalInput.current?.focus({ preventScroll: true });
  }, [draft.zone]);

  if (draft.zone) {
    return (
      <div className="step-done">
        <p>
          <strong data-testid="zone-name">{draft.zone.name}</strong> serves <strong>{draft.postalCode}</strong>.
        </p>
        <Button variant="ghost" onClick={() => update({ zone: null, slot: null })}>
          Change address
        </Button>
      </div>
    );
  }

  return (
    <div>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (postalCode.trim() === "") return;
          setAsked({ postalCode: postalCode.trim(), country: country.trim() });
        }}
      >
        <Field label="Postal code">
          <input
            name="postalCode"
            ref={postalInput}
            value={postalCode}
            onChange={(e) => setPostalCode(e.target.value)}
            autoComplete="postal-code"
            required
            placeholder="e.g. 10001"
          />
        </Field>
        <Field label="Country (optional)" hint="Two letters, e.g. US">
          <input
            name="country"
            value={country}
            onChange={(e) => setCountry(e.target.value.toUpperCase().slice(0, 2))}
            autoComplete="country"
            maxLength={2}
            size={4}
          />
        </Field>
        <button className="btn btn-primary" type="submit">
          Find services
        </button>
      </form>
      {asked && (
        <ErrorBoundary resetKey={JSON.stringify(asked)}>
          <ZoneAnswer
            businessId={business._id}
            asked={asked}
            onFound={(zone) => update({ zone, postalCode: asked.postalCode, country: asked.country, slot: null })}
          />
        </ErrorBoundary>
      )}
      {activeZones && activeZones.length > 0 && (
        <p className="muted small">We work in: {activeZones.map((z) => z.name).join(", ")}.</p>
      )}
    </div>
  );
}

function ZoneAnswer({
  businessId,
  asked,
  onFound,
}: {
  businessId: Id<"businesses">;
  asked: { postalCode: string; country: string };
  onFound: (zone: { zoneId: Id<"zones">; name: string }) => void;
}) {
  const zone = useQuery(api.zones.resolve, {
    businessId,
    postalCode: asked.postalCode,
    ...(asked.country ? { country: asked.country } : {}),
  });
  const found = zone ?? null;
  useEffect(() => {
    if (found) onFound(found);
  }, [found?.zoneId]);
  if (zone === undefined) return <Loading label="Checking your area…" />;
  if (zone === null) {
    return (
      <Notice kind="warning">
        We do not serve <strong>{asked.postalCode}</strong> yet. Try another postal code.
      </Notice>
    );
  }
  return null;
}

// ---------------------------------------------------------------------------------------
// 2. What

function CatalogueStep({
  businessId,
  catalogue,
  draft,
  update,
}: {
  businessId: Id<"businesses">;
  catalogue: Catalogue;
  draft: Draft;
  update: (p: Partial<Draft>) => void;
}) {
  const [searchText, setSearchText] = useState("");
  const industries = catalogue.industries.filter((i) => i.categories.length > 0);
  const industry = industries.find((i) => i._id === draft.industryId) ?? (industries.length === 1 ? industries[0] : undefined);

  if (industries.length === 0) return <Empty title="No services are offered yet">Please check back later.</Empty>;

  const setCart = (cart: CartLine[]) => update({ cart, slot: null, industryId: industry?._id ?? null });

  return (
    <div>
      <Field label="Search services">
        <input
          type="search"
          name="serviceSearch"
          value={searchText}
          maxLength={MAX_SEARCH_TEXT}
          autoComplete="off"
          placeholder="e.g. deep clean"
          onChange={(e) => setSearchText(e.target.value)}
        />
      </Field>
      {searchText.trim() !== "" ? (
        <ServiceSearchResults
          businessId={businessId}
          text={searchText.trim()}
          catalogue={catalogue}
          currentIndustryId={industry?._id ?? null}
          draft={draft}
          update={update}
        />
      ) : (
        <BrowseCatalogue industries={industries} industry={industry} catalogue={catalogue} draft={draft} update={update} setCart={setCart} />
      )}
    </div>
  );
}

/** Matching services in relevance order; picking one from another kind of service starts a new cart. */
function ServiceSearchResults({
  businessId,
  text,
  catalogue,
  currentIndustryId,
  draft,
  update,
}: {
  businessId: Id<"businesses">;
  text: string;
  catalogue: Catalogue;
  currentIndustryId: Id<"industries"> | null;
  draft: Draft;
  update: (p: Partial<Draft>) => void;
}) {
  const hits = useQuery(api.search.catalogue, { businessId, text, limit: 25 });
  if (hits === undefined) return <Loading label="Searching…" />;
  const found = hits.flatMap((hit) => {
    const industry = catalogue.industries.find((i) => i._id === hit.industryId);
    const product = industry?.categories.flatMap((c) => c.products).find((p) => p._id === hit._id);
    return industry && product ? [{ industry, product }] : [];
  });
  if (found.length === 0) return <p className="muted" role="status">No service matches “{text}”.</p>;
  return (
    <ul className="product-list" aria-label="Matching services">
      {found.map(({ industry, product }) => (
        <ProductRow
          key={product._id}
          product={product}
          currency={catalogue.currency}
          extras={industry.extras.filter((e) => e.productIds.length === 0 || e.productIds.includes(product._id))}
          line={currentIndustryId === industry._id ? draft.cart.find((l) => l.productId === product._id) : undefined}
          onChange={(line) => {
            const rest = currentIndustryId === industry._id ? draft.cart.filter((l) => l.productId !== product._id) : [];
            update({ cart: line ? [...rest, line] : rest, slot: null, industryId: industry._id });
          }}
        />
      ))}
    </ul>
  );
}

function BrowseCatalogue({
  industries,
  industry,
  catalogue,
  draft,
  update,
  setCart,
}: {
  industries: Industry[];
  industry: Industry | undefined;
  catalogue: Catalogue;
  draft: Draft;
  update: (p: Partial<Draft>) => void;
  setCart: (cart: CartLine[]) => void;
}) {
  return (
    <div>
      {industries.length > 1 && (
        <div className="chips" role="radiogroup" aria-label="Kind of service" onKeyDown={onRadioGroupKeyDown}>
          {industries.map((i, index) => (
            <button
              key={i._id}
              type="button"
              role="radio"
              aria-checked={industry?._id === i._id}
              tabIndex={radioTabIndex(industry?._id === i._id, index, industry !== undefined)}
              className={`chip${industry?._id === i._id ? " selected" : ""}`}
              onClick={() => {
                if (industry?._id !== i._id) update({ industryId: i._id, cart: [], slot: null });
              }}
            >
              {i.name}
            </button>
          ))}
        </div>
      )}
      {!industry && <p className="muted">Choose the kind of service first.</p>}
      {industry && (
        <>
          {industry.description && <p className="muted">{industry.description}</p>}
          {industry.categories.map((category) => (
            <div key={category._id} className="category">
              <h3>{category.name}</h3>
              <ul className="product-list">
                {category.products.map((product) => (
                  <ProductRow
                    key={product._id}
                    product={product}
                    currency={catalogue.currency}
                    extras={industry.extras.filter((e) => e.productIds.length === 0 || e.productIds.includes(product._id))}
                    line={draft.cart.find((l) => l.productId === product._id)}
                    onChange={(line) => {
                      const rest = draft.cart.filter((l) => l.productId !== product._id);
                      setCart(line ? [...rest, line] : rest);
                    }}
                  />
                ))}
              </ul>
            </div>
          ))}
        </>
      )}
    </div>
  );
}

/** Moves on to step 3: focus on the chosen (or first) day of the day strip. */
function focusWhenStep() {
  const day = document.querySelector<HTMLElement>('.day-strip [role="radio"][tabindex="0"]');
  day?.scrollIntoView({ block: "center", behavior: "smooth" });
  day?.focus({ preventScroll: true });
}

function Stepper({
  value,
  min,
  max,
  step,
  label,
  onChange,
}: {
  value: number;
  min: number;
  max: number;
  step: number;
  label: string;
  onChange: (n: number) => void;
}) {
  return (
    <span className="stepper" role="group" aria-label={label}>
      <button type="button" className="btn btn-small btn-secondary" aria-label={`Fewer ${label}`} disabled={value - step < min} onClick={() => onChange(value - step)}>
        −
      </button>
      <output aria-live="polite">{value}</output>
      <button type="button" className="btn btn-small btn-secondary" aria-label={`More ${label}`} disabled={value + step > max} onClick={() => onChange(value + step)}>
        +
      </button>
    </span>
  );
}

function ProductRow({
  product,
  currency,
  extras,
  line,
  onChange,
}: {
  product: Product;
  currency: string;
  extras: Extra[];
  line: CartLine | undefined;
  onChange: (line: CartLine | null) => void;
}) {
  const q = product.quantity;
  const unit = q.unitLabel ?? "units";
  const actions = useRef<HTMLDivElement>(null);
  useFocusOnArrival(actions, line !== undefined);
  return (
    <li className={`product${line ? " in-cart" : ""}`} data-product={product.name}>
      <div className="product-main">
        <div>
          <strong>{product.name}</strong>
          {product.description && <p className="muted small">{product.description}</p>}
          <p className="small">
            <span data-testid="product-price">{money(product.priceMinor, currency)}</span> · {minutes(product.durationMinutes)}
            {q.max > q.min && q.extraUnitPriceMinor > 0 && (
              <span className="muted">
                {" "}
                · {q.included} {unit} included, {money(q.extraUnitPriceMinor, currency)} per extra
              </span>
            )}
          </p>
        </div>
        <div className="product-actions" ref={actions}>
          {line ? (
            <>
              {q.max > q.min && (
                <Stepper
                  value={line.quantity}
                  min={q.min}
                  max={q.max}
                  step={q.step}
                  label={`${product.name} (${unit})`}
                  onChange={(quantity) => onChange({ ...line, quantity })}
                />
              )}
              <Button variant="ghost" className="btn-small" onClick={() => onChange(null)} aria-label={`Remove ${product.name}`}>
                Remove
              </Button>
              <Button variant="secondary" className="btn-small" onClick={focusWhenStep}>
                Pick a time →
              </Button>
            </>
          ) : (
            <Button
              variant="secondary"
              className="btn-small"
              onClick={() => onChange({ productId: product._id, quantity: Math.max(q.min, q.included), extras: [] })}
              aria-label={`Add ${product.name}`}
            >
              Add
            </Button>
          )}
        </div>
      </div>
      {line && extras.length > 0 && (
        <fieldset className="extras">
          <legend className="small">Extras</legend>
          {extras.map((extra) => {
            const chosen = line.extras.find((e) => e.extraId === extra._id);
            const setQty = (quantity: number) => {
              const rest = line.extras.filter((e) => e.extraId !== extra._id);
              onChange({ ...line, extras: quantity > 0 ? [...rest, { extraId: extra._id, quantity }] : rest });
            };
            return (
              <div key={extra._id} className="extra">
                {extra.pricing === "flat" || extra.maxQuantity === 1 ? (
                  <label className="checkbox">
                    <input type="checkbox" checked={chosen !== undefined} onChange={(e) => setQty(e.target.checked ? 1 : 0)} />
                    {extra.name}
                  </label>
                ) : (
                  <span className="extra-qty">
                    {extra.name}
                    <Stepper value={chosen?.quantity ?? 0} min={0} max={extra.maxQuantity} step={1} label={extra.name} onChange={setQty} />
                  </span>
                )}
                <span className="muted small">
                  +{money(extra.priceMinor, currency)}
                  {extra.pricing === "per_quantity" ? " each" : ""}
                  {extra.durationMinutes > 0 ? ` · +${minutes(extra.durationMinutes)}` : ""}
                </span>
              </div>
            );
          })}
        </fieldset>
      )}
    </li>
  );
}

// ---------------------------------------------------------------------------------------
// 3. When

const DAYS_SHOWN = 14;
const HOLD_PING_MS = 30_000;

function SlotStep({
  business,
  zoneId,
  draft,
  update,
}: {
  business: Business;
  zoneId: Id<"zones">;
  draft: Draft;
  update: (p: Partial<Draft>) => void;
}) {
  const tz = business.timeZone;
  const today = todayIn(Date.now(), tz);
  const [firstDay, setFirstDay] = useState(today);
  const date = draft.date && draft.date >= today ? draft.date : today;
  const days = useMemo(() => Array.from({ length: DAYS_SHOWN }, (_, i) => addDays(firstDay, i)), [firstDay]);

  const slots = useQuery(api.availability.slots, {
    businessId: business._id,
    zoneId,
    cart: draft.cart,
    from: date,
    to: date,
  });

  // Live "someone is checking out this slot" counts, and our own hold pings.
  const [holds, setHolds] = useState<Map<number, number>>(new Map());
  const room = roomIds.availability(business._id, zoneId, date);
  const live = useRoom("availability", room, {
    onMessage: (message) => {
      if (message.type === "holds") {
        const next = new Map<number, number>();
        for (const h of message.holds) next.set(h.startsAt, (next.get(h.startsAt) ?? 0) + h.count);
        setHolds(next);
      }
    },
  });
  const mySlot = draft.slot;
  const sendRef = useRef(live.send);
  sendRef.current = live.send;
  useEffect(() => {
    if (mySlot === null || live.status !== "open") return;
    sendRef.current({ type: "hold.ping", startsAt: mySlot });
    const timer = setInterval(() => sendRef.current({ type: "hold.ping", startsAt: mySlot }), HOLD_PING_MS);
    return () => {
      clearInterval(timer);
      sendRef.current({ type: "hold.release", startsAt: mySlot });
    };
  }, [mySlot, live.status]);

  // The chosen slot vanished (someone else booked it): say so and let them pick again.
  const [lost, setLost] = useState<number | null>(null);
  useEffect(() => {
    if (slots === undefined || mySlot === null) return;
    if (draft.date !== date) return;
    if (!slots.slots.some((s) => s.start === mySlot)) {
      setLost(mySlot);
      update({ slot: null });
    }
  }, [slots, mySlot]);

  return (
    <div>
      <div className="day-strip-wrap">
        <button
          type="button"
          className="btn btn-small btn-ghost"
          aria-label="Earlier days"
          disabled={firstDay <= today}
          onClick={() => setFirstDay(addDays(firstDay, -DAYS_SHOWN) < today ? today : addDays(firstDay, -DAYS_SHOWN))}
        >
          ‹
        </button>
        <div className="day-strip" role="radiogroup" aria-label="Day" onKeyDown={onRadioGroupKeyDown}>
          {days.map((d, index) => (
            <button
              key={d}
              type="button"
              role="radio"
              aria-checked={d === date}
              tabIndex={radioTabIndex(d === date, index, days.includes(date))}
              className={`day${d === date ? " selected" : ""}`}
              data-date={d}
              onClick={() => update({ date: d, slot: null })}
            >
              {localDateLabel(d)}
            </button>
          ))}
        </div>
        <button type="button" className="btn btn-small btn-ghost" aria-label="Later days" onClick={() => setFirstDay(addDays(firstDay, DAYS_SHOWN))}>
          ›
        </button>
      </div>
      <div className="slot-head">
        <span className="muted small">
          {slots ? `${minutes(slots.durationMinutes)} · ` : ""}
          {slots && slots.arrivalWindowMinutes > 0 ? `you pick a ${minutes(slots.arrivalWindowMinutes)} arrival window · ` : ""}
          times in {zoneName(tz)}
        </span>
        <LiveDot status={live.status} />
      </div>
      {lost !== null && (
        <Notice kind="warning">
          <span data-testid="slot-lost">The {time(lost, tz)} slot was just taken by someone else. Please pick another time.</span>
        </Notice>
      )}
      {slots === undefined ? (
        <Loading label="Finding free times…" />
      ) : slots.slots.length === 0 ? (
        <Empty title={`No free times on ${localDateLabel(date)}`}>Try another day.</Empty>
      ) : (
        <div className="slots" role="radiogroup" aria-label="Start time" data-testid="slots" onKeyDown={onRadioGroupKeyDown}>
          {slots.slots.map((slot, index) => {
            const others = (holds.get(slot.start) ?? 0) - (slot.start === mySlot && live.status === "open" ? 1 : 0);
            const selected = slot.start === mySlot;
            return (
              <button
                key={slot.start}
                type="button"
                role="radio"
                aria-checked={selected}
                tabIndex={radioTabIndex(selected, index, slots.slots.some((s) => s.start === mySlot))}
                className={`slot${selected ? " selected" : ""}${others > 0 ? " contested" : ""}`}
                data-start={slot.start}
                data-time={time(slot.start, tz)}
                data-remaining={slot.remainingCapacity}
                onClick={() => {
                  setLost(null);
                  update({ slot: selected ? null : slot.start, date });
                }}
              >
                <span className="slot-time">
                  {time(slot.start, tz)}
                  {slot.arrivalWindowEnd ? `–${time(slot.arrivalWindowEnd, tz)}` : ""}
                </span>
                {zonesDiffer(tz, viewerTimeZone, slot.start) && <span className="slot-viewer small">{time(slot.start, viewerTimeZone)} yours</span>}
                {others > 0 && (
                  <span className="slot-hold small" data-testid="slot-hold">
                    {others === 1 ? "someone is checking out" : `${others} people checking out`}
                  </span>
                )}
              </button>
            );
          })}
        </div>
      )}
    </div>
  );
}

// ---------------------------------------------------------------------------------------
// 4. Details and payment

function DetailsStep({
  business,
  draft,
  update,
  reset,
}: {
  business: Business;
  draft: Draft;
  update: (p: Partial<Draft>) => void;
  reset: () => void;
}) {
  const session = useSession();
  const registerSelf = useMutation(api.customers.registerSelf);
  const hold = useMutation(api.bookings.hold);
  const confirm = useMutation(api.bookings.confirm);
  const startCheckout = useAction(api.payments.startCheckout);
  const createPlan = useMutation(api.series.create);
  const startCardSetup = useAction(api.planBilling.startCardSetup);
  const options = useQuery(api.series.frequencyOptions, { businessId: business._id, ...(draft.zone ? { zoneId: draft.zone.zoneId } : {}) });
  const option = options?.find((o) => o.key === draft.frequency);
  const submit = useRun();
  const [stage, setStage] = useState<string | null>(null);

  const signedIn = session.status === "ready";
  const staffHere = signedIn && session.contexts.some((c) => c.businessId === business._id && c.role !== "customer");

  async function book() {
    if (draft.slot === null || !draft.zone) return;
    const slot = draft.slot;
    const zone = draft.zone;
    const address = {
      line1: draft.line1.trim(),
      ...(draft.line2.trim() ? { line2: draft.line2.trim() } : {}),
      city: draft.city.trim(),
      postalCode: draft.postalCode,
      country: draft.country || "US",
    };
    const notes = draft.notes.trim() ? { customerNotes: draft.notes.trim() } : {};
    await submit.run(async () => {
      await registerSelf({ businessId: business._id });
      if (option) {
        setStage("Booking your visits…");
        const local = instantToLocal(slot, business.timeZone);
        const plan = await createPlan({
          businessId: business._id,
          zoneId: zone.zoneId,
          cart: draft.cart,
          recurrence: option.recurrence,
          startDate: local.date,
          localTime: local.time,
          occurrences: PLAN_VISITS,
          onConflict: "alternative",
          address,
          ...notes,
        });
        reset();
        // The card the visits are charged on is saved now (a SetupIntent); without it the plan stays booked.
        setStage("Opening the card page…");
        const setup = await startCardSetup({ seriesId: plan.seriesId }).catch(() => null);
        if (setup !== null) window.location.assign(setup.url);
        else navigate(`/plans/${plan.seriesId}?booked=1`);
        return;
      }
      setStage("Reserving your time…");
      const held = await hold({
        businessId: business._id,
        zoneId: zone.zoneId,
        cart: draft.cart,
        start: slot,
        address,
        ...notes,
      });
      setStage("Confirming…");
      const confirmed = await confirm({ bookingId: held.bookingId });
      if (confirmed.status === "CONFIRMED") {
        reset();
        navigate(`/bookings/${held.bookingId}?booked=1`);
        return;
      }
      setStage("Opening the payment page…");
      const checkout = await startCheckout({ bookingId: held.bookingId });
      reset();
      window.location.assign(checkout.url);
    });
    setStage(null);
  }

  if (!signedIn) {
    return (
      <div>
        <p>Sign in to reserve this time and pay. Your choices are kept.</p>
        <a className="btn btn-primary" href={`/sign-in?next=${encodeURIComponent(window.location.pathname)}`}>
          Sign in to continue
        </a>
      </div>
    );
  }
  if (staffHere) {
    return <Notice kind="info">You work for {business.name}: sign in as a customer to book for yourself.</Notice>;
  }

  const code = submit.error ? explainError(submit.error).code : null;
  return (
    <form
      className="details-form"
      onSubmit={(e) => {
        e.preventDefault();
        void book();
      }}
    >
      <div className="form-grid">
        <Field label="Street address">
          <input name="line1" required value={draft.line1} autoComplete="address-line1" onChange={(e) => update({ line1: e.target.value })} />
        </Field>
        <Field label="Apartment, floor (optional)">
          <input name="line2" value={draft.line2} autoComplete="address-line2" onChange={(e) => update({ line2: e.target.value })} />
        </Field>
        <Field label="City">
          <input name="city" required value={draft.city} autoComplete="address-level2" onChange={(e) => update({ city: e.target.value })} />
        </Field>
        <Field label="Postal code">
          <input value={draft.postalCode} readOnly aria-readonly="true" />
        </Field>
      </div>
      <Field label="Notes for the provider (optional)" hint="Access codes, pets, parking…">
        <textarea name="notes" rows={3} maxLength={2000} value={draft.notes} onChange={(e) => update({ notes: e.target.value })} />
      </Field>
      <fieldset className="frequency-picker">
        <legend>How often?</legend>
        <label className="radio-row">
          <input type="radio" name="frequency" checked={!option} onChange={() => update({ frequency: "once" })} /> One-off
        </label>
        {(options ?? []).map((o) => (
          <label key={o.key} className="radio-row" data-frequency={o.key}>
            <input type="radio" name="frequency" checked={option?.key === o.key} onChange={() => update({ frequency: o.key })} /> {o.label}
            {o.discountBp > 0 && <span className="badge tone-good">−{o.discountBp / 100}%</span>}
            {o.discountBp > 0 && o.firstVisitDiscountBp === 0 && <span className="muted small"> from the second visit</span>}
          </label>
        ))}
      </fieldset>
      {option && draft.zone && draft.slot !== null && (
        <ErrorBoundary resetKey={`${option.key}/${draft.slot}`}>
          <PlanPreview business={business} zoneId={draft.zone.zoneId} cart={draft.cart} slot={draft.slot} recurrence={option.recurrence} label={option.label} />
        </ErrorBoundary>
      )}
      {submit.error !== null && (
        <>
          <ErrorBox error={submit.error} />
          {(code === "SLOT_UNAVAILABLE" || code === "HOLD_EXPIRED") && (
            <Button variant="secondary" onClick={() => update({ slot: null })}>
              Pick another time
            </Button>
          )}
        </>
      )}
      <div className="form-actions">
        <Button type="submit" busy={submit.busy} data-testid="reserve-and-pay">
          {submit.busy ? (stage ?? "Working…") : option ? "Book the plan" : "Reserve and pay"}
        </Button>
        <span className="muted small">
          {option
            ? "Next you save a card: each visit is charged on it once it is done. Skip, move or cancel visits from the plan page."
            : `Your time is held for ${business.policies.booking.holdMinutes} minutes while you pay.`}
        </span>
      </div>
    </form>
  );
}

/** Visits booked ahead when a plan starts. */
const PLAN_VISITS = 6;

type Recurrence = NonNullable<FunctionReturnType<typeof api.series.frequencyOptions>>[number]["recurrence"];

/** The next visits of the plan as they would be placed now: times, and for the others why not and what instead. */
function PlanPreview({
  business,
  zoneId,
  cart,
  slot,
  recurrence,
  label,
}: {
  business: Business;
  zoneId: Id<"zones">;
  cart: CartLine[];
  slot: number;
  recurrence: Recurrence;
  label: string;
}) {
  const tz = business.timeZone;
  const local = instantToLocal(slot, tz);
  const check = useQuery(api.series.check, {
    businessId: business._id,
    zoneId,
    cart,
    recurrence,
    startDate: local.date,
    localTime: local.time,
    occurrences: PLAN_VISITS,
  });
  if (check === undefined) return <Loading label="Placing your visits…" />;
  const rows = [
    ...check.fitting.map((f) => ({ ...f, conflict: undefined as (typeof check.conflicts)[number] | undefined })),
    ...check.conflicts.map((c) => ({ index: c.index, date: c.date, start: c.start, conflict: c })),
  ].sort((a, b) => a.index - b.index);
  return (
    <div className="plan-preview" data-testid="plan-preview">
      <p>
        <strong>{label}</strong>, {money(check.totalPerOccurrenceMinor, business.currency)} per visit
        {check.discountBp > 0 ? ` (${check.discountBp / 100}% off)` : ""}
        {check.firstVisitTotalMinor !== check.totalPerOccurrenceMinor ? `; the first visit at full price, ${money(check.firstVisitTotalMinor, business.currency)}` : ""}. Your next{" "}
        {PLAN_VISITS} visits:
      </p>
      <ol className="plan-visits">
        {rows.map((r) => (
          <li key={r.index} data-testid="plan-visit" data-date={r.date} data-ok={r.conflict ? "false" : "true"}>
            {localDateLabel(r.date)} at {time(r.start, tz)}
            {r.conflict && (
              <span className="plan-conflict small">
                {" "}
                — not available: {r.conflict.reason}.{" "}
                {r.conflict.alternative !== undefined ? (
                  <strong data-testid="plan-alternative">We can come at {time(r.conflict.alternative, tz)} that day instead.</strong>
                ) : (
                  "This visit is left out."
                )}
              </span>
            )}
          </li>
        ))}
      </ol>
    </div>
  );
}

// ---------------------------------------------------------------------------------------
// Summary with the live quote

function Summary({ business, catalogue, draft }: { business: Business; catalogue: Catalogue | undefined; draft: Draft }) {
  if (!draft.zone) return <p className="muted">Start with your postal code.</p>;
  if (draft.cart.length === 0) return <p className="muted">Add a service to see the price.</p>;
  const names = new Map<string, string>();
  for (const industry of catalogue?.industries ?? []) {
    for (const c of industry.categories) for (const p of c.products) names.set(p._id, p.name);
  }
  return (
    <ErrorBoundary resetKey={JSON.stringify(draft.cart)}>
      <Quote business={business} zoneId={draft.zone.zoneId} cart={draft.cart} />
      {draft.slot !== null && (
        <p className="summary-when" data-testid="summary-when">
          <strong>{localDateLabel(draft.date ?? todayIn(draft.slot, business.timeZone))}</strong> at {timeWithViewer(draft.slot, business.timeZone)}
        </p>
      )}
    </ErrorBoundary>
  );
}

function Quote({ business, zoneId, cart }: { business: Business; zoneId: Id<"zones">; cart: CartLine[] }) {
  const quote = useQuery(api.availability.quote, { businessId: business._id, zoneId, cart });
  if (quote === undefined) return <Loading label="Pricing…" />;
  const q = quote.quote;
  return (
    <div className="quote" data-testid="quote">
      <table className="lines">
        <tbody>
          {quote.lines.map((line, i) => (
            <tr key={i} className={`line-${line.kind}`}>
              <td>
                {line.description}
                {line.quantity > 1 ? ` × ${line.quantity}` : ""}
              </td>
              <td className="num">{money(line.amountMinor, q.currency)}</td>
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr>
            <th scope="row">Total{quote.taxInclusive ? " (tax included)" : ""}</th>
            <td className="num total" data-testid="quote-total">
              {money(q.totalMinor, q.currency)}
            </td>
          </tr>
        </tfoot>
      </table>
      <p className="muted small" data-testid="quote-duration">
        Takes about {minutes(q.durationMinutes)}
      </p>
      {business.policies.booking.depositBp > 0 && business.policies.booking.depositBp < 10_000 && (
        <p className="muted small">A deposit of {business.policies.booking.depositBp / 100}% is taken when you book.</p>
      )}
    </div>
  );
}

