/**
 * One booking, live: status and its history, when (business time + yours), what, where,
 * who is coming, invoice and payments (a printable receipt), and the customer's actions:
 * pay, reschedule (fee shown first), cancel (fee shown first, `cancellationPreview`), review
 * after completion. Staff opening the same page see it read-only with the status history.
 */
import { widgetReturnFor } from "../../lib/widgetHandoff";
import { useAction, useMutation, useQuery } from "convex/react";
import type { FunctionReturnType } from "convex/server";
import { useEffect, useState } from "react";
import { api } from "../../../../convex/_generated/api";
import { isIn, MOVABLE_STATUSES, PROGRESS_STATUSES, UPCOMING_STATUSES } from "../../../../domain/bookingStatus";
import { bookingTitle } from "../../../../domain/pricing";
import type { Id } from "../../../../convex/_generated/dataModel";
import { roomIds } from "../../../../party/rooms";
import { InvoiceDownloadButton } from "../../components/InvoiceDownload";
import { Badge, Button, Card, Empty, ErrorBoundary, ErrorBox, Field, LiveDot, Loading, Notice, PageHeader, StatusBadge, useRun } from "../../components/ui";
import { useAuthBridge } from "../../lib/auth";
import { addDays, dateTime, localDateLabel, minutes, money, statusLabel, time, todayIn, viewerTimeZone, whenText, zonesDiffer } from "../../lib/format";
import { useRoom } from "../../lib/live";
import { Link, navigate, useQueryParams } from "../../lib/router";
import { useReadySession } from "../../lib/session";

type Detail = FunctionReturnType<typeof api.bookings.get>;
type Business = NonNullable<FunctionReturnType<typeof api.businesses.get>>;

const FIELD_STEPS = PROGRESS_STATUSES;

export function BookingDetail({ bookingId }: { bookingId: Id<"bookings"> }) {
  const detail = useQuery(api.bookings.get, { bookingId });
  if (detail === undefined) return <Loading label="Loading your booking…" />;
  return <BookingView detail={detail} />;
}

