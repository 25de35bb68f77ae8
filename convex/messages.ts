/**
 * Conversations between a customer and a business (portal adapters; the rules live in
 * model/conversations.ts): a general thread per customer and one per booking, live through
 * Convex subscriptions, unread counts per side, a staff inbox with assignment, and images
 * of the job through Convex file storage (`generateUploadUrl`, then `send` with the ids).
 */
import { paginationOptsValidator } from "convex/server";
import { v } from "convex/values";
import type { Doc } from "./_generated/dataModel";
import { mutation, query } from "./functions";
import { userActor } from "./model/actor";
import {
  assignConversation,
  conversationAccess,
  customerThreadAccess,
  customerUnread,
  findConversation,
  inboxAccess,
  markConversationRead,
  markCustomerRead,
  messageView,
  sendMessage,
} from "./model/conversations";

const vAttachment = v.object({ storageId: v.id("_storage"), contentType: v.optional(v.string()), name: v.optional(v.string()) });

export const send = mutation({
  args: {
    customerId: v.id("customers"),
    body: v.string(),
    bookingId: v.optional(v.id("bookings")),
    attachments: v.optional(v.array(vAttachment)),
  },
  returns: v.id("messages"),
  handler: async (ctx, args) => (await sendMessage(ctx, userActor(ctx), args)).messageId,
});

/** An upload URL for an image to attach to a message in this customer's threads. */
export const generateUploadUrl = mutation({
  args: { customerId: v.id("customers") },
  returns: v.string(),
  handler: async (ctx, args) => {
    await customerThreadAccess(ctx, userActor(ctx), args.customerId);
    return await ctx.storage.generateUploadUrl();
  },
});

/** All messages of a customer, newest first (the customer themself or staff of the business). */
export const list = query({
  args: { customerId: v.id("customers"), paginationOpts: paginationOptsValidator },
  handler: async (ctx, args) => {
    const { customer } = await customerThreadAccess(ctx, userActor(ctx), args.customerId);
    const page = await ctx.db
      .query("messages")
      .withIndex("by_customerId_and_createdAt", (q) => q.eq("customerId", customer._id))
      .order("desc")
      .paginate(args.paginationOpts);
    return { ...page, page: await Promise.all(page.page.map((m) => messageView(ctx, m))) };
  },
});

/** One thread's messages, newest first. */
export const thread = query({
  args: { conversationId: v.string(), paginationOpts: paginationOptsValidator },
  handler: async (ctx, args) => {
    const { conversation } = await conversationAccess(ctx, userActor(ctx), args.conversationId);
    const page = await ctx.db
      .query("messages")
      .withIndex("by_conversationId_and_createdAt", (q) => q.eq("conversationId", conversation._id))
      .order("desc")
      .paginate(args.paginationOpts);
    return { ...page, page: await Promise.all(page.page.map((m) => messageView(ctx, m))) };
  },
});

const vSummary = v.object({
  _id: v.id("conversations"),
  customerId: v.id("customers"),
  customerName: v.string(),
  bookingId: v.optional(v.id("bookings")),
  assigneeId: v.optional(v.id("memberships")),
  lastMessageAt: v.number(),
  lastMessagePreview: v.string(),
  lastFrom: v.union(v.literal("customer"), v.literal("business")),
  /** Unread for the viewer's side. */
  unread: v.number(),
});

/** One conversation's summary for the viewer (either side). */
export const get = query({
  args: { conversationId: v.string() },
  returns: vSummary,
  handler: async (ctx, args) => {
    const { conversation: c, customer, side } = await conversationAccess(ctx, userActor(ctx), args.conversationId);
    return summary(c, customer.name, side === "customer" ? c.unreadByCustomer : c.unreadByBusiness);
  },
});

/** The thread of a customer about a booking (or the general one), null before its first message. */
export const find = query({
  args: { customerId: v.id("customers"), bookingId: v.optional(v.id("bookings")) },
  returns: v.union(v.null(), vSummary),
  handler: async (ctx, args) => {
    const { customer, side } = await customerThreadAccess(ctx, userActor(ctx), args.customerId);
    const c = await findConversation(ctx, customer._id, args.bookingId);
    if (c === null) return null;
    return summary(c, customer.name, side === "customer" ? c.unreadByCustomer : c.unreadByBusiness);
  },
});

