/**
 * Accounts in a real Chromium against the real platform (fixture.ts), without Clerk and
 * without the demo accounts: a new customer creates an account with a password, reads the
 * 6-digit code from the developer inbox (maildev, over SMTP), verifies, books and pays a
 * slot, signs out, and signs back in with the password to find the booking, live (its
 * private PartyKit room opened with the account's room token). Every such step fetches a
 * ticket from the front door (POST /auth/ticket) first; the last test fills this network's
 * quota of code emails and reads the wait the page shows.
 */
import { describe, expect, test } from "vitest";
import type { Page } from "playwright-core";
import { screenshot, signIn, useStack } from "./fixture";

const { stack, newPage, problems } = useStack();
const LIVE_MS = 20_000;
const EMAIL = "robin.newcomer@example.com";
const PASSWORD = "tidy-home 2026!";

async function codeFromInbox(subject: RegExp): Promise<string> {
  const mail = await stack().inbox.waitFor({ to: EMAIL, subject, timeoutMs: 60_000 });
  const code = /\b(\d{6})\b/.exec(mail.text)?.[1];
  if (!code) throw new Error(`no 6-digit code in "${mail.subject}": ${mail.text}`);
  return code;
}

async function findSlot(page: Page): Promise<string> {
  const days = page.locator(".day-strip .day");
  const count = await days.count();
  for (let i = 1; i < count; i++) {
    await days.nth(i).click();
    await page.locator('[data-testid="slots"], .state-empty').first().waitFor();
    const slot = page.locator('[data-testid="slots"] .slot').last();
    if ((await slot.count()) > 0) return (await slot.getAttribute("data-start"))!;
  }
  throw new Error(`no free slot in the next ${count} days`);
}

