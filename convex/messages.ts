/**
 * The conversation between a customer and a business: one thread per customer, optionally
 * about one of their bookings. The customer writes as "customer"; the business's staff
 * (any role) write as "business". Each side marks the other side's messages read.
 */
import { paginationOptsValidator } from "convex/server";
import { v } from "convex/values";
import { requireCustomerAccess, requireUser } from "./access";
import { appError } from "./errors";
import { mutation, query } from "./functions";
import { emitEvent, rooms } from "./model/events";
import { customerChangedNotice } from "./customers";
import { requireText } from "./model/validation";

const MAX_BODY = 5_000;
const MARK_READ_BATCH = 200;

export const send = mutation({
  args: { customerId: v.id("customers"), body: v.string(), bookingId: v.optional(v.id("bookings")) },
  returns: v.id("messages"),
  handler: async (ctx, args) => {
    const user = requireUser(ctx);
    const { customer, role } = await requireCustomerAccess(ctx, args.customerId);
    const business = await ctx.db.get("businesses", customer.businessId);
    if (business === null || business.status === "DELETED") throw appError("NOT_FOUND", "Customer not found.", { param: "customerId" });
    const body = requireText(args.body, "body", MAX_BODY);
    if (args.bookingId !== undefined) {
      const booking = await ctx.db.get("bookings", args.bookingId);
      if (booking === null || booking.customerId !== customer._id) throw appError("NOT_FOUND", "Booking not found.", { param: "bookingId" });
    }
    const from = role === "customer" ? ("customer" as const) : ("business" as const);
    const createdAt = Date.now();
    const messageId = await ctx.db.insert("messages", {
      businessId: customer.businessId,
      customerId: customer._id,
      bookingId: args.bookingId,
      from,
      authorId: user._id,
      body,
      createdAt,
    });
    // Both rooms are authenticated (staff of the business / that customer). No body in the
    // push: subscribers refetch through `list`, which checks access again.
    await emitEvent(ctx, {
      businessId: customer.businessId,
      type: "message.created",
      entity: { table: "messages", id: messageId },
      data: { messageId, customerId: customer._id, from, createdAt },
      rooms: [rooms.customers(customer.businessId)],
      roomData: customerChangedNotice(customer, ["messages"]),
    });
    return messageId;
  },
});

/** The thread, newest first (the customer themself or staff of the business). */
export const list = query({
  args: { customerId: v.id("customers"), paginationOpts: paginationOptsValidator },
  handler: async (ctx, args) => {
    const { customer } = await requireCustomerAccess(ctx, args.customerId);
    return await ctx.db
      .query("messages")
      .withIndex("by_customerId_and_createdAt", (q) => q.eq("customerId", customer._id))
      .order("desc")
      .paginate(args.paginationOpts);
  },
});

/** How many of the other side's latest messages the viewer has not read (capped at 200). */
export const unreadCount = query({
  args: { customerId: v.id("customers") },
  returns: v.number(),
  handler: async (ctx, args) => {
    const { customer, role } = await requireCustomerAccess(ctx, args.customerId);
    const other = role === "customer" ? "business" : "customer";
    const recent = await ctx.db
      .query("messages")
      .withIndex("by_customerId_and_createdAt", (q) => q.eq("customerId", customer._id))
      .order("desc")
      .take(MARK_READ_BATCH);
    return recent.filter((m) => m.from === other && m.readAt === undefined).length;
  },
});

/** Marks the other side's messages up to `upTo` (default: now) as read; returns how many. */
export const markRead = mutation({
  args: { customerId: v.id("customers"), upTo: v.optional(v.number()) },
  returns: v.number(),
  handler: async (ctx, args) => {
    const { customer, role } = await requireCustomerAccess(ctx, args.customerId);
    const other = role === "customer" ? "business" : "customer";
    const now = Date.now();
    const upTo = args.upTo ?? now;
    const recent = await ctx.db
      .query("messages")
      .withIndex("by_customerId_and_createdAt", (q) => q.eq("customerId", customer._id).lte("createdAt", upTo))
      .order("desc")
      .take(MARK_READ_BATCH);
    let marked = 0;
    for (const m of recent) {
      if (m.from !== other || m.readAt !== undefined) continue;
      await ctx.db.patch("messages", m._id, { readAt: now });
      marked++;
    }
    return marked;
  },
});
