/**
 * Recurring plans in a real Chromium against the real platform (fixture.ts): a customer
 * picks a slot, chooses "Every 2 weeks" (its discount shown), sees the next visits before
 * booking, books the plan, saves the card its visits are charged on (the local test
 * checkout's setup page, through the signed /stripe/webhook), skips one visit with the fee
 * shown first, moves "this and all future" visits to another time (the new visits shown
 * first); the owner's reports list the recurring customer, the next visits and revenue per
 * frequency; the dispatcher's board marks the plan's jobs.
 */
import type { Page } from "playwright-core";
import { describe, expect, test } from "vitest";
import { addDays } from "../../domain/time";
import { pickSlot, screenshot, signIn, useStack } from "./fixture";

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

/** "HH:MM" an hour earlier (the visits are at the last slot of a day, so an hour earlier is within hours). */
function hourEarlier(localTime: string): string {
  const [h, m] = localTime.split(":").map(Number);
  return `${String(h - 1).padStart(2, "0")}:${String(m).padStart(2, "0")}`;
}

describe("recurring plans", () => {
  test("a customer books a fortnightly plan, saves a card, skips a visit, moves this and all future ones; the owner sees it", async () => {
    const page = await newPage("customer-2");
    await signIn(page, "demo-customer-2", "/bookings");
    await startCart(page, "11211", "Standard clean");
    const firstDate = await pickSlot(page);
    await page.getByLabel("Street address").fill("88 N 6th St");
    await page.getByLabel("City", { exact: true }).fill("Brooklyn");

    const fortnightly = page.locator('[data-frequency="every_2_weeks"]');
    expect(await fortnightly.innerText()).toMatch(/Every 2 weeks\s*−10%/);
    await fortnightly.getByRole("radio").check();
    const preview = page.getByTestId("plan-preview");
    await preview.waitFor();
    expect(await preview.innerText()).toContain("10% off");
    const visits = preview.getByTestId("plan-visit");
    await expect.poll(() => visits.count()).toBe(6);
    expect(await visits.first().getAttribute("data-date")).toBe(firstDate);
    expect(await visits.nth(1).getAttribute("data-date")).toBe(addDays(firstDate, 14));
    await screenshot(page, "plans-preview");

    // Booking the plan leads to saving the card (the local stand-in for Stripe's setup page).
    await page.getByRole("button", { name: "Book the plan" }).click();
    await page.waitForURL(/\/local-checkout\?setup=/, { timeout: 30_000 });
    await page.getByRole("button", { name: /Save test card •••• 4242/ }).click();
    await page.waitForURL(/\/plans\/[^/?]+\?card=saved/, { timeout: 30_000 });
    await page.getByRole("heading", { name: "Your every 2 weeks plan" }).waitFor();
    await expect.poll(() => page.getByTestId("plan-card").getAttribute("data-billing"), { timeout: 20_000 }).toBe("active");
    expect(await page.getByTestId("plan-card-last4").innerText()).toBe("4242");
    const booked = page.getByTestId("plan-visits").getByTestId("plan-visit");
    await expect.poll(() => booked.count(), { timeout: 20_000 }).toBeGreaterThanOrEqual(5);

    // Skip the second visit: the fee is shown first (two weeks ahead: free).
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

    // Move the third visit and all later ones an hour earlier: the new visits are shown first.
    const third = booked.nth(2);
    const thirdDate = (await third.getAttribute("data-date"))!;
    const oldTime = (await third.getAttribute("data-local-time"))!;
    const newTime = hourEarlier(oldTime);
    const firstTime = await booked.nth(0).getAttribute("data-local-time");
    await third.getByRole("button", { name: "Move…" }).click();
    const move = third.getByTestId("move-panel");
    await move.getByLabel("New time").fill(newTime);
    await move.getByLabel("This and all future visits").check();
    await move.getByRole("button", { name: "Review the move" }).click();
    const change = move.getByTestId("change-preview");
    await change.waitFor({ timeout: 30_000 });
    const changed = change.getByTestId("change-visit");
    await expect.poll(() => changed.count(), { timeout: 20_000 }).toBeGreaterThanOrEqual(3);
    expect(await changed.first().getAttribute("data-date")).toBe(thirdDate);
    expect(await change.getByTestId("change-fee").innerText()).toBe("No fee for this change.");
    await screenshot(page, "plans-this-and-future");
    await change.getByRole("button", { name: "Confirm the change" }).click();
    await expect.poll(() => booked.nth(2).getAttribute("data-local-time"), { timeout: 20_000 }).toBe(newTime);
    expect(await booked.nth(2).getAttribute("data-date")).toBe(thirdDate);
    expect(await booked.nth(0).getAttribute("data-local-time")).toBe(firstTime);
    expect(await booked.nth(1).getAttribute("data-skipped")).toBe("true");
    await page.getByText(`at ${newTime}`).first().waitFor();

    // The owner's reports: the recurring customer, the next visits, revenue per frequency.
    const owner = await newPage("owner");
    await signIn(owner, "demo-owner", "/owner/reports");
    const row = owner.locator('[data-testid="recurring-plan"][data-customer="Marcus Lee"][data-frequency="every_2_weeks"]');
    await row.first().waitFor({ timeout: 20_000 });
    expect(await row.first().innerText()).toContain(`Every 2 weeks at ${newTime}`);
    expect(await row.first().getByTestId("recurring-next-visits").locator("li").count()).toBeGreaterThanOrEqual(1);
    await owner.locator('[data-testid="revenue-per-frequency"] tr[data-frequency="every_2_weeks"]').waitFor();
    await screenshot(owner, "plans-owner-recurring");

    // The plan's first visit is marked on the dispatcher's board.
    const board = await newPage("dispatcher");
    await signIn(board, "demo-dispatcher", `/dispatch?date=${firstDate}`);
    const job = board.locator(`.job[data-customer="Marcus Lee"]`, { has: board.getByTestId("job-plan") });
    await job.first().waitFor({ timeout: 20_000 });
    expect(await job.first().getByTestId("job-plan").innerText()).toMatch(/^Plan · every/);
    expect(problems).toEqual([]);
  }, 180_000);
});
