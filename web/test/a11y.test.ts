/**
 * Accessible by default, checked in a real Chromium: axe-core (WCAG 2.x A/AA and best
 * practices) finds no violation on any route of any role; the dispatch board's Move… menu
 * works from the keyboard alone (open, arrows, Escape back to its button); a customer books
 * from start to paid with the keyboard in under 25 key presses (days and times are one Tab
 * stop each, focus follows the steps); the live indicator tells the truth when offline.
 */
import AxeBuilder from "@axe-core/playwright";
import type { Page } from "playwright-core";
import { describe, expect, test } from "vitest";
import { signIn, useStack } from "./fixture";

const { stack, newPage, problems } = useStack();

/** axe's findings on the page as it is now, one line per violation and element. */
async function violations(page: Page, label: string): Promise<string[]> {
  await page.locator(".state-loading").first().waitFor({ state: "detached", timeout: 30_000 }).catch(() => undefined);
  const result = await new AxeBuilder({ page: page as never }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]).analyze();
  return result.violations.flatMap((v) => v.nodes.map((n) => `${label}: ${v.id} (${v.impact}) ${n.target.join(" ")} — ${v.help}`));
}

async function visit(page: Page, path: string, label: string): Promise<string[]> {
  await page.goto(path);
  await page.getByRole("heading").first().waitFor();
  return await violations(page, label);
}

