/**
 * One recurring plan: its visits (price, status, skipped ones), skip one visit with the
 * fee shown first (`bookings.cancellationPreview`, then `series.skip`), move one (its booking
 * page), pause / resume, and cancel the plan with the fees of every upcoming visit shown
 * first (`series.cancelPreview`).
 */
import { useMutation, useQuery } from "convex/react";
import { useState } from "react";
import { api } from "../../../../convex/_generated/api";
import type { Id } from "../../../../convex/_generated/dataModel";
import { Button, Card, ErrorBox, Loading, Notice, PageHeader, StatusBadge, useRun } from "../../components/ui";
import { dateTime, money, planFrequencyLabel } from "../../lib/format";
import { Link, useQueryParams } from "../../lib/router";

const UPCOMING = new Set(["HELD", "PENDING_PAYMENT", "CONFIRMED"]);

export function PlanPage({ seriesId }: { seriesId: Id<"recurringSeries"> }) {
  const plan = useQuery(api.series.get, { seriesId });
  const business = useQuery(api.businesses.get, plan ? { businessId: plan.businessId } : "skip");
  const params = useQueryParams();
  const [skipping, setSkipping] = useState<Id<"bookings"> | null>(null);
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
      <Card title="Visits">
        <ul className="booking-list" data-testid="plan-visits">
          {plan.occurrences.map((o) => {
            const upcoming = plan.status !== "cancelled" && UPCOMING.has(o.status) && o.start > now;
            return (
              <li key={o.bookingId} className="booking-row" data-booking={o.bookingId} data-testid="plan-visit" data-skipped={o.skipped ? "true" : "false"}>
                <Link href={`/bookings/${o.bookingId}`} className="booking-link">
                  <span className="booking-when">{dateTime(o.start, tz)}</span>
                  <span className="booking-meta">
                    {o.skipped ? <span className="badge tone-warn">Skipped</span> : <StatusBadge status={o.status} />}
                    <span>{money(o.totalMinor, o.currency)}</span>
                  </span>
                </Link>
                {upcoming && skipping !== o.bookingId && (
                  <Button variant="secondary" className="btn-small" onClick={() => setSkipping(o.bookingId)}>
                    Skip this visit
                  </Button>
                )}
                {skipping === o.bookingId && <SkipPanel seriesId={plan.seriesId} bookingId={o.bookingId} onDone={() => setSkipping(null)} />}
              </li>
            );
          })}
        </ul>
      </Card>
      {plan.status !== "cancelled" && (
        <Card title="Pause or cancel">
          <p className="muted small">To move one visit, open it and pick another time.</p>
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
