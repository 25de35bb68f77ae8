/**
 * Notifications in a real Chromium against the real platform (fixture.ts): a customer books
 * and pays (days ahead, never "today"); the confirmation email arrives in the local inbox
 * over SMTP (read through maildev's API, not the database) with the invoice attached as a
 * PDF that shows the booking's total; the customer downloads the same invoice from the
 * booking page (GET /invoices/pdf with their own token). The owner finds the confirmation
 * in the notification log, sent, and narrows the log by channel, template, status and
 * customer; sees it on the customer's page; downloads the invoice in Finance; edits the
 * Spanish confirmation with the server's live preview (an unknown placeholder is named and
 * blocks saving), saves it and resets it to the default.
 */
import { readFileSync } from "node:fs";
import { inflateSync } from "node:zlib";
import type { Download, Page } from "playwright-core";
import { describe, expect, test } from "vitest";
import { pickSlot, screenshot, signIn, useStack } from "./fixture";

const { stack, newPage, problems } = useStack();
const LIVE_MS = 30_000;
const CUSTOMER = { subject: "demo-customer-3", name: "Sofia Rossi", email: "demo-customer-3@brightside.example", postalCode: "11215", line1: "470 5th Ave" };

/** The text a pdf-lib PDF draws (its content streams inflated, the strings of its Tj operators). */
function pdfText(bytes: Uint8Array): string {
  const raw = Buffer.from(bytes).toString("latin1");
  const out: string[] = [];
  for (const m of raw.matchAll(/stream\r?\n([\s\S]*?)\r?\nendstream/g)) {
    let content = m[1];
    try {
      content = inflateSync(Buffer.from(m[1], "latin1")).toString("latin1");
    } catch {
      // not compressed
    }
    for (const t of content.matchAll(/<([0-9A-Fa-f]*)>\s*Tj|\(((?:\\.|[^\\)])*)\)\s*Tj/g)) {
      out.push(t[1] !== undefined ? Buffer.from(t[1], "hex").toString("latin1") : t[2]);
    }
  }
  return out.join("\n");
}

const isPdf = (bytes: Uint8Array) => Buffer.from(bytes.slice(0, 5)).toString("latin1") === "%PDF-";
/** "$150.00" as the page shows it, with plain spaces. */
const plain = (text: string) => text.replace(/\u00a0|\u202f/g, " ").trim();

/** Clicks "Download invoice (PDF)" in `scope` and reads the file; fails at once with the refusal the page shows instead. */
async function downloadPdf(page: Page, scope: ReturnType<Page["locator"]>): Promise<{ bytes: Uint8Array; name: string }> {
  const refusal = scope.locator('.invoice-download [role="alert"]');
  const waiting = page.waitForEvent("download", { timeout: LIVE_MS });
  await scope.getByRole("button", { name: "Download invoice (PDF)" }).click();
  const outcome = await Promise.race([waiting, refusal.waitFor({ timeout: LIVE_MS }).then(() => null, () => null)]);
  if (outcome === null) throw new Error(`no download; the page says: ${(await refusal.count()) > 0 ? await refusal.innerText() : "nothing"}`);
  const download: Download = outcome;
  const path = await download.path();
  return { bytes: new Uint8Array(readFileSync(path)), name: download.suggestedFilename() };
}

