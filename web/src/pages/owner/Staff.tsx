/**
 * Team and schedules: the people (members, roles, invitations: `Team.tsx`), the resources of
 * every kind (providers, rooms, chairs, desks) with their capacity and what they serve, and
 * one schedule view per resource: weekly hours, buffers, changed hours on a date, time off.
 *
 * A schedule change that would leave booked jobs outside the resource's time is previewed
 * first and only applied on confirmation (`scheduleChange.tsx`).
 */
import { useMutation, useQuery } from "convex/react";
import type { FunctionReturnType } from "convex/server";
import { useState } from "react";
import { api } from "../../../../convex/_generated/api";
import type { Id } from "../../../../convex/_generated/dataModel";
import { localToInstant } from "../../../../domain/time";
import { Badge, Button, Card, Empty, ErrorBoundary, ErrorBox, Field, Loading, Notice, PageHeader } from "../../components/ui";
import { addDays, dateTime, localDateLabel, todayIn } from "../../lib/format";
import { useReadySession } from "../../lib/session";
import { ImpactReview, useScheduleChange } from "./scheduleChange";
import { Team } from "./Team";

type Resource = FunctionReturnType<typeof api.resources.list>[number];
type Kind = Resource["kind"];
type Catalogue = FunctionReturnType<typeof api.catalogue.manage>;
type Zone = FunctionReturnType<typeof api.zones.list>[number];
const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const KINDS: { kind: Kind; label: string }[] = [
  { kind: "provider", label: "Provider (a person)" },
  { kind: "room", label: "Room" },
  { kind: "chair", label: "Chair" },
  { kind: "desk", label: "Desk" },
  { kind: "other", label: "Other" },
];
const kindLabel = (kind: Kind) => KINDS.find((k) => k.kind === kind)?.label ?? kind;

