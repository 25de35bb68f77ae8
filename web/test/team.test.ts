/**
 * Team management in a real Chromium: the owner adds a provider's schedule and invites a
 * person to it by email; the mail arrives over SMTP; the person opens the link, signs in,
 * accepts and lands on the provider's screens. The owner adds a room with capacity 2 that
 * customers can book (two at once). Webhook endpoints are paused, resumed and deleted from
 * the portal. axe finds nothing on the new screens; the staff page is kept as screenshots
 * at 390 px and 1,440 px.
 */
import AxeBuilder from "@axe-core/playwright";
import type { Page } from "playwright-core";
import { describe, expect, test } from "vitest";
import { screenshot, signIn, useStack } from "./fixture";

const { stack, newPage, problems } = useStack();

async function axe(page: Page, label: string): Promise<string[]> {
  await page.locator(".state-loading").first().waitFor({ state: "detached", timeout: 30_000 }).catch(() => undefined);
  const result = await new AxeBuilder({ page: page as never }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]).analyze();
  return result.violations.flatMap((v) => v.nodes.map((n) => `${label}: ${v.id} ${n.target.join(" ")} — ${v.help}`));
}

/** Fills the "Add a resource" form; `hours` replaces the default Mon–Fri 09:00–17:00. */
async function addResource(page: Page, r: { kind: string; name: string; capacity: number; sunday?: [string, string] }) {
  await page.getByRole("button", { name: "Add a resource" }).click();
  const form = page.getByRole("form", { name: "Add a resource" });
  await form.getByLabel("Kind").selectOption({ label: r.kind });
  await form.getByLabel("Name").fill(r.name);
  await form.getByLabel("Capacity").fill(String(r.capacity));
  if (r.sunday) {
    for (const day of ["Mon", "Tue", "Wed", "Thu", "Fri"]) await form.getByRole("button", { name: `Remove ${day} hours` }).click();
    await form.getByRole("button", { name: "Add Sun hours" }).click();
    await form.getByLabel("Sun start").fill(r.sunday[0]);
    await form.getByLabel("Sun end").fill(r.sunday[1]);
  }
  await form.getByRole("button", { name: "Add resource" }).click();
  await page.getByTestId("schedule-view").and(page.locator(`[data-resource="${r.name}"]`)).waitFor();
}

/** The next Sunday (at least two days ahead) in the business's zone, as YYYY-MM-DD. */
function nextSunday(timeZone: string): string {
  const today = new Date(new Intl.DateTimeFormat("en-CA", { timeZone }).format(new Date()) + "T12:00:00Z");
  const ahead = (7 - today.getUTCDay()) % 7 || 7;
  today.setUTCDate(today.getUTCDate() + (ahead < 2 ? ahead + 7 : ahead));
  return today.toISOString().slice(0, 10);
}

async function openDay(page: Page, date: string) {
  const day = page.locator(`.day-strip .day[data-date="${date}"]`);
  if ((await day.count()) === 0) await page.getByRole("button", { name: "Later days" }).click();
  await day.click();
  await page.locator('[data-testid="slots"], .state-empty').first().waitFor();
}

async function startCart(page: Page) {
  await page.goto(`/book/${stack().seed.businessId as string}`);
  await page.getByLabel("Postal code").fill("11201");
  await page.getByRole("button", { name: "Find services" }).click();
  await page.getByTestId("zone-name").waitFor();
  await page.getByRole("radio", { name: "Home cleaning" }).click();
  await page.locator('[data-product="Standard clean"]').getByRole("button", { name: "Add Standard clean" }).click();
  await page.getByTestId("quote-total").waitFor();
}

