/**
 * Staff and resources: weekly hours, date overrides, time off, buffers; the member list.
 *
 * A schedule change that would leave booked jobs outside the provider's time is previewed
 * first (`resources.previewScheduleChange`, the check the change's mutation runs): the
 * affected jobs are listed with who could take each, and only on confirmation does the
 * change go through, moving them to another provider or to the unassigned queue.
 */
import { useConvex, useMutation, useQuery } from "convex/react";
import type { FunctionArgs, FunctionReturnType } from "convex/server";
import { useState } from "react";
import { api } from "../../../../convex/_generated/api";
import type { Id } from "../../../../convex/_generated/dataModel";
import { localToInstant } from "../../../../domain/time";
import { Badge, Button, Card, Empty, ErrorBoundary, ErrorBox, Field, Loading, Notice, PageHeader, useRun } from "../../components/ui";
import { addDays, date as dateOf, dateTime, localDateLabel, time, todayIn } from "../../lib/format";
import { ROLE_LABELS, useReadySession } from "../../lib/session";

type Resource = FunctionReturnType<typeof api.resources.list>[number];
type ScheduleChange = FunctionArgs<typeof api.resources.previewScheduleChange>["change"];
type Affected = FunctionReturnType<typeof api.resources.previewScheduleChange>;
type Resolution = { moveAffected: "queue" | "other_provider"; confirmedBookingIds: Id<"bookings">[] };
const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

type Review = { what: string; affected: Affected; apply: (resolution: Resolution) => Promise<unknown> };

/**
 * Runs a schedule change: asks the server which booked jobs it hits; with none, applies it
 * at once; otherwise holds it for review (`ImpactReview`) until the person confirms.
 */
function useScheduleChange(onDone: () => void) {
  const convex = useConvex();
  const run = useRun();
  const [review, setReview] = useState<Review | null>(null);
  const submit = (what: string, change: ScheduleChange, apply: (resolution?: Resolution) => Promise<unknown>) =>
    run.run(async () => {
      const affected = await convex.query(api.resources.previewScheduleChange, { change });
      if (affected.length === 0) {
        await apply();
        onDone();
        return;
      }
      setReview({ what, affected, apply });
    });
  const confirm = (resolution: Resolution) =>
    run.run(async () => {
      await review!.apply(resolution);
      setReview(null);
      onDone();
    });
  return { run, review, submit, confirm, cancel: () => setReview(null) };
}

function ImpactReview({
  review,
  tz,
  busy,
  onConfirm,
  onCancel,
}: {
  review: Review;
  tz: string;
  busy: boolean;
  onConfirm: (resolution: Resolution) => void;
  onCancel: () => void;
}) {
  const [moveAffected, setMoveAffected] = useState<Resolution["moveAffected"]>("other_provider");
  const n = review.affected.length;
  return (
    <div className="alert alert-warning" role="alert" data-testid="impact-review">
      <strong>
        This {review.what} overlaps {n === 1 ? "1 booked job" : `${n} booked jobs`}:
      </strong>
      <ul data-testid="affected-jobs">
        {review.affected.map((j) => (
          <li key={j.bookingId} data-booking={j.bookingId}>
            {dateOf(j.start, tz)} {time(j.start, tz)}–{time(j.end, tz)} · <strong>{j.customerName}</strong> · {j.serviceName}{" "}
            <span className="muted small">({j.reason})</span>{" "}
            <span className="small">
              {j.suggestedResourceName ? `→ ${j.suggestedResourceName} can take it` : "→ nobody else is free: unassigned queue"}
            </span>
          </li>
        ))}
      </ul>
      <fieldset className="inline-form">
        <label>
          <input type="radio" name="moveAffected" checked={moveAffected === "other_provider"} onChange={() => setMoveAffected("other_provider")} /> Give
          them to another provider who is free (else the unassigned queue)
        </label>
        <label>
          <input type="radio" name="moveAffected" checked={moveAffected === "queue"} onChange={() => setMoveAffected("queue")} /> Put them in the
          unassigned queue
        </label>
      </fieldset>
      <p className="small">The jobs keep their times, so customers' appointments do not change.</p>
      <div className="button-row">
        <Button busy={busy} onClick={() => onConfirm({ moveAffected, confirmedBookingIds: review.affected.map((j) => j.bookingId) })}>
          Move {n === 1 ? "the job" : `${n} jobs`} and save
        </Button>
        <Button variant="ghost" onClick={onCancel}>
          Cancel
        </Button>
      </div>
    </div>
  );
}