function BookingView({ detail }: { detail: Detail }) {
  const { booking } = detail;
  const business = useQuery(api.businesses.get, { businessId: booking.businessId });
  const session = useReadySession();
  const bridge = useAuthBridge();
  const params = useQueryParams();
  const payment = params.get("payment");
  const isCustomer = session.contexts.some((c) => c.role === "customer" && c.customerId === booking.customerId);
  const live = useRoom(
    "bookings",
    isCustomer ? roomIds.customerBookings(booking.businessId, booking.customerId) : roomIds.businessBookings(booking.businessId),
    {},
    bridge.partyToken,
  );

  if (business === undefined) return <Loading />;
  const tz = business?.timeZone ?? "UTC";
  const when = whenText(booking.start, booking.end, tz);
  const title = bookingTitle(booking.items, "Booking");

  return (
    <div className="booking-detail" data-booking={booking._id} data-local-date={booking.localDate}>
      <p>
        <Link href={isCustomer ? "/bookings" : "/dispatch"}>← {isCustomer ? "My bookings" : "Dispatch board"}</Link>
      </p>
      <PageHeader
        title={title}
        subtitle={business?.name}
        actions={
          <>
            <LiveDot status={live.status} />
            <span data-testid="booking-status">
              <StatusBadge status={booking.status} />
            </span>
          </>
        }
      />
      <PaymentResult outcome={payment} booking={booking} />
      {params.get("booked") === "1" && <Notice kind="success">Booked. See you then!</Notice>}
      <WidgetReturn businessId={booking.businessId} status={booking.status} />

      <div className="detail-grid">
        <Card title="When and where">
          <p className="when-main" data-testid="booking-when">
            {when.main}
          </p>
          {when.viewer && <p className="muted small">{when.viewer}</p>}
          {booking.arrivalWindowEnd && booking.arrivalWindowEnd > booking.start && (
            <p className="small">
              Arrival between {time(booking.start, tz)} and {time(booking.arrivalWindowEnd, tz)}.
            </p>
          )}
          {booking.address && (
            <address>
              {booking.address.line1}
              {booking.address.line2 ? `, ${booking.address.line2}` : ""}
              <br />
              {booking.address.postalCode} {booking.address.city}
            </address>
          )}
          {detail.resources.length > 0 ? (
            <p>
              With <strong data-testid="booking-provider">{detail.resources.map((r) => r.name).join(", ")}</strong>
            </p>
          ) : (
            UPCOMING.has(booking.status) && <p className="muted">A provider will be assigned soon.</p>
          )}
          {booking.customerNotes && <p className="muted small">Your notes: {booking.customerNotes}</p>}
          <FieldProgress status={booking.status} />
        </Card>

        <Card
          title="Receipt"
          actions={
            <>
              {detail.invoice && detail.invoice.status !== "void" && (isCustomer || session.current?.role === "owner" || session.current?.role === "manager") && (
                <InvoiceDownloadButton invoiceId={detail.invoice.invoiceId} />
              )}
              <Button variant="ghost" className="btn-small" onClick={() => window.print()}>
                Print
              </Button>
            </>
          }
        >
          <Receipt detail={detail} tz={tz} />
        </Card>

        {isCustomer && business && (
          <Card title="Manage">
            <CustomerActions detail={detail} business={business} />
            {booking.seriesId && (
              <p>
                A visit of your recurring plan. <Link href={`/plans/${booking.seriesId}`}>Manage the plan</Link>
              </p>
            )}
            <p>
              <Link className="btn btn-secondary" href={`/messages?customer=${booking.customerId}&booking=${booking._id}`}>
                Message the business
              </Link>
            </p>
          </Card>
        )}

        {isCustomer && booking.status === "COMPLETED" && (
          <Card title="How did it go?">
            <ErrorBoundary>
              <ReviewBox bookingId={booking._id} />
            </ErrorBoundary>
          </Card>
        )}

        <Card title="History">
          <ol className="history">
            {[...detail.history]
              .sort((a, b) => a.at - b.at)
              .map((h) => (
                <li key={h._id}>
                  <span className="muted small">{dateTime(h.at, tz)}</span> {h.from && h.from !== h.to ? `${statusLabel(h.from)} → ` : ""}
                  <strong>{statusLabel(h.to)}</strong>
                  {h.reason ? <span className="muted"> · {h.reason}</span> : null}
                </li>
              ))}
          </ol>
        </Card>
      </div>
    </div>
  );
}

/**
 * What happened to the payment the customer just came back from (the checkout's return URL
 * carries ?payment=…), told from the booking's live state: never "confirmed" unless it is.
 */
function PaymentResult({ outcome, booking }: { outcome: string | null; booking: Detail["booking"] }) {
  const payments = useQuery(api.payments.listForBooking, outcome === "succeeded" ? { bookingId: booking._id } : "skip");
  if (outcome === "succeeded") {
    if (booking.status === "PENDING_PAYMENT" || booking.status === "HELD") return <Loading label="Payment received; confirming your booking…" />;
    if (booking.status === "CANCELLED") {
      if (payments === undefined) return null;
      const cancelledAt = booking.cancellation?.at ?? 0;
      const paidAfter = payments.some((p) => p.status === "succeeded" && p.updatedAt >= cancelledAt);
      const paidBefore = payments.some((p) => p.status === "succeeded" && p.updatedAt < cancelledAt);
      // Paid, then cancelled: the return address is stale; the receipt tells the story.
      if (paidBefore && !paidAfter) return null;
      const released = booking.cancellation?.reason === "expired" && booking.cancellation.actor.role === "system";
      return (
        <Notice kind="warning">
          <strong data-testid="payment-after-cancel">
            {paidAfter
              ? released
                ? "Your payment arrived after the time to pay ran out, when this booking had already been released."
                : "Your payment arrived after this booking was cancelled."
              : released
                ? "The time to pay ran out and this booking was released."
                : "This booking was cancelled."}
          </strong>{" "}
          {paidAfter ? "It is not confirmed; what you paid is refunded to you, as the receipt below shows." : "It is not confirmed. If a payment still goes through, it is refunded to you."}
        </Notice>
      );
    }
    return (
      <Notice kind="success">
        <strong data-testid="payment-succeeded">Payment received. Your booking is confirmed.</strong> A receipt is below.
      </Notice>
    );
  }
  if (outcome === "failed") {
    return (
      <Notice kind="warning">
        <span data-testid="payment-failed">The payment did not go through. Your time stays held until the deadline; you can try again.</span>
      </Notice>
    );
  }
  if (outcome === "canceled") {
    return (
      <Notice kind="info">
        <span data-testid="payment-canceled">You left the checkout; nothing was charged.</span>
      </Notice>
    );
  }
  return null;
}

