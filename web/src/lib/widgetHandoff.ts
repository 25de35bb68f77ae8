/**
 * The booking widget hands a visitor over to the booking page with what they chose
 * (`?widget=<base64url JSON draft>&return=<the business's page>`): the draft seeds the booking
 * flow, and the page they came from is kept for this tab (sessionStorage) so that the booking
 * page, after paying, offers the way back ("Back to shop.example"): a link the customer sees
 * and follows, never an automatic redirect to an address taken from a URL.
 */
const RETURN_KEY = "bp.widgetReturn.";

export type HandedOverDraft = {
  zone?: { zoneId: string; name: string };
  postalCode?: string;
  industryId?: string | null;
  cart?: { productId: string; quantity: number; extras: { extraId: string; quantity: number }[] }[];
  date?: string;
  slot?: number;
};

function decode(text: string): unknown {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(decodeURIComponent(escape(atob(base64))));
}

/** The extras of a cart line: absent, or at most 20 of { extraId, quantity ≥ 1 }. */
function validExtras(value: unknown): boolean {
  return (
    value === undefined ||
    (Array.isArray(value) &&
      value.length <= 20 &&
      value.every((e: Record<string, unknown>) => typeof e?.extraId === "string" && Number.isInteger(e.quantity) && (e.quantity as number) >= 1))
  );
}

function isDraft(value: unknown): value is HandedOverDraft {
  if (typeof value !== "object" || value === null) return false;
  const d = value as Record<string, unknown>;
  const zone = d.zone as Record<string, unknown> | undefined;
  return (
    (zone === undefined || (typeof zone.zoneId === "string" && typeof zone.name === "string")) &&
    (d.cart === undefined ||
      (Array.isArray(d.cart) && d.cart.length <= 20 && d.cart.every((l: Record<string, unknown>) => typeof l?.productId === "string" && Number.isInteger(l.quantity) && validExtras(l.extras)))) &&
    (d.slot === undefined || Number.isSafeInteger(d.slot)) &&
    (d.date === undefined || (typeof d.date === "string" && /^\d{4}-\d{2}-\d{2}$/.test(d.date)))
  );
}

/** Reads (once) what the widget handed over for this business, and drops it from the address bar. */
export function takeWidgetHandoff(businessId: string): HandedOverDraft | null {
  const params = new URLSearchParams(window.location.search);
  const raw = params.get("widget");
  if (raw === null) return null;
  const back = params.get("return");
  if (back !== null && /^https?:\/\//i.test(back)) window.sessionStorage.setItem(RETURN_KEY + businessId, back);
  params.delete("widget");
  params.delete("return");
  const rest = params.toString();
  window.history.replaceState(window.history.state, "", `${window.location.pathname}${rest ? `?${rest}` : ""}`);
  try {
    const draft = decode(raw);
    return isDraft(draft)
      ? {
          ...draft,
          cart: draft.cart?.map((l) => ({
            productId: l.productId,
            quantity: l.quantity,
            extras: (l.extras ?? []).map((e) => ({ extraId: e.extraId, quantity: e.quantity })),
          })),
        }
      : null;
  } catch {
    return null;
  }
}

/** The business page a widget visitor came from, if this tab came through the widget. */
export function widgetReturnFor(businessId: string): { url: string; host: string } | null {
  const url = window.sessionStorage.getItem(RETURN_KEY + businessId);
  if (url === null) return null;
  try {
    return { url, host: new URL(url).host };
  } catch {
    return null;
  }
}
