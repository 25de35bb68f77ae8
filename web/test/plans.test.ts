/**
 * Recurring plans in a real Chromium against the real platform (fixture.ts): a customer
 * picks a slot, chooses "Every week" (its discount shown), sees the next visits before
 * booking, books the plan, then skips one visit with the fee shown first; the dispatcher's
 * board marks the plan's jobs.
 */
import type { Page } from "playwright-core";
import { describe, expect, test } from "vitest";
import { screenshot, signIn, useStack } from "./fixture";

const { stack, newPage, problems } = useStack();

async function startCart(page: Page, postalCode: string, product: string) {
  await page.goto(`/book/${stack().seed.businessId as string}`);
  await page.getByLabel("Postal code").fill(postalCode);
  await page.getByRole("button", { name: "Find services" }).click();
  await page.getByTestId("zone-name").waitFor();
  await page.getByRole("radio", { name: "Home cleaning" }).click();
  await page.locator(`[data-product="${product}"]`).getByRole("button", { name: `Add ${product}` }).click();
  await page.getByTestId("quote-total").waitFor();
}

/** Walks the day strip from tomorrow until a day has a slot; picks its last one (the quietest time). */
async function pickSlot(page: Page): Promise<string> {
  const days = page.locator(".day-strip .day");
  const count = await days.count();
  for (let i = 1; i < count; i++) {
    await days.nth(i).click();
    await page.locator('[data-testid="slots"], .state-empty').first().waitFor();
    const slot = page.locator('[data-testid="slots"] .slot').last();
    if ((await slot.count()) > 0) {
      await slot.click();
      return (await days.nth(i).getAttribute("data-date"))!;
    }
  }
  throw new Error("no free slot in the days shown");
}

describe("recurring plans", () => {
  test("a customer books a weekly plan, sees the next visits, and skips one", async () => {
    const page = await newPage("customer-2");
    await signIn(page, "demo-customer-2", "/bookings");
    await startCart(page, "11211", "Standard clean");
    const firstDate = await pickSlot(page);
    await page.getByLabel("Street address").fill("88 N 6th St");
    await page.getByLabel("City", { exact: true }).fill("Brooklyn");

    const weekly = page.locator('[data-frequency="weekly"]');
    expect(await weekly.innerText()).toMatch(/Every week\s*−15%/);
    await weekly.getByRole("radio").check();
    const preview = page.getByTestId("plan-preview");
    await preview.waitFor();
    expect(await preview.innerText()).toContain("15% off");
    const visits = preview.getByTestId("plan-visit");
    await expect.poll(() => visits.count()).toBe(6);
    expect(await visits.first().getAttribute("data-date")).toBe(firstDate);
    await screenshot(page, "plans-preview");

    await page.getByRole("button", { name: "Book the plan" }).click();
    await page.waitForURL(/\/plans\/[^/?]+\?booked=1/, { timeout: 30_000 });
    await page.getByRole("heading", { name: "Your weekly plan" }).waitFor();
    const booked = page.getByTestId("plan-visits").getByTestId("plan-visit");
    await expect.poll(() => booked.count(), { timeout: 20_000 }).toBeGreaterThanOrEqual(5);

    // Skip the second visit: the fee is shown first (a week ahead: free).
    const second = booked.nth(1);
    await second.getByRole("button", { name: "Skip this visit" }).click();
    const panel = second.getByTestId("skip-panel");
    await panel.waitFor();
    expect(await panel.innerText()).toContain("Skipping this visit is free");
    await panel.getByRole("button", { name: "Skip it" }).click();
    await expect.poll(() => second.getAttribute("data-skipped"), { timeout: 20_000 }).toBe("true");
    expect(await booked.nth(0).getAttribute("data-skipped")).toBe("false");
    expect(await page.getByTestId("plan-status").innerText()).toBe("active");
    await screenshot(page, "plans-skipped");

    // The plan's first visit is marked on the dispatcher's board.
    const board = await newPage("dispatcher");
    await signIn(board, "demo-dispatcher", `/dispatch?date=${firstDate}`);
    const job = board.locator(`.job[data-customer="Marcus Lee"]`, { has: board.getByTestId("job-plan") });
    await job.first().waitFor({ timeout: 20_000 });
    expect(await job.first().getByTestId("job-plan").innerText()).toBe("Plan · weekly");
    expect(problems).toEqual([]);
  }, 120_000);
});
