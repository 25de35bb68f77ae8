/**
 * The staff assistant against the whole platform (see fixture.ts):
 *   - MCP: the official SDK's client over Streamable HTTP at the backend's `/mcp`, with the
 *     demo API key (every scope, acting as the demo owner): lists the tools, reads the day and
 *     the revenue, previews a cancellation without changing anything; bad keys are refused.
 *   - Chat: a dispatcher asks the side panel; a fake OpenAI-compatible server on 127.0.0.1
 *     (convex/assistant/fakeModel.testkit.ts) answers with a scripted read tool call, then a
 *     message to a customer, which shows as a card and is sent only after Confirm; then a
 *     hold for a customer, its reply seen half-written while the model streams it, confirmed
 *     and taken back with Undo (the booking is released, as the REST API shows).
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { describe, expect, test } from "vitest";
import { afterAll } from "vitest";
import { startFakeModel } from "../../convex/assistant/fakeModel.testkit";
import { screenshot, signIn, useStack } from "./fixture";

const model = await startFakeModel([]);
afterAll(() => model.close());
const { stack, newPage, problems } = useStack({ env: { ASSISTANT_BASE_URL: model.baseUrl, ASSISTANT_MODEL: "fake-model" } });

async function mcpClient(key: string) {
  const client = new Client({ name: "assistant-test", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL("/mcp", stack().siteUrl), {
    requestInit: { headers: { Authorization: `Bearer ${key}` } },
  });
  await client.connect(transport);
  return client;
}

function textOf(result: Awaited<ReturnType<Client["callTool"]>>): string {
  const content = result.content as { type: string; text: string }[];
  return content.map((c) => c.text).join("\n");
}

describe("assistant over MCP", () => {
  test("an MCP client lists and calls the tools as the key's person", async () => {
    const client = await mcpClient(stack().env.DEMO_API_KEY);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([
      "book_for_customer",
      "cancel_booking",
      "find_free_slots",
      "get_appointments_today",
      "get_customer_by_phone",
      "get_revenue_summary",
      "reschedule_booking",
      "send_customer_message",
      "update_appointment_status",
      "whats_unassigned_today",
    ]);
    const cancel = tools.find((t) => t.name === "cancel_booking")!;
    expect(cancel.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true });
    expect(Object.keys(cancel.inputSchema.properties ?? {})).toEqual(expect.arrayContaining(["bookingId", "expectedFeeMinor"]));

    const today = await client.callTool({ name: "get_appointments_today", arguments: {} });
    expect(today.isError).toBeFalsy();
    const day = JSON.parse(textOf(today)) as { date: string; appointments: { bookingId: string }[] };
    expect(day.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);

    const revenue = await client.callTool({ name: "get_revenue_summary", arguments: { days: 7 } });
    expect(JSON.parse(textOf(revenue))).toMatchObject({ collected: expect.stringMatching(/^\$/), outstanding: expect.stringMatching(/^\$/) });

    const bad = await client.callTool({ name: "cancel_booking", arguments: { bookingId: "not-a-booking" } });
    expect(bad.isError).toBe(true);
    expect(textOf(bad)).toBe("NOT_FOUND: Booking not found. (bookingId)");

    const wrongShape = await client.callTool({ name: "get_revenue_summary", arguments: { days: 1000 } });
    expect(wrongShape.isError).toBe(true);
    expect(textOf(wrongShape)).toMatch(/days/);
    await client.close();
  });

  test("a missing or unknown key is refused with 401 before any tool runs", async () => {
    const url = new URL("/mcp", stack().siteUrl);
    const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} });
    const headers = { "content-type": "application/json", accept: "application/json, text/event-stream" };
    const none = await fetch(url, { method: "POST", headers, body });
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toContain("Bearer");
    const unknown = await fetch(url, { method: "POST", headers: { ...headers, authorization: "Bearer bk_test_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }, body });
    expect(unknown.status).toBe(401);
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toContain("invalid, revoked or expired");
  });
});

describe("assistant chat panel", () => {
  test("a dispatcher asks, sees the tool cards, and the message goes out only after Confirm", async () => {
    const client = await mcpClient(stack().env.DEMO_API_KEY);
    const found = JSON.parse(textOf(await client.callTool({ name: "get_customer_by_phone", arguments: { phone: "+1212555" } }))) as {
      customers: { customerId: string; name: string }[];
    };
    await client.close();
    const customer = found.customers[0];
    model.script.push(
      { toolCall: { name: "whats_unassigned_today", arguments: {} } },
      { toolCall: { name: "send_customer_message", arguments: { customerId: customer.customerId, body: "Your cleaner is on the way." } } },
      { text: "I prepared the message; confirm it on the card." },
      { text: "Sent." },
    );

    const page = await newPage("assistant-chat");
    await signIn(page, "demo-dispatcher", "/dispatch");
    await page.getByRole("button", { name: "Assistant" }).click();
    const panel = page.getByRole("complementary", { name: "Assistant" });
    await panel.getByLabel("Message the assistant").fill(`Tell ${customer.name} the cleaner is on the way`);
    await panel.getByRole("button", { name: "Send" }).click();
    const card = panel.locator('[data-testid="assistant-card"][data-status="pending"]');
    await card.waitFor({ timeout: 30_000 });
    await panel.getByText("I prepared the message; confirm it on the card.").waitFor();
    expect(await card.innerText()).toContain(`Send ${customer.name}: “Your cleaner is on the way.”`);
    await panel.locator('[data-testid="assistant-card"][data-status="done"]').first().waitFor();
    await screenshot(page, "assistant-01-card");
    expect(model.requests[0].messages.at(-1)).toMatchObject({ role: "user" });

    await card.getByRole("button", { name: "Confirm" }).click();
    await panel.locator('[data-testid="assistant-card"][data-status="confirmed"]').waitFor({ timeout: 30_000 });
    await panel.getByText("Sent.", { exact: true }).waitFor({ timeout: 30_000 });
    await screenshot(page, "assistant-02-confirmed");
    expect(problems).toEqual([]);
    await page.context().close();
  });

  test("a streamed reply shows as it is written; a confirmed hold is taken back with Undo", async () => {
    const key = stack().env.DEMO_API_KEY;
    const rest = async <T,>(path: string): Promise<T> => {
      const response = await fetch(new URL(path, stack().siteUrl), { headers: { authorization: `Bearer ${key}` } });
      expect(response.status, path).toBe(200);
      return (await response.json()) as T;
    };
    const zones = (await rest<{ data: { id: string }[] }>("/v1/zones")).data;
    const products = (await rest<{ data: { id: string }[] }>("/v1/products")).data;
    const customers = (await rest<{ data: { id: string; name: string }[] }>("/v1/customers")).data;
    const client = await mcpClient(key);
    let slot: { zoneId: string; productId: string; start: string } | undefined;
    for (const zone of zones.slice(0, 3)) {
      for (const product of products.slice(0, 6)) {
        // Two days ahead: today's slots may all have passed, whatever hour the suite runs at.
        const from = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
        const answer = await client.callTool({ name: "find_free_slots", arguments: { zoneId: zone.id, productId: product.id, from } });
        if (answer.isError) continue;
        const ahead = JSON.parse(textOf(answer)) as { slots: { startLocal: string }[] };
        const later = ahead.slots.at(-1);
        if (later) {
          slot = { zoneId: zone.id, productId: product.id, start: later.startLocal };
          break;
        }
      }
      if (slot) break;
    }
    await client.close();
    expect(slot, "a free slot in two days in the demo data").toBeDefined();
    type Listed = { data: { id: string; status: string }[] };
    const bookingsOf = async () => (await rest<Listed>(`/v1/bookings?customerId=${customers[0].id}&limit=100`)).data;
    const before = new Set((await bookingsOf()).map((b) => b.id));

    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    model.script.push(
      { toolCall: { name: "book_for_customer", arguments: { customerId: customers[0].id, ...slot! } } },
      { text: "I have prepared the hold; confirm it on the card.", holdAfterFirstChunk: held },
      { text: "Held." },
    );

    const page = await newPage("assistant-undo");
    await signIn(page, "demo-dispatcher", "/dispatch");
    await page.getByRole("button", { name: "Assistant" }).click();
    const panel = page.getByRole("complementary", { name: "Assistant" });
    await panel.getByLabel("Message the assistant").fill(`Hold ${slot!.start} for ${customers[0].name}`);
    await panel.getByRole("button", { name: "Send" }).click();
    const writing = panel.locator('.assistant-message[aria-busy="true"]');
    await writing.waitFor({ timeout: 30_000 });
    expect(await writing.innerText()).toBe("I ");
    await screenshot(page, "assistant-03-streaming");
    release();
    await panel.getByText("I have prepared the hold; confirm it on the card.").waitFor({ timeout: 30_000 });
    expect(await panel.locator('.assistant-message[aria-busy="true"]').count()).toBe(0);

    const card = panel.locator('[data-testid="assistant-card"][data-status="pending"]');
    await card.getByRole("button", { name: "Confirm" }).click();
    const confirmed = panel.locator('[data-testid="assistant-card"][data-status="confirmed"]');
    await confirmed.waitFor({ timeout: 30_000 });
    await panel.getByText("Held.", { exact: true }).waitFor({ timeout: 30_000 });
    await screenshot(page, "assistant-04-undo");
    await confirmed.getByRole("button", { name: "Undo" }).click();
    await panel.locator('[data-testid="assistant-card"][data-status="undone"]').waitFor({ timeout: 30_000 });

    const made = (await bookingsOf()).filter((b) => !before.has(b.id));
    expect(made.map((b) => b.status), "the hold made through the assistant, released by Undo").toEqual(["CANCELLED"]);
    expect(problems).toEqual([]);
    await page.context().close();
  });
});
