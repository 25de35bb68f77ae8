/**
 * Search journeys in a real Chromium against the whole platform (see fixture.ts):
 *   - an owner finds a customer in the CRM by part of the name and by the start of the email;
 *   - a dispatcher looks a customer up on the board and jumps to the day of their booking;
 *   - a customer searches the portal's catalogue and books from the results.
 */
import { describe, expect, test } from "vitest";
import { screenshot, signIn, useStack } from "./fixture";

const { stack, newPage, problems } = useStack();

describe("search", () => {
  test("an owner finds a customer by part of the name, then by the start of the email", async () => {
    const page = await newPage("owner-crm");
    await signIn(page, "demo-owner", "/owner/customers");
    await page.getByRole("heading", { name: "Customers", exact: true }).waitFor();
    await page.getByRole("list", { name: "Newest customers" }).getByRole("button").first().waitFor();
    const box = page.getByLabel("Find a customer");
    await box.fill("sofi");
    const results = page.getByRole("list", { name: "Matching customers" });
    await results.getByRole("button", { name: /Sofia Rossi/ }).waitFor();
    expect(await results.getByRole("button").allInnerTexts()).toEqual([expect.stringContaining("Sofia Rossi")]);
    await results.getByRole("button", { name: /Sofia Rossi/ }).click();
    const card = page.locator(".customer-card");
    await card.getByRole("heading", { name: "Sofia Rossi" }).waitFor();
    await card.getByText("470 5th Ave").waitFor();
    await screenshot(page, "search-01-crm");

    await box.fill("demo-customer-3@");
    await results.getByRole("button", { name: /Sofia Rossi/ }).waitFor();
    await box.fill("nobody-by-this-name");
    await page.getByText("No customer matches “nobody-by-this-name”.").waitFor();
    await page.context().close();
  });

  test("a dispatcher looks a customer up on the board and opens the day of their booking", async () => {
    const page = await newPage("dispatch-lookup");
    await signIn(page, "demo-dispatcher", "/dispatch");
    await page.getByRole("heading", { name: "Dispatch board" }).waitFor();
    await page.locator("summary", { hasText: "Customer lookup" }).click();
    await page.getByLabel("Find a customer").fill("emily car");
    await page.getByRole("list", { name: "Matching customers" }).getByRole("button", { name: /Emily Carter/ }).click();
    const bookings = page.getByRole("list", { name: "Bookings of Emily Carter" });
    const show = bookings.getByRole("button", { name: /on the board/ }).first();
    await show.waitFor();
    const day = (await show.getAttribute("data-local-date"))!;
    await show.click();
    await expect.poll(() => page.getByLabel("Day", { exact: true }).inputValue()).toBe(day);
    await screenshot(page, "search-02-dispatch-lookup");
    await page.context().close();
  });

  test("a customer searches the catalogue and adds a service from the results", async () => {
    const page = await newPage("portal-catalogue");
    await signIn(page, "demo-customer-1");
    await page.goto(`/book/${stack().seed.businessId as string}`);
    await page.getByLabel("Postal code").fill("11201");
    await page.getByRole("button", { name: "Find services" }).click();
    await page.getByTestId("zone-name").waitFor();
    await page.getByLabel("Search services").fill("deep");
    const results = page.getByRole("list", { name: "Matching services" });
    await results.locator('[data-product="Deep clean"]').waitFor();
    expect(await results.locator("[data-product]").count()).toBe(1);
    await results.locator('[data-product="Deep clean"]').getByRole("button", { name: "Add Deep clean" }).click();
    await page.getByTestId("quote-total").waitFor();
    await screenshot(page, "search-03-catalogue");
    await page.getByLabel("Search services").fill("zzzz");
    await page.getByText("No service matches “zzzz”.").waitFor();
    await page.context().close();
  });

  test("no page threw while the tests ran", () => {
    expect(problems.filter((line) => /pageerror/.test(line))).toEqual([]);
  });
});
