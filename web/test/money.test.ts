/**
 * Money follows the booking, in a real Chromium against the real platform (fixture.ts):
 *   1. a customer books, pays the deposit on the local test checkout and cancels: the refund
 *      the cancel panel promised happens (refund events through POST /stripe/webhook) and the
 *      invoice shows the refund line and the refunded amount after a reload;
 *   2. a customer reserves and stays on the checkout page past the payment window (the owner
 *      set a one-minute hold; the test waits for the booking to be released, not for a fixed
 *      time), then presses Pay: the checkout refuses, nothing is charged, and the booking page
 *      shows the booking released, never "confirmed".
 */
import type { Page } from "playwright-core";
import { describe, expect, test } from "vitest";
import { screenshot, signIn, useStack } from "./fixture";

const { stack, newPage, problems } = useStack();
const LIVE_MS = 20_000;

/** Book a Standard clean from the 4th day on (well before the free-cancellation cut-off) and go to the checkout. */
async function reserveAndGoToCheckout(page: Page, postalCode: string, line1: string) {
  await page.goto(`/book/${stack().seed.businessId as string}`);
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
  test("cancelling after paying the deposit refunds what the panel promised, shown on the invoice after a reload", async () => {
    const page = await newPage("refund");
    await signIn(page, "demo-customer-2");
    await reserveAndGoToCheckout(page, "11201", "88 Pineapple St");
    await page.getByRole("button", { name: "Pay (test)" }).click();
    await page.waitForURL(/\/bookings\/[^/?]+\?payment=succeeded/, { timeout: 30_000 });
    await page.getByTestId("payment-succeeded").waitFor({ timeout: 30_000 });
    const paid = await page.getByTestId("amount-paid").innerText();
    expect(paid).not.toBe("$0.00");

    await page.getByTestId("cancel-booking").click();
    const promise = page.getByTestId("cancel-panel").getByText(/You will be refunded \$/);
    await promise.waitFor();
    const promised = /\$[\d,]+\.\d\d/.exec(await promise.innerText())![0];
    expect(promised).toBe(paid);
    await page.getByTestId("confirm-cancel").click();
    await expect.poll(() => page.getByTestId("booking-status").innerText(), { timeout: LIVE_MS }).toBe("Cancelled");

    // The refund is submitted and confirmed by the refund events through /stripe/webhook.
    await page.reload();
    await expect.poll(() => page.getByTestId("amount-refunded").innerText().catch(() => ""), { timeout: LIVE_MS }).toBe(promised);
    await page.reload();
    expect(await page.getByTestId("amount-refunded").innerText()).toBe(promised);
    const line = page.getByTestId("refund-line");
    await line.waitFor();
    expect(await line.innerText()).toContain(`−${promised}`);
    expect(await line.innerText()).toContain("succeeded");
    expect(await page.getByTestId("invoice-status").innerText()).toBe("refunded");
    // Back on the checkout's return address, the page never says "confirmed" beside "Cancelled".
    expect(page.url()).toContain("payment=succeeded");
    expect(await page.getByTestId("booking-status").innerText()).toBe("Cancelled");
    expect(await page.getByTestId("payment-succeeded").count()).toBe(0);
    expect(await page.getByTestId("payment-after-cancel").count()).toBe(0);
    await screenshot(page, "money-01-refund-on-invoice");
    await page.context().close();
  });

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
