/**
 * The board's queue filters (zone, service, time of day in the business's zone) and the search
 * across the day's jobs (customer, address, service; every word must match, any order).
 */
import type { Board, Job } from "./Board";

export type TimeOfDay = "" | "morning" | "afternoon" | "evening";
export type Filters = { zoneId: string; productId: string; timeOfDay: TimeOfDay; search: string };
export const NO_FILTERS: Filters = { zoneId: "", productId: "", timeOfDay: "", search: "" };

const TIMES_OF_DAY: { id: Exclude<TimeOfDay, "">; label: string; from: number; to: number }[] = [
  { id: "morning", label: "Morning (before 12:00)", from: 0, to: 12 },
  { id: "afternoon", label: "Afternoon (12:00–17:00)", from: 12, to: 17 },
  { id: "evening", label: "Evening (from 17:00)", from: 17, to: 24 },
];

const hourFormatters = new Map<string, Intl.DateTimeFormat>();
/** The hour of the day (0–23) of an instant in a time zone. */
export function localHour(instant: number, timeZone: string): number {
  let f = hourFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", { timeZone, hour: "numeric", hourCycle: "h23" });
    hourFormatters.set(timeZone, f);
  }
  return Number(f.format(instant)) % 24;
}

export function matchesFilters(job: Job, filters: Filters, timeZone: string): boolean {
  if (filters.zoneId && job.zoneId !== filters.zoneId) return false;
  if (filters.productId && !job.productIds.includes(filters.productId as Job["productIds"][number])) return false;
  if (filters.timeOfDay) {
    const range = TIMES_OF_DAY.find((t) => t.id === filters.timeOfDay)!;
    const hour = localHour(job.start, timeZone);
    if (hour < range.from || hour >= range.to) return false;
  }
  return true;
}

function fold(text: string): string {
  return text.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
}

export function matchesSearch(job: Job, search: string): boolean {
  const words = fold(search).split(/\s+/).filter(Boolean);
  if (words.length === 0) return true;
  const haystack = fold([job.customerName, job.serviceName, job.address ?? ""].join(" "));
  return words.every((w) => haystack.includes(w));
}

export function QueueFilters({ board, filters, onChange }: { board: Board; filters: Filters; onChange: (f: Filters) => void }) {
  const set = (patch: Partial<Filters>) => onChange({ ...filters, ...patch });
  const active = filters.zoneId !== "" || filters.productId !== "" || filters.timeOfDay !== "";
  return (
    <div className="queue-filters">
      <label className="board-field">
        <span>Search today's jobs</span>
        <input
          type="search"
          value={filters.search}
          placeholder="Customer, address or service"
          onChange={(e) => set({ search: e.target.value })}
          data-testid="job-search"
        />
      </label>
      <label className="board-field">
        <span>Zone</span>
        <select value={filters.zoneId} onChange={(e) => set({ zoneId: e.target.value })}>
          <option value="">All zones</option>
          {board.zones.map((z) => (
            <option key={z.zoneId} value={z.zoneId}>
              {z.name}
            </option>
          ))}
        </select>
      </label>
      <label className="board-field">
        <span>Service</span>
        <select value={filters.productId} onChange={(e) => set({ productId: e.target.value })}>
          <option value="">All services</option>
          {board.services.map((s) => (
            <option key={s.productId} value={s.productId}>
              {s.name}
            </option>
          ))}
        </select>
      </label>
      <label className="board-field">
        <span>Time of day</span>
        <select value={filters.timeOfDay} onChange={(e) => set({ timeOfDay: e.target.value as TimeOfDay })}>
          <option value="">Any time</option>
          {TIMES_OF_DAY.map((t) => (
            <option key={t.id} value={t.id}>
              {t.label}
            </option>
          ))}
        </select>
      </label>
      {active && (
        <button type="button" className="linklike small" onClick={() => onChange({ ...NO_FILTERS, search: filters.search })}>
          Clear filters
        </button>
      )}
    </div>
  );
}