export function OwnerStaff() {
  const session = useReadySession();
  const businessId = session.current!.businessId!;
  const resources = useQuery(api.resources.list, { businessId, includeInactive: true });
  const business = useQuery(api.businesses.get, { businessId });
  const zones = useQuery(api.zones.list, { businessId });
  const catalogue = useQuery(api.catalogue.manage, { businessId });
  const [selected, setSelected] = useState<Id<"resources"> | null>(null);
  const [adding, setAdding] = useState(false);
  if (resources === undefined || business === undefined || zones === undefined || catalogue === undefined) return <Loading />;
  const tz = business?.timeZone ?? "UTC";
  const current = resources.find((r) => r._id === selected);
  const serves = { zones, products: catalogue.products };
  return (
    <div className="team-page">
      <PageHeader title="Team and schedules" subtitle={`Working hours are in ${tz}.`} />
      <div className="team-grid">
        <Card title="Providers and resources">
          {resources.length === 0 ? (
            <Empty title="No resources yet" />
          ) : (
            <div className="table-wrap">
              <table className="data">
                <caption className="sr-only">Bookable resources</caption>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Hours</th>
                    <th scope="col">
                      <span className="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {resources.map((r) => (
                    <tr key={r._id} data-resource={r.name}>
                      <td>
                        <span className="provider-color" style={{ background: r.color ?? "var(--accent)", display: "inline-block", marginRight: 6 }} />
                        <strong>{r.name}</strong> {!r.active && <Badge tone="bad">inactive</Badge>}
                        <div className="muted small">
                          {kindLabel(r.kind)} · capacity {r.capacity} · priority {r.priority}
                        </div>
                        <div className="muted small">{servesSummary(r, serves)}</div>
                      </td>
                      <td className="small">
                        {summarizeHours(r.weeklyHours)}
                        <UpcomingChanges resource={r} tz={tz} />
                      </td>
                      <td>
                        <Button
                          variant={selected === r._id ? "primary" : "secondary"}
                          className="btn-small"
                          aria-label={`Open ${r.name}'s schedule`}
                          aria-pressed={selected === r._id}
                          onClick={() => setSelected(r._id)}
                        >
                          Schedule
                        </Button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {adding ? (
            <AddResource
              businessId={businessId}
              serves={serves}
              onDone={(id) => {
                setAdding(false);
                if (id) setSelected(id);
              }}
            />
          ) : (
            <Button variant="secondary" onClick={() => setAdding(true)}>
              Add a resource
            </Button>
          )}
        </Card>
        {current && (
          <ErrorBoundary resetKey={current._id}>
            <Schedule key={current._id} resource={current} tz={tz} serves={serves} />
          </ErrorBoundary>
        )}
        <ErrorBoundary>
          <Team businessId={businessId} resources={resources} tz={tz} />
        </ErrorBoundary>
      </div>
    </div>
  );
}

type Serves = { zones: Zone[]; products: Catalogue["products"] };

function servesSummary(r: Resource, serves: Serves): string {
  const names = (ids: string[], all: { _id: string; name: string }[]) => all.filter((x) => ids.includes(x._id)).map((x) => x.name);
  const zones = r.zoneIds.length === 0 ? "every zone" : names(r.zoneIds, serves.zones).join(", ");
  const services = r.productIds.length === 0 ? "every service" : names(r.productIds, serves.products).join(", ");
  return `Serves ${services} in ${zones}`;
}

function summarizeHours(hours: Resource["weeklyHours"]): string {
  if (hours.length === 0) return "no regular hours";
  return [...hours]
    .sort((a, b) => a.weekday - b.weekday)
    .map((h) => `${WEEKDAYS[h.weekday]} ${h.start}–${h.end}`)
    .join(", ");
}

/** The next four weeks' changed hours and time off, in the resource list. */
function UpcomingChanges({ resource, tz }: { resource: Resource; tz: string }) {
  const [now] = useState(() => Date.now());
  const today = todayIn(now, tz);
  const overrides = useQuery(api.resources.dateOverrides, { resourceId: resource._id, from: today, to: addDays(today, 28) });
  const timeOff = useQuery(api.resources.timeOff, { resourceId: resource._id, from: now, to: now + 28 * 86_400_000 });
  if (!overrides?.length && !timeOff?.length) return null;
  return (
    <ul className="upcoming-changes" aria-label={`${resource.name}'s changes in the next four weeks`}>
      {overrides?.map((o) => (
        <li key={o.date}>
          {localDateLabel(o.date)}: {o.closed ? "day off" : o.hours.map((h) => `${h.start}–${h.end}`).join(", ")}
        </li>
      ))}
      {timeOff?.map((t) => (
        <li key={t._id}>
          Off {dateTime(t.start, tz)} – {dateTime(t.end, tz)}
        </li>
      ))}
    </ul>
  );
}

/** Checkboxes for the zones and services a resource serves; none ticked = all. */
function ServesPicker({ serves, zoneIds, productIds, onZones, onProducts }: {
  serves: Serves;
  zoneIds: Id<"zones">[];
  productIds: Id<"products">[];
  onZones: (ids: Id<"zones">[]) => void;
  onProducts: (ids: Id<"products">[]) => void;
}) {
  const toggle = <T,>(list: T[], id: T, on: boolean) => (on ? [...list, id] : list.filter((x) => x !== id));
  return (
    <div className="serves-picker">
      <fieldset>
        <legend>Services {productIds.length === 0 && <span className="muted small">(none ticked: every service)</span>}</legend>
        {serves.products.map((p) => (
          <label key={p._id} className="check">
            <input type="checkbox" checked={productIds.includes(p._id)} onChange={(e) => onProducts(toggle(productIds, p._id, e.target.checked))} /> {p.name}
          </label>
        ))}
      </fieldset>
      <fieldset>
        <legend>Zones {zoneIds.length === 0 && <span className="muted small">(none ticked: every zone)</span>}</legend>
        {serves.zones.map((z) => (
          <label key={z._id} className="check">
            <input type="checkbox" checked={zoneIds.includes(z._id)} onChange={(e) => onZones(toggle(zoneIds, z._id, e.target.checked))} /> {z.name}
          </label>
        ))}
      </fieldset>
    </div>
  );
}

function WeeklyHoursEditor({ hours, onChange }: { hours: Resource["weeklyHours"]; onChange: (hours: Resource["weeklyHours"]) => void }) {
  return (
    <table className="data weekly-hours">
      <caption className="sr-only">Weekly hours</caption>
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
                    <input type="time" aria-label={`${label} start`} value={h.start} onChange={(e) => onChange(hours.map((x) => (x === h ? { ...x, start: e.target.value } : x)))} />
                    –
                    <input type="time" aria-label={`${label} end`} value={h.end} onChange={(e) => onChange(hours.map((x) => (x === h ? { ...x, end: e.target.value } : x)))} />
                    <Button variant="ghost" className="btn-small" onClick={() => onChange(hours.filter((x) => x !== h))} aria-label={`Remove ${label} hours`}>
                      ✕
                    </Button>
                  </span>
                ))}
              </td>
              <td>
                <Button variant="ghost" className="btn-small" aria-label={`Add ${label} hours`} onClick={() => onChange([...hours, { weekday, start: "09:00", end: "17:00" }])}>
                  + hours
                </Button>
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

const WEEKDAYS_9_TO_5 = [1, 2, 3, 4, 5].map((weekday) => ({ weekday, start: "09:00", end: "17:00" }));

function AddResource({ businessId, serves, onDone }: { businessId: Id<"businesses">; serves: Serves; onDone: (id?: Id<"resources">) => void }) {
  const create = useMutation(api.resources.create);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [kind, setKind] = useState<Kind>("room");
  const [name, setName] = useState("");
  const [capacity, setCapacity] = useState("1");
  const [priority, setPriority] = useState("0");
  const [hours, setHours] = useState<Resource["weeklyHours"]>(WEEKDAYS_9_TO_5);
  const [zoneIds, setZoneIds] = useState<Id<"zones">[]>([]);
  const [productIds, setProductIds] = useState<Id<"products">[]>([]);
  return (
    <form
      className="panel"
      aria-label="Add a resource"
      onSubmit={(e) => {
        e.preventDefault();
        setBusy(true);
        setError(null);
        create({
          businessId,
          kind,
          name,
          capacity: Number(capacity),
          priority: Number(priority),
          weeklyHours: hours,
          bufferBeforeMinutes: 0,
          bufferAfterMinutes: 0,
          zoneIds,
          productIds,
        })
          .then((id) => onDone(id))
          .catch((err: unknown) => setError(err))
          .finally(() => setBusy(false));
      }}
    >
      <h3>Add a resource</h3>
      <div className="form-grid">
        <Field label="Kind">
          <select value={kind} onChange={(e) => setKind(e.target.value as Kind)}>
            {KINDS.map((k) => (
              <option key={k.kind} value={k.kind}>
                {k.label}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Name">
          <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={100} />
        </Field>
        <Field label="Capacity" hint="How many bookings it takes at once">
          <input type="number" inputMode="numeric" min={1} max={100} value={capacity} onChange={(e) => setCapacity(e.target.value)} required />
        </Field>
        <Field label="Priority" hint="Lower is offered first">
          <input type="number" inputMode="numeric" min={0} value={priority} onChange={(e) => setPriority(e.target.value)} required />
        </Field>
      </div>
      <ServesPicker serves={serves} zoneIds={zoneIds} productIds={productIds} onZones={setZoneIds} onProducts={setProductIds} />
      <h4>Weekly hours</h4>
      <WeeklyHoursEditor hours={hours} onChange={setHours} />
      {error !== null && <ErrorBox error={error} />}
      <div className="button-row">
        <Button type="submit" busy={busy}>
          Add resource
        </Button>
        <Button variant="ghost" onClick={() => onDone()}>
          Cancel
        </Button>
      </div>
    </form>
  );
}

function Schedule({ resource, tz, serves }: { resource: Resource; tz: string; serves: Serves }) {
  const update = useMutation(api.resources.update);
  const [saved, setSaved] = useState(false);
  const change = useScheduleChange(() => setSaved(true));
  const run = change.run;
  const [name, setName] = useState(resource.name);
  const [kind, setKind] = useState<Kind>(resource.kind);
  const [capacity, setCapacity] = useState(String(resource.capacity));
  const [priority, setPriority] = useState(String(resource.priority));
  const [hours, setHours] = useState(resource.weeklyHours);
  const [before, setBefore] = useState(String(resource.bufferBeforeMinutes));
  const [after, setAfter] = useState(String(resource.bufferAfterMinutes));
  const [zoneIds, setZoneIds] = useState(resource.zoneIds);
  const [productIds, setProductIds] = useState(resource.productIds);
  return (
    <Card title={`${resource.name}'s schedule`}>
      <div data-testid="schedule-view" data-resource={resource.name}>
        <div className="form-grid">
          <Field label="Name">
            <input value={name} onChange={(e) => setName(e.target.value)} />
          </Field>
          <Field label="Kind">
            <select value={kind} onChange={(e) => setKind(e.target.value as Kind)}>
              {KINDS.map((k) => (
                <option key={k.kind} value={k.kind}>
                  {k.label}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Capacity" hint="Bookings at once">
            <input type="number" inputMode="numeric" min={1} value={capacity} onChange={(e) => setCapacity(e.target.value)} />
          </Field>
          <Field label="Priority" hint="Lower is offered first">
            <input type="number" inputMode="numeric" min={0} value={priority} onChange={(e) => setPriority(e.target.value)} />
          </Field>
        </div>
        <ServesPicker serves={serves} zoneIds={zoneIds} productIds={productIds} onZones={setZoneIds} onProducts={setProductIds} />
        <h3>Weekly hours</h3>
        <WeeklyHoursEditor hours={hours} onChange={setHours} />
        <div className="form-grid">
          <Field label="Buffer before (min)">
            <input type="number" inputMode="numeric" min={0} value={before} onChange={(e) => setBefore(e.target.value)} />
          </Field>
          <Field label="Buffer after (min)">
            <input type="number" inputMode="numeric" min={0} value={after} onChange={(e) => setAfter(e.target.value)} />
          </Field>
        </div>
        {run.error !== null && <ErrorBox error={run.error} />}
        {saved && <Notice kind="success">Saved; availability updates at once.</Notice>}
        {change.review && <ImpactReview review={change.review} tz={tz} busy={run.busy} onConfirm={(r) => void change.confirm(r)} onCancel={change.cancel} />}
        <div className="button-row">
          <Button
            busy={run.busy}
            onClick={() => {
              setSaved(false);
              const patch = {
                name,
                kind,
                capacity: Number(capacity),
                priority: Number(priority),
                weeklyHours: hours,
                bufferBeforeMinutes: Number(before),
                bufferAfterMinutes: Number(after),
                zoneIds,
                productIds,
              };
              void change.submit("change of hours or services", { kind: "settings", resourceId: resource._id, patch }, (resolution) =>
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
      </div>
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

