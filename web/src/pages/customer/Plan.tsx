/**
 * One recurring plan: its visits (price, status, skipped ones), skip one visit with the
 * fee shown first (`bookings.cancellationPreview`, then `series.skip`), move one visit or
 * "this and all future" (`series.rescheduleVisit` / `series.changePreview` + `series.change`,
 * fees and conflicts shown first), change the plan's frequency or time, the card its visits
 * are charged on (`planBilling.startCardSetup`; a warning when it needs updating), pause /
 * resume, and cancel the plan with the fees of every upcoming visit shown first.
 */
import { useAction, useMutation, useQuery } from "convex/react";
import type { FunctionArgs, FunctionReturnType } from "convex/server";
import { useState } from "react";
import { api } from "../../../../convex/_generated/api";
import type { Id } from "../../../../convex/_generated/dataModel";
import { instantToLocal, localToInstant } from "../../../../domain/time";
import { Button, Card, ErrorBox, Field, Loading, Notice, PageHeader, StatusBadge, useRun } from "../../components/ui";
import { dateTime, localDateLabel, money, planFrequencyLabel, time } from "../../lib/format";
import { Link, useQueryParams } from "../../lib/router";

const UPCOMING = new Set(["HELD", "PENDING_PAYMENT", "CONFIRMED"]);

export function PlanPage({ seriesId }: { seriesId: Id<"recurringSeries"> }) {
  const plan = useQuery(api.series.get, { seriesId });
  const business = useQuery(api.businesses.get, plan ? { businessId: plan.businessId } : "skip");
  const params = useQueryParams();
  const [skipping, setSkipping] = useState<Id<"bookings"> | null>(null);
  const [moving, setMoving] = useState<Id<"bookings"> | null>(null);
  const [cancelling, setCancelling] = useState<boolean | "pause">(false);
  if (plan === undefined || business === undefined) return <Loading label="Loading your plan…" />;
  const tz = business?.timeZone ?? "UTC";
  const now = Date.now();
  const frequency = planFrequencyLabel(plan.frequency, plan.interval);
  return (
    <div className="plan-page" data-series={plan.seriesId} data-status={plan.status}>
      <p>
        <Link href="/bookings">← My bookings</Link>
      </p>
      <PageHeader
        title={`Your ${frequency} plan`}
        subtitle={`${business?.name ?? ""} · at ${plan.localTime}${plan.discountBp > 0 ? ` · ${plan.discountBp / 100}% off every visit` : ""}`}
        actions={<span className="badge tone-info" data-testid="plan-status">{plan.status}</span>}
      />
      {params.get("booked") === "1" && <Notice kind="success">Your plan is booked.</Notice>}
      {params.get("card") === "saved" && plan.billing?.status === "active" && <Notice kind="success">Your card is saved: each visit is charged once it is done.</Notice>}
      {plan.status !== "cancelled" && <PlanCard seriesId={plan.seriesId} billing={plan.billing} />}
      <Card title="Visits">
        <ul className="booking-list" data-testid="plan-visits">
          {plan.occurrences.filter((o) => !o.replaced).map((o) => {
            const upcoming = plan.status !== "cancelled" && UPCOMING.has(o.status) && o.start > now;
            return (
              <li key={o.bookingId} className="booking-row" data-booking={o.bookingId} data-testid="plan-visit" data-skipped={o.skipped ? "true" : "false"} data-local-time={instantToLocal(o.start, tz).time} data-date={instantToLocal(o.start, tz).date}>
                <Link href={`/bookings/${o.bookingId}`} className="booking-link">
                  <span className="booking-when">{dateTime(o.start, tz)}</span>
                  <span className="booking-meta">
                    {o.skipped ? <span className="badge tone-warn">Skipped</span> : <StatusBadge status={o.status} />}
                    <span>{money(o.totalMinor, o.currency)}</span>
                  </span>
                </Link>
                {o.chargeFailed && <span className="badge tone-bad">Charge declined</span>}
                {o.paidMinor > 0 && <span className="badge tone-good">Paid</span>}
                {upcoming && skipping !== o.bookingId && moving !== o.bookingId && (
                  <span className="button-row">
                    <Button variant="secondary" className="btn-small" onClick={() => setSkipping(o.bookingId)}>
                      Skip this visit
                    </Button>
                    {plan.status === "active" && (
                      <Button variant="secondary" className="btn-small" onClick={() => setMoving(o.bookingId)}>
                        Move…
                      </Button>
                    )}
                  </span>
                )}
                {skipping === o.bookingId && <SkipPanel seriesId={plan.seriesId} bookingId={o.bookingId} onDone={() => setSkipping(null)} />}
                {moving === o.bookingId && <MovePanel seriesId={plan.seriesId} bookingId={o.bookingId} start={o.start} tz={tz} currency={o.currency} onDone={() => setMoving(null)} />}
              </li>
            );
          })}
        </ul>
      </Card>
      {plan.status === "active" && <ChangePlanCard seriesId={plan.seriesId} businessId={plan.businessId} localTime={plan.localTime} frequency={plan.frequency} interval={plan.interval} tz={tz} />}
      {plan.status !== "cancelled" && (
        <Card title="Pause or cancel">
          {plan.status === "paused" ? (
            <ResumeButton seriesId={plan.seriesId} />
          ) : cancelling === "pause" ? (
            <CancelPlanPanel seriesId={plan.seriesId} pause onDone={() => setCancelling(false)} />
          ) : (
            <Button variant="secondary" onClick={() => setCancelling("pause")}>
              Pause the plan…
            </Button>
          )}{" "}
          {cancelling === true ? (
            <CancelPlanPanel seriesId={plan.seriesId} onDone={() => setCancelling(false)} />
          ) : (
            <Button variant="danger" onClick={() => setCancelling(true)}>
              Cancel the plan…
            </Button>
          )}
        </Card>
      )}
    </div>
  );
}

