/**
 * The staff assistant against the whole platform (see fixture.ts):
 *   - MCP: the official SDK's client over Streamable HTTP at the backend's `/mcp`, with the
 *     demo API key (every scope, acting as the demo owner): lists the tools, reads the day and
 *     the revenue, previews a cancellation without changing anything; bad keys are refused.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { describe, expect, test } from "vitest";
import { useStack } from "./fixture";

const { stack } = useStack();

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
