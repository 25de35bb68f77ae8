/**
 * The embeddable booking widget: address → cart → live slot, then on to the platform's booking
 * page to sign in, reserve and pay, and back to the business's site. Plain DOM (no React) so
 * the bundle stays small; rendered into a shadow root (embed.ts) or an iframe's body (frame.ts).
 *
 * Channels: the business, its catalogue, the zone of a postal code and the cart's quote are
 * one-shot reads of public Convex queries over HTTP (no subscription). Live availability comes
 * only from the public PartyKit availability room of (zone, day): the whole slot grid on
 * connect, numbered diffs after each change, `grid.resync` after a gap; the room also carries
 * our hold ping on the chosen slot and shows others' ("in demand"). Convex is asked again
 * when the visitor acts: "Continue" re-reads the day's grid once (`availabilityGrid:day`), so
 * a slot that has just gone is answered by the server, with the fresh grid shown at once.
 */
import PartySocket from "partysocket";
import { slotsFromGrid, type GridSlot, type SlotGrid } from "../../domain/slotGrid";
import { receiveGrid, type GridDiffMessage, type GridMessage } from "../../party/grid-state";
import { roomIds } from "../../party/rooms";
import { widgetTexts } from "./texts";

export type WidgetConfig = {
  business: string;
  industry?: string;
  product?: string;
  locale?: string;
  convexUrl: string;
  partykitHost: string;
  portalUrl: string;
  /** Where the customer goes back to after paying (the page the widget is on). */
  returnUrl: string;
  /** How to open the booking page: the host page itself, or the top window from an iframe. */
  navigate: (url: string) => void;
};

type Business = { _id: string; name: string; slug: string; timeZone: string; currency: string; locale: string };
type Product = {
  _id: string;
  name: string;
  description?: string;
  priceMinor: number;
  durationMinutes: number;
  quantity: { min: number; max: number; step: number; included: number; unitLabel?: string };
};
type Extra = { _id: string; name: string; priceMinor: number; durationMinutes: number; pricing: "flat" | "per_quantity"; maxQuantity: number; productIds: string[] };
type Industry = { _id: string; name: string; slug: string; categories: { _id: string; name: string; products: Product[] }[]; extras: Extra[] };
type Catalogue = { currency: string; industries: Industry[] };
type Zone = { zoneId: string; name: string };
type Line = { productId: string; quantity: number; extras: { extraId: string; quantity: number }[] };
type Quote = { quote: { durationMinutes: number; totalMinor: number; currency: string } };

const DAYS_SHOWN = 7;
/** "Someone is checking out this slot": refreshed well inside the room's hold lifetime. */
const HOLD_PING_MS = 30_000;

class ConvexError extends Error {
  constructor(
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

/** One public query over Convex's HTTP API (no client library, no subscription). */
async function convexQuery<T>(convexUrl: string, path: string, args: Record<string, unknown>): Promise<T> {
  const response = await fetch(`${convexUrl.replace(/\/+$/, "")}/api/query`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ path, args, format: "json" }),
  });
  const body = (await response.json()) as { status: string; value?: T; errorMessage?: string; errorData?: unknown };
  if (body.status !== "success") throw new ConvexError(errorText(body.errorData) ?? body.errorMessage ?? "", body.errorData);
  return body.value as T;
}

function errorText(data: unknown): string | undefined {
  return typeof data === "object" && data !== null && typeof (data as { message?: unknown }).message === "string"
    ? (data as { message: string }).message
    : undefined;
}

function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Record<string, string | number | boolean | ((e: Event) => void) | undefined> = {},
  ...children: (Node | string | null | undefined | false)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === false) continue;
    if (typeof value === "function") el.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key === "text") el.textContent = String(value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) el.append(child);
  return el;
}

function localDate(instant: number, timeZone: string): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(instant);
}