function SkipPanel({ seriesId, bookingId, onDone }: { seriesId: Id<"recurringSeries">; bookingId: Id<"bookings">; onDone: () => void }) {
  const preview = useQuery(api.bookings.cancellationPreview, { bookingId });
  const detail = useQuery(api.bookings.get, { bookingId });
  const skip = useMutation(api.series.skip);
  const run = useRun();
  if (preview === undefined || detail === undefined) return <Loading label="Checking the policy…" />;
  const currency = detail.booking.quote.currency;
  return (
    <div className="panel" data-testid="skip-panel">
      <p>{preview.feeMinor > 0 ? `Skipping this visit costs ${money(preview.feeMinor, currency)} (${preview.reason}).` : `Skipping this visit is free (${preview.reason}).`}</p>
      {run.error !== null && <ErrorBox error={run.error} compact />}
      <Button busy={run.busy} onClick={() => void run.run(() => skip({ seriesId, bookingId, expectedFeeMinor: preview.feeMinor })).then((r) => r && onDone())}>
        Skip it
      </Button>{" "}
      <Button variant="ghost" onClick={onDone}>
        Keep it
      </Button>
    </div>
  );
}

function ResumeButton({ seriesId }: { seriesId: Id<"recurringSeries"> }) {
  const resume = useMutation(api.series.resume);
  const run = useRun();
  return (
    <>
      {run.error !== null && <ErrorBox error={run.error} compact />}
      <Button busy={run.busy} onClick={() => void run.run(() => resume({ seriesId }))}>
        Resume the plan
      </Button>
    </>
  );
}

/** Cancelling or pausing: both cancel the upcoming visits under the policy, so both show the fees first. */
function CancelPlanPanel({ seriesId, onDone, pause = false }: { seriesId: Id<"recurringSeries">; onDone: () => void; pause?: boolean }) {
  const preview = useQuery(api.series.cancelPreview, { seriesId });
  const cancelPlan = useMutation(api.series.cancel);
  const pausePlan = useMutation(api.series.pause);
  const cancel = pause ? pausePlan : cancelPlan;
  const run = useRun();
  if (preview === undefined) return <Loading label="Checking the policy…" />;
  return (
    <div className="panel" data-testid="cancel-plan-panel">
      <p>
        {preview.visits.length} upcoming visit{preview.visits.length === 1 ? "" : "s"} will be cancelled
        {pause ? " and no new ones booked until you resume." : "."}{" "}
        {preview.feeMinor > 0 ? (
          <strong data-testid="cancel-plan-fee">Cancellation fees: {money(preview.feeMinor, preview.currency)}.</strong>
        ) : (
          <span data-testid="cancel-plan-fee">No cancellation fee.</span>
        )}
      </p>
      {run.error !== null && <ErrorBox error={run.error} compact />}
      <Button variant="danger" busy={run.busy} onClick={() => void run.run(() => cancel({ seriesId, expectedFeeMinor: preview.feeMinor })).then((r) => r && onDone())}>
        {pause ? "Pause the plan" : "Cancel the plan"}
      </Button>{" "}
      <Button variant="ghost" onClick={onDone}>
        Keep the plan
      </Button>
    </div>
  );
}

type Billing = FunctionReturnType<typeof api.series.get>["billing"];

