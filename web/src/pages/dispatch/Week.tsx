/**
 * The week at a glance: providers × seven days, each day with the provider's hours, job count
 * and the jobs as blocks on the day; the unassigned jobs per day. A day opens on the board.
 */
import { useQuery } from "convex/react";
import type { Id } from "../../../../convex/_generated/dataModel";
import { api } from "../../../../convex/_generated/api";
import { localDateLabel, statusLabel, time } from "../../lib/format";
import { Loading } from "../../components/ui";

export function WeekView({
  businessId,
  start,
  selected,
  onOpenDay,
}: {
  businessId: Id<"businesses">;
  start: string;
  selected: string;
  onOpenDay: (date: string) => void;
}) {
  const week = useQuery(api.dispatch.week, { businessId, start });
  if (week === undefined) return <Loading label="Loading the week…" />;
  const tz = week.timeZone;
  return (
    <section className="week" aria-label="The week" data-testid="week">
      <div className="week-scroll">
        <table className="week-table">
          <caption className="sr-only">Jobs per provider and day, week of {localDateLabel(start)}</caption>
          <thead>
            <tr>
              <th scope="col">Provider</th>
              {week.days.map((d) => (
                <th key={d.date} scope="col" className={d.date === selected ? "selected" : undefined}>
                  <button type="button" className="linklike" onClick={() => onOpenDay(d.date)} data-date={d.date}>
                    {localDateLabel(d.date)}
                  </button>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {week.providers.map((p) => (
              <tr key={p.resourceId} data-provider={p.name}>
                <th scope="row">
                  <span className="provider-color" style={{ background: p.color ?? "var(--accent)" }} aria-hidden="true" /> {p.name}
                </th>
                {p.days.map((d, i) => {
                  const day = week.days[i];
                  const span = day.dayEnd - day.dayStart;
                  const off = d.hours.length === 0;
                  return (
                    <td key={d.date} className={`${off ? "off" : ""}${d.date === selected ? " selected" : ""}`} data-date={d.date} data-jobs={d.jobs.length}>
                      <button
                        type="button"
                        className="week-cell"
                        onClick={() => onOpenDay(d.date)}
                      >
                        <span className="sr-only">
                          Open {p.name}'s {localDateLabel(d.date)}:{" "}
                        </span>
                        <span className="week-count">
                          {d.jobs.length} job{d.jobs.length === 1 ? "" : "s"}
                        </span>
                        <span className="small muted">{off ? "off" : d.hours.map((h) => `${h.start}–${h.end}`).join(", ")}</span>
                        {d.timeOff && <span className="small day-note">time off</span>}
                        <span className="week-blocks" aria-hidden="true">
                          {d.jobs.map((j) => (
                            <span
                              key={j.bookingId}
                              className={`week-block status-${j.status.toLowerCase()}`}
                              style={{ left: `${((j.start - day.dayStart) / span) * 100}%`, width: `${Math.max(2, ((j.end - j.start) / span) * 100)}%` }}
                              title={`${time(j.start, tz)}–${time(j.end, tz)} ${statusLabel(j.status)}`}
                            />
                          ))}
                        </span>
                      </button>
                    </td>
                  );
                })}
              </tr>
            ))}
            <tr className="week-unassigned">
              <th scope="row">Unassigned</th>
              {week.days.map((d) => (
                <td key={d.date} data-date={d.date} data-jobs={d.unassigned}>
                  {d.unassigned === 0 ? <span className="muted small">none</span> : <strong>{d.unassigned}</strong>}
                  {d.truncated && <span className="small muted"> (more jobs than shown)</span>}
                </td>
              ))}
            </tr>
          </tbody>
        </table>
      </div>
    </section>
  );
}