export function OwnerStaff() {
  const session = useReadySession();
  const businessId = session.current!.businessId!;
  const resources = useQuery(api.resources.list, { businessId, includeInactive: true });
  const business = useQuery(api.businesses.get, { businessId });
  const [selected, setSelected] = useState<Id<"resources"> | null>(null);
  if (resources === undefined || business === undefined) return <Loading />;
  const tz = business?.timeZone ?? "UTC";
  const current = resources.find((r) => r._id === selected);
  return (
    <div>
      <PageHeader title="Staff and schedules" subtitle={`Working hours are in ${tz}.`} />
      <div className="grid-2">
        <Card title="Providers and resources">
          {resources.length === 0 ? (
            <Empty title="No resources yet" />
          ) : (
            <table className="data">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Hours</th>
                  <th>
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {resources.map((r) => (
                  <tr key={r._id}>
                    <td>
                      <span className="provider-color" style={{ background: r.color ?? "var(--accent)", display: "inline-block", marginRight: 6 }} />
                      <strong>{r.name}</strong> {!r.active && <Badge tone="bad">inactive</Badge>}
                      <div className="muted small">
                        {r.kind} · priority {r.priority}
                        {r.capacity > 1 ? ` · capacity ${r.capacity}` : ""}
                      </div>
                    </td>
                    <td className="small">{summarizeHours(r.weeklyHours)}</td>
                    <td>
                      <Button variant="secondary" className="btn-small" onClick={() => setSelected(r._id)}>
                        Schedule
                      </Button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Card>
        {current && (
          <ErrorBoundary resetKey={current._id}>
            <Schedule key={current._id} resource={current} tz={tz} />
          </ErrorBoundary>
        )}
        {session.current!.role !== "staff" && (
          <ErrorBoundary>
            <Members businessId={businessId} />
          </ErrorBoundary>
        )}
      </div>
    </div>
  );
}

function summarizeHours(hours: Resource["weeklyHours"]): string {
  if (hours.length === 0) return "no regular hours";
  return [...hours]
    .sort((a, b) => a.weekday - b.weekday)
    .map((h) => `${WEEKDAYS[h.weekday]} ${h.start}–${h.end}`)
    .join(", ");
}

function Schedule({ resource, tz }: { resource: Resource; tz: string }) {
  const update = useMutation(api.resources.update);
  const [saved, setSaved] = useState(false);
  const change = useScheduleChange(() => setSaved(true));
  const run = change.run;
  const [hours, setHours] = useState(resource.weeklyHours);
  const [before, setBefore] = useState(resource.bufferBeforeMinutes);
  const [after, setAfter] = useState(resource.bufferAfterMinutes);
  return (
    <Card title={`${resource.name}'s schedule`}>
      <h3>Weekly hours</h3>
      <table className="data">
        <tbody>
          {WEEKDAYS.map((label, weekday) => {
            const row = hours.filter((h) => h.weekday === weekday);
            return (
              <tr key={weekday}>
                <th scope="row">{label}</th>
                <td>
                  {row.length === 0 && <span className="muted">off</span>}
                  {row.map((h, i) => (
                    <span key={i} className="button-row">
                      <input type="time" aria-label={`${label} start`} value={h.start} onChange={(e) => setHours(hours.map((x) => (x === h ? { ...x, start: e.target.value } : x)))} />
                      –
                      <input type="time" aria-label={`${label} end`} value={h.end} onChange={(e) => setHours(hours.map((x) => (x === h ? { ...x, end: e.target.value } : x)))} />
                      <Button variant="ghost" className="btn-small" onClick={() => setHours(hours.filter((x) => x !== h))} aria-label={`Remove ${label} hours`}>
                        ✕
                      </Button>
                    </span>
                  ))}
                </td>
                <td>
                  <Button variant="ghost" className="btn-small" onClick={() => setHours([...hours, { weekday, start: "09:00", end: "17:00" }])}>
                    + hours
                  </Button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <div className="form-grid">
        <Field label="Buffer before (min)">
          <input type="number" min={0} value={before} onChange={(e) => setBefore(Number(e.target.value))} />
        </Field>
        <Field label="Buffer after (min)">
          <input type="number" min={0} value={after} onChange={(e) => setAfter(Number(e.target.value))} />
        </Field>
      </div>
      {run.error !== null && <ErrorBox error={run.error} />}
      {saved && <Notice kind="success">Schedule saved; availability updates at once.</Notice>}
      {change.review && <ImpactReview review={change.review} tz={tz} busy={run.busy} onConfirm={(r) => void change.confirm(r)} onCancel={change.cancel} />}
      <div className="button-row">
        <Button
          busy={run.busy}
          onClick={() => {
            setSaved(false);
            const patch = { weeklyHours: hours, bufferBeforeMinutes: before, bufferAfterMinutes: after };
            void change.submit("change of weekly hours", { kind: "settings", resourceId: resource._id, patch }, (resolution) =>
              update({ resourceId: resource._id, ...patch, ...resolution }),
            );
          }}
        >
          Save schedule
        </Button>
        <Button
          variant="ghost"
          busy={run.busy}
          onClick={() => {
            setSaved(false);
            const patch = { active: !resource.active };
            void change.submit("deactivation", { kind: "settings", resourceId: resource._id, patch }, (resolution) =>
              update({ resourceId: resource._id, ...patch, ...resolution }),
            );
          }}
        >
          {resource.active ? "Deactivate" : "Activate"}
        </Button>
      </div>
      <DateOverrides resource={resource} tz={tz} />
      <TimeOff resource={resource} tz={tz} />
    </Card>
  );
}

function TimeOff({ resource, tz }: { resource: Resource; tz: string }) {
  const [from] = useState(() => Date.now());
  const list = useQuery(api.resources.timeOff, { resourceId: resource._id, from });
  const add = useMutation(api.resources.addTimeOff);
  const remove = useMutation(api.resources.removeTimeOff);
  const change = useScheduleChange(() => undefined);
  const run = change.run;
  const today = todayIn(Date.now(), tz);
  const [start, setStart] = useState(addDays(today, 1));
  const [end, setEnd] = useState(addDays(today, 1));
  const [reason, setReason] = useState("");
  return (
    <>
      <h3>Time off</h3>
      {list === undefined ? (
        <Loading />
      ) : list.length === 0 ? (
        <p className="muted small">None planned.</p>
      ) : (
        <ul>
          {list.map((t) => (
            <li key={t._id}>
              {dateTime(t.start, tz)} – {dateTime(t.end, tz)} {t.reason ? `(${t.reason})` : ""}{" "}
              <Button variant="ghost" className="btn-small" onClick={() => void run.run(() => remove({ timeOffId: t._id }))}>
                Remove
              </Button>
            </li>
          ))}
        </ul>
      )}
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          const range = { start: localToInstant(start, "00:00", tz), end: localToInstant(addDays(end, 1), "00:00", tz) };
          void change.submit("time off", { kind: "time_off", resourceId: resource._id, ...range }, (resolution) =>
            add({ resourceId: resource._id, ...range, ...(reason ? { reason } : {}), ...resolution }),
          );
        }}
      >
        <Field label="First day off">
          <input type="date" value={start} onChange={(e) => setStart(e.target.value)} />
        </Field>
        <Field label="Last day off">
          <input type="date" value={end} min={start} onChange={(e) => setEnd(e.target.value)} />
        </Field>
        <Field label="Reason">
          <input value={reason} onChange={(e) => setReason(e.target.value)} />
        </Field>
        <Button type="submit" variant="secondary" busy={run.busy}>
          Add time off
        </Button>
      </form>
      {change.review && <ImpactReview review={change.review} tz={tz} busy={run.busy} onConfirm={(r) => void change.confirm(r)} onCancel={change.cancel} />}
      {run.error !== null && <ErrorBox error={run.error} />}
    </>
  );
}

/** One-date changes to the weekly hours: a day off, or other hours that day. */
function DateOverrides({ resource, tz }: { resource: Resource; tz: string }) {
  const today = todayIn(Date.now(), tz);
  const list = useQuery(api.resources.dateOverrides, { resourceId: resource._id, from: today, to: addDays(today, 365) });
  const set = useMutation(api.resources.setDateOverride);
  const remove = useMutation(api.resources.removeDateOverride);
  const change = useScheduleChange(() => undefined);
  const run = change.run;
  const [day, setDay] = useState(addDays(today, 1));
  const [closed, setClosed] = useState(true);
  const [start, setStart] = useState("09:00");
  const [end, setEnd] = useState("13:00");
  return (
    <>
      <h3>Changed hours on a date</h3>
      {list === undefined ? (
        <Loading />
      ) : list.length === 0 ? (
        <p className="muted small">The weekly hours apply every day.</p>
      ) : (
        <ul>
          {list.map((o) => (
            <li key={o.date}>
              {localDateLabel(o.date)}: {o.closed ? "day off" : o.hours.map((h) => `${h.start}–${h.end}`).join(", ")}{" "}
              <Button
                variant="ghost"
                className="btn-small"
                onClick={() =>
                  void change.submit("return to the weekly hours", { kind: "remove_date_override", resourceId: resource._id, date: o.date }, (resolution) =>
                    remove({ resourceId: resource._id, date: o.date, ...resolution }),
                  )
                }
              >
                Remove
              </Button>
            </li>
          ))}
        </ul>
      )}
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          const hours = closed ? [] : [{ start, end }];
          void change.submit(closed ? "day off" : "change of hours", { kind: "date_override", resourceId: resource._id, date: day, closed, hours }, (resolution) =>
            set({ resourceId: resource._id, date: day, closed, hours, ...resolution }),
          );
        }}
      >
        <Field label="Date">
          <input type="date" value={day} min={today} onChange={(e) => setDay(e.target.value)} />
        </Field>
        <Field label="Day off">
          <input type="checkbox" checked={closed} onChange={(e) => setClosed(e.target.checked)} />
        </Field>
        {!closed && (
          <>
            <Field label="From">
              <input type="time" value={start} onChange={(e) => setStart(e.target.value)} />
            </Field>
            <Field label="To">
              <input type="time" value={end} onChange={(e) => setEnd(e.target.value)} />
            </Field>
          </>
        )}
        <Button type="submit" variant="secondary" busy={run.busy}>
          Save date
        </Button>
      </form>
      {change.review && <ImpactReview review={change.review} tz={tz} busy={run.busy} onConfirm={(r) => void change.confirm(r)} onCancel={change.cancel} />}
      {run.error !== null && <ErrorBox error={run.error} />}
    </>
  );
}

function Members({ businessId }: { businessId: Id<"businesses"> }) {
  const members = useQuery(api.businesses.listMembers, { businessId });
  if (members === undefined) return <Loading />;
  return (
    <Card title="People">
      <table className="data">
        <tbody>
          {members.map((m) => (
            <tr key={m.membershipId}>
              <td>
                <strong>{m.name}</strong>
                <div className="muted small">{m.email}</div>
              </td>
              <td>{ROLE_LABELS[m.role]}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Card>
  );
}
