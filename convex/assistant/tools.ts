/**
 * The staff assistant's tools, defined once for the portal chat and the MCP server (`/mcp`).
 * Each is a zod input schema, a plain description for the model, and a thin adapter over the
 * portal's registered functions called as the person (runAs.ts): access rules, booking rules,
 * history, events and notifications are those of the portal and the REST API, never copied.
 *
 * A tool runs inside one Convex transaction (`run.ts`): `read` tools in a query, `write` tools
 * in a mutation. Write tools that cost the customer something show it first: `cancel_booking`
 * and `reschedule_booking` without `expectedFeeMinor` only answer the fee; `book_for_customer`
 * holds the time and confirms the hold in a second call, after the person agreed. The chat asks
 * the person before any write tool runs (`preview` is what its card shows).
 *
 * Plain module: no registered functions.
 */
import { z } from "zod";
import { FIELD_STATUSES } from "../../domain/bookingStatus";
import { addDays, isValidLocalDate, localToInstant, todayIn, wallClockText } from "../../domain/time";
import type { Doc, Id, TableNames } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import type { BusinessRole } from "../access";
import * as availability from "../availability";
import * as bookings from "../bookings";
import * as dispatch from "../dispatch";
import * as messages from "../messages";
import * as reports from "../reports";
import * as search from "../search";
import { appError } from "../errors";
import { callMutation, callQuery } from "./runAs";

/** Who is calling and where: the person's own view of one business. */
export type ToolContext = {
  /** `ctx.auth` answers as the person (runAs.asPerson); a MutationCtx for write tools. */
  ctx: QueryCtx;
  user: Doc<"users">;
  business: Doc<"businesses">;
  role: BusinessRole;
  now: number;
};

type AnyInput = z.ZodObject<z.ZodRawShape>;

export type AssistantTool<I extends AnyInput = AnyInput> = {
  name: string;
  description: string;
  kind: "read" | "write";
  input: I;
  run: (tc: ToolContext, input: z.infer<I>) => Promise<unknown>;
  /** Write tools: what the chat's confirmation card says will happen (reads only). */
  preview?: (tc: ToolContext, input: z.infer<I>) => Promise<Preview>;
  /**
   * Write tools whose change can be taken back: the tool call that restores the booking as it
   * was before (`null` when the call made it), offered only when it costs the customer nothing.
   */
  undo?: (tc: ToolContext, change: { before: Doc<"bookings"> | null; after: Doc<"bookings"> }) => Promise<UndoPlan | undefined>;
};

/** How a confirmed change is taken back: another tool call, through the same commands. */
export type UndoPlan = { tool: string; input: Record<string, unknown>; summary: string };

/** A confirmation card: the sentence, and the fee the person accepts by confirming. */
export type Preview = { summary: string; feeMinor?: number; allowed?: boolean };

function defineTool<I extends AnyInput>(tool: AssistantTool<I>): AssistantTool<I> {
  return tool;
}

function mutationCtx(tc: ToolContext): MutationCtx {
  const ctx = tc.ctx as QueryCtx & Partial<MutationCtx>;
  if (ctx.scheduler === undefined) throw new Error("write tool run outside a mutation");
  return ctx as MutationCtx;
}

/** An id from the model or an MCP client: NOT_FOUND naming the argument when malformed. */
function idOf<T extends TableNames>(tc: ToolContext, table: T, value: string, param: string, what: string): Id<T> {
  const id = tc.ctx.db.normalizeId(table, value);
  if (id === null) throw appError("NOT_FOUND", `${what} not found.`, { param });
  return id;
}

function money(minor: number, currency: string): string {
  return new Intl.NumberFormat("en-US", { style: "currency", currency }).format(minor / 100);
}

function when(tc: ToolContext, instant: number): string {
  return wallClockText(instant, tc.business.timeZone);
}

const vDate = z.string().refine(isValidLocalDate, "a date like 2026-03-02").describe("Local date YYYY-MM-DD in the business's time zone.");
const vStart = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/, "a local date and time like 2026-03-02T10:00")
  .describe("Local start time YYYY-MM-DDTHH:MM in the business's time zone.");
const vId = (what: string) => z.string().min(1).max(64).describe(`${what} id`);

function instantOf(tc: ToolContext, start: string): number {
  const [date, time] = start.split("T");
  if (!isValidLocalDate(date)) throw appError("INVALID_ARGUMENT", "start must be a date and time like 2026-03-02T10:00.", { param: "start" });
  return localToInstant(date, time, tc.business.timeZone);
}

