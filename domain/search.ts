/**
 * What a person typed into a customer search box:
 * - digits with the usual phone punctuation are a phone number, compacted to the stored
 *   international form ("+44 7700 900" → "+447700900") and matched from its start;
 * - text with "@" is an email, matched from its start;
 * - anything else is a name (and also tried as the start of an email: "jane" → jane.doe@…).
 */
export type CustomerSearch =
  | { kind: "none" }
  | { kind: "phone"; text: string }
  | { kind: "email"; text: string }
  | { kind: "name"; text: string };

export const MAX_SEARCH_TEXT = 100;
/** Fewer digits than this is not a phone number yet (an area code typed so far). */
const MIN_PHONE_DIGITS = 3;

export function customerSearchOf(input: string): CustomerSearch {
  const text = input.trim();
  if (text === "") return { kind: "none" };
  if (/^[+\d\s().-]+$/.test(text)) {
    const digits = text.replace(/\D/g, "");
    if (digits.length >= MIN_PHONE_DIGITS) return { kind: "phone", text: `+${digits}` };
  }
  if (text.includes("@")) return { kind: "email", text };
  return { kind: "name", text };
}

/** Keeps the first occurrence of each id, in order, up to `limit`. */
export function mergeById<T extends { _id: string }>(lists: T[][], limit: number): T[] {
  const seen = new Set<string>();
  const out: T[] = [];
  for (const list of lists) {
    for (const item of list) {
      if (out.length >= limit) return out;
      if (seen.has(item._id)) continue;
      seen.add(item._id);
      out.push(item);
    }
  }
  return out;
}
