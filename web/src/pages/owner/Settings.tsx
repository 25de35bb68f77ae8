/** Business settings (name, type, time zone, currency, locale), policies (owner) and the booking widget snippet. */
import { useMutation, useQuery } from "convex/react";
import type { FunctionReturnType } from "convex/server";
import { useState } from "react";
import { api } from "../../../../convex/_generated/api";
import { DEFAULT_EN_ROUTE_LEAD_MINUTES } from "../../../../domain/bookingStatus";
import { Badge, Button, Card, ErrorBox, Field, Loading, MoneyInput, Notice, PageHeader, useRun } from "../../components/ui";
import { useReadySession } from "../../lib/session";
import { WidgetSnippet } from "./WidgetSnippet";

type Settings = FunctionReturnType<typeof api.businesses.settings>;
type Policies = Settings["policies"];

const TYPES = ["home_services", "salon", "clinic", "coworking", "hotel", "other"] as const;

export function OwnerSettings() {
  const session = useReadySession();
  const businessId = session.current!.businessId!;
  const settings = useQuery(api.businesses.settings, { businessId });
  if (settings === undefined) return <Loading />;
  return (
    <div>
      <PageHeader
        title="Business settings"
        subtitle={
          <>
            Status: <Badge tone={settings.status === "ACTIVE" ? "good" : settings.status === "PENDING" ? "warn" : "bad"}>{settings.status}</Badge>
            {settings.statusReason ? ` — ${settings.statusReason}` : ""} · plan {settings.plan}
          </>
        }
      />
      {settings.status === "PENDING" && <Notice kind="warning">Your business is waiting for verification by the platform; customers cannot book yet.</Notice>}
      <div className="grid-2">
        <ProfileForm settings={settings} readOnly={session.current!.role !== "owner"} />
        <PoliciesForm settings={settings} readOnly={session.current!.role !== "owner"} />
      </div>
      <WidgetSnippet slug={settings.slug} />
    </div>
  );
}

