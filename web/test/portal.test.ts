/**
 * The portal in a real Chromium against the real platform: local backend, PartyKit, Vite,
 * demo data (see fixture.ts). Scenarios:
 *   - a customer books and pays through the local test checkout;
 *   - two customers and a dispatcher: one's hold shows on the other's picker, the booking
 *     removes the slot from the other's picker and lands on the dispatcher's board, live;
 *   - the customer cancels with the fee shown first;
 *   - a provider cannot start or finish tomorrow's job today: the buttons are disabled with
 *     the reason the server gives (bookings.statusOptions), and the customer's view is unchanged;
 *   - an owner's price change reaches the next cart (of a brand-new customer);
 *   - every main screen renders (screenshots in artifacts/screenshots/).
 */
import type { Page } from "playwright-core";
import { describe, expect, test } from "vitest";
import { screenshot, signIn, useStack } from "./fixture";

const { stack, newPage, problems } = useStack();
const LIVE_MS = 20_000;

function subjectOf(name: string): string {
  const signIns = (stack().seed.signIns ?? []) as { subject?: string; name?: string }[];
  const found = signIns.find((s) => s.name === name);
  if (!found?.subject) throw new Error(`no demo sign-in named ${name}`);
  return found.subject;
}

/** Steps 1 and 2 of the booking page: the zone for a postal code, then one product in the cart. */
async function startCart(page: Page, postalCode: string, product: string, industry = "Home cleaning") {
  await page.goto(`/book/${stack().seed.businessId as string}`);
  await page.getByLabel("Postal code").fill(postalCode);
  await page.getByRole("button", { name: "Find services" }).click();
  await page.getByTestId("zone-name").waitFor();
  await page.getByRole("radio", { name: industry }).click();
  await page.locator(`[data-product="${product}"]`).getByRole("button", { name: `Add ${product}` }).click();
  await page.getByTestId("quote-total").waitFor();
}

/** Waits until the picker shows the slots (or "no free times") for the selected day. */
async function settleSlots(page: Page) {
  await page.locator('[data-testid="slots"], .state-empty').first().waitFor();
}

/** Walks the day strip from tomorrow until a slot matches; returns its day and start. */
async function findSlot(page: Page, selector = ".slot"): Promise<{ date: string; start: string }> {
  const days = page.locator(".day-strip .day");
  const count = await days.count();
  for (let i = 1; i < count; i++) {
    await days.nth(i).click();
    await settleSlots(page);
    const slot = page.locator(`[data-testid="slots"] ${selector}`).first();
    if ((await slot.count()) > 0) {
      return { date: (await days.nth(i).getAttribute("data-date"))!, start: (await slot.getAttribute("data-start"))! };
    }
  }
  throw new Error(`no slot matching ${selector} in the next ${count} days`);
}

async function fillDetails(page: Page, line1: string, city: string) {
  await page.getByLabel("Street address").fill(line1);
  await page.getByLabel("City", { exact: true }).fill(city);
}

const booked: { bookingId?: string; localDate?: string; provider?: string; customerPage?: Page } = {};
const second: { bookingId?: string; page?: Page } = {};

