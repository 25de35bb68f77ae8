/**
 * The booking widget on a business's own site: the built bundle (web/widget, `npm run
 * build:widget`) embedded with one script tag in a plain third-party HTML page served from
 * another origin (a small http server on a free loopback port) whose own styles would wreck
 * any form they reached. A visitor books end to end (widget → booking page → sign in → pay →
 * back to the site); a booking made elsewhere takes its slot from every connected visitor's
 * widget at once (the PartyKit availability room's grid diff, no Convex query per visitor);
 * a visitor continuing with a slot that has just gone gets the server's answer and the fresh
 * grid; axe finds nothing in the widget.
 */
import { createServer, type Server } from "node:http";
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join } from "node:path";
import AxeBuilder from "@axe-core/playwright";
import type { Page } from "playwright-core";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { freePort, repoRoot, screenshot, useStack } from "./fixture";

const { stack, newPage, problems } = useStack();
const LIVE_MS = 15_000;

let host: Server;
let hostUrl = "";
let slug = "";
let widgetJs = "";

function hostPage(options: { mode?: "iframe" } = {}): string {
  const s = stack();
  const attrs = [
    `data-business="${slug}"`,
    `data-convex-url="${s.convexUrl}"`,
    `data-partykit-host="${s.partykitHost}"`,
    `data-portal-url="${s.portalUrl}"`,
    `data-color="#7a1f5c"`,
    options.mode ? `data-mode="${options.mode}"` : "",
  ].join(" ");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sparkle shop</title>
<style>
  * { font-family: "Comic Sans MS", cursive !important; letter-spacing: 3px; }
  body { color: #ff00ff; background: #222; }
  button { display: none; }
  input, label, h2, h3, p, section { visibility: hidden; }
  .column { width: 560px; }
</style></head>
<body><h1 style="visibility:visible">Sparkle Cleaning — our own site</h1>
<button class="host-button">Host page button</button>
<main class="column"><script src="/widget.js" ${attrs}></script></main>
</body></html>`;
}

async function api(path: string, init: { method?: string; body?: unknown; idempotencyKey?: string } = {}) {
  const response = await fetch(`${stack().siteUrl}${path}`, {
    method: init.method ?? "GET",
    headers: {
      authorization: `Bearer ${stack().env.DEMO_API_KEY}`,
      "content-type": "application/json",
      ...(init.idempotencyKey ? { "idempotency-key": init.idempotencyKey } : {}),
    },
    ...(init.body ? { body: JSON.stringify(init.body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function convexQuery<T>(path: string, args: Record<string, unknown>): Promise<T> {
  const response = await fetch(`${stack().convexUrl}/api/query`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ path, args, format: "json" }),
  });
  const body = (await response.json()) as { status: string; value: T };
  if (body.status !== "success") throw new Error(`${path}: ${JSON.stringify(body)}`);
  return body.value;
}

beforeAll(async () => {
  await build({ configFile: join(repoRoot, "web", "widget", "vite.config.ts"), logLevel: "warn" });
  widgetJs = readFileSync(join(repoRoot, "web", "dist-widget", "widget.js"), "utf8");
  console.log(`[widget] widget.js ${widgetJs.length} bytes, ${gzipSync(widgetJs, { level: 9 }).length} bytes gzipped`);
  const business = await convexQuery<{ slug: string }>("businesses:get", { businessId: stack().seed.businessId });
  slug = business.slug;
  const port = await freePort();
  host = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname === "/widget.js") {
      res.writeHead(200, { "content-type": "text/javascript" }).end(widgetJs);
    } else if (url.pathname === "/shop" || url.pathname === "/shop-iframe") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(hostPage(url.pathname === "/shop-iframe" ? { mode: "iframe" } : {}));
    } else {
      res.writeHead(404).end("not found");
    }
  });
  await new Promise<void>((resolve) => host.listen(port, "127.0.0.1", resolve));
  hostUrl = `http://127.0.0.1:${port}`;
}, 120_000);

afterAll(async () => {
  await new Promise((resolve) => host?.close(resolve));
});

/** The widget's elements, inside its shadow root (Playwright's locators pierce open shadow roots). */
function widget(page: Page) {
  return page.locator(".booking-widget .bpw");
}

async function startWidgetCart(page: Page, postalCode: string, product: string) {
  await page.goto(`${hostUrl}/shop`);
  const w = widget(page);
  await w.getByLabel("Postal code").fill(postalCode);
  await w.getByRole("button", { name: "Find services" }).click();
  await w.getByTestId("zone-name").waitFor();
  const industry = w.getByRole("button", { name: "Home cleaning" });
  if ((await industry.count()) > 0 && (await industry.getAttribute("aria-pressed")) !== "true") await industry.click();
  await w.locator(`[data-product="${product}"]`).getByRole("button", { name: `Add ${product}` }).click();
  await w.getByTestId("quote").waitFor();
}