describe("notifications", () => {
  test("a booking's confirmation: emailed with its invoice PDF, downloadable, in the owner's log and filters; the Spanish template edited with a live preview", async () => {
    // The customer books days ahead and pays with the local test checkout.
    const customer = await newPage("customer");
    await signIn(customer, CUSTOMER.subject, "/bookings");
    await customer.goto(`/book/${stack().seed.businessId as string}`);
    await customer.getByLabel("Postal code").fill(CUSTOMER.postalCode);
    await customer.getByRole("button", { name: "Find services" }).click();
    await customer.getByTestId("zone-name").waitFor();
    await customer.getByRole("radio", { name: "Home cleaning" }).click();
    await customer.locator('[data-product="Standard clean"]').getByRole("button", { name: "Add Standard clean" }).click();
    await customer.getByTestId("quote-total").waitFor();
    await pickSlot(customer);
    await customer.getByLabel("Street address").fill(CUSTOMER.line1);
    await customer.getByLabel("City", { exact: true }).fill("Brooklyn");
    await customer.getByRole("button", { name: "Reserve and pay" }).click();
    await customer.waitForURL(/\/local-checkout\?session=/, { timeout: LIVE_MS });
    await customer.getByRole("button", { name: "Pay (test)" }).click();
    await customer.waitForURL(/\/bookings\/[^/?]+\?payment=succeeded/, { timeout: LIVE_MS });
    const bookingId = new URL(customer.url()).pathname.split("/").pop()!;
    await customer.getByText("Payment received. Your booking is confirmed.").waitFor({ timeout: LIVE_MS });
    await customer.getByTestId("invoice-status").waitFor({ timeout: LIVE_MS });
    const total = plain(await customer.locator(".num.total").innerText());
    expect(total).toMatch(/^\$\d/);
    const invoiceNumber = /Invoice (\S+) ·/.exec(await customer.locator("p", { hasText: /^Invoice / }).first().innerText())![1];

    // The confirmation email, over SMTP into maildev, with the invoice PDF attached.
    const mail = await stack().inbox.waitFor({ to: CUSTOMER.email, subject: "is confirmed", timeoutMs: LIVE_MS });
    expect(mail.text).toContain(`/bookings/${bookingId}`);
    const attachment = mail.attachments.find((a) => a.contentType === "application/pdf");
    expect(attachment?.filename).toBe(`invoice-${invoiceNumber}.pdf`);
    const attached = await attachment!.content();
    expect(isPdf(attached)).toBe(true);
    const attachedText = pdfText(attached);
    expect(attachedText).toContain(invoiceNumber);
    expect(attachedText).toContain(total);

    // The customer downloads the same invoice from the booking page.
    const mine = await downloadPdf(customer, customer.locator(".card", { hasText: "Receipt" }));
    expect(mine.name).toBe(`invoice-${invoiceNumber}.pdf`);
    expect(isPdf(mine.bytes)).toBe(true);
    expect(pdfText(mine.bytes)).toContain(total);
    await screenshot(customer, "notifications-booking-invoice");
    await customer.context().close();

    // The owner's log: the confirmation, sent, with its attempt.
    const owner = await newPage("owner");
    await signIn(owner, "demo-owner", "/dispatch");
    await owner.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Notifications" }).click();
    await owner.getByRole("heading", { name: "Notifications", exact: true }).waitFor();
    const row = owner.locator(`[data-testid="notification-row"][data-booking="${bookingId}"][data-template="booking_confirmed"]`);
    await row.waitFor({ timeout: LIVE_MS });
    await expect.poll(() => row.getAttribute("data-status"), { timeout: LIVE_MS }).toBe("sent");
    expect(await row.getByTestId("delivery-status").innerText()).toContain("Sent");
    expect(await row.getByTestId("attempts").innerText()).toBe("1 attempt");
    expect(await row.innerText()).toContain(CUSTOMER.name);
    expect(await row.getAttribute("data-channel")).toBe("email");

    // Filters: by channel, template, status and customer.
    await owner.getByLabel("Channel").selectOption("sms");
    await row.waitFor({ state: "detached" });
    await owner.getByLabel("Channel").selectOption("email");
    await owner.getByLabel("Template").selectOption({ label: "Booking confirmed" });
    await row.waitFor();
    expect(await owner.locator('[data-testid="notification-row"]:not([data-template="booking_confirmed"])').count()).toBe(0);
    await owner.getByLabel("Status").selectOption({ label: "Failed" });
    await row.waitFor({ state: "detached" });
    await owner.getByLabel("Status").selectOption({ label: "Sent" });
    await row.waitFor();
    await owner.getByLabel("Find a customer").fill("Sofia");
    await owner.getByRole("button", { name: new RegExp(CUSTOMER.name) }).click();
    await owner.getByTestId("customer-filter").filter({ hasText: CUSTOMER.name }).waitFor();
    await row.waitFor();
    expect(await owner.locator('[data-testid="notification-row"]').evaluateAll((rows) => rows.every((r) => r.textContent?.includes("Sofia Rossi")))).toBe(true);
    await screenshot(owner, "notifications-log-filtered");
    await owner.getByLabel("Template").selectOption({ label: "Reminder, 2 hours before" });
    await row.waitFor({ state: "detached" });
    await owner.getByRole("button", { name: "Any customer" }).click();
    await owner.getByLabel("Find a customer").waitFor();

    // The customer's page shows what was sent to them.
    await owner.goto("/owner/customers");
    await owner.getByLabel("Find a customer").fill("Sofia");
    await owner.getByRole("button", { name: new RegExp(CUSTOMER.name) }).click();
    const sent = owner.locator(".customer-notifications").locator(`[data-testid="notification-row"][data-booking="${bookingId}"][data-template="booking_confirmed"]`);
    await sent.waitFor({ timeout: LIVE_MS });
    expect(await sent.getByTestId("delivery-status").innerText()).toContain("Sent");

    // Finance: the owner downloads the invoice too.
    await owner.goto("/owner/finance");
    await owner.getByRole("button", { name: invoiceNumber, exact: true }).click();
    const panel = owner.locator(".card", { hasText: `Invoice ${invoiceNumber}` });
    const theirs = await downloadPdf(owner, panel);
    expect(isPdf(theirs.bytes)).toBe(true);
    expect(pdfText(theirs.bytes)).toContain(total);

    // The Spanish confirmation, with the live preview.
    await owner.goto("/owner/notifications");
    await owner.getByRole("navigation", { name: "Notifications" }).getByRole("link", { name: "Templates" }).click();
    await owner.getByRole("heading", { name: "Notification templates" }).waitFor();
    await owner.getByLabel("Template").selectOption({ label: "Booking confirmed" });
    await owner.getByLabel("Channel").selectOption("email");
    await owner.getByLabel("Language").selectOption("es");
    const previewBody = owner.getByTestId("preview-body");
    await expect.poll(() => previewBody.innerText(), { timeout: LIVE_MS }).toContain("Hola Alex Sample");
    expect(await owner.getByTestId("preview-subject").innerText()).toContain("está confirmada");
    const body = owner.locator('textarea[name="body"]');
    const original = await body.inputValue();
    expect(original).toContain("{{customerName}}");

    await body.fill(`${original}\n\n¡Gracias por elegirnos, {{customerName}}!`);
    await expect.poll(() => previewBody.innerText(), { timeout: LIVE_MS }).toContain("¡Gracias por elegirnos, Alex Sample!");
    const save = owner.getByRole("button", { name: "Save", exact: true });
    // An unknown placeholder is named under the field and blocks saving.
    await body.fill(`${original}\n\n{{descuento}}`);
    await owner.locator(".field-error", { hasText: "Unknown placeholder {{descuento}}" }).waitFor({ timeout: LIVE_MS });
    expect(await save.isDisabled()).toBe(true);
    await body.fill(`${original}\n\n¡Gracias por elegirnos, {{customerName}}!`);
    await owner.locator(".field-error").waitFor({ state: "detached", timeout: LIVE_MS });
    await expect.poll(() => save.isDisabled()).toBe(false);
    await save.click();
    await owner.getByText("Saved. New messages use this text.").waitFor();
    await owner.getByTestId("template-source").filter({ hasText: "Your version" }).waitFor({ timeout: LIVE_MS });
    await screenshot(owner, "notifications-template-es");

    // Reset to default: the standard Spanish text again.
    await owner.getByRole("button", { name: "Reset to default" }).click();
    await owner.getByText("Back to the default text.").waitFor();
    await expect.poll(() => owner.getByTestId("template-source").innerText(), { timeout: LIVE_MS }).not.toContain("Your version");
    expect(await body.inputValue()).toBe(original);
    await expect.poll(() => previewBody.innerText(), { timeout: LIVE_MS }).not.toContain("¡Gracias por elegirnos");
    expect(problems).toEqual([]);
  }, 240_000);
});