function today(tc: ToolContext): string {
  return todayIn(tc.now, tc.business.timeZone);
}

const isManager = (role: BusinessRole) => role === "owner" || role === "manager";

type Job = { bookingId: string; status: string; start: number; end: number; customerName: string; serviceName: string; totalMinor: number; address?: string };

function jobLine(tc: ToolContext, job: Job, provider?: string) {
  return {
    bookingId: job.bookingId,
    time: when(tc, job.start),
    customer: job.customerName,
    service: job.serviceName,
    status: job.status,
    total: money(job.totalMinor, tc.business.currency),
    ...(provider ? { provider } : {}),
    ...(job.address ? { address: job.address } : {}),
  };
}

async function bookingSummary(tc: ToolContext, bookingId: Id<"bookings">): Promise<{ booking: Doc<"bookings">; customer: string; text: string }> {
  const { booking } = await callQuery(tc.ctx, bookings.get, { bookingId });
  const customer = (await tc.ctx.db.get("customers", booking.customerId))?.name ?? "the customer";
  const service = booking.items.map((i) => i.name).join(", ");
  return { booking, customer, text: `${customer}'s ${service} on ${when(tc, booking.start)}` };
}

// ---------------------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------------------

const getAppointmentsToday = defineTool({
  name: "get_appointments_today",
  description:
    "List the appointments of a day (default today) in the business's time zone. A provider sees their own jobs; a dispatcher or owner sees every provider's jobs and the unassigned ones.",
  kind: "read",
  input: z.object({ date: vDate.optional() }),
  run: async (tc, input) => {
    const date = input.date ?? today(tc);
    if (!isManager(tc.role)) {
      const day = await callQuery(tc.ctx, dispatch.myDay, { businessId: tc.business._id, date });
      return { date, appointments: day.jobs.map((j) => ({ ...jobLine(tc, j.job), ...(j.customerPhone ? { phone: j.customerPhone } : {}) })) };
    }
    const board = await callQuery(tc.ctx, dispatch.board, { businessId: tc.business._id, date });
    const assigned = board.providers.flatMap((p) => p.jobs.map((j) => ({ ...jobLine(tc, j, p.name), start: j.start })));
    const unassigned = board.unassigned.map((j) => ({ ...jobLine(tc, j, "unassigned"), start: j.start }));
    const appointments = [...assigned, ...unassigned].sort((a, b) => a.start - b.start).map(({ start: _start, ...rest }) => rest);
    return { date, appointments };
  },
});

const getCustomerByPhone = defineTool({
  name: "get_customer_by_phone",
  description: "Find the business's customers by phone number (the start of the number is enough). Returns their name, email, phone and id.",
  kind: "read",
  input: z.object({ phone: z.string().min(3).max(40).describe("Phone number, e.g. +1 555 0100") }),
  run: async (tc, input) => {
    const hits = await callQuery(tc.ctx, search.customers, { businessId: tc.business._id, text: input.phone, limit: 5 });
    return { customers: hits.map((c) => ({ customerId: c._id, name: c.name, phone: c.phone, email: c.email })) };
  },
});

const getRevenueSummary = defineTool({
  name: "get_revenue_summary",
  description: "Money collected per day over the last days (default 7, up to 92) and what customers still owe. Dispatchers and owners only.",
  kind: "read",
  input: z.object({ days: z.number().int().min(1).max(92).optional(), lastDay: vDate.optional() }),
  run: async (tc, input) => {
    const lastDay = input.lastDay ?? today(tc);
    const days = input.days ?? 7;
    const report = await callQuery(tc.ctx, reports.revenue, { businessId: tc.business._id, lastDay, days });
    const collected = report.days.reduce((sum, d) => sum + d.collectedMinor, 0);
    const currency = tc.business.currency;
    return {
      from: addDays(lastDay, 1 - days),
      to: lastDay,
      collected: money(collected, currency),
      outstanding: money(report.outstandingMinor, currency),
      perDay: report.days.map((d) => ({ date: d.date, collected: money(d.collectedMinor, currency) })),
    };
  },
});