/** Walks the widget's days from tomorrow until a slot matches; returns its day and start. */
async function findWidgetSlot(page: Page, selector = ".bpw-slot"): Promise<{ date: string; start: string }> {
  const w = widget(page);
  const days = w.locator(".bpw-day");
  const count = await days.count();
  for (let i = 1; i < count; i++) {
    await days.nth(i).click();
    await w.locator('[data-testid="slots"], [role="status"]').first().waitFor();
    await w.locator('[data-testid="slots"]').or(w.getByText(/No free times/)).first().waitFor({ timeout: LIVE_MS });
    const slot = w.locator(`[data-testid="slots"] ${selector}`).first();
    if ((await slot.count()) > 0) return { date: (await days.nth(i).getAttribute("data-date"))!, start: (await slot.getAttribute("data-start"))! };
  }
  throw new Error(`no widget slot matching ${selector} in the next ${count} days`);
}

async function openDay(page: Page, date: string) {
  const w = widget(page);
  await w.locator(`.bpw-day[data-date="${date}"]`).click();
  await w.locator('[data-testid="slots"]').or(w.getByText(/No free times/)).first().waitFor({ timeout: LIVE_MS });
}

async function aCustomerId(): Promise<string> {
  const list = await api("/v1/customers?limit=5");
  expect(list.status).toBe(200);
  return ((list.body.data as { id: string }[])[0]).id;
}

/** A booking through the REST API (a partner, the phone): Standard clean at `start` in the zone of `postalCode`. */
async function bookElsewhere(postalCode: string, start: string, key: string) {
  const businessId = stack().seed.businessId;
  const zone = await convexQuery<{ zoneId: string }>("zones:resolve", { businessId, postalCode });
  const catalogue = await convexQuery<{ industries: { categories: { products: { _id: string; name: string }[] }[] }[] }>("catalogue:forBusiness", { businessId });
  const product = catalogue.industries.flatMap((i) => i.categories.flatMap((c) => c.products)).find((p) => p.name === "Standard clean")!;
  const made = await api("/v1/bookings", {
    method: "POST",
    idempotencyKey: `widget-${key}-${start}`,
    body: { customerId: await aCustomerId(), zoneId: zone.zoneId, cart: [{ productId: product._id, quantity: 1 }], start: Number(start) },
  });
  expect(made.status, JSON.stringify(made.body)).toBe(201);
}