describe("portal", () => {
  test("sign-in lists the demo accounts of every role", async () => {
    const page = await newPage("signin");
    await page.goto("/sign-in");
    for (const subject of ["demo-customer-1", "demo-provider-1", "demo-dispatcher", "demo-owner", "demo-admin"]) {
      await page.locator(`[data-subject="${subject}"]`).waitFor();
    }
    await screenshot(page, "01-sign-in");
    // A protected page sends a signed-out visitor to the sign-in page, and back after it.
    await page.goto("/dispatch");
    await page.waitForURL(/\/sign-in\?next=%2Fdispatch/);
    await page.locator('[data-subject="demo-dispatcher"]').click();
    await page.waitForURL(/\/dispatch$/);
    await page.getByRole("heading", { name: "Dispatch board" }).waitFor();
    await page.context().close();
  });

  test("a customer books and pays through the local test checkout", async () => {
    const page = await newPage("customer-1");
    await signIn(page, "demo-customer-1");
    await page.getByRole("heading", { name: "My bookings" }).waitFor();
    await screenshot(page, "02-my-bookings");

    await startCart(page, "11201", "Standard clean");
    const total = await page.getByTestId("quote-total").innerText();
    expect(total).toMatch(/\$\d/);
    // More of the product: the live quote changes price and duration.
    const durationBefore = await page.getByTestId("quote-duration").innerText();
    await page.locator('[data-product="Standard clean"]').getByRole("button", { name: /^More Standard clean/ }).click();
    await expect.poll(() => page.getByTestId("quote-total").innerText(), { timeout: LIVE_MS }).not.toBe(total);
    expect(await page.getByTestId("quote-duration").innerText()).not.toBe(durationBefore);

    const slot = await findSlot(page);
    await page.locator(`.slot[data-start="${slot.start}"]`).click();
    await page.getByTestId("summary-when").waitFor();
    // The browser runs in Europe/Berlin, the business in New York: both times are shown.
    expect(await page.getByTestId("summary-when").innerText()).toContain("your time");
    await fillDetails(page, "214 Clinton St", "Brooklyn");
    await screenshot(page, "03-book");
    await page.getByTestId("reserve-and-pay").click();
    await page.waitForURL(/\/local-checkout\?session=/, { timeout: 30_000 });
    await screenshot(page, "04-local-checkout");
    await page.getByRole("button", { name: "Pay (test)" }).click();
    await page.waitForURL(/\/bookings\/[^/?]+\?payment=succeeded/, { timeout: 30_000 });
    await page.getByTestId("payment-succeeded").waitFor({ timeout: 30_000 });
    await expect.poll(() => page.getByTestId("booking-status").innerText()).toBe("Scheduled");
    expect(await page.getByTestId("amount-paid").innerText()).not.toBe("$0.00");

    const detail = page.locator(".booking-detail");
    booked.bookingId = (await detail.getAttribute("data-booking"))!;
    booked.localDate = (await detail.getAttribute("data-local-date"))!;
    booked.provider = await page.getByTestId("booking-provider").innerText({ timeout: LIVE_MS });
    booked.customerPage = page;
    await screenshot(page, "05-booking-confirmed");
  });

  test("one customer's booking takes the slot from another's picker and lands on the dispatcher's board, live", async () => {
    const alice = await newPage("customer-3");
    const bob = await newPage("customer-4");
    const dispatcher = await newPage("dispatcher");
    await Promise.all([signIn(alice, "demo-customer-3"), signIn(bob, "demo-customer-4"), signIn(dispatcher, "demo-dispatcher")]);

    // Bob looks for a time only one provider can still take.
    await startCart(bob, "11215", "Standard clean");
    const slot = await findSlot(bob, '.slot[data-remaining="1"]');

    // Alice, same cart, same day, picks that time: Bob sees someone checking it out (PartyKit).
    await startCart(alice, "11215", "Standard clean");
    await alice.locator(`.day[data-date="${slot.date}"]`).click();
    await settleSlots(alice);
    await alice.locator(`.slot[data-start="${slot.start}"]`).click();
    await bob.locator(`.slot[data-start="${slot.start}"] [data-testid="slot-hold"]`).waitFor({ timeout: LIVE_MS });
    await screenshot(bob, "06-slot-being-checked-out");

    await dispatcher.goto(`/dispatch?date=${slot.date}`);
    await dispatcher.locator(".board").waitFor();
    const jobsBefore = await dispatcher.locator('.job[data-customer="Sofia Rossi"]').count();

    await fillDetails(alice, "470 5th Ave", "Brooklyn");
    await alice.getByTestId("reserve-and-pay").click();
    await alice.waitForURL(/\/local-checkout\?session=/, { timeout: 30_000 });

    // Live: gone from Bob's picker, on the dispatcher's board, without reloading either.
    await expect.poll(() => bob.locator(`.slot[data-start="${slot.start}"]`).count(), { timeout: LIVE_MS }).toBe(0);
    await expect
      .poll(() => dispatcher.locator('.job[data-customer="Sofia Rossi"]').count(), { timeout: LIVE_MS })
      .toBe(jobsBefore + 1);
    await screenshot(dispatcher, "07-dispatch-board");

    // Alice pays; her booking is confirmed.
    await alice.getByRole("button", { name: "Pay (test)" }).click();
    await alice.waitForURL(/payment=succeeded/, { timeout: 30_000 });
    await alice.getByTestId("payment-succeeded").waitFor({ timeout: 30_000 });
    second.bookingId = (await alice.locator(".booking-detail").getAttribute("data-booking"))!;
    second.page = alice;
    await bob.context().close();
    await dispatcher.context().close();
  });

  test("a customer cancels, with the fee shown before confirming", async () => {
    const page = second.page!;
    await page.getByTestId("cancel-booking").click();
    const fee = await page.getByTestId("cancel-fee").innerText();
    expect(fee).toMatch(/Free cancellation|cancellation fee of \$/);
    await screenshot(page, "08-cancel-preview");
    await page.getByTestId("confirm-cancel").click();
    await expect.poll(() => page.getByTestId("booking-status").innerText(), { timeout: LIVE_MS }).toBe("Cancelled");
    await page.context().close();
  });

  test("a provider cannot work tomorrow's job today: the buttons say from when they open", async () => {
    const customer = booked.customerPage!;
    await customer.goto(`/bookings/${booked.bookingId}`);
    await expect.poll(() => customer.getByTestId("booking-status").innerText()).toBe("Scheduled");

    const provider = await newPage("provider");
    await signIn(provider, subjectOf(booked.provider!), `/today?date=${booked.localDate}`);
    const card = provider.locator(`[data-booking="${booked.bookingId}"]`);
    await card.waitFor();
    // The job is on a later day: "On my way" (and so start and finish) is not open yet, and says why.
    const onMyWay = card.getByTestId("status-EN_ROUTE");
    await expect.poll(() => onMyWay.isDisabled()).toBe(true);
    const why = card.getByTestId("status-unavailable-reason");
    expect(await why.innerText()).toMatch(/too early to set off: this job can be marked en route 2 h before its arrival window \(from \d{4}-\d{2}-\d{2} \d{2}:\d{2}\)/);
    expect(await card.getByTestId("status-NO_SHOW").isDisabled()).toBe(true);
    // A provider cannot override; no start or finish is offered while the job is only confirmed.
    expect(await card.getByTestId("status-override").count()).toBe(0);
    expect(await card.getByTestId("status-IN_PROGRESS").count()).toBe(0);
    expect(await card.getByTestId("status-COMPLETED").count()).toBe(0);
    await screenshot(provider, "09-provider-today-too-early");
    expect(await customer.getByTestId("booking-status").innerText()).toBe("Scheduled");
    await provider.context().close();
    await customer.context().close();
  });

  test("an owner's price change reaches the next cart", async () => {
    const owner = await newPage("owner");
    await signIn(owner, "demo-owner", "/owner/catalogue");
    const row = owner.locator('[data-product="Move-out clean"]');
    const input = row.getByLabel("Price of Move-out clean");
    const before = Number(await input.inputValue());
    const after = before + 17;
    await input.fill(after.toFixed(2));
    await row.getByRole("button", { name: "Save Move-out clean" }).click();
    await expect.poll(() => row.innerText(), { timeout: LIVE_MS }).toContain(`now $${after.toFixed(2)}`);
    await screenshot(owner, "11-owner-catalogue");

    // A brand-new customer starts a cart: the new price is there.
    const guest = await newPage("guest");
    await guest.goto("/sign-in");
    await guest.getByLabel("Your name (optional)").fill("Pat Newcomer");
    await guest.getByRole("button", { name: "Continue as a new customer" }).click();
    await guest.getByTestId("user-name").waitFor();
    expect(await guest.getByTestId("user-name").innerText()).toBe("Pat Newcomer");
    await guest.goto("/b/brightside-home-services");
    // Brooklyn prices the catalogue as is (no zone multiplier), so the line shows the price.
    await guest.getByLabel("Postal code").fill("11211");
    await guest.getByRole("button", { name: "Find services" }).click();
    await guest.getByTestId("zone-name").waitFor();
    await guest.getByRole("radio", { name: "Home cleaning" }).click();
    const product = guest.locator('[data-product="Move-out clean"]');
    expect(await product.getByTestId("product-price").innerText()).toBe(`$${after.toFixed(2)}`);
    await product.getByRole("button", { name: "Add Move-out clean" }).click();
    await expect.poll(() => guest.getByTestId("quote").innerText(), { timeout: LIVE_MS }).toContain(`$${after.toFixed(2)}`);

    // And while the cart is open, another change shows up in it live.
    await input.fill((after + 3).toFixed(2));
    await row.getByRole("button", { name: "Save Move-out clean" }).click();
    await expect.poll(() => guest.getByTestId("quote").innerText(), { timeout: LIVE_MS }).toContain(`$${(after + 3).toFixed(2)}`);
    await screenshot(guest, "12-new-customer-cart");
    await guest.context().close();
    await owner.context().close();
  });

  test("every main screen renders for its role", async () => {
    const owner = await newPage("owner-screens");
    await signIn(owner, "demo-owner", "/owner/zones");
    const screens: [string, string, string][] = [
      ["/owner/zones", "Service zones", "13-owner-zones"],
      ["/owner/staff", "Team and schedules", "14-owner-staff"],
      ["/owner/finance", "Invoices and refunds", "15-owner-finance"],
      ["/owner/developers", "API and webhooks", "16-owner-developers"],
      ["/owner/reports", "Reports", "17-owner-reports"],
      ["/owner/settings", "Business settings", "18-owner-settings"],
    ];
    for (const [path, heading, name] of screens) {
      await owner.goto(path);
      await owner.getByRole("heading", { name: heading, exact: true }).waitFor();
      await owner.locator(".state-loading").first().waitFor({ state: "detached", timeout: 30_000 }).catch(() => undefined);
      expect(await owner.locator('[role="alert"].alert-error').count(), `${path} shows an error`).toBe(0);
      await screenshot(owner, name);
    }
    // Zone editor: clicking the map adds boundary points.
    await owner.goto("/owner/zones");
    await owner.getByRole("button", { name: "Edit" }).first().click();
    const editor = owner.getByTestId("polygon-editor");
    await editor.waitFor();
    const box = (await editor.boundingBox())!;
    const pointsBefore = await editor.locator("circle[r='7']").count();
    await editor.click({ position: { x: box.width * 0.2, y: box.height * 0.2 } });
    expect(await editor.locator("circle[r='7']").count()).toBe(pointsBefore + 1);
    await screenshot(owner, "19-owner-zone-editor");
    await owner.context().close();

    // A new owner registers a business; the platform admin verifies it, then suspends it.
    const founder = await newPage("founder");
    await founder.goto("/sign-in");
    await founder.getByLabel("Your name (optional)").fill("Frankie Founder");
    await founder.getByRole("button", { name: "Continue as a new customer" }).click();
    await founder.getByRole("heading", { name: /Welcome/ }).waitFor();
    await founder.getByLabel("Business name").fill("Frankie's Fixers");
    await founder.getByRole("button", { name: "Register my business" }).click();
    await founder.getByRole("heading", { name: "Business settings" }).waitFor();
    await founder.getByText("PENDING", { exact: true }).waitFor();

    const admin = await newPage("admin");
    await signIn(admin, "demo-admin");
    await admin.getByRole("heading", { name: "Businesses" }).waitFor();
    const row = admin.locator('[data-business^="frankie"]');
    await row.waitFor();
    await screenshot(admin, "20-admin-businesses");
    await row.getByRole("button", { name: "Verify" }).click();
    await founder.getByText("ACTIVE", { exact: true }).waitFor({ timeout: LIVE_MS });
    await admin.getByRole("radio", { name: "active", exact: true }).click();
    await row.getByLabel("Reason / note").fill("Chargeback review");
    await row.getByRole("button", { name: "Suspend" }).click();
    await founder.getByText("SUSPENDED", { exact: true }).waitFor({ timeout: LIVE_MS });
    await founder.context().close();
    await admin.context().close();

    const phone = await newPage("mobile", { mobile: true });
    await signIn(phone, "demo-customer-5");
    await startCart(phone, "10011", "Standard clean");
    await screenshot(phone, "21-mobile-book");
    await phone.context().close();
  });

  test("no page threw while the tests ran", () => {
    const serious = problems.filter((line) => /pageerror/.test(line));
    expect(serious, serious.join("\n")).toEqual([]);
  });
});
