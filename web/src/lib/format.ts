/**
 * Money and time for people. Every time is shown in the business's time zone (where the work
 * happens); when the viewer's own zone differs, their local time is added ("10:00 (16:00 your
 * time)").
 */
import { formatMoney } from "../../../domain/money";
import { addDays, localDateOf, localDayRange, todayIn, weekdayOf } from "../../../domain/time";

export { addDays, localDateOf, localDayRange, todayIn, weekdayOf };

export const viewerTimeZone: string = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

export function money(amountMinor: number, currency: string): string {
  try {
    return formatMoney(amountMinor, currency.toUpperCase());
  } catch {
    return `${(amountMinor / 100).toFixed(2)} ${currency}`;
  }
}

/** "$", "€", "¥" (or the code when the locale has no symbol). */
export function currencySymbol(currency: string): string {
  try {
    const parts = new Intl.NumberFormat(undefined, { style: "currency", currency: currency.toUpperCase() }).formatToParts(0);
    return parts.find((p) => p.type === "currency")?.value ?? currency.toUpperCase();
  } catch {
    return currency.toUpperCase();
  }
}

/** "40.713° N, 73.970° W". */
export function latLngText(lat: number, lng: number, digits = 3): string {
  return `${latitudeText(lat, digits)}, ${longitudeText(lng, digits)}`;
}

export function latitudeText(lat: number, digits = 3): string {
  return `${Math.abs(lat).toFixed(digits)}° ${lat < 0 ? "S" : "N"}`;
}

export function longitudeText(lng: number, digits = 3): string {
  return `${Math.abs(lng).toFixed(digits)}° ${lng < 0 ? "W" : "E"}`;
}

const timeFormatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${timeZone}|${JSON.stringify(options)}`;
  let f = timeFormatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(undefined, { timeZone, ...options });
    timeFormatters.set(key, f);
  }
  return f;
}

export function time(instant: number, timeZone: string): string {
  return formatter(timeZone, { hour: "2-digit", minute: "2-digit" }).format(instant);
}

export function date(instant: number, timeZone: string): string {
  return formatter(timeZone, { weekday: "short", day: "numeric", month: "short", year: "numeric" }).format(instant);
}

export function dateTime(instant: number, timeZone: string): string {
  return formatter(timeZone, { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" }).format(instant);
}

export function zoneName(timeZone: string, at: number = Date.now()): string {
  const part = formatter(timeZone, { timeZoneName: "short" })
    .formatToParts(at)
    .find((p) => p.type === "timeZoneName");
  return part?.value ?? timeZone;
}

/** True when the two zones show a different wall time at this instant. */
export function zonesDiffer(a: string, b: string, at: number = Date.now()): boolean {
  if (a === b) return false;
  return formatter(a, { hour: "2-digit", minute: "2-digit", day: "numeric" }).format(at) !== formatter(b, { hour: "2-digit", minute: "2-digit", day: "numeric" }).format(at);
}

/** "10:00" or "10:00 (16:00 your time)". */
export function timeWithViewer(instant: number, businessTz: string): string {
  const local = time(instant, businessTz);
  if (!zonesDiffer(businessTz, viewerTimeZone, instant)) return local;
  return `${local} (${time(instant, viewerTimeZone)} your time)`;
}

/** "Tue 3 Jun, 10:00 – 12:00 CEST" plus the viewer's own time when it differs. */
export function whenText(start: number, end: number, businessTz: string): { main: string; viewer?: string } {
  const main = `${date(start, businessTz)}, ${time(start, businessTz)} – ${time(end, businessTz)} ${zoneName(businessTz, start)}`;
  if (!zonesDiffer(businessTz, viewerTimeZone, start)) return { main };
  return { main, viewer: `${dateTime(start, viewerTimeZone)} – ${time(end, viewerTimeZone)} your time (${zoneName(viewerTimeZone, start)})` };
}

/** "Mon 2 Jun" for a local date. */
export function localDateLabel(localDate: string): string {
  const [y, m, d] = localDate.split("-").map(Number);
  return new Intl.DateTimeFormat(undefined, { timeZone: "UTC", weekday: "short", day: "numeric", month: "short" }).format(Date.UTC(y, m - 1, d, 12));
}

export function minutes(total: number): string {
  const h = Math.floor(total / 60);
  const m = total % 60;
  if (h === 0) return `${m} min`;
  return m === 0 ? `${h} h` : `${h} h ${m} min`;
}

export const STATUS_LABELS: Record<string, string> = {
  HELD: "Held",
  PENDING_PAYMENT: "Awaiting payment",
  CONFIRMED: "Scheduled",
  EN_ROUTE: "En route",
  IN_PROGRESS: "In progress",
  COMPLETED: "Done",
  CANCELLED: "Cancelled",
  NO_SHOW: "No-show",
};

export function statusLabel(status: string): string {
  return STATUS_LABELS[status] ?? status.toLowerCase().replace(/_/g, " ");
}

/** How often a recurring plan comes, from a booking's or plan's `frequency` (and weeks between visits). */
export function planFrequencyLabel(frequency: string, interval = 1): string {
  switch (frequency) {
    case "weekly":
      return "weekly";
    case "every_n_weeks":
      return interval > 1 ? `every ${interval} weeks` : "every N weeks";
    case "monthly":
      return "monthly";
    default:
      return "one-off";
  }
}