describe("booking widget", () => {
  test("a visitor books from a third-party page: widget → booking page → sign in → pay → back to the site", async () => {
    const page = await newPage("widget-visitor");
    await startWidgetCart(page, "11201", "Standard clean");
    const w = widget(page);

    // The host page's styles stop at the shadow root, and the widget's do not leak out.
    const remove = w.getByRole("button", { name: "Remove Standard clean" });
    const inside = await remove.evaluate((el) => ({ display: getComputedStyle(el).display, font: getComputedStyle(el).fontFamily }));
    expect(inside.display).not.toBe("none");
    expect(inside.font).not.toContain("Comic");
    expect(await remove.isVisible()).toBe(true);
    expect(await w.getByRole("heading", { name: "2. What do you need?" }).isVisible()).toBe(true);
    expect(await page.locator(".host-button").evaluate((el) => getComputedStyle(el).display)).toBe("none");
    // Sized to its container.
    expect(Math.round((await w.boundingBox())!.width)).toBe(560);

    const slot = await findWidgetSlot(page);
    await w.locator(`.bpw-slot[data-start="${slot.start}"]`).click();
    const axe = await new AxeBuilder({ page: page as never }).include(".booking-widget").withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
    expect(axe.violations.flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(" ")} — ${v.help}`))).toEqual([]);
    await screenshot(page, "widget-01-slot-picked");

    await w.getByTestId("widget-continue").click();
    await page.waitForURL(new RegExp(`^${stack().portalUrl}/b/${slug}`), { timeout: 30_000 });
    // The booking page carries on with the widget's choices.
    await page.getByTestId("zone-name").waitFor();
    await page.getByTestId("summary-when").waitFor();
    await page.getByRole("link", { name: "Sign in to continue" }).click();
    await page.locator('[data-subject="demo-customer-2"]').click();
    await page.waitForURL(new RegExp(`/b/${slug}`), { timeout: 30_000 });
    await page.getByTestId("summary-when").waitFor();
    expect(await page.locator(`.slot[data-start="${slot.start}"]`).getAttribute("aria-checked")).toBe("true");
    await page.getByLabel("Street address").fill("214 Clinton St");
    await page.getByLabel("City", { exact: true }).fill("Brooklyn");
    await page.getByTestId("reserve-and-pay").click();
    await page.waitForURL(/\/local-checkout\?session=/, { timeout: 30_000 });
    await page.getByRole("button", { name: "Pay (test)" }).click();
    await page.waitForURL(/\/bookings\/[^/?]+\?payment=succeeded/, { timeout: 30_000 });
    await expect.poll(() => page.getByTestId("booking-status").innerText(), { timeout: LIVE_MS }).toBe("Scheduled");
    const back = page.getByTestId("widget-return");
    expect(await back.innerText()).toBe(`Back to ${new URL(hostUrl).host}`);
    await screenshot(page, "widget-02-paid");
    await back.click();
    await page.waitForURL(`${hostUrl}/shop`);
    await widget(page).getByLabel("Postal code").waitFor();
  });

  test("a booking made elsewhere takes its slot from every connected visitor's widget at once", async () => {
    const visitors = await Promise.all([newPage("widget-a"), newPage("widget-b"), newPage("widget-c")]);
    await startWidgetCart(visitors[0], "11215", "Standard clean");
    const slot = await findWidgetSlot(visitors[0], '.bpw-slot[data-remaining="1"]');
    for (const v of visitors.slice(1)) await startWidgetCart(v, "11215", "Standard clean");
    for (const v of visitors) await openDay(v, slot.date);
    for (const v of visitors) await widget(v).locator(`.bpw-slot[data-start="${slot.start}"]`).waitFor();
    // Visitor B has that time selected: the others see someone checking it out (the room's holds).
    await widget(visitors[1]).locator(`.bpw-slot[data-start="${slot.start}"]`).click();
    await widget(visitors[0]).locator(`.bpw-slot.bpw-contested[data-start="${slot.start}"]`).waitFor({ timeout: LIVE_MS });

    await bookElsewhere("11215", slot.start, "live");

    for (const v of visitors) {
      await widget(v).locator(`.bpw-slot[data-start="${slot.start}"]`).waitFor({ state: "detached", timeout: LIVE_MS });
    }
    await widget(visitors[1]).getByTestId("slot-lost").waitFor({ timeout: LIVE_MS });
    await screenshot(visitors[1], "widget-03-slot-taken-live");
  });

  test("continuing with a slot that has just gone gets the server's answer and the fresh grid", async () => {
    const page = await newPage("widget-race");
    // The room's messages pass through here; from `stale` on they stop reaching this visitor.
    let stale = false;
    await page.routeWebSocket(/\/parties\/availability\//, (ws) => {
      const server = ws.connectToServer();
      ws.onMessage((m) => server.send(m));
      server.onMessage((m) => {
        if (!stale) ws.send(m);
      });
    });
    await startWidgetCart(page, "11215", "Standard clean");
    const slot = await findWidgetSlot(page, '.bpw-slot[data-remaining="1"]');
    const w = widget(page);
    stale = true;
    await w.locator(`.bpw-slot[data-start="${slot.start}"]`).click();

    await bookElsewhere("11215", slot.start, "race");
    // Still offered here (no push got through), and chosen.
    expect(await w.locator(`.bpw-slot[data-start="${slot.start}"]`).getAttribute("aria-pressed")).toBe("true");

    await w.getByTestId("widget-continue").click();
    await w.getByTestId("slot-lost").waitFor({ timeout: LIVE_MS });
    await w.locator(`.bpw-slot[data-start="${slot.start}"]`).waitFor({ state: "detached", timeout: LIVE_MS });
    expect(page.url()).toBe(`${hostUrl}/shop`);
  });

  test("the iframe variant runs the same widget, sized by its content", async () => {
    const page = await newPage("widget-iframe");
    await page.goto(`${hostUrl}/shop-iframe`);
    const frame = page.frameLocator(".booking-widget iframe");
    await frame.getByLabel("Postal code").fill("11201");
    await frame.getByRole("button", { name: "Find services" }).click();
    await frame.getByTestId("zone-name").waitFor();
    await expect.poll(async () => (await page.locator(".booking-widget iframe").boundingBox())!.height, { timeout: LIVE_MS }).not.toBe(640);
  });

  test("owners get the snippet with a live preview in their settings", async () => {
    const page = await newPage("owner");
    await page.goto(`/sign-in?next=${encodeURIComponent("/owner/settings")}`);
    await page.locator('[data-subject="demo-owner"]').click();
    const snippet = page.getByTestId("widget-snippet");
    await snippet.waitFor({ timeout: 30_000 });
    expect(await snippet.inputValue()).toContain(`data-business="${slug}"`);
    const preview = page.getByTestId("widget-preview");
    await preview.getByRole("heading", { name: /^Book with / }).waitFor({ timeout: LIVE_MS });
    await page.getByLabel("Embed as").selectOption("iframe");
    expect(await snippet.inputValue()).toMatch(/^<iframe src="http:\/\/127\.0\.0\.1:\d+\/widget\/frame\.html\?business=/);
  });

  test("no page errors", () => {
    expect(problems.filter((p) => !/ERR_INTERNET_DISCONNECTED|net::ERR|WebSocket/.test(p))).toEqual([]);
  });
});
