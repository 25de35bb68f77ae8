/**
 * Money follows the booking, in a real Chromium against the real platform (fixture.ts):
 *   - a customer reserves and stays on the checkout page past the payment window (the owner
 *      set a one-minute hold; the test waits for the booking to be released, not for a fixed
 *      time), then presses Pay: the checkout refuses, nothing is charged, and the booking page
 *      shows the booking released, never "confirmed".
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { screenshot, signIn, startStack, watchConsole, type Stack } from "./fixture";

let stack: Stack;
const problems: string[] = [];

beforeAll(async () => {
  stack = await startStack();
}, 300_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

async function newPage(label: string): Promise<Page> {
  const context = await stack.context();
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  const lines = watchConsole(page, label);
  page.on("close", () => problems.push(...lines));
  return page;
}

/** Book a Standard clean from the 4th day on (well before the free-cancellation cut-off) and go to the checkout. */
async function reserveAndGoToCheckout(page: Page, postalCode: string, line1: string) {
  await page.goto(`/book/${stack.seed.businessId as string}`);
  await page.getByLabel("Postal code").fill(postalCode);
  await page.getByRole("button", { name: "Find services" }).click();
  await page.getByTestId("zone-name").waitFor();
  await page.getByRole("radio", { name: "Home cleaning" }).click();
  await page.locator('[data-product="Standard clean"]').getByRole("button", { name: "Add Standard clean" }).click();
  await page.getByTestId("quote-total").waitFor();
  const days = page.locator(".day-strip .day");
  const count = await days.count();
  let picked = false;
  for (let i = 3; i < count && !picked; i++) {
    await days.nth(i).click();
    await page.locator('[data-testid="slots"], .state-empty').first().waitFor();
    const slot = page.locator('[data-testid="slots"] .slot').first();
    if ((await slot.count()) > 0) {
      await slot.click();
      picked = true;
    }
  }
  if (!picked) throw new Error("no free slot from the 4th day on");
  await page.getByTestId("summary-when").waitFor();
  await page.getByLabel("Street address").fill(line1);
  await page.getByLabel("City", { exact: true }).fill("Brooklyn");
  await page.getByTestId("reserve-and-pay").click();
  await page.waitForURL(/\/local-checkout\?session=/, { timeout: 30_000 });
}

describe("money follows the booking", () => {
  test("paying after the payment window ran out is refused, and the booking shows as released, never confirmed", async () => {
    // The owner shortens the hold to the shortest the policy allows (1 minute).
    const owner = await newPage("owner-policy");
    await signIn(owner, "demo-owner", "/owner/settings");
    const hold = owner.getByLabel("Hold while paying (minutes)");
    await hold.fill("1");
    await owner.getByRole("button", { name: "Save policies" }).click();
    await owner.getByText("Policies saved.").waitFor();
    await owner.context().close();

    const page = await newPage("expired");
    await signIn(page, "demo-customer-6");
    await reserveAndGoToCheckout(page, "11215", "12 Garfield Pl");
    const checkoutUrl = page.url();
    const bookingId = await (async () => {
      // The customer's booking page, open beside the checkout, shows the release live.
      const side = await page.context().newPage();
      await side.goto("/bookings");
      await side.locator(".booking-row", { hasText: "Awaiting payment" }).first().locator("a").click();
      await side.waitForURL(/\/bookings\/[^/?]+$/);
      const id = (await side.locator(".booking-detail").getAttribute("data-booking"))!;
      await expect.poll(() => side.getByTestId("booking-status").innerText(), { timeout: 120_000, interval: 1_000 }).toBe("Cancelled");
      await side.close();
      return id;
    })();

    // Still on the old checkout page: pressing Pay is refused.
    expect(page.url()).toBe(checkoutUrl);
    await page.getByRole("button", { name: "Pay (test)" }).click();
    const refused = page.getByTestId("checkout-refused");
    await refused.waitFor();
    expect(await refused.innerText()).toContain("The time to pay for this booking ran out");
    expect(await refused.innerText()).toContain("You have not been charged");
    await screenshot(page, "money-02-checkout-refused");

    await page.getByRole("link", { name: "Back to your booking" }).click();
    await page.waitForURL(new RegExp(`/bookings/${bookingId}$`));
    await expect.poll(() => page.getByTestId("booking-status").innerText()).toBe("Cancelled");
    expect(await page.getByTestId("amount-paid").innerText()).toBe("$0.00");
    expect(await page.getByText("Payment received. Your booking is confirmed.").count()).toBe(0);

    // Coming back through a checkout's success address (as from Stripe) still tells the truth.
    await page.goto(`/bookings/${bookingId}?payment=succeeded`);
    await page.getByTestId("payment-after-cancel").waitFor();
    expect(await page.getByTestId("payment-after-cancel").innerText()).toContain("The time to pay ran out");
    expect(await page.getByTestId("payment-succeeded").count()).toBe(0);
    expect(await page.getByTestId("booking-status").innerText()).toBe("Cancelled");
    await screenshot(page, "money-03-released-booking");
    await page.context().close();
  });

  test("no page threw while the tests ran", () => {
    const serious = problems.filter((line) => /pageerror/.test(line));
    expect(serious, serious.join("\n")).toEqual([]);
  });
});