function ProfileForm({ settings, readOnly }: { settings: Settings; readOnly: boolean }) {
  const update = useMutation(api.businesses.updateSettings);
  const run = useRun();
  const [saved, setSaved] = useState(false);
  const [form, setForm] = useState({ name: settings.name, type: settings.type, timeZone: settings.timeZone, currency: settings.currency, locale: settings.locale });
  const zones = (Intl as unknown as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf?.("timeZone") ?? [settings.timeZone];
  return (
    <Card title="Profile">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setSaved(false);
          void run.run(async () => {
            await update({ businessId: settings._id, ...form });
            setSaved(true);
          });
        }}
      >
        <fieldset disabled={readOnly} className="plain">
          <Field label="Name">
            <input value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} required />
          </Field>
          <Field label="Type">
            <select value={form.type} onChange={(e) => setForm({ ...form, type: e.target.value as Settings["type"] })}>
              {TYPES.map((t) => (
                <option key={t} value={t}>
                  {t.replace("_", " ")}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Time zone" hint="Every time customers and staff see is in this zone.">
            <select value={form.timeZone} onChange={(e) => setForm({ ...form, timeZone: e.target.value })}>
              {(zones.includes(form.timeZone) ? zones : [form.timeZone, ...zones]).map((z) => (
                <option key={z}>{z}</option>
              ))}
            </select>
          </Field>
          <div className="form-grid">
            <Field label="Currency" hint="Fixed once bookings exist">
              <input value={form.currency} maxLength={3} onChange={(e) => setForm({ ...form, currency: e.target.value.toUpperCase() })} />
            </Field>
            <Field label="Locale">
              <input value={form.locale} onChange={(e) => setForm({ ...form, locale: e.target.value })} />
            </Field>
          </div>
          {run.error !== null && <ErrorBox error={run.error} />}
          {saved && <Notice kind="success">Saved.</Notice>}
          {!readOnly && (
            <Button type="submit" busy={run.busy}>
              Save profile
            </Button>
          )}
        </fieldset>
      </form>
    </Card>
  );
}

function NumberField({ label, value, onChange, hint, step = 1 }: { label: string; value: number; onChange: (n: number) => void; hint?: string; step?: number }) {
  return (
    <Field label={label} hint={hint}>
      <input type="number" inputMode="numeric" step={step} value={value} onChange={(e) => onChange(Number(e.target.value))} />
    </Field>
  );
}

function PoliciesForm({ settings, readOnly }: { settings: Settings; readOnly: boolean }) {
  const update = useMutation(api.businesses.updatePolicies);
  const run = useRun();
  const [saved, setSaved] = useState(false);
  const [p, setP] = useState<Policies>(settings.policies);
  /** Money fields whose text is not an amount yet (saving waits until they are). */
  const [invalid, setInvalid] = useState<ReadonlySet<string>>(new Set());
  const c = settings.currency;
  const set = <K extends keyof Policies>(k: K, patch: Partial<Policies[K]>) => {
    run.clear();
    setSaved(false);
    setP((current) => ({ ...current, [k]: { ...current[k], ...patch } }));
  };
  const moneyField = <K extends "cancellation" | "reschedule">(k: K, label: string) => (
    <Field label={label}>
      <MoneyInput
        currency={c}
        initialMinor={p[k].lateFeeFlatMinor}
        onChange={(minor) => {
          const next = new Set(invalid);
          if (minor === null) next.add(k);
          else next.delete(k);
          setInvalid(next);
          if (minor !== null) set(k, { lateFeeFlatMinor: minor } as Partial<Policies[K]>);
        }}
      />
    </Field>
  );
  return (
    <Card title="Policies">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setSaved(false);
          void run.run(async () => {
            await update({ businessId: settings._id, policies: p });
            setSaved(true);
          });
        }}
      >
        <fieldset disabled={readOnly} className="plain">
          <h3>Booking</h3>
          <div className="form-grid">
            <NumberField label="Minimum notice (minutes)" value={p.booking.minimumNoticeMinutes} onChange={(n) => set("booking", { minimumNoticeMinutes: n })} />
            <NumberField label="Booking horizon (days)" value={p.booking.bookingHorizonDays} onChange={(n) => set("booking", { bookingHorizonDays: n })} />
            <NumberField label="Slot step (minutes)" value={p.booking.slotStepMinutes} onChange={(n) => set("booking", { slotStepMinutes: n })} />
            <NumberField label="Arrival window (minutes)" hint="0 = exact start times" value={p.booking.arrivalWindowMinutes} onChange={(n) => set("booking", { arrivalWindowMinutes: n })} />
            <NumberField label="Hold while paying (minutes)" value={p.booking.holdMinutes} onChange={(n) => set("booking", { holdMinutes: n })} />
            <NumberField label="Deposit (%)" value={p.booking.depositBp / 100} step={0.01} onChange={(n) => set("booking", { depositBp: Math.round(n * 100) })} />
            <NumberField
              label="En route from (minutes before arrival)"
              hint="How early a provider may set off and mark a job en route"
              value={p.booking.enRouteLeadMinutes ?? DEFAULT_EN_ROUTE_LEAD_MINUTES}
              onChange={(n) => set("booking", { enRouteLeadMinutes: n })}
            />
          </div>
          <Field label="Assignment">
            <select value={p.booking.autoAssign} onChange={(e) => set("booking", { autoAssign: e.target.value as Policies["booking"]["autoAssign"] })}>
              <option value="priority">Automatic by priority</option>
              <option value="round_robin">Automatic, round robin</option>
              <option value="manual">Manual (dispatch board)</option>
            </select>
          </Field>
          <h3>Cancellation</h3>
          <div className="form-grid">
            <NumberField label="Free until (hours before)" value={p.cancellation.freeUntilHours} onChange={(n) => set("cancellation", { freeUntilHours: n })} />
            {moneyField("cancellation", "Late fee, flat")}
            <NumberField label="Late fee (% of total)" value={p.cancellation.lateFeePercentBp / 100} step={0.01} onChange={(n) => set("cancellation", { lateFeePercentBp: Math.round(n * 100) })} />
            <NumberField label="No-show fee (% of total)" value={p.cancellation.noShowFeePercentBp / 100} step={0.01} onChange={(n) => set("cancellation", { noShowFeePercentBp: Math.round(n * 100) })} />
          </div>
          <h3>Rescheduling</h3>
          <div className="form-grid">
            <NumberField label="Free until (hours before)" value={p.reschedule.freeUntilHours} onChange={(n) => set("reschedule", { freeUntilHours: n })} />
            {moneyField("reschedule", "Late fee, flat")}
            <NumberField label="Most reschedules per booking" value={p.reschedule.maxReschedules} onChange={(n) => set("reschedule", { maxReschedules: n })} />
          </div>
          <h3>Recurring plans</h3>
          <label className="checkbox">
            <input
              type="checkbox"
              name="firstVisitFullPrice"
              checked={p.recurring?.firstVisitFullPrice ?? false}
              onChange={(e) => {
                const firstVisitFullPrice = e.target.checked;
                run.clear();
                setSaved(false);
                setP((current) => ({ ...current, recurring: { firstVisitFullPrice } }));
              }}
            />{" "}
            Charge a plan&apos;s first visit at full price (the frequency discount starts with the second visit)
          </label>
          <p className="muted small">The discount per frequency is set per zone, on the Zones page.</p>
          {run.error !== null && <ErrorBox error={run.error} />}
          {saved && <Notice kind="success">Policies saved.</Notice>}
          {!readOnly && (
            <Button type="submit" busy={run.busy} disabled={invalid.size > 0}>
              Save policies
            </Button>
          )}
        </fieldset>
      </form>
    </Card>
  );
}
