/**
 * Recurring plans for owners and managers: the recurring customers with their next visits and
 * the revenue per frequency (`reports.recurring`, shown on the Reports page), and a zone's
 * frequency discounts (`zones.setFrequencyDiscounts`, edited on the Zones page).
 */
import { useMutation, useQuery } from "convex/react";
import type { FunctionReturnType } from "convex/server";
import { useState } from "react";
import { api } from "../../../../convex/_generated/api";
import type { Id } from "../../../../convex/_generated/dataModel";
import { Badge, Button, Card, Empty, ErrorBox, Loading, Notice, useRun } from "../../components/ui";
import { addDays, dateTime, money, todayIn } from "../../lib/format";

const FREQUENCY_LABELS: Record<string, string> = {
  once: "One-off",
  weekly: "Every week",
  every_2_weeks: "Every 2 weeks",
  every_4_weeks: "Every 4 weeks",
  monthly: "Every month",
};

export function frequencyKeyLabel(key: string): string {
  return FREQUENCY_LABELS[key] ?? key.replace(/^every_(\d+)_weeks$/, "Every $1 weeks");
}

const REVENUE_DAYS = 30;

/**
 * Recurring customers, their next visits, and revenue per frequency over the visits of the
 * past 30 and the next 30 days (collected on the past ones, booked on all of them).
 */
export function RecurringReport({ businessId, tz, currency }: { businessId: Id<"businesses">; tz: string; currency: string }) {
  const report = useQuery(api.reports.recurring, { businessId, lastDay: addDays(todayIn(Date.now(), tz), REVENUE_DAYS), days: 2 * REVENUE_DAYS + 1 });
  if (report === undefined) return <Card title="Recurring customers">{<Loading />}</Card>;
  return (
    <Card title="Recurring customers" className="recurring-report">
      <p data-testid="recurring-kpis">
        <strong className="kpi-value">{report.activePlans}</strong> active plan{report.activePlans === 1 ? "" : "s"} ·{" "}
        {report.recurringCustomers} recurring customer{report.recurringCustomers === 1 ? "" : "s"}
      </p>
      {report.plans.length === 0 ? (
        <Empty title="No recurring plans yet">Customers choose a frequency when they book.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="data" data-testid="recurring-plans">
            <thead>
              <tr>
                <th>Customer</th>
                <th>Frequency</th>
                <th>Next visits</th>
                <th>Card</th>
              </tr>
            </thead>
            <tbody>
              {report.plans.map((p) => (
                <tr key={p.seriesId} data-testid="recurring-plan" data-customer={p.customerName} data-frequency={p.frequency}>
                  <td>
                    <strong>{p.customerName}</strong> {p.status !== "active" && <Badge tone="warn">{p.status}</Badge>}
                  </td>
                  <td>
                    {frequencyKeyLabel(p.frequency)} at {p.localTime}
                    {p.discountBp > 0 && <span className="muted small"> · −{p.discountBp / 100}%</span>}
                  </td>
                  <td>
                    {p.nextVisits.length === 0 ? (
                      <span className="muted">none booked</span>
                    ) : (
                      <ul className="plain-list" data-testid="recurring-next-visits">
                        {p.nextVisits.map((v) => (
                          <li key={v.bookingId}>{dateTime(v.start, tz)}</li>
                        ))}
                      </ul>
                    )}
                    {p.upcomingVisits > p.nextVisits.length && <span className="muted small">+{p.upcomingVisits - p.nextVisits.length} more</span>}
                  </td>
                  <td>
                    {p.billing === "active" ? (
                      <Badge tone="good">saved</Badge>
                    ) : p.billing === "card_update_needed" ? (
                      <Badge tone="bad">needs updating</Badge>
                    ) : (
                      <Badge>none</Badge>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h3>
        Revenue per frequency, visits of the past {REVENUE_DAYS} and next {REVENUE_DAYS} days
      </h3>
      <table className="data" data-testid="revenue-per-frequency">
        <thead>
          <tr>
            <th>Frequency</th>
            <th className="num">Visits</th>
            <th className="num">Booked</th>
            <th className="num">Collected</th>
          </tr>
        </thead>
        <tbody>
          {report.revenue.map((r) => (
            <tr key={r.frequency} data-frequency={r.frequency}>
              <td>{frequencyKeyLabel(r.frequency)}</td>
              <td className="num">{r.visits}</td>
              <td className="num">{money(r.bookedMinor, currency)}</td>
              <td className="num">{money(r.collectedMinor, currency)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Card>
  );
}

type Discount = FunctionReturnType<typeof api.zones.defaultFrequencyDiscounts>[number];

const EDITABLE: { key: string; frequency: "weekly" | "monthly"; interval: number }[] = [
  { key: "weekly", frequency: "weekly", interval: 1 },
  { key: "every_2_weeks", frequency: "weekly", interval: 2 },
  { key: "every_4_weeks", frequency: "weekly", interval: 4 },
  { key: "monthly", frequency: "monthly", interval: 1 },
];

/** The zone's discount per frequency (percent); saving writes the zone's own table, "Use the defaults" removes it. */
export function ZoneFrequencyDiscounts({ zoneId, current }: { zoneId: Id<"zones">; current: Discount[] | undefined }) {
  const defaults = useQuery(api.zones.defaultFrequencyDiscounts, {});
  const save = useMutation(api.zones.setFrequencyDiscounts);
  const run = useRun();
  const [saved, setSaved] = useState(false);
  const table = current ?? defaults;
  const [values, setValues] = useState<Record<string, string> | null>(null);
  if (table === undefined) return <Loading />;
  const percentOf = (f: { frequency: string; interval: number }) =>
    String((table.find((d) => d.frequency === f.frequency && d.interval === f.interval)?.discountBp ?? 0) / 100);
  const shown = values ?? Object.fromEntries(EDITABLE.map((e) => [e.key, percentOf(e)]));
  return (
    <div className="zone-discounts" data-testid="zone-discounts">
      <h3>Recurring plan discounts in this zone</h3>
      <p className="muted small">{current === undefined ? "This zone uses the default discounts." : "This zone has its own discounts."}</p>
      <div className="form-grid">
        {EDITABLE.map((e) => (
          <label key={e.key} className="field">
            <span className="field-label">{frequencyKeyLabel(e.key)} (% off)</span>
            <input
              type="number"
              min={0}
              max={100}
              step={0.01}
              name={`discount-${e.key}`}
              value={shown[e.key]}
              onChange={(ev) => {
                setSaved(false);
                run.clear();
                setValues({ ...shown, [e.key]: ev.target.value });
              }}
            />
          </label>
        ))}
      </div>
      {run.error !== null && <ErrorBox error={run.error} compact />}
      {saved && <Notice kind="success">Discounts saved.</Notice>}
      <div className="button-row">
        <Button
          variant="secondary"
          busy={run.busy}
          onClick={() =>
            void run
              .run(() =>
                save({
                  zoneId,
                  frequencyDiscounts: EDITABLE.map((e) => ({ frequency: e.frequency, interval: e.interval, discountBp: Math.round(Number(shown[e.key]) * 100) })),
                }),
              )
              .then((r) => r !== undefined && setSaved(true))
          }
        >
          Save discounts
        </Button>
        {current !== undefined && (
          <Button
            variant="ghost"
            busy={run.busy}
            onClick={() => {
              setValues(null);
              void run.run(() => save({ zoneId, frequencyDiscounts: null }));
            }}
          >
            Use the defaults
          </Button>
        )}
      </div>
    </div>
  );
}
