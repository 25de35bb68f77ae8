/**
 * The provider's day (`dispatch.myDay`): jobs in order with the customer's staff-visible notes,
 * and one tap for the next field status (on my way → start → finish; no-show), plus accepting
 * or declining an offered job. Live: the query is reactive.
 *
 * When a status may be set comes from the server (`bookings.statusOptions`, the rules
 * `setStatus` applies): before that time the button is disabled with the reason beside it;
 * a manager or owner may set it anyway, saying why.
 */
import { useMutation, useQuery } from "convex/react";
import type { FunctionReturnType } from "convex/server";
import { useEffect, useState } from "react";
import { api } from "../../../../convex/_generated/api";
import type { Id } from "../../../../convex/_generated/dataModel";
import { Button, Card, Empty, ErrorBox, Loading, PageHeader, StatusBadge, useRun } from "../../components/ui";
import { addDays, dateTime, localDateLabel, minutes, time, todayIn, zoneName } from "../../lib/format";
import { useQueryParams } from "../../lib/router";
import { useReadySession } from "../../lib/session";

type Day = FunctionReturnType<typeof api.dispatch.myDay>;
type Entry = Day["jobs"][number];
type Options = FunctionReturnType<typeof api.bookings.statusOptions>;
type FieldTo = "EN_ROUTE" | "IN_PROGRESS" | "COMPLETED" | "NO_SHOW";