describe("team management", () => {
  test("the owner invites a provider by email; the person accepts the mailed link and sees the provider's screens", async () => {
    const owner = await newPage("team-owner");
    await signIn(owner, "demo-owner", "/owner/staff");
    await owner.getByRole("heading", { name: "Team and schedules" }).waitFor();
    await addResource(owner, { kind: "Provider (a person)", name: "Nia Newhire", capacity: 1 });

    const invite = owner.getByRole("form", { name: "Invite a staff member" });
    await invite.getByLabel("Email address").fill("nia.newhire@example.test");
    await invite.getByLabel("Role").selectOption({ label: "Provider" });
    await invite.getByLabel("Their schedule").selectOption({ label: "Nia Newhire" });
    await invite.getByRole("button", { name: "Send invitation" }).click();
    await owner.getByText("Invitation sent to nia.newhire@example.test").waitFor();
    await owner.locator('[data-invite="nia.newhire@example.test"]').waitFor();

    const mail = await stack().inbox.waitFor({ to: "nia.newhire@example.test", subject: "invited you to", timeoutMs: 30_000 });
    expect(mail.subject).toMatch(/^Olivia Bright invited you to /);
    expect(mail.text).toContain("as a provider");
    const link = /https?:\/\/\S+\/invite\/[A-Za-z0-9_-]+/.exec(mail.text)?.[0];
    expect(link, mail.text).toBeDefined();
    expect(link!.startsWith(stack().portalUrl)).toBe(true);

    // The invited person opens the link, signs in (a new account) and accepts.
    const nia = await newPage("team-invitee");
    await nia.goto(link!);
    await nia.waitForURL(/\/sign-in\?next=%2Finvite%2F/);
    await nia.getByLabel("Your name (optional)").fill("Nia Newhire");
    await nia.getByRole("button", { name: "Continue as a new customer" }).click();
    await nia.waitForURL(/\/invite\//);
    await expect.poll(() => nia.getByTestId("invite-summary").innerText()).toMatch(/as Provider \(Nia Newhire's schedule\)/);
    const found = await axe(nia, "invite");
    await nia.getByRole("button", { name: /^Accept and join / }).click();
    await nia.waitForURL(/\/today$/);
    await nia.getByRole("heading", { name: "Today's jobs" }).waitFor();
    await nia.getByTestId("user-name").waitFor();

    // The link is used up; the owner sees the new member, live, and no open invitation.
    await nia.goto(new URL(link!).pathname);
    await nia.getByText("You are already on the staff of").waitFor();
    await owner.locator('tr[data-member="Nia Newhire"]').waitFor();
    await owner.locator('[data-invite="nia.newhire@example.test"]').waitFor({ state: "detached" });
    const stranger = await newPage("team-stranger");
    await signIn(stranger, "demo-customer-2", new URL(link!).pathname);
    await stranger.getByText("This invitation has already been used.").waitFor();
    found.push(...(await axe(stranger, "invite (used)")));
    expect(found).toEqual([]);
    for (const page of [owner, nia, stranger]) await page.context().close();
  });

  test("the owner adds a room with capacity 2; customers book it, two at the same time", async () => {
    const owner = await newPage("team-room-owner");
    await signIn(owner, "demo-owner", "/owner/staff");
    await owner.getByRole("heading", { name: "Team and schedules" }).waitFor();
    // Early on Sundays nobody else works, so these slots are the room's alone.
    await addResource(owner, { kind: "Room", name: "Studio A", capacity: 2, sunday: ["05:00", "08:00"] });
    const row = owner.locator('tr[data-resource="Studio A"]');
    await expect.poll(() => row.innerText()).toMatch(/Room · capacity 2/);
    expect(await row.innerText()).toContain("Sun 05:00–08:00");
    const found = await axe(owner, "staff (schedule open)");
    await owner.setViewportSize({ width: 1440, height: 900 });
    await screenshot(owner, "team-staff-1440");
    await owner.context().close();

    const sunday = nextSunday("America/New_York");
    const first = await newPage("team-room-customer");
    await signIn(first, "demo-customer-5");
    await startCart(first);
    await openDay(first, sunday);
    const slot = first.locator('[data-testid="slots"] .slot').first();
    expect(await slot.getAttribute("data-remaining")).toBe("2");
    const start = (await slot.getAttribute("data-start"))!;
    await slot.click();
    await first.getByTestId("summary-when").waitFor();
    await first.getByLabel("Street address").fill("214 Clinton St");
    await first.getByLabel("City", { exact: true }).fill("Brooklyn");
    await first.getByTestId("reserve-and-pay").click();
    await first.waitForURL(/\/local-checkout\?session=/, { timeout: 30_000 });
    await first.getByRole("button", { name: "Pay (test)" }).click();
    await first.waitForURL(/\/bookings\/[^/?]+\?payment=succeeded/, { timeout: 30_000 });
    await expect.poll(() => first.getByTestId("booking-provider").innerText(), { timeout: 30_000 }).toBe("Studio A");

    // The room still has a place at that time for a second customer.
    const second = await newPage("team-room-customer-2");
    await signIn(second, "demo-customer-6");
    await startCart(second);
    await openDay(second, sunday);
    await expect.poll(() => second.locator(`.slot[data-start="${start}"]`).getAttribute("data-remaining")).toBe("1");
    expect(found).toEqual([]);
    for (const page of [first, second]) await page.context().close();
  });

  test("the staff page at 390 px: nothing wider than the screen", async () => {
    const page = await newPage("team-mobile", { mobile: true });
    await signIn(page, "demo-owner", "/owner/staff");
    await page.getByRole("heading", { name: "Team and schedules" }).waitFor();
    // Luis's changed Thursday shift shows in the list, without opening his schedule.
    await expect.poll(() => page.locator('tr[data-resource="Luis Ramirez"] .upcoming-changes').innerText()).toMatch(/12:00–20:00/);
    await page.getByRole("button", { name: "Open Luis Ramirez's schedule" }).click();
    await page.getByTestId("schedule-view").waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    expect(await axe(page, "staff (390 px)")).toEqual([]);
    await screenshot(page, "team-staff-390");
    await page.context().close();
  });

  test("webhook endpoints are paused, resumed and deleted from the portal", async () => {
    const page = await newPage("team-webhooks");
    await signIn(page, "demo-owner", "/owner/developers");
    await page.getByRole("heading", { name: "API and webhooks" }).waitFor();
    const url = "https://partner.example/team-hooks";
    await page.getByLabel("URL").fill(url);
    await page.getByRole("button", { name: "Add endpoint" }).click();
    await page.getByTestId("secret-once").waitFor();
    await page.getByRole("button", { name: "I saved it" }).click();
    const endpoint = page.locator(".panel", { has: page.locator(`code:text-is("${url}")`) });
    await endpoint.getByText("active", { exact: true }).waitFor();

    await page.getByRole("button", { name: `Pause deliveries to ${url}` }).click();
    await endpoint.getByText("paused", { exact: true }).waitFor();
    await endpoint.getByText("Disabled by the owner: no events are sent until it is resumed.").waitFor();
    expect(await axe(page, "developers (paused endpoint)")).toEqual([]);
    await page.getByRole("button", { name: `Resume deliveries to ${url}` }).click();
    await endpoint.getByText("active", { exact: true }).waitFor();

    await page.getByRole("button", { name: `Delete the endpoint ${url}` }).click();
    await page.getByRole("button", { name: "Keep it" }).click();
    await page.getByRole("button", { name: `Delete the endpoint ${url}` }).click();
    await page.getByRole("button", { name: "Delete for good" }).click();
    await page.locator(`code:text-is("${url}")`).waitFor({ state: "detached" });
    await page.context().close();
  });

  test("no page threw while the tests ran", () => {
    expect(problems.filter((line) => /pageerror/.test(line))).toEqual([]);
  });
});
