/**
 * Conversations in a real Chromium against the real platform (fixture.ts): a customer
 * writes about a booking with an image from the booking page; the dispatcher's inbox shows
 * it live with an unread count; the dispatcher replies; the customer sees the reply live
 * and the new-message email arrives in the local inbox (over SMTP, read through maildev).
 */
import { describe, expect, test } from "vitest";
import { screenshot, signIn, useStack } from "./fixture";

const { stack, newPage, problems } = useStack();
const LIVE_MS = 20_000;
// A 1×1 PNG.
const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==", "base64");

describe("messages", () => {
  test("customer ↔ dispatcher about a booking, with an image, live both ways, and the email", async () => {
    const staff = await newPage("dispatcher");
    await signIn(staff, "demo-dispatcher", "/inbox");
    await staff.getByRole("heading", { name: "Inbox" }).waitFor();

    const customer = await newPage("customer");
    await signIn(customer, "demo-customer-1", "/bookings");
    await customer.locator(".booking-link").first().click();
    await customer.getByRole("link", { name: "Message the business" }).click();
    await customer.getByRole("heading", { name: "Messages" }).waitFor();
    await customer.getByLabel("Message").fill("The stain is on the living-room carpet, see the photo.");
    await customer.getByLabel("Attach images").setInputFiles({ name: "carpet.png", mimeType: "image/png", buffer: PNG });
    await customer.getByRole("button", { name: "Send" }).click();
    await customer.getByTestId("message-image").waitFor();
    expect(await customer.getByLabel("Message").inputValue()).toBe("");

    // Live on the dispatcher's inbox, without a reload, with the unread count.
    const row = staff.locator(".thread-row", { hasText: "Emily Carter" });
    await row.getByTestId("unread-count").filter({ hasText: "1" }).waitFor({ timeout: LIVE_MS });
    await expect.poll(() => staff.getByTestId("inbox-unread").textContent(), { timeout: LIVE_MS }).toBe("1 unread");
    await row.locator("a").click();
    await staff.getByTestId("message").filter({ hasText: "The stain is on the living-room carpet, see the photo." }).waitFor();
    const image = staff.getByTestId("message-image");
    await image.waitFor();
    await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth), { timeout: LIVE_MS }).toBe(1);
    // Opening the thread reads it.
    await row.getByTestId("unread-count").waitFor({ state: "detached", timeout: LIVE_MS });
    await screenshot(staff, "messages-inbox");

    await staff.getByLabel("Message").fill("Thanks, we will bring the carpet foam.");
    await staff.getByRole("button", { name: "Send" }).click();

    // Live on the customer's thread.
    await customer.locator('[data-from="business"]', { hasText: "we will bring the carpet foam" }).waitFor({ timeout: LIVE_MS });
    await screenshot(customer, "messages-customer");

    const mail = await stack().inbox.waitFor({ to: "demo-customer-1@brightside.example", subject: "New message from", timeoutMs: LIVE_MS });
    expect(mail.text).toContain("we will bring the carpet foam");
    expect(mail.text).toContain("/messages?conversation=");
    expect(problems).toEqual([]);
  }, 120_000);
});