/** The card the plan's visits are charged on: save one, or replace it (a warning when the last charges were declined). */
function PlanCard({ seriesId, billing }: { seriesId: Id<"recurringSeries">; billing: Billing }) {
  const startCardSetup = useAction(api.planBilling.startCardSetup);
  const run = useRun();
  const needsUpdate = billing?.status === "card_update_needed";
  return (
    <Card title="Payment card" className="plan-card">
      <div data-testid="plan-card" data-billing={billing?.status ?? "none"}>
        {needsUpdate && (
          <Notice kind="warning">
            <span data-testid="card-update-needed">The charge for a visit was declined several times. Update your card to pay what is owed.</span>
          </Notice>
        )}
        {billing?.card ? (
          <p>
            Visits are charged on your {billing.card.brand} card ending in <strong data-testid="plan-card-last4">{billing.card.last4}</strong> once each is done.
          </p>
        ) : (
          <p>Save a card and each visit is charged on it once it is done. Nothing is charged now.</p>
        )}
        {run.error !== null && <ErrorBox error={run.error} compact />}
        <Button
          variant={needsUpdate || !billing?.card ? "primary" : "secondary"}
          busy={run.busy}
          onClick={() =>
            void run.run(async () => {
              const setup = await startCardSetup({ seriesId });
              window.location.assign(setup.url);
            })
          }
        >
          {billing?.card ? "Update the card" : "Save a card"}
        </Button>
      </div>
    </Card>
  );
}

type ChangeArgs = Omit<FunctionArgs<typeof api.series.changePreview>, "seriesId">;

/** The effect of a plan change, visit by visit (new times, conflicts with the alternative, fees), then Confirm. */
function ChangePreview({ seriesId, change, tz, onDone }: { seriesId: Id<"recurringSeries">; change: ChangeArgs; tz: string; onDone: () => void }) {
  const preview = useQuery(api.series.changePreview, { seriesId, ...change });
  const apply = useMutation(api.series.change);
  const run = useRun();
  if (preview === undefined) return <Loading label="Placing the visits…" />;
  const placed = preview.rows.filter((r) => r.start !== undefined);
  const dropped = preview.rows.filter((r) => r.action === "drop");
  return (
    <div className="panel" data-testid="change-preview">
      <p>
        From {placed[0]?.date ? localDateLabel(placed[0].date) : "the next visit"}: {money(preview.totalPerVisitMinor, preview.currency)} per visit
        {preview.discountBp > 0 ? ` (${preview.discountBp / 100}% off)` : ""}.
      </p>
      <ol className="plan-visits">
        {placed.map((r) => (
          <li key={`${r.index}`} data-testid="change-visit" data-date={r.date} data-ok={r.conflict ? "false" : "true"}>
            {localDateLabel(r.date!)} at {time(r.start!, tz)}
            {r.action === "keep" && <span className="muted small"> (unchanged)</span>}
            {r.feeMinor > 0 && <strong> · fee {money(r.feeMinor, preview.currency)}</strong>}
            {r.conflict && (
              <span className="plan-conflict small">
                {" "}
                — not available: {r.conflict.reason}.{" "}
                {r.conflict.alternative !== undefined ? `We can come at ${time(r.conflict.alternative, tz)} that day instead.` : "This visit is left out."}
              </span>
            )}
          </li>
        ))}
      </ol>
      {dropped.length > 0 && (
        <p className="small">
          {dropped.length} visit{dropped.length === 1 ? "" : "s"} no longer needed will be cancelled
          {dropped.some((d) => d.feeMinor > 0) ? ` (fees ${money(dropped.reduce((a, d) => a + d.feeMinor, 0), preview.currency)})` : ""}.
        </p>
      )}
      <p data-testid="change-fee">{preview.feeMinor > 0 ? `Fees for this change: ${money(preview.feeMinor, preview.currency)}.` : "No fee for this change."}</p>
      {run.error !== null && <ErrorBox error={run.error} compact />}
      <Button busy={run.busy} onClick={() => void run.run(() => apply({ seriesId, ...change, onConflict: "alternative", expectedFeeMinor: preview.feeMinor })).then((r) => r && onDone())}>
        Confirm the change
      </Button>{" "}
      <Button variant="ghost" onClick={onDone}>
        Keep things as they are
      </Button>
    </div>
  );
}