/** The current time, refreshed every 30 s so buttons open when their time comes. */
function useNow(everyMs = 30_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

/** Whether `to` may be set now; the reason when not yet (null when the state machine does not offer it at all). */
function availability(options: Options | undefined, to: FieldTo, now: number): { offered: boolean; reason: string | null } {
  const option = options?.options.find((o) => o.status === to);
  if (option === undefined) return { offered: options === undefined, reason: null };
  if (option.notBefore !== null && now < option.notBefore) return { offered: true, reason: option.reason };
  return { offered: true, reason: null };
}

const NEXT: Record<string, { to: "EN_ROUTE" | "IN_PROGRESS" | "COMPLETED"; label: string } | undefined> = {
  CONFIRMED: { to: "EN_ROUTE", label: "On my way" },
  EN_ROUTE: { to: "IN_PROGRESS", label: "Start job" },
  IN_PROGRESS: { to: "COMPLETED", label: "Finish job" },
};

export function ProviderToday() {
  const session = useReadySession();
  const businessId = session.current!.businessId!;
  const business = useQuery(api.businesses.get, { businessId });
  const initial = useQueryParams().get("date");
  const [date, setDate] = useState<string | null>(initial && /^\d{4}-\d{2}-\d{2}$/.test(initial) ? initial : null);
  const tz = business?.timeZone ?? "UTC";
  const day = useQuery(api.dispatch.myDay, { businessId, ...(date ? { date } : {}) });
  if (business === undefined || day === undefined) return <Loading label="Loading your jobs…" />;
  const shown = day.date;
  const today = todayIn(Date.now(), tz);
  return (
    <div className="narrow">
      <PageHeader
        title={shown === today ? "Today's jobs" : `Jobs on ${localDateLabel(shown)}`}
        subtitle={`${localDateLabel(shown)} · times in ${zoneName(tz)}`}
        actions={
          <div className="button-row">
            <Button variant="secondary" className="btn-small" aria-label="Previous day" onClick={() => setDate(addDays(shown, -1))}>
              ‹
            </Button>
            <Button variant="ghost" className="btn-small" onClick={() => setDate(null)}>
              Today
            </Button>
            <Button variant="secondary" className="btn-small" aria-label="Next day" onClick={() => setDate(addDays(shown, 1))}>
              ›
            </Button>
          </div>
        }
      />
      {day.jobs.length === 0 ? (
        <Empty title="No jobs this day">Enjoy the quiet, or check another day.</Empty>
      ) : (
        <ol className="job-cards">
          {day.jobs.map((entry) => (
            <li key={entry.job.bookingId}>
              <JobCard entry={entry} tz={tz} />
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}

function JobCard({ entry, tz }: { entry: Entry; tz: string }) {
  const { job } = entry;
  const setStatus = useMutation(api.bookings.setStatus);
  const accept = useMutation(api.dispatch.accept);
  const decline = useMutation(api.dispatch.decline);
  const options = useQuery(api.bookings.statusOptions, { bookingId: job.bookingId as Id<"bookings"> });
  const now = useNow();
  const run = useRun();
  const [overriding, setOverriding] = useState<FieldTo | null>(null);
  const [overrideReason, setOverrideReason] = useState("");
  const next = NEXT[job.status];
  const act = (to: FieldTo, reason?: string) =>
    void run.run(async () => {
      await setStatus({ bookingId: job.bookingId as Id<"bookings">, status: to, ...(reason ? { overrideReason: reason } : {}) });
      setOverriding(null);
      setOverrideReason("");
    });
  const nextState = next ? availability(options, next.to, now) : null;
  const noShow = availability(options, "NO_SHOW", now);
  const canOverride = options?.canOverride ?? false;
  return (
    <Card
      className={`job-card status-${job.status.toLowerCase()}`}
      title={
        <>
          {time(job.start, tz)}–{time(job.end, tz)} · {job.customerName}
        </>
      }
      actions={
        <span data-testid="job-status">
          <StatusBadge status={job.status} />
        </span>
      }
    >
      <div data-booking={job.bookingId}>
        <p>
          <strong>{job.serviceName}</strong> · {minutes(Math.round((job.end - job.start) / 60_000))}
        </p>
        {job.address && (
          <p>
            <a href={`https://www.openstreetmap.org/search?query=${encodeURIComponent(job.address)}`} target="_blank" rel="noreferrer">
              {job.address}
            </a>
          </p>
        )}
        {entry.customerPhone && (
          <p>
            <a href={`tel:${entry.customerPhone}`}>{entry.customerPhone}</a>
          </p>
        )}
        {entry.customerNotes && (
          <p className="note">
            <strong>Customer's note:</strong> {entry.customerNotes}
          </p>
        )}
        {entry.staffNotes.length > 0 && (
          <div className="note">
            <strong>Notes for staff:</strong>
            <ul>
              {entry.staffNotes.map((n, i) => (
                <li key={i}>
                  {n.body} <span className="muted small">({dateTime(n.createdAt, tz)})</span>
                </li>
              ))}
            </ul>
          </div>
        )}
        {run.error !== null && <ErrorBox error={run.error} />}
        <div className="big-actions">
          {job.assignmentStatus === "offered" && (
            <>
              <Button variant="secondary" busy={run.busy} onClick={() => void run.run(() => accept({ bookingId: job.bookingId }))}>
                Accept job
              </Button>
              <Button variant="ghost" busy={run.busy} onClick={() => void run.run(() => decline({ bookingId: job.bookingId }))}>
                Decline
              </Button>
            </>
          )}
          {next && nextState?.offered && (
            <Button
              className="btn-big"
              busy={run.busy}
              disabled={nextState.reason !== null}
              aria-describedby={nextState.reason !== null ? `why-${job.bookingId}` : undefined}
              onClick={() => act(next.to)}
              data-testid={`status-${next.to}`}
            >
              {next.label}
            </Button>
          )}
          {(job.status === "CONFIRMED" || job.status === "EN_ROUTE") && noShow.offered && (
            <Button variant="ghost" busy={run.busy} disabled={noShow.reason !== null} onClick={() => act("NO_SHOW")} data-testid="status-NO_SHOW">
              Customer not there
            </Button>
          )}
          {job.status === "COMPLETED" && <span className="muted">Done. Thank you!</span>}
        </div>
        {next && nextState?.reason && (
          <p className="muted small" id={`why-${job.bookingId}`} data-testid="status-unavailable-reason">
            {nextState.reason}
          </p>
        )}
        {next && nextState?.reason && canOverride && overriding !== next.to && (
          <Button variant="ghost" className="btn-small" onClick={() => setOverriding(next.to)} data-testid="status-override">
            {next.label} anyway…
          </Button>
        )}
        {next && overriding === next.to && (
          <form
            className="inline-form"
            onSubmit={(e) => {
              e.preventDefault();
              act(next.to, overrideReason.trim());
            }}
          >
            <label>
              Why now? (kept in the booking's history)
              <input value={overrideReason} maxLength={500} required onChange={(e) => setOverrideReason(e.target.value)} data-testid="override-reason" />
            </label>
            <Button type="submit" busy={run.busy} disabled={overrideReason.trim() === ""}>
              {next.label}
            </Button>
            <Button variant="ghost" onClick={() => setOverriding(null)}>
              Back
            </Button>
          </form>
        )}
      </div>
    </Card>
  );
}