describe("accessibility", () => {
  test("no axe violation on any route, signed out or as any role", async () => {
    const found: string[] = [];
    const guest = await newPage("a11y-guest");
    found.push(...(await visit(guest, "/sign-in", "sign-in")));
    found.push(...(await visit(guest, `/book/${stack().seed.businessId as string}`, "book (guest)")));
    await guest.context().close();

    const roles: [string, string[]][] = [
      ["demo-customer-1", ["/bookings", `/book/${stack().seed.businessId as string}`, "/invite/an-unknown-invitation-link-0000"]],
      ["demo-dispatcher", ["/dispatch"]],
      ["demo-owner", ["/owner/settings", "/owner/zones", "/owner/catalogue", "/owner/customers", "/owner/staff", "/owner/finance", "/owner/developers", "/owner/reports", "/owner/notifications", "/owner/notifications/templates"]],
    ];
    for (const [subject, paths] of roles) {
      const page = await newPage(`a11y-${subject}`);
      await signIn(page, subject, paths[0]);
      for (const path of paths) found.push(...(await visit(page, path, `${path} (${subject})`)));
      if (subject === "demo-customer-1") {
        const first = page.locator('a[href^="/bookings/"]').first();
        if ((await first.count()) > 0) {
          await first.click();
          await page.getByRole("heading").first().waitFor();
          found.push(...(await violations(page, "booking detail (customer)")));
        }
      }
      await page.context().close();
    }
    const provider = ((stack().seed.signIns ?? []) as { subject?: string; role?: string }[]).find((s) => s.role === "staff")?.subject;
    if (provider) {
      const page = await newPage("a11y-provider");
      await signIn(page, provider, "/today");
      found.push(...(await visit(page, "/today", "today (provider)")));
      await page.context().close();
    }
    expect(found).toEqual([]);
  });

  test("the Move… menu works from the keyboard alone", async () => {
    const page = await newPage("a11y-move-menu");
    await signIn(page, "demo-dispatcher", "/dispatch");
    await page.locator(".board").waitFor();
    const day = page.getByLabel("Day", { exact: true });
    const start = await day.inputValue();
    let toggle = page.getByRole("button", { name: /^(Assign|Move)… .*'s job to/ }).first();
    for (let offset = 0; offset < 7 && (await toggle.count()) === 0; offset++) {
      const date = new Date(`${start}T12:00:00Z`);
      date.setUTCDate(date.getUTCDate() + offset + 1);
      await day.fill(date.toISOString().slice(0, 10));
      await page.locator(".state-loading").first().waitFor({ state: "detached" }).catch(() => undefined);
      toggle = page.getByRole("button", { name: /^(Assign|Move)… .*'s job to/ }).first();
    }
    await toggle.focus();
    await page.keyboard.press("Enter");
    const menu = page.getByRole("menu");
    await menu.waitFor();
    // Focus moves into the menu, arrows move between the entries that can be chosen, Escape
    // closes it and returns focus to the button that opened it.
    await menu.locator("[data-provider]").first().waitFor();
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute("role"))).toBe("menuitem");
    const enabled = await menu.locator('[role="menuitem"]:not([data-disabled])').count();
    const firstFocused = await page.evaluate(() => document.activeElement?.textContent);
    await page.keyboard.press("ArrowDown");
    const secondFocused = await page.evaluate(() => document.activeElement?.textContent);
    expect(await page.evaluate(() => document.activeElement?.getAttribute("role"))).toBe("menuitem");
    if (enabled > 1) expect(secondFocused).not.toBe(firstFocused);
    await page.keyboard.press("Escape");
    await menu.waitFor({ state: "detached" });
    expect(await toggle.evaluate((el) => el === document.activeElement)).toBe(true);
    await page.context().close();
  });

  test("a customer books from start to paid with the keyboard alone, in under 25 key presses", async () => {
    const page = await newPage("a11y-keyboard-booking");
    await signIn(page, "demo-customer-2", `/book/${stack().seed.businessId as string}`);
    await page.getByLabel("Postal code").waitFor();
    const presses: string[] = [];
    const press = async (key: string) => {
      presses.push(key);
      await page.keyboard.press(key);
    };
    const focused = () =>
      page.evaluate(() => {
        const el = document.activeElement as HTMLElement | null;
        return { tag: el?.tagName ?? "", label: el?.getAttribute("aria-label") ?? "", name: el?.getAttribute("name") ?? "", text: (el?.textContent ?? "").trim(), role: el?.getAttribute("role") ?? "", testid: el?.getAttribute("data-testid") ?? "" };
      });
    /** Tabs forward until the focused element matches; fails if it takes more than `max`. */
    const tabTo = async (what: string, matches: (f: Awaited<ReturnType<typeof focused>>) => boolean, max = 25) => {
      const trail: string[] = [];
      for (let i = 0; i < max; i++) {
        const f = await focused();
        if (matches(f)) return;
        trail.push(`${f.tag}:${f.label || f.name || f.text.slice(0, 30)}`);
        await press("Tab");
      }
      throw new Error(`Tab never reached ${what}; went through ${trail.join(" → ")}`);
    };

    await tabTo("the postal code", (f) => f.name === "postalCode");
    await page.keyboard.type("11201");
    await press("Enter");
    await page.getByTestId("zone-name").waitFor();
    // Focus moved on to the next step rather than falling to the page.
    await expect.poll(async () => (await focused()).tag).not.toBe("BODY");
    await tabTo("the kind of service", (f) => f.role === "radio" && f.text === "Home cleaning");
    await press("Space");
    await tabTo("the first Add button", (f) => /^Add /.test(f.label));
    await press("Enter");
    await page.getByTestId("quote-total").waitFor();
    expect((await focused()).tag).toBe("BUTTON");
    await tabTo("Pick a time", (f) => f.text === "Pick a time →");
    await press("Enter");
    await expect.poll(async () => (await focused()).role).toBe("radio");
    // Walk the days until one has free times, then pick the first time.
    for (let i = 0; i < 6; i++) {
      await press("ArrowRight");
      await page.locator('[data-testid="slots"], .state-empty').first().waitFor();
      if ((await page.locator(".slot").count()) > 0) break;
    }
    await tabTo("the start times", (f) => f.role === "radio" && f.text.includes(":"));
    await press("Space");
    await page.getByTestId("summary-when").waitFor();
    await tabTo("the street address", (f) => f.name === "line1" || f.label === "Street address");
    await page.keyboard.type("77 Court St");
    await tabTo("the city", (f) => f.name === "city" || f.label === "City");
    await page.keyboard.type("Brooklyn");
    await press("Enter"); // submits the details form: Reserve and pay
    await page.waitForURL(/\/local-checkout\?session=/, { timeout: 30_000 });
    await tabTo("Pay (test)", (f) => f.text === "Pay (test)");
    await press("Enter");
    await page.waitForURL(/\/bookings\/[^/?]+\?payment=succeeded/, { timeout: 30_000 });
    await page.getByTestId("payment-succeeded").waitFor({ timeout: 30_000 });
    console.log(`[keyboard booking] ${presses.length} key presses: ${presses.join(" ")}`);
    expect(presses.length).toBeLessThan(25);
    await page.context().close();
  });

  test("the live indicator follows the real connection: offline is said, and it comes back", async () => {
    const page = await newPage("a11y-offline");
    await signIn(page, "demo-dispatcher", "/dispatch");
    await page.locator(".board").waitFor();
    const dot = page.locator(".live-dot").first();
    await expect.poll(() => dot.getAttribute("data-live"), { timeout: 20_000 }).toBe("open");
    expect(await page.getByTestId("connection-banner").count()).toBe(0);
    await page.context().setOffline(true);
    await expect.poll(() => dot.innerText()).toBe("Offline");
    expect(await dot.getAttribute("data-live")).toBe("closed");
    await page.getByTestId("connection-banner").getByText("You are offline").waitFor();
    await page.context().setOffline(false);
    await expect.poll(() => dot.getAttribute("data-live"), { timeout: 30_000 }).toBe("open");
    await page.getByTestId("connection-banner").waitFor({ state: "detached", timeout: 30_000 });
    await page.context().close();
  });

  test("nothing on these pages threw", () => {
    expect(problems.filter((line) => /pageerror/.test(line))).toEqual([]);
  });
});
