/** Staff and resources: weekly hours, time off, buffers; the member list. */
import { useMutation, useQuery } from "convex/react";
import type { FunctionReturnType } from "convex/server";
import { useState } from "react";
import { api } from "../../../../convex/_generated/api";
import type { Id } from "../../../../convex/_generated/dataModel";
import { localToInstant } from "../../../../domain/time";
import { Badge, Button, Card, Empty, ErrorBoundary, ErrorBox, Field, Loading, Notice, PageHeader, useRun } from "../../components/ui";
import { addDays, dateTime, todayIn } from "../../lib/format";
import { ROLE_LABELS, useReadySession } from "../../lib/session";

type Resource = FunctionReturnType<typeof api.resources.list>[number];
const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

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
                  <th />
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
  const run = useRun();
  const [saved, setSaved] = useState(false);
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
      <div className="button-row">
        <Button
          busy={run.busy}
          onClick={() => {
            setSaved(false);
            void run.run(async () => {
              await update({ resourceId: resource._id, weeklyHours: hours, bufferBeforeMinutes: before, bufferAfterMinutes: after });
              setSaved(true);
            });
          }}
        >
          Save schedule
        </Button>
        <Button variant="ghost" busy={run.busy} onClick={() => void run.run(() => update({ resourceId: resource._id, active: !resource.active }))}>
          {resource.active ? "Deactivate" : "Activate"}
        </Button>
      </div>
      <TimeOff resource={resource} tz={tz} />
    </Card>
  );
}

function TimeOff({ resource, tz }: { resource: Resource; tz: string }) {
  const [from] = useState(() => Date.now());
  const list = useQuery(api.resources.timeOff, { resourceId: resource._id, from });
  const add = useMutation(api.resources.addTimeOff);
  const remove = useMutation(api.resources.removeTimeOff);
  const run = useRun();
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
          void run.run(() =>
            add({ resourceId: resource._id, start: localToInstant(start, "00:00", tz), end: localToInstant(addDays(end, 1), "00:00", tz), ...(reason ? { reason } : {}) }),
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
