/** Dates and times as messages write them: the recipient's locale, the business's time zone. */
export function formatDate(instant: number, timeZone: string, locale: string) {
  return new Intl.DateTimeFormat(locale, { timeZone, dateStyle: "full" }).format(instant);
}

export function formatTime(instant: number, timeZone: string, locale: string) {
  return new Intl.DateTimeFormat(locale, { timeZone, timeStyle: "short" }).format(instant);
}