const UPCOMING = new Set<string>(UPCOMING_STATUSES);

function FieldProgress({ status }: { status: string }) {
  const index = FIELD_STEPS.indexOf(status as (typeof FIELD_STEPS)[number]);
  if (index < 0) return null;
  return (
    <ol className="progress" aria-label="Job progress">
      {FIELD_STEPS.map((s, i) => (
        <li key={s} className={i < index ? "done" : i === index ? "current" : ""} aria-current={i === index ? "step" : undefined}>
          {statusLabel(s)}
        </li>
      ))}
    </ol>
  );
}

function Receipt({ detail, tz }: { detail: Detail; tz: string }) {
  const { booking, invoice } = detail;
  const payments = useQuery(api.payments.listForBooking, { bookingId: booking._id });
  const full = useQuery(api.invoices.getForBooking, { bookingId: booking._id });
  const refunds = useQuery(api.refunds.listForInvoice, full ? { invoiceId: full._id } : "skip");
  const c = booking.quote.currency;
  return (
    <div className="receipt">
      <table className="lines">
        {full ? (
          <tbody>
            {full.lines.map((line, i) => (
              <tr key={i} className={`line-${line.kind}`}>
                <td>
                  {line.description}
                  {line.quantity > 1 ? ` × ${line.quantity}` : ""}
                </td>
                <td className="num">{money(line.amountMinor, full.currency)}</td>
              </tr>
            ))}
          </tbody>
        ) : (
        <tbody>
          {booking.items.map((item, i) => (
            <tr key={i}>
              <td>
                {item.name}
                {item.quantity > 1 ? ` × ${item.quantity}` : ""}
                {item.extras.map((e) => (
                  <div key={e.extraId} className="muted small">
                    + {e.name}
                    {e.quantity > 1 ? ` × ${e.quantity}` : ""} ({money(e.amountMinor, c)})
                  </div>
                ))}
              </td>
              <td className="num">{money(item.unitPriceMinor * item.quantity, c)}</td>
            </tr>
          ))}
          {booking.quote.discountMinor > 0 && (
            <tr>
              <td>Discount</td>
              <td className="num">−{money(booking.quote.discountMinor, c)}</td>
            </tr>
          )}
          {booking.quote.tripChargeMinor > 0 && (
            <tr>
              <td>Trip charge</td>
              <td className="num">{money(booking.quote.tripChargeMinor, c)}</td>
            </tr>
          )}
          {booking.quote.minimumTopUpMinor > 0 && (
            <tr>
              <td>Minimum charge top-up</td>
              <td className="num">{money(booking.quote.minimumTopUpMinor, c)}</td>
            </tr>
          )}
          {booking.quote.taxMinor > 0 && (
            <tr>
              <td>Tax</td>
              <td className="num">{money(booking.quote.taxMinor, c)}</td>
            </tr>
          )}
        </tbody>
        )}
        <tfoot>
          <tr>
            <th scope="row">Total</th>
            <td className="num total">{money(invoice?.totalMinor ?? booking.quote.totalMinor, c)}</td>
          </tr>
          {invoice && (
            <tr>
              <th scope="row">Paid</th>
              <td className="num" data-testid="amount-paid">
                {money(invoice.amountPaidMinor, c)}
              </td>
            </tr>
          )}
          {(refunds ?? []).map((refund) => (
            <tr key={refund._id} className={`line-refund refund-${refund.status}`} data-testid="refund-line">
              <td className="refund-what">
                Refund{refund.reason ? ` — ${refund.reason}` : ""}{" "}
                <Badge tone={refund.status === "succeeded" ? "good" : refund.status === "failed" ? "bad" : "neutral"}>
                  {refund.status === "pending" ? "on its way" : refund.status}
                </Badge>
              </td>
              <td className="num">−{money(refund.amountMinor, refund.currency)}</td>
            </tr>
          ))}
          {full && (full.amountRefundedMinor > 0 || (refunds ?? []).length > 0) && (
            <tr>
              <th scope="row">Refunded</th>
              <td className="num" data-testid="amount-refunded">
                {money(full.amountRefundedMinor, full.currency)}
              </td>
            </tr>
          )}
        </tfoot>
      </table>
      <p className="muted small">
        {invoice ? (
          <>
            Invoice {invoice.number} ·{" "}
            <span data-testid="invoice-status">
              <Badge tone={invoice.status === "paid" ? "good" : invoice.status === "open" ? "warn" : "neutral"}>{invoice.status.replace("_", " ")}</Badge>
            </span>
          </>
        ) : (
          "The invoice is issued when the booking is confirmed."
        )}{" "}
        · {minutes(booking.quote.durationMinutes)}
      </p>
      {payments && payments.length > 0 && (
        <ul className="payments small">
          {payments.map((p) => (
            <li key={p._id}>
              {dateTime(p.createdAt, tz)}: {p.kind} {money(p.amountMinor, p.currency)} —{" "}
              <Badge tone={p.status === "succeeded" ? "good" : p.status === "failed" ? "bad" : "neutral"}>{p.status.replace("_", " ")}</Badge>
              {p.failureReason ? <span className="muted"> ({p.failureReason})</span> : null}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function CustomerActions({ detail, business }: { detail: Detail; business: Business }) {
  const { booking, invoice } = detail;
  const startCheckout = useAction(api.payments.startCheckout);
  const confirm = useMutation(api.bookings.confirm);
  const pay = useRun();
  const [mode, setMode] = useState<"none" | "reschedule" | "cancel">("none");
  const canMove = isIn(MOVABLE_STATUSES, booking.status);
  const owes = invoice && invoice.status === "open" && invoice.amountPaidMinor < invoice.totalMinor;

  return (
    <div className="actions-stack">
      {(booking.status === "PENDING_PAYMENT" || booking.status === "HELD" || (owes && booking.status !== "CANCELLED")) && (
        <div>
          {booking.holdExpiresAt && (
            <p className="small">
              Held until {time(booking.holdExpiresAt, business.timeZone)}
              {zonesDiffer(business.timeZone, viewerTimeZone) ? ` (${time(booking.holdExpiresAt, viewerTimeZone)} your time)` : ""}.
            </p>
          )}
          <Button
            busy={pay.busy}
            data-testid="pay-now"
            onClick={() =>
              void pay.run(async () => {
                if (booking.status === "HELD") await confirm({ bookingId: booking._id });
                const checkout = await startCheckout({ bookingId: booking._id });
                window.location.assign(checkout.url);
              })
            }
          >
            {invoice && invoice.amountPaidMinor > 0 ? `Pay the balance (${money(invoice.totalMinor - invoice.amountPaidMinor, booking.quote.currency)})` : "Pay now"}
          </Button>
          {pay.error !== null && <ErrorBox error={pay.error} />}
        </div>
      )}
      {canMove && mode === "none" && (
        <div className="button-row">
          <Button variant="secondary" onClick={() => setMode("reschedule")} data-testid="reschedule">
            Reschedule
          </Button>
          <Button variant="danger" onClick={() => setMode("cancel")} data-testid="cancel-booking">
            Cancel booking
          </Button>
        </div>
      )}
      {mode === "cancel" && (
        <ErrorBoundary>
          <CancelPanel detail={detail} business={business} onDone={() => setMode("none")} />
        </ErrorBoundary>
      )}
      {mode === "reschedule" && (
        <ErrorBoundary>
          <ReschedulePanel detail={detail} business={business} onDone={() => setMode("none")} />
        </ErrorBoundary>
      )}
      {!canMove && booking.status !== "PENDING_PAYMENT" && mode === "none" && (
        <p className="muted small">
          {booking.status === "CANCELLED"
            ? booking.cancellation?.reason === "expired"
              ? "Released: the time to pay ran out before it was paid."
              : `Cancelled${booking.cancellation?.feeMinor ? ` with a fee of ${money(booking.cancellation.feeMinor, booking.quote.currency)}` : ""}.`
            : "This booking can no longer be changed online; message the business if you need to."}
        </p>
      )}
    </div>
  );
}

function CancelPanel({ detail, business, onDone }: { detail: Detail; business: Business; onDone: () => void }) {
  const { booking } = detail;
  const preview = useQuery(api.bookings.cancellationPreview, { bookingId: booking._id });
  const cancel = useMutation(api.bookings.cancel);
  const run = useRun();
  const [reason, setReason] = useState("");
  const c = booking.quote.currency;
  if (preview === undefined) return <Loading label="Checking the cancellation policy…" />;
  return (
    <div className="panel" role="dialog" aria-label="Cancel booking" data-testid="cancel-panel">
      <h3>Cancel this booking?</h3>
      <p data-testid="cancel-fee">
        {preview.feeMinor > 0 ? (
          <>
            A cancellation fee of <strong>{money(preview.feeMinor, c)}</strong> applies.
          </>
        ) : (
          <strong>Free cancellation.</strong>
        )}{" "}
        <span className="muted">{preview.reason}.</span>
      </p>
      {preview.refundMinor > 0 && <p>You will be refunded {money(preview.refundMinor, c)}.</p>}
      {preview.outstandingFeeMinor > 0 && <p>{money(preview.outstandingFeeMinor, c)} of the fee will be due.</p>}
      <p className="muted small">
        Policy: free until {business.policies.cancellation.freeUntilHours} hours before the start.
      </p>
      <Field label="Reason (optional)">
        <input value={reason} maxLength={500} onChange={(e) => setReason(e.target.value)} />
      </Field>
      {run.error !== null && <ErrorBox error={run.error} />}
      <div className="button-row">
        <Button
          variant="danger"
          busy={run.busy}
          data-testid="confirm-cancel"
          onClick={() =>
            void run.run(async () => {
              await cancel({ bookingId: booking._id, expectedFeeMinor: preview.feeMinor, ...(reason.trim() ? { reason: reason.trim() } : {}) });
              onDone();
            })
          }
        >
          Cancel booking{preview.feeMinor > 0 ? ` and pay ${money(preview.feeMinor, c)}` : ""}
        </Button>
        <Button variant="ghost" onClick={onDone}>
          Keep it
        </Button>
      </div>
    </div>
  );
}

function ReschedulePanel({ detail, business, onDone }: { detail: Detail; business: Business; onDone: () => void }) {
  const { booking } = detail;
  const tz = business.timeZone;
  const preview = useQuery(api.bookings.reschedulePreview, { bookingId: booking._id });
  const reschedule = useMutation(api.bookings.reschedule);
  const run = useRun();
  const today = todayIn(Date.now(), tz);
  const [date, setDate] = useState(booking.localDate >= today ? booking.localDate : today);
  const [start, setStart] = useState<number | null>(null);
  const cart = booking.items.map((i) => ({
    productId: i.productId,
    quantity: i.quantity,
    extras: i.extras.map((e) => ({ extraId: e.extraId, quantity: e.quantity })),
  }));
  const slots = useQuery(api.availability.slots, { businessId: booking.businessId, zoneId: booking.zoneId, cart, from: date, to: date });
  useEffect(() => setStart(null), [date]);
  if (preview === undefined) return <Loading label="Checking the reschedule policy…" />;
  if (!preview.allowed) {
    return (
      <div className="panel">
        <Notice kind="warning">Rescheduling is not possible: {preview.reason}.</Notice>
        <Button variant="ghost" onClick={onDone}>
          Close
        </Button>
      </div>
    );
  }
  const c = booking.quote.currency;
  return (
    <div className="panel" data-testid="reschedule-panel">
      <h3>Move to another time</h3>
      <p data-testid="reschedule-fee">
        {preview.feeMinor > 0 ? (
          <>
            A reschedule fee of <strong>{money(preview.feeMinor, c)}</strong> applies.
          </>
        ) : (
          <strong>No fee to reschedule.</strong>
        )}{" "}
        <span className="muted">{preview.reason}.</span>
      </p>
      <div className="day-strip" role="radiogroup" aria-label="Day">
        {Array.from({ length: 10 }, (_, i) => addDays(today, i)).map((d) => (
          <button key={d} type="button" role="radio" aria-checked={d === date} className={`day${d === date ? " selected" : ""}`} onClick={() => setDate(d)}>
            {localDateLabel(d)}
          </button>
        ))}
      </div>
      {slots === undefined ? (
        <Loading label="Finding free times…" />
      ) : slots.slots.length === 0 ? (
        <Empty title="No free times that day" />
      ) : (
        <div className="slots" role="radiogroup" aria-label="New start time">
          {slots.slots
            .filter((s) => s.start !== booking.start)
            .map((s) => (
              <button key={s.start} type="button" role="radio" aria-checked={s.start === start} className={`slot${s.start === start ? " selected" : ""}`} onClick={() => setStart(s.start)}>
                <span className="slot-time">{time(s.start, tz)}</span>
              </button>
            ))}
        </div>
      )}
      {run.error !== null && <ErrorBox error={run.error} />}
      <div className="button-row">
        <Button
          disabled={start === null}
          busy={run.busy}
          data-testid="confirm-reschedule"
          onClick={() =>
            void run.run(async () => {
              if (start === null) return;
              await reschedule({ bookingId: booking._id, start, expectedFeeMinor: preview.feeMinor });
              onDone();
              navigate(window.location.pathname, { replace: true });
            })
          }
        >
          {start === null ? "Pick a new time" : `Move to ${localDateLabel(date)} ${time(start, tz)}`}
        </Button>
        <Button variant="ghost" onClick={onDone}>
          Keep the current time
        </Button>
      </div>
    </div>
  );
}

function ReviewBox({ bookingId }: { bookingId: Id<"bookings"> }) {
  const review = useQuery(api.reviews.forBooking, { bookingId });
  const create = useMutation(api.reviews.create);
  const run = useRun();
  const [rating, setRating] = useState(5);
  const [comment, setComment] = useState("");
  if (review === undefined) return <Loading />;
  if (review !== null) {
    return (
      <div data-testid="review-done">
        <p aria-label={`${review.rating} out of 5`}>{"★".repeat(review.rating)}{"☆".repeat(5 - review.rating)}</p>
        {review.comment && <blockquote>{review.comment}</blockquote>}
        {review.reply && <p className="muted">Reply from the business: {review.reply}</p>}
      </div>
    );
  }
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void run.run(() => create({ bookingId, rating, ...(comment.trim() ? { comment: comment.trim() } : {}) }));
      }}
    >
      <fieldset className="stars">
        <legend>Rating</legend>
        {[1, 2, 3, 4, 5].map((n) => (
          <label key={n} className={n <= rating ? "on" : ""}>
            <input type="radio" name="rating" value={n} checked={rating === n} onChange={() => setRating(n)} />
            <span aria-hidden="true">★</span>
            <span className="sr-only">{n} stars</span>
          </label>
        ))}
      </fieldset>
      <Field label="Comment (optional)">
        <textarea rows={3} value={comment} maxLength={5000} onChange={(e) => setComment(e.target.value)} />
      </Field>
      {run.error !== null && <ErrorBox error={run.error} />}
      <Button type="submit" busy={run.busy}>
        Send review
      </Button>
    </form>
  );
}

/** Back to the business's site, for a customer who came through its booking widget. */
function WidgetReturn({ businessId, status }: { businessId: string; status: string }) {
  const back = widgetReturnFor(businessId);
  if (back === null || (status !== "CONFIRMED" && status !== "PENDING_PAYMENT")) return null;
  return (
    <p>
      <a className="btn btn-primary" href={back.url} data-testid="widget-return">
        Back to {back.host}
      </a>
    </p>
  );
}