/** Move one visit to another date and time: only this visit, or this and all future visits. */
function MovePanel({
  seriesId,
  bookingId,
  start,
  tz,
  currency,
  onDone,
}: {
  seriesId: Id<"recurringSeries">;
  bookingId: Id<"bookings">;
  start: number;
  tz: string;
  currency: string;
  onDone: () => void;
}) {
  const local = instantToLocal(start, tz);
  const [date, setDate] = useState(local.date);
  const [at, setAt] = useState(local.time);
  const [scope, setScope] = useState<"one" | "future">("one");
  const [reviewing, setReviewing] = useState(false);
  return (
    <div className="panel" data-testid="move-panel">
      <div className="form-grid">
        <Field label="New date">
          <input type="date" value={date} onChange={(e) => (setReviewing(false), setDate(e.target.value))} />
        </Field>
        <Field label="New time">
          <input type="time" step={900} value={at} onChange={(e) => (setReviewing(false), setAt(e.target.value))} />
        </Field>
      </div>
      <fieldset className="plain">
        <label className="radio-row">
          <input type="radio" name={`scope-${bookingId}`} checked={scope === "one"} onChange={() => (setReviewing(false), setScope("one"))} /> Only this visit
        </label>
        <label className="radio-row">
          <input type="radio" name={`scope-${bookingId}`} checked={scope === "future"} onChange={() => (setReviewing(false), setScope("future"))} /> This and all future visits
        </label>
      </fieldset>
      {!reviewing ? (
        <>
          <Button onClick={() => setReviewing(true)}>Review the move</Button>{" "}
          <Button variant="ghost" onClick={onDone}>
            Cancel
          </Button>
        </>
      ) : scope === "future" ? (
        <ChangePreview seriesId={seriesId} change={{ fromBookingId: bookingId, startDate: date, localTime: at }} tz={tz} onDone={onDone} />
      ) : (
        <MoveOne seriesId={seriesId} bookingId={bookingId} start={localToInstant(date, at, tz)} tz={tz} currency={currency} onDone={onDone} />
      )}
    </div>
  );
}

function MoveOne({
  seriesId,
  bookingId,
  start,
  tz,
  currency,
  onDone,
}: {
  seriesId: Id<"recurringSeries">;
  bookingId: Id<"bookings">;
  start: number;
  tz: string;
  currency: string;
  onDone: () => void;
}) {
  const preview = useQuery(api.bookings.reschedulePreview, { bookingId });
  const move = useMutation(api.series.rescheduleVisit);
  const run = useRun();
  if (preview === undefined) return <Loading label="Checking the policy…" />;
  return (
    <div data-testid="move-one">
      <p>
        Move this visit to {dateTime(start, tz)}. {preview.allowed ? (preview.feeMinor > 0 ? `Fee: ${money(preview.feeMinor, currency)} (${preview.reason}).` : `No fee (${preview.reason}).`) : preview.reason}
      </p>
      {run.error !== null && <ErrorBox error={run.error} compact />}
      <Button busy={run.busy} disabled={!preview.allowed} onClick={() => void run.run(() => move({ seriesId, bookingId, start, expectedFeeMinor: preview.feeMinor })).then((r) => r && onDone())}>
        Move this visit
      </Button>
    </div>
  );
}

/** A new frequency or time for the whole plan, from the next visit on. */
function ChangePlanCard(props: { seriesId: Id<"recurringSeries">; businessId: Id<"businesses">; localTime: string; frequency: string; interval: number; tz: string }) {
  const options = useQuery(api.series.frequencyOptions, { businessId: props.businessId });
  const currentKey = props.frequency === "every_n_weeks" ? `every_${props.interval}_weeks` : props.frequency;
  const [key, setKey] = useState(currentKey);
  const [at, setAt] = useState(props.localTime);
  const [reviewing, setReviewing] = useState(false);
  const option = options?.find((o) => o.key === key);
  return (
    <Card title="Change the plan">
      <div data-testid="change-plan">
        <div className="form-grid">
          <Field label="How often">
            <select value={key} onChange={(e) => (setReviewing(false), setKey(e.target.value))}>
              {(options ?? []).map((o) => (
                <option key={o.key} value={o.key}>
                  {o.label}
                  {o.discountBp > 0 ? ` (−${o.discountBp / 100}%)` : ""}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Time">
            <input type="time" step={900} value={at} onChange={(e) => (setReviewing(false), setAt(e.target.value))} />
          </Field>
        </div>
        {reviewing && option ? (
          <ChangePreview
            seriesId={props.seriesId}
            change={{ ...(key !== currentKey ? { recurrence: option.recurrence } : {}), ...(at !== props.localTime ? { localTime: at } : {}) }}
            tz={props.tz}
            onDone={() => setReviewing(false)}
          />
        ) : (
          <Button variant="secondary" disabled={key === currentKey && at === props.localTime} onClick={() => setReviewing(true)}>
            Review the change
          </Button>
        )}
      </div>
    </Card>
  );
}
