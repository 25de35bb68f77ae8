/**
 * Words, not internals, in a real Chromium: money is typed in the currency's units and a
 * mistake is named under the field until it is fixed; coordinates read N/S/E/W; a booking
 * billed as several price lines of one service is titled by the service once; a reschedule
 * is recorded in the business's time, not as an ISO instant.
 */
import { describe, expect, test } from "vitest";
import { screenshot, signIn, useStack } from "./fixture";

const { newPage, problems } = useStack();

describe("words, not internals", () => {
  test("an owner types prices in dollars; a wrong amount is named until it is fixed", async () => {
    const owner = await newPage("owner-money");
    await signIn(owner, "demo-owner", "/owner/catalogue");
    const row = owner.locator('[data-product="Move-out clean"]');
    const price = row.getByLabel("Price of Move-out clean");
    const save = row.getByRole("button", { name: "Save Move-out clean" });
    await price.waitFor();
    expect(await price.inputValue()).toMatch(/^\d+\.\d{2}$/);
    expect(await owner.getByText(/minor units/).count()).toBe(0);

    await price.fill("12.345");
    await row.getByText("USD amounts have at most 2 decimals.").waitFor();
    expect(await save.isDisabled()).toBe(true);
    await price.fill("1,234.5");
    await row.getByText("USD amounts have at most 2 decimals.").waitFor({ state: "detached" });
    await save.click();
    await row.getByText("now $1,234.50").waitFor();

    // A server refusal disappears as soon as the value is changed.
    await price.fill("2000000");
    await save.click();
    const refusal = row.locator('[role="alert"]');
    await refusal.waitFor();
    await price.fill("150");
    await refusal.waitFor({ state: "detached" });
    await save.click();
    await row.getByText("now $150.00").waitFor();

    await owner.goto("/owner/settings");
    await owner.getByRole("heading", { name: "Policies" }).waitFor();
    expect(await owner.getByText(/minor units/).count()).toBe(0);
    await owner.getByLabel("En route from (minutes before arrival)").waitFor();
    await screenshot(owner, "words-01-settings");
    await owner.context().close();
  });

  test("zone boundaries read in degrees north/south and east/west", async () => {
    const owner = await newPage("owner-zones");
    await signIn(owner, "demo-owner", "/owner/zones");
    await owner.getByRole("button", { name: "Edit" }).first().click();
    const hint = owner.getByTestId("polygon-editor").locator("xpath=..").locator(".field-hint");
    await expect.poll(() => hint.innerText()).toMatch(/\d+\.\d{3}° N to \d+\.\d{3}° N, \d+\.\d{3}° W to \d+\.\d{3}° W/);
    expect(await hint.innerText()).not.toMatch(/-\d/);
    expect(await owner.getByText(/minor units/).count()).toBe(0);
    await owner.context().close();
  });

  test("the board titles each job by its services, once each", async () => {
    const dispatcher = await newPage("dispatcher-titles");
    await signIn(dispatcher, "demo-dispatcher", "/dispatch");
    await dispatcher.locator(".board").waitFor();
    const day = dispatcher.getByLabel("Day", { exact: true });
    const start = await day.inputValue();
    let titles: string[] = [];
    for (let offset = 0; offset < 7 && titles.length === 0; offset++) {
      const date = new Date(`${start}T12:00:00Z`);
      date.setUTCDate(date.getUTCDate() + offset);
      await day.fill(date.toISOString().slice(0, 10));
      await dispatcher.locator(".state-loading").first().waitFor({ state: "detached" }).catch(() => undefined);
      titles = await dispatcher.locator(".job-service").allInnerTexts();
    }
    expect(titles.length).toBeGreaterThan(0);
    for (const title of titles) {
      expect(title).not.toMatch(/\(includes \d+\)|, additional/);
      const names = title.split(", ");
      expect(new Set(names).size).toBe(names.length);
    }
    await dispatcher.context().close();
  });

  test("nothing on these pages threw", () => {
    expect(problems.filter((line) => /pageerror/.test(line))).toEqual([]);
  });
});