/** A customer's threads, latest activity first (at most 100). */
export const forCustomer = query({
  args: { customerId: v.id("customers") },
  returns: v.array(vSummary),
  handler: async (ctx, args) => {
    const { customer, side } = await customerThreadAccess(ctx, userActor(ctx), args.customerId);
    const threads = await ctx.db
      .query("conversations")
      .withIndex("by_customerId_and_lastMessageAt", (q) => q.eq("customerId", customer._id))
      .order("desc")
      .take(100);
    return threads.map((c) => summary(c, customer.name, side === "customer" ? c.unreadByCustomer : c.unreadByBusiness));
  },
});

/**
 * The business's inbox, latest activity first: every thread, the unassigned ones, or the
 * caller's own (`mine`). Any staff member of the business.
 */
export const inbox = query({
  args: {
    businessId: v.id("businesses"),
    filter: v.union(v.literal("all"), v.literal("unassigned"), v.literal("mine")),
    paginationOpts: paginationOptsValidator,
  },
  handler: async (ctx, args) => {
    const access = await inboxAccess(ctx, userActor(ctx), args.businessId);
    const base = ctx.db.query("conversations");
    const q =
      args.filter === "all"
        ? base.withIndex("by_businessId_and_lastMessageAt", (q) => q.eq("businessId", args.businessId))
        : base.withIndex("by_businessId_and_assigneeId_and_lastMessageAt", (q) =>
            q.eq("businessId", args.businessId).eq("assigneeId", args.filter === "mine" ? access.membership._id : undefined),
          );
    const page = await q.order("desc").paginate(args.paginationOpts);
    const rows = await Promise.all(
      page.page.map(async (c) => summary(c, (await ctx.db.get("customers", c.customerId))?.name ?? "Customer", c.unreadByBusiness)),
    );
    return { ...page, page: rows };
  },
});

/** Threads of the business with unread customer messages (capped at 100), for the nav badge. */
export const inboxUnread = query({
  args: { businessId: v.id("businesses") },
  returns: v.number(),
  handler: async (ctx, args) => {
    await inboxAccess(ctx, userActor(ctx), args.businessId);
    const recent = await ctx.db
      .query("conversations")
      .withIndex("by_businessId_and_lastMessageAt", (q) => q.eq("businessId", args.businessId))
      .order("desc")
      .take(100);
    return recent.filter((c) => c.unreadByBusiness > 0).length;
  },
});

/** The team members a thread can be assigned to. */
export const assignees = query({
  args: { businessId: v.id("businesses") },
  returns: v.array(v.object({ membershipId: v.id("memberships"), name: v.string(), role: v.string() })),
  handler: async (ctx, args) => {
    await inboxAccess(ctx, userActor(ctx), args.businessId);
    const members = await ctx.db
      .query("memberships")
      .withIndex("by_businessId_and_userId", (q) => q.eq("businessId", args.businessId))
      .take(200);
    const rows = await Promise.all(
      members.map(async (m) => ({ membershipId: m._id, name: (await ctx.db.get("users", m.userId))?.name ?? "Team member", role: m.role })),
    );
    return rows.sort((a, b) => a.name.localeCompare(b.name));
  },
});

export const assign = mutation({
  args: { conversationId: v.string(), membershipId: v.union(v.string(), v.null()) },
  returns: v.union(v.id("memberships"), v.null()),
  handler: async (ctx, args) => await assignConversation(ctx, userActor(ctx), args.conversationId, args.membershipId),
});

/** Marks the other side's messages of one thread read; returns how many. */
export const markThreadRead = mutation({
  args: { conversationId: v.string() },
  returns: v.number(),
  handler: async (ctx, args) => await markConversationRead(ctx, userActor(ctx), args.conversationId),
});

/** How many of the other side's messages the viewer has not read, over the customer's threads. */
export const unreadCount = query({
  args: { customerId: v.id("customers") },
  returns: v.number(),
  handler: async (ctx, args) => await customerUnread(ctx, userActor(ctx), args.customerId),
});

/** Marks the other side's messages up to `upTo` (default: now) of all the customer's threads read. */
export const markRead = mutation({
  args: { customerId: v.id("customers"), upTo: v.optional(v.number()) },
  returns: v.number(),
  handler: async (ctx, args) => await markCustomerRead(ctx, userActor(ctx), args.customerId, args.upTo),
});

function summary(c: Doc<"conversations">, customerName: string, unread: number) {
  return {
    _id: c._id,
    customerId: c.customerId,
    customerName,
    ...(c.bookingId ? { bookingId: c.bookingId } : {}),
    ...(c.assigneeId ? { assigneeId: c.assigneeId } : {}),
    lastMessageAt: c.lastMessageAt,
    lastMessagePreview: c.lastMessagePreview,
    lastFrom: c.lastFrom,
    unread,
  };
}