const findFreeSlots = defineTool({
  name: "find_free_slots",
  description: "Free start times for a service in a zone between two dates (at most 14 days), as customers would see them.",
  kind: "read",
  input: z.object({
    zoneId: vId("Zone"),
    productId: vId("Service (product)"),
    from: vDate.optional(),
    to: vDate.optional(),
  }),
  run: async (tc, input) => {
    const from = input.from ?? today(tc);
    const to = input.to ?? from;
    if (isValidLocalDate(to) && isValidLocalDate(from) && addDays(from, 13) < to) {
      throw appError("INVALID_ARGUMENT", "Ask for at most 14 days at a time.", { param: "to" });
    }
    const result = await callQuery(tc.ctx, availability.slots, {
      businessId: tc.business._id,
      zoneId: idOf(tc, "zones", input.zoneId, "zoneId", "Zone"),
      cart: [{ productId: idOf(tc, "products", input.productId, "productId", "Service"), quantity: 1, extras: [] }],
      from,
      to,
    });
    return {
      durationMinutes: result.durationMinutes,
      slots: result.slots.slice(0, 40).map((s) => ({ start: when(tc, s.start), startLocal: localIso(tc, s.start), remainingCapacity: s.remainingCapacity })),
      more: result.slots.length > 40,
    };
  },
});

function localIso(tc: ToolContext, instant: number): string {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: tc.business.timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(instant);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return `${get("year")}-${get("month")}-${get("day")}T${get("hour")}:${get("minute")}`;
}

const whatsUnassignedToday = defineTool({
  name: "whats_unassigned_today",
  description: "Jobs of a day (default today) that no provider has yet, for a dispatcher or owner to assign.",
  kind: "read",
  input: z.object({ date: vDate.optional() }),
  run: async (tc, input) => {
    const date = input.date ?? today(tc);
    const board = await callQuery(tc.ctx, dispatch.board, { businessId: tc.business._id, date });
    return { date, unassigned: board.unassigned.map((j) => jobLine(tc, j)) };
  },
});

// ---------------------------------------------------------------------------------------
// Writes
// ---------------------------------------------------------------------------------------

const updateAppointmentStatus = defineTool({
  name: "update_appointment_status",
  description: `Set a job's field status (${FIELD_STATUSES.join(", ")}), e.g. EN_ROUTE when leaving, COMPLETED when done. A provider may only update their own jobs.`,
  kind: "write",
  input: z.object({ bookingId: vId("Booking"), status: z.enum(FIELD_STATUSES), note: z.string().max(500).optional() }),
  preview: async (tc, input) => {
    const { text } = await bookingSummary(tc, idOf(tc, "bookings", input.bookingId, "bookingId", "Booking"));
    return { summary: `Mark ${text} as ${input.status.replace("_", " ").toLowerCase()}.` };
  },
  run: async (tc, input) => {
    const bookingId = idOf(tc, "bookings", input.bookingId, "bookingId", "Booking");
    const result = await callMutation(mutationCtx(tc), bookings.setStatus, { bookingId, status: input.status, ...(input.note ? { note: input.note } : {}) });
    return { bookingId, status: result.status, ...(result.feeMinor ? { fee: money(result.feeMinor, tc.business.currency) } : {}) };
  },
  undo: async (tc, { before, after }) => {
    if (before === null || before.status === after.status || after.status === "NO_SHOW") return undefined;
    // The portal's own answer to "which statuses may this person set next, and from when".
    const { options } = await callQuery(tc.ctx, bookings.statusOptions, { bookingId: after._id });
    const back = options.find((o) => o.status === before.status);
    if (back === undefined || (back.notBefore !== null && back.notBefore > tc.now)) return undefined;
    const { text } = await bookingSummary(tc, after._id);
    return { tool: "update_appointment_status", input: { bookingId: after._id, status: back.status, note: "Undone from the assistant." }, summary: `Set ${text} back to ${back.status.replace("_", " ").toLowerCase()}.` };
  },
});

