/**
 * Which texts a person gets: their locale, then its language, then the business's locale and
 * language, then English. One rule for the notification templates (`convex/templates.ts`) and
 * the booking widget's texts (`web/widget/texts.ts`). Pure.
 */

/** "fr-CA", business "de-DE" → ["fr-CA", "fr", "de-DE", "de", "en"]. */
export function localeChain(locale: string, businessLocale: string): string[] {
  const chain: string[] = [];
  for (const l of [locale, businessLocale, "en"]) {
    for (const candidate of [l, l.split("-")[0]]) if (candidate && !chain.includes(candidate)) chain.push(candidate);
  }
  return chain;
}