function addDays(date: string, days: number): string {
  const [y, m, d] = date.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

function encodeDraft(draft: unknown): string {
  return btoa(unescape(encodeURIComponent(JSON.stringify(draft)))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function mountWidget(root: HTMLElement | ShadowRoot, config: WidgetConfig): { destroy(): void } {
  const app = h("div", { class: "bpw", part: "widget" });
  root.append(app);
  let business: Business | null = null;
  let catalogue: Catalogue | null = null;
  let zone: Zone | null = null;
  let postalCode = "";
  let industryId: string | null = null;
  let cart: Line[] = [];
  let quote: Quote | null = null;
  let date: string | null = null;
  let slot: number | null = null;
  let problem: string | null = null;
  let notice: string | null = null;
  const live = { grid: null as SlotGrid | null, version: 0, status: "off" as "off" | "connecting" | "open" | "closed" };
  let socket: PartySocket | null = null;
  let holds = new Map<number, number>();
  let pinged: number | null = null;
  let pingTimer: ReturnType<typeof setInterval> | undefined;
  let quoteAsk = 0;
  let busy = false;
  let destroyed = false;
  const locale = () => config.locale ?? business?.locale ?? "en-US";
  const tx = () => widgetTexts(config.locale, business?.locale);

  const money = (minor: number, currency: string) => new Intl.NumberFormat(locale(), { style: "currency", currency }).format(minor / 100);
  const clock = (instant: number) =>
    new Intl.DateTimeFormat(locale(), { timeZone: business!.timeZone, hour: "numeric", minute: "2-digit" }).format(instant);
  const dayLabel = (d: string) =>
    new Intl.DateTimeFormat(locale(), { timeZone: "UTC", weekday: "short", day: "numeric", month: "short" }).format(Date.parse(`${d}T12:00:00Z`));

  function fail(error: unknown) {
    problem = (error instanceof Error ? error.message : String(error)) || tx().somethingWentWrong;
    busy = false;
    render();
  }

  // -- the room ------------------------------------------------------------------------------

  /** Keeps our own hold ping on the chosen slot (and only on it). */
  function syncHold() {
    if (pinged === slot) return;
    if (pinged !== null) socket?.send(JSON.stringify({ type: "hold.release", startsAt: pinged }));
    clearInterval(pingTimer);
    pinged = slot;
    if (slot === null || !socket) return;
    const ping = () => socket?.send(JSON.stringify({ type: "hold.ping", startsAt: pinged }));
    ping();
    pingTimer = setInterval(ping, HOLD_PING_MS);
  }

  function connect() {
    clearInterval(pingTimer);
    pinged = null;
    holds = new Map();
    socket?.close();
    socket = null;
    live.grid = null;
    live.version = 0;
    if (!business || !zone || !date) return;
    live.status = "connecting";
    const room = roomIds.availability(business._id, zone.zoneId, date);
    const ws = new PartySocket({
      host: config.partykitHost,
      party: "availability",
      room,
      maxReconnectionDelay: 5_000,
      minReconnectionDelay: 500,
    });
    ws.addEventListener("open", () => {
      live.status = "open";
      render();
    });
    ws.addEventListener("close", () => {
      live.status = "closed";
      render();
    });
    ws.addEventListener("message", (event: MessageEvent) => {
      let message: { type?: string };
      try {
        message = JSON.parse(String(event.data)) as { type?: string };
      } catch {
        return;
      }
      if (message.type === "holds") {
        holds = new Map();
        for (const h of (message as { holds: { startsAt: number; count: number }[] }).holds) holds.set(h.startsAt, (holds.get(h.startsAt) ?? 0) + h.count);
        render();
      } else if (message.type === "grid" || message.type === "grid.diff") {
        const result = receiveGrid(live, message as GridMessage | GridDiffMessage);
        if (result.action === "resync") ws.send(JSON.stringify({ type: "grid.resync" }));
        if (result.action === "applied") render();
      }
    });
    socket = ws;
  }

  // -- steps -----------------------------------------------------------------------------------

  async function load() {
    try {
      business = await convexQuery<Business | null>(config.convexUrl, "businesses:getBySlug", { slug: config.business });
      if (!business) throw new Error(widgetTexts(config.locale, undefined).notTakingBookings);
      catalogue = await convexQuery<Catalogue>(config.convexUrl, "catalogue:forBusiness", { businessId: business._id });
      const industries = catalogue.industries.filter((i) => i.categories.some((c) => c.products.length > 0));
      const wanted = config.industry?.toLowerCase();
      const preset = industries.find((i) => i._id === config.industry || i.slug === wanted || i.name.toLowerCase() === wanted);
      industryId = preset?._id ?? (industries.length === 1 ? industries[0]._id : null);
      if (config.product) {
        const want = config.product.toLowerCase();
        for (const i of industries) {
          const p = i.categories.flatMap((c) => c.products).find((x) => x._id === config.product || x.name.toLowerCase() === want);
          if (p) {
            industryId = i._id;
            cart = [{ productId: p._id, quantity: Math.max(p.quantity.min, p.quantity.included), extras: [] }];
          }
        }
      }
      render();
    } catch (error) {
      fail(error);
    }
  }

  async function findZone(code: string) {
    problem = null;
    busy = true;
    render();
    try {
      const found = await convexQuery<Zone | null>(config.convexUrl, "zones:resolve", { businessId: business!._id, postalCode: code });
      busy = false;
      if (!found) {
        problem = tx().notServed(code);
      } else {
        zone = found;
        postalCode = code;
        if (cart.length > 0) void requote();
      }
      render(zone ? "[data-step=what] button, [data-step=what] input" : "input[name=postalCode]");
    } catch (error) {
      fail(error);
    }
  }

  async function requote() {
    const ask = ++quoteAsk;
    quote = null;
    slot = null;
    render();
    if (cart.length === 0 || !zone) return;
    try {
      const q = await convexQuery<Quote>(config.convexUrl, "availability:quote", { businessId: business!._id, zoneId: zone.zoneId, cart });
      if (ask !== quoteAsk) return;
      quote = q;
      if (date === null) {
        date = localDate(Date.now(), business!.timeZone);
        connect();
      }
      render();
    } catch (error) {
      fail(error);
    }
  }

  function slotsNow(): GridSlot[] {
    if (!live.grid || !quote) return [];
    return slotsFromGrid(live.grid, { durationMinutes: quote.quote.durationMinutes, productIds: cart.map((l) => l.productId) }, Date.now());
  }

  /** Acting: the server's answer on the slot first (the room may be a push behind), then the booking page. */
  async function proceed() {
    if (slot === null || !business || !zone || !date || !quote) return;
    busy = true;
    problem = null;
    render();
    try {
      const fresh = await convexQuery<SlotGrid>(config.convexUrl, "availabilityGrid:day", { businessId: business._id, zoneId: zone.zoneId, date });
      if (!live.grid || fresh.asOf >= live.grid.asOf) live.grid = fresh;
      const chosen = slot;
      const still = slotsFromGrid(fresh, { durationMinutes: quote.quote.durationMinutes, productIds: cart.map((l) => l.productId) }, Date.now());
      if (!still.some((s) => s.start === chosen)) {
        busy = false;
        slot = null;
        notice = tx().slotTaken(clock(chosen));
        render(".bpw-slots button");
        return;
      }
      const draft = { zone, postalCode, industryId, cart, date, slot };
      const url = `${config.portalUrl.replace(/\/+$/, "")}/b/${encodeURIComponent(business.slug)}?widget=${encodeDraft(draft)}&return=${encodeURIComponent(config.returnUrl)}`;
      config.navigate(url);
    } catch (error) {
      fail(error);
    }
  }

  // -- rendering -------------------------------------------------------------------------------

  function section(step: string, title: string, ...children: (Node | string | null | false)[]) {
    return h("section", { class: "bpw-step", "data-step": step, "aria-label": title }, h("h3", { text: title }), ...children);
  }

  function extrasOf(p: Product, line: Line, offered: Extra[], currency: string) {
    const t = tx();
    const setExtra = (extraId: string, quantity: number) => {
      cart = cart.map((l) =>
        l.productId === p._id
          ? { ...l, extras: [...l.extras.filter((e) => e.extraId !== extraId), ...(quantity > 0 ? [{ extraId, quantity }] : [])] }
          : l,
      );
      void requote();
    };
    return h(
      "fieldset",
      { class: "bpw-extras", "data-extras-of": p.name },
      h("legend", { class: "bpw-muted", text: t.extras }),
      ...offered.map((extra) => {
        const chosen = line.extras.find((e) => e.extraId === extra._id)?.quantity ?? 0;
        const price = `+${money(extra.priceMinor, currency)}${extra.pricing === "per_quantity" ? t.each : ""}${extra.durationMinutes > 0 ? ` · +${t.minutes(extra.durationMinutes)}` : ""}`;
        if (extra.pricing === "flat" || extra.maxQuantity === 1) {
          const id = `bpw-extra-${p._id}-${extra._id}`;
          return h(
            "div",
            { class: "bpw-extra", "data-extra": extra.name },
            h("input", { type: "checkbox", id, checked: chosen > 0, onchange: (e: Event) => setExtra(extra._id, (e.target as HTMLInputElement).checked ? 1 : 0) }),
            h("label", { for: id, text: extra.name }),
            h("span", { class: "bpw-muted", text: price }),
          );
        }
        return h(
          "div",
          { class: "bpw-extra", "data-extra": extra.name },
          h(
            "span",
            { class: "bpw-stepper", role: "group", "aria-label": extra.name },
            h("button", { type: "button", "aria-label": t.fewer(extra.name), disabled: chosen <= 0, text: "−", onclick: () => setExtra(extra._id, chosen - 1) }),
            h("output", { "aria-live": "polite", text: String(chosen) }),
            h("button", { type: "button", "aria-label": t.more(extra.name), disabled: chosen >= extra.maxQuantity, text: "+", onclick: () => setExtra(extra._id, chosen + 1) }),
          ),
          h("span", { text: extra.name }),
          h("span", { class: "bpw-muted", text: price }),
        );
      }),
    );
  }

  function render(focusSelector?: string) {
    if (destroyed) return;
    syncHold();
    app.replaceChildren();
    const t = tx();
    app.lang = business ? (config.locale ?? business.locale) : (config.locale ?? "");
    if (!business) {
      app.append(problem ? h("p", { class: "bpw-error", role: "alert", text: problem }) : h("p", { class: "bpw-muted", role: "status", text: t.loading }));
      return;
    }
    app.append(h("h2", { class: "bpw-title", text: t.bookWith(business.name) }));

    // 1. where
    if (!zone) {
      const input = h("input", { name: "postalCode", id: "bpw-postal", autocomplete: "postal-code", required: true, value: postalCode, inputmode: "text" });
      const form = h(
        "form",
        {
          class: "bpw-row",
          onsubmit: (e: Event) => {
            e.preventDefault();
            const code = input.value.trim();
            if (code) void findZone(code);
          },
        },
        h("label", { for: "bpw-postal", text: t.postalCode }),
        input,
        h("button", { type: "submit", class: "bpw-primary", disabled: busy, text: busy ? t.checking : t.findServices }),
      );
      app.append(section("where", t.whereTitle, form));
    } else {
      app.append(
        section(
          "where",
          t.whereTitle,
          h(
            "p",
            {},
            h("strong", { "data-testid": "zone-name", text: zone.name }),
            t.serves(postalCode),
            h("button", {
              type: "button",
              class: "bpw-link",
              text: t.change,
              onclick: () => {
                zone = null;
                date = null;
                slot = null;
                socket?.close();
                socket = null;
                render("input[name=postalCode]");
              },
            }),
          ),
        ),
      );
    }

    // 2. what
    if (zone && catalogue) {
      const industries = catalogue.industries.filter((i) => i.categories.some((c) => c.products.length > 0));
      const industry = industries.find((i) => i._id === industryId);
      const what = section("what", t.whatTitle);
      if (industries.length > 1) {
        what.append(
          h(
            "div",
            { class: "bpw-chips", role: "group", "aria-label": t.kindOfService },
            ...industries.map((i) =>
              h("button", {
                type: "button",
                class: "bpw-chip",
                "aria-pressed": String(i._id === industryId),
                text: i.name,
                onclick: () => {
                  if (industryId === i._id) return;
                  industryId = i._id;
                  cart = [];
                  void requote();
                },
              }),
            ),
          ),
        );
      }
      if (industry) {
        const list = h("ul", { class: "bpw-products", "aria-label": t.servicesOf(industry.name) });
        for (const p of industry.categories.flatMap((c) => c.products)) {
          const line = cart.find((l) => l.productId === p._id);
          const q = p.quantity;
          const setQuantity = (quantity: number) => {
            cart = cart.map((l) => (l.productId === p._id ? { ...l, quantity } : l));
            void requote();
          };
          list.append(
            h(
              "li",
              { class: `bpw-product${line ? " bpw-in-cart" : ""}`, "data-product": p.name },
              h("div", {}, h("strong", { text: p.name }), h("div", { class: "bpw-muted", text: `${money(p.priceMinor, catalogue.currency)} · ${t.minutes(p.durationMinutes)}` })),
              line
                ? h(
                    "div",
                    { class: "bpw-row" },
                    q.max > q.min &&
                      h(
                        "span",
                        { class: "bpw-stepper", role: "group", "aria-label": `${p.name} (${q.unitLabel ?? t.units})` },
                        h("button", { type: "button", "aria-label": t.fewer(q.unitLabel ?? t.units), disabled: line.quantity - q.step < q.min, text: "−", onclick: () => setQuantity(line.quantity - q.step) }),
                        h("output", { "aria-live": "polite", text: String(line.quantity) }),
                        h("button", { type: "button", "aria-label": t.more(q.unitLabel ?? t.units), disabled: line.quantity + q.step > q.max, text: "+", onclick: () => setQuantity(line.quantity + q.step) }),
                      ),
                    h("button", {
                      type: "button",
                      class: "bpw-link",
                      "aria-label": t.removeNamed(p.name),
                      text: t.remove,
                      onclick: () => {
                        cart = cart.filter((l) => l.productId !== p._id);
                        void requote();
                      },
                    }),
                  )
                : h("button", {
                    type: "button",
                    class: "bpw-secondary",
                    "aria-label": t.addNamed(p.name),
                    text: t.add,
                    onclick: () => {
                      cart = [...cart, { productId: p._id, quantity: Math.max(q.min, q.included), extras: [] }];
                      void requote();
                    },
                  }),
            ),
          );
        }
        what.append(list);
        // The extras each chosen service can take (as the booking page offers them).
        for (const [index, p] of industry.categories.flatMap((c) => c.products).entries()) {
          const line = cart.find((l) => l.productId === p._id);
          const offered = (industry.extras ?? []).filter((e) => e.productIds.length === 0 || e.productIds.includes(p._id));
          if (line && offered.length > 0) list.children[index]?.append(extrasOf(p, line, offered, catalogue.currency));
        }
      } else {
        what.append(h("p", { class: "bpw-muted", text: t.chooseKindFirst }));
      }
      if (quote) {
        what.append(
          h("p", { class: "bpw-quote", "data-testid": "quote" }, t.total(money(quote.quote.totalMinor, quote.quote.currency), quote.quote.durationMinutes)),
        );
      }
      app.append(what);
    }

    // 3. when
    if (zone && quote && date) {
      const today = localDate(Date.now(), business.timeZone);
      const days = Array.from({ length: DAYS_SHOWN }, (_, i) => addDays(today, i));
      const when = section("when", t.whenTitle);
      when.append(
        h(
          "div",
          { class: "bpw-days", role: "group", "aria-label": t.day },
          ...days.map((d) =>
            h("button", {
              type: "button",
              class: "bpw-day",
              "data-date": d,
              "aria-pressed": String(d === date),
              text: dayLabel(d),
              onclick: () => {
                if (d === date) return;
                date = d;
                slot = null;
                notice = null;
                connect();
                render();
              },
            }),
          ),
        ),
      );
      when.append(
        h("p", { class: "bpw-muted bpw-live", "data-status": live.status }, t.timesIn(business.timeZone.replace(/_/g, " ")), live.status === "open" ? t.live : ""),
      );
      if (notice) when.append(h("p", { class: "bpw-warning", role: "alert", "data-testid": "slot-lost", text: notice }));
      if (!live.grid) {
        when.append(h("p", { class: "bpw-muted", role: "status", text: t.findingTimes }));
      } else {
        const slots = slotsNow();
        if (slot !== null && !slots.some((s) => s.start === slot)) {
          notice = t.slotTaken(clock(slot));
          slot = null;
          queueMicrotask(() => render());
        }
        when.append(
          slots.length === 0
            ? h("p", { class: "bpw-muted", role: "status", text: t.noTimes(dayLabel(date)) })
            : h(
                "div",
                { class: "bpw-slots", role: "group", "aria-label": t.startTime, "data-testid": "slots" },
                ...slots.map((s) => {
                  const others = (holds.get(s.start) ?? 0) - (s.start === pinged ? 1 : 0);
                  return h("button", {
                    type: "button",
                    class: `bpw-slot${others > 0 ? " bpw-contested" : ""}`,
                    title: others > 0 ? t.othersChecking(others) : undefined,
                    "data-start": s.start,
                    "data-time": clock(s.start),
                    "data-remaining": s.resources,
                    "aria-pressed": String(s.start === slot),
                    text: `${s.arrivalWindowEnd ? `${clock(s.start)}–${clock(s.arrivalWindowEnd)}` : clock(s.start)}${others > 0 ? t.inDemand : ""}`,
                    onclick: () => {
                      slot = s.start === slot ? null : s.start;
                      notice = null;
                      render(".bpw-continue");
                    },
                  });
                }),
              ),
        );
      }
      app.append(when);
    }

    // 4. on to reserve and pay
    if (slot !== null && quote) {
      app.append(
        section(
          "pay",
          t.payTitle,
          h("p", { class: "bpw-muted", text: t.payHint(dayLabel(date!), clock(slot), business.name) }),
          h("button", { type: "button", class: "bpw-primary bpw-continue", disabled: busy, "data-testid": "widget-continue", text: busy ? t.checkingTime : t.continueToBook, onclick: () => void proceed() }),
        ),
      );
    }
    if (problem) app.append(h("p", { class: "bpw-error", role: "alert", text: problem }));
    if (focusSelector) (app.querySelector(focusSelector) as HTMLElement | null)?.focus();
  }

  render();
  void load();
  return {
    destroy() {
      destroyed = true;
      clearInterval(pingTimer);
      socket?.close();
      app.remove();
    },
  };
}