const bookForCustomer = defineTool({
  name: "book_for_customer",
  description:
    "Book a service for a customer in two steps. First call with customerId, zoneId, productId and start: the time is held for a few minutes and the price is returned. Tell the person the price, and only after they agree call again with holdBookingId to confirm.",
  kind: "write",
  input: z.object({
    customerId: vId("Customer").optional(),
    zoneId: vId("Zone").optional(),
    productId: vId("Service (product)").optional(),
    start: vStart.optional(),
    holdBookingId: vId("Held booking").optional().describe("The bookingId returned by the first call, to confirm it."),
  }),
  preview: async (tc, input) => {
    if (input.holdBookingId !== undefined) {
      const { text, booking } = await bookingSummary(tc, idOf(tc, "bookings", input.holdBookingId, "holdBookingId", "Booking"));
      return { summary: `Confirm ${text} for ${money(booking.quote.totalMinor, tc.business.currency)}.` };
    }
    const hold = holdArgs(tc, input);
    const customer = await tc.ctx.db.get("customers", hold.customerId);
    const product = await tc.ctx.db.get("products", hold.cart[0].productId);
    return { summary: `Hold ${product?.name ?? "the service"} for ${customer?.name ?? "the customer"} on ${when(tc, hold.start)}.` };
  },
  run: async (tc, input) => {
    const ctx = mutationCtx(tc);
    if (input.holdBookingId !== undefined) {
      const bookingId = idOf(tc, "bookings", input.holdBookingId, "holdBookingId", "Booking");
      const confirmed = await callMutation(ctx, bookings.confirm, { bookingId });
      return {
        bookingId,
        status: confirmed.status,
        total: money(confirmed.totalMinor, tc.business.currency),
        depositDue: money(confirmed.depositMinor, tc.business.currency),
      };
    }
    const held = await callMutation(ctx, bookings.hold, holdArgs(tc, input));
    return {
      bookingId: held.bookingId,
      status: "HELD",
      heldUntil: when(tc, held.holdExpiresAt),
      total: money(held.quote.totalMinor, tc.business.currency),
      next: "Tell the person the price; when they agree, call book_for_customer again with holdBookingId.",
    };
  },
  undo: async (tc, { after }) => {
    const decision = await callQuery(tc.ctx, bookings.cancellationPreview, { bookingId: after._id });
    if (decision.feeMinor > 0) return undefined;
    const { text } = await bookingSummary(tc, after._id);
    const what = after.status === "HELD" ? `Release the hold on ${text}.` : `Cancel ${text}, just booked.`;
    return { tool: "cancel_booking", input: { bookingId: after._id, expectedFeeMinor: 0, reason: "Undone from the assistant." }, summary: what };
  },
});

function holdArgs(tc: ToolContext, input: { customerId?: string; zoneId?: string; productId?: string; start?: string }) {
  for (const param of ["customerId", "zoneId", "productId", "start"] as const) {
    if (input[param] === undefined) throw appError("INVALID_ARGUMENT", `${param} is required to hold a time (or give holdBookingId to confirm a hold).`, { param });
  }
  return {
    businessId: tc.business._id,
    customerId: idOf(tc, "customers", input.customerId!, "customerId", "Customer"),
    zoneId: idOf(tc, "zones", input.zoneId!, "zoneId", "Zone"),
    cart: [{ productId: idOf(tc, "products", input.productId!, "productId", "Service"), quantity: 1, extras: [] }],
    start: instantOf(tc, input.start!),
  };
}

const rescheduleBooking = defineTool({
  name: "reschedule_booking",
  description:
    "Move a booking to a new start time. Without expectedFeeMinor nothing changes: the answer says whether it can move and the fee. Call again with expectedFeeMinor set to that fee to move it.",
  kind: "write",
  input: z.object({ bookingId: vId("Booking"), start: vStart, expectedFeeMinor: z.number().int().min(0).optional() }),
  preview: async (tc, input) => {
    const bookingId = idOf(tc, "bookings", input.bookingId, "bookingId", "Booking");
    const { text } = await bookingSummary(tc, bookingId);
    const verdict = await callQuery(tc.ctx, bookings.reschedulePreview, { bookingId });
    const fee = verdict.feeMinor > 0 ? ` Fee: ${money(verdict.feeMinor, tc.business.currency)}.` : "";
    return { summary: `Move ${text} to ${when(tc, instantOf(tc, input.start))}.${fee}`, feeMinor: verdict.feeMinor, allowed: verdict.allowed };
  },
  run: async (tc, input) => {
    const bookingId = idOf(tc, "bookings", input.bookingId, "bookingId", "Booking");
    const start = instantOf(tc, input.start);
    if (input.expectedFeeMinor === undefined) {
      const verdict = await callQuery(tc.ctx, bookings.reschedulePreview, { bookingId });
      return { changed: false, allowed: verdict.allowed, feeMinor: verdict.feeMinor, fee: money(verdict.feeMinor, tc.business.currency), reason: verdict.reason };
    }
    const moved = await callMutation(mutationCtx(tc), bookings.reschedule, { bookingId, start, expectedFeeMinor: input.expectedFeeMinor });
    return { changed: true, bookingId, start: when(tc, moved.start), fee: money(moved.feeMinor, tc.business.currency) };
  },
  undo: async (tc, { before, after }) => {
    if (before === null || before.start === after.start) return undefined;
    const verdict = await callQuery(tc.ctx, bookings.reschedulePreview, { bookingId: after._id });
    if (!verdict.allowed || verdict.feeMinor > 0) return undefined;
    const { text } = await bookingSummary(tc, after._id);
    return { tool: "reschedule_booking", input: { bookingId: after._id, start: localIso(tc, before.start), expectedFeeMinor: 0 }, summary: `Move ${text} back to ${when(tc, before.start)}.` };
  },
});