describe("accounts", () => {
  test("a new customer signs up, verifies with the emailed code, books, signs out and back in", async () => {
    const page = await newPage("new-customer");
    await page.goto("/sign-in");
    await page.getByRole("button", { name: "Create an account" }).click();
    await page.getByLabel("Your name", { exact: true }).fill("Robin Newcomer");
    await page.getByLabel("Email", { exact: true }).fill(EMAIL);
    // A weak password is refused with the rule, and nothing is sent.
    await page.getByLabel("Password", { exact: true }).fill("short");
    await page.getByRole("button", { name: "Create account" }).click();
    await expect.poll(() => page.getByTestId("signin-error").innerText(), { timeout: LIVE_MS }).toContain("at least 10 characters");
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.getByRole("button", { name: "Create account" }).click();

    await page.getByLabel("Verification code").waitFor({ timeout: LIVE_MS });
    await screenshot(page, "accounts-01-code");
    const code = await codeFromInbox(/verification code/i);
    await page.getByLabel("Verification code").fill(code);
    await page.getByRole("button", { name: "Verify" }).click();
    await page.getByTestId("user-name").waitFor({ timeout: 60_000 }).catch(async (error: unknown) => {
      console.log("DEBUG page:", page.url(), (await page.locator("body").innerText()).slice(0, 2000));
      console.log("DEBUG problems:", problems.join("\n"));
      console.log("DEBUG logs:", stack().logs().slice(-6000));
      throw error;
    });
    expect(await page.getByTestId("user-name").innerText()).toBe("Robin Newcomer");
    await stack().inbox.waitFor({ to: EMAIL, subject: /welcome|ready/i, timeoutMs: LIVE_MS });

    // Book and pay a slot as this new customer.
    await page.goto(`/book/${stack().seed.businessId as string}`);
    await page.getByLabel("Postal code").fill("11201");
    await page.getByRole("button", { name: "Find services" }).click();
    await page.getByTestId("zone-name").waitFor();
    await page.getByRole("radio", { name: "Home cleaning" }).click();
    await page.locator('[data-product="Standard clean"]').getByRole("button", { name: "Add Standard clean" }).click();
    await page.getByTestId("quote-total").waitFor();
    const start = await findSlot(page);
    await page.locator(`.slot[data-start="${start}"]`).click();
    await page.getByTestId("summary-when").waitFor();
    await page.getByLabel("Street address").fill("214 Clinton St");
    await page.getByLabel("City", { exact: true }).fill("Brooklyn");
    await page.getByTestId("reserve-and-pay").click();
    await page.waitForURL(/\/local-checkout\?session=/, { timeout: 30_000 });
    await page.getByRole("button", { name: "Pay (test)" }).click();
    await page.waitForURL(/\/bookings\/[^/?]+\?payment=succeeded/, { timeout: 30_000 });
    await expect.poll(() => page.getByTestId("booking-status").innerText(), { timeout: LIVE_MS }).toBe("Scheduled");
    const bookingId = await page.locator(".booking-detail").getAttribute("data-booking");
    await screenshot(page, "accounts-02-booked");

    // Sign out: the portal is signed out (a protected page sends to the sign-in page).
    await page.getByRole("button", { name: "Sign out", exact: true }).click();
    await page.waitForURL(/\/sign-in/);
    await page.goto("/bookings");
    await page.waitForURL(/\/sign-in\?next=%2Fbookings/);

    // A wrong password is refused; the right one signs back in, to the same bookings.
    await page.getByLabel("Email", { exact: true }).fill(EMAIL);
    await page.getByLabel("Password", { exact: true }).fill("not the password 1");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.getByTestId("signin-error").waitFor({ timeout: LIVE_MS });
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.waitForURL(/\/bookings$/, { timeout: 60_000 });
    await page.getByTestId("user-name").waitFor({ timeout: 60_000 });
    await page.locator(`a[href="/bookings/${bookingId}"]`).first().waitFor({ timeout: LIVE_MS });
    // The private bookings room opened with a room token of the account (convex/partyTokens.ts).
    await page.locator('.live-dot[data-live="open"]').first().waitFor({ timeout: LIVE_MS });
    await screenshot(page, "accounts-03-back");

    // The session survives a reload (the refresh token is kept by the browser).
    await page.reload();
    await page.getByTestId("user-name").waitFor({ timeout: 60_000 });
    expect(problems.filter((p) => !/401|Failed to load resource/.test(p))).toEqual([]);
  }, 300_000);

  test("an invited dispatcher opens the link, creates their account there, and joins the team", async () => {
    const owner = await newPage("invite-owner");
    await signIn(owner, "demo-owner", "/owner/staff");
    const form = owner.getByRole("form", { name: "Invite a staff member" });
    await form.getByLabel("Email address").fill("kai.dispatch@example.com");
    await form.getByLabel("Role").selectOption({ label: "Dispatcher" });
    await form.getByRole("button", { name: "Send invitation" }).click();
    const mail = await stack().inbox.waitFor({ to: "kai.dispatch@example.com", subject: "invited you to", timeoutMs: 30_000 });
    const link = /https?:\/\/\S+\/invite\/[A-Za-z0-9_-]+/.exec(mail.text)?.[0];
    expect(link).toBeTruthy();

    const kai = await newPage("invitee");
    await kai.goto(link!);
    await kai.waitForURL(/\/sign-in\?next=%2Finvite%2F/);
    await kai.getByTestId("invite-note").waitFor();
    // The page opens on "Create an account".
    await kai.getByLabel("Your name", { exact: true }).fill("Kai Dispatch");
    await kai.getByLabel("Email", { exact: true }).fill("kai.dispatch@example.com");
    await kai.getByLabel("Password", { exact: true }).fill("dispatch-desk 77");
    await kai.getByRole("button", { name: "Create account" }).click();
    await kai.getByLabel("Verification code").waitFor({ timeout: LIVE_MS });
    const verify = await stack().inbox.waitFor({ to: "kai.dispatch@example.com", subject: /verification code/i, timeoutMs: 60_000 });
    await kai.getByLabel("Verification code").fill(/\b(\d{6})\b/.exec(verify.text)![1]);
    await kai.getByRole("button", { name: "Verify" }).click();
    await kai.waitForURL(/\/invite\//, { timeout: 60_000 });
    await kai.getByRole("button", { name: /^Accept and join / }).click();
    await kai.getByRole("heading", { name: "Dispatch board" }).waitFor({ timeout: 60_000 });
    expect(await kai.getByTestId("user-name").innerText()).toBe("Kai Dispatch");
    await owner.context().close();
    await kai.context().close();
  }, 300_000);

  test("over the front door's limit for this network, the page says how long to wait", async () => {
    // The backend sees every request of this test (browser and Node alike) from 127.0.0.1.
    let status = 0;
    for (let i = 0; i < 30 && status !== 429; i++) {
      const response = await fetch(`${stack().siteUrl}/auth/ticket`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ purpose: "send-code" }),
      });
      status = response.status;
      await response.body?.cancel();
    }
    expect(status).toBe(429);
    const page = await newPage("rate-limited");
    await page.goto("/sign-in");
    await page.getByRole("button", { name: "Email me a sign-in code" }).click();
    await page.getByLabel("Email", { exact: true }).fill("late.comer@example.com");
    await page.getByRole("button", { name: "Email me a code" }).click();
    await expect
      .poll(() => page.getByTestId("signin-error").innerText(), { timeout: LIVE_MS })
      .toMatch(/^Too many sign-ups and code emails from your network: at most \d+ an hour\. Try again in \d+ (minutes|seconds)\.$/);
    // Signing in with a password is limited separately and still works.
    await page.getByRole("button", { name: "Sign in with a password" }).click();
    await page.getByLabel("Email", { exact: true }).fill(EMAIL);
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.getByTestId("user-name").waitFor({ timeout: 60_000 });
    await page.context().close();
  }, 120_000);
});