const cancelBooking = defineTool({
  name: "cancel_booking",
  description:
    "Cancel a booking. Without expectedFeeMinor nothing changes: the answer is the cancellation fee and refund. Tell the person, and call again with expectedFeeMinor set to that fee to cancel.",
  kind: "write",
  input: z.object({ bookingId: vId("Booking"), reason: z.string().max(500).optional(), expectedFeeMinor: z.number().int().min(0).optional() }),
  preview: async (tc, input) => {
    const bookingId = idOf(tc, "bookings", input.bookingId, "bookingId", "Booking");
    const { text } = await bookingSummary(tc, bookingId);
    const decision = await callQuery(tc.ctx, bookings.cancellationPreview, { bookingId });
    const currency = tc.business.currency;
    const fee = decision.feeMinor > 0 ? `Fee: ${money(decision.feeMinor, currency)}.` : "No fee.";
    const refund = decision.refundMinor > 0 ? ` Refund: ${money(decision.refundMinor, currency)}.` : "";
    return { summary: `Cancel ${text}. ${fee}${refund}`, feeMinor: decision.feeMinor };
  },
  run: async (tc, input) => {
    const bookingId = idOf(tc, "bookings", input.bookingId, "bookingId", "Booking");
    const currency = tc.business.currency;
    if (input.expectedFeeMinor === undefined) {
      const d = await callQuery(tc.ctx, bookings.cancellationPreview, { bookingId });
      return { changed: false, feeMinor: d.feeMinor, fee: money(d.feeMinor, currency), refund: money(d.refundMinor, currency), reason: d.reason };
    }
    const d = await callMutation(mutationCtx(tc), bookings.cancel, {
      bookingId,
      expectedFeeMinor: input.expectedFeeMinor,
      ...(input.reason ? { reason: input.reason } : {}),
    });
    return { changed: true, bookingId, status: "CANCELLED", fee: money(d.feeMinor, currency), refund: money(d.refundMinor, currency) };
  },
});

const sendCustomerMessage = defineTool({
  name: "send_customer_message",
  description: "Send a message to a customer in the business's inbox (they are notified as for a message sent from the portal).",
  kind: "write",
  input: z.object({ customerId: vId("Customer"), body: z.string().min(1).max(2000), bookingId: vId("Booking").optional() }),
  preview: async (tc, input) => {
    const customer = await tc.ctx.db.get("customers", idOf(tc, "customers", input.customerId, "customerId", "Customer"));
    return { summary: `Send ${customer?.name ?? "the customer"}: “${input.body}”` };
  },
  run: async (tc, input) => {
    const customerId = idOf(tc, "customers", input.customerId, "customerId", "Customer");
    const bookingId = input.bookingId === undefined ? undefined : idOf(tc, "bookings", input.bookingId, "bookingId", "Booking");
    const messageId = await callMutation(mutationCtx(tc), messages.send, { customerId, body: input.body, ...(bookingId ? { bookingId } : {}) });
    return { sent: true, messageId };
  },
});

export const TOOLS: AssistantTool[] = [
  getAppointmentsToday,
  getCustomerByPhone,
  getRevenueSummary,
  updateAppointmentStatus,
  findFreeSlots,
  bookForCustomer,
  rescheduleBooking,
  cancelBooking,
  sendCustomerMessage,
  whatsUnassignedToday,
] as AssistantTool[];

export function toolNamed(name: string): AssistantTool {
  const tool = TOOLS.find((t) => t.name === name);
  if (tool === undefined) throw appError("NOT_FOUND", `No assistant tool is called ${name}.`, { param: "tool" });
  return tool;
}

/** The tool's input checked by its schema; INVALID_ARGUMENT naming the first field at fault. */
export function parseInput(tool: AssistantTool, input: unknown): Record<string, unknown> {
  const parsed = tool.input.safeParse(input ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const param = issue.path.join(".") || "input";
    throw appError("INVALID_ARGUMENT", `${param}: ${issue.message}`, { param });
  }
  return parsed.data;
}
