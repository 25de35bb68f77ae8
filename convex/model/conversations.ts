/**
 * Conversations between a customer and the business: one general thread per customer and
 * one per booking. The customer writes as "customer"; any staff member of the business as
 * "business". Each command body lives here; convex/messages.ts only adapts portal calls.
 *
 * Who may do what:
 * - the customer: their own threads (write, read, mark read, upload images);
 * - staff of the customer's business (any role): the same on that customer's threads;
 * - assigning a thread: managers and owners to anyone of the team; a staff member only
 *   takes a thread themself (or gives theirs back).
 * Everyone else gets NOT_FOUND naming the id they passed.
 *
 * Unread counts are kept on the conversation (`unreadByBusiness` / `unreadByCustomer`) in
 * the same transaction as the message and the read marks, so the inbox and the badge read
 * one document per thread. The other side is notified (template `new_message`) when a
 * message starts an unread streak for them, not for every message of it.
 */
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { atLeast, requireBusinessRole, requireCustomerAccess, type Role } from "../access";
import { env } from "../env";
import { appError } from "../errors";
import type { UserActor } from "./actor";
import { customerChangedNotice } from "./customers";
import { emitEvent, rooms } from "./events";
import { customerAddress, customerChannel, queueNotification } from "./notify";
import { invalid, requireText } from "./validation";

export const MAX_BODY = 5_000;
export const MAX_ATTACHMENTS = 4;
export const MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024;
const PREVIEW_CHARS = 140;
const READ_BATCH = 200;

export type Side = "customer" | "business";
type ReadCtx = Pick<QueryCtx, "db">;
type WriteCtx = Pick<MutationCtx, "db" | "scheduler">;

function viewerCtx(ctx: ReadCtx, actor: UserActor) {
  return { ...ctx, viewer: actor.viewer } as Parameters<typeof requireCustomerAccess>[0];
}

/** The actor's access to one customer's threads, and the side they write on. */
export async function customerThreadAccess(ctx: ReadCtx, actor: UserActor, customerId: Id<"customers">) {
  const { customer, role } = await requireCustomerAccess(viewerCtx(ctx, actor), customerId);
  const side: Side = role === "customer" ? "customer" : "business";
  return { customer, role: role as Role, side };
}

/** A conversation the actor may see, with their side; NOT_FOUND naming `conversationId` otherwise. */
export async function conversationAccess(ctx: ReadCtx, actor: UserActor, conversationId: string) {
  const id = ctx.db.normalizeId("conversations", conversationId);
  const conversation = id === null ? null : await ctx.db.get("conversations", id);
  const notFound = () => appError("NOT_FOUND", "Conversation not found.", { param: "conversationId" });
  if (conversation === null) throw notFound();
  try {
    return { conversation, ...(await customerThreadAccess(ctx, actor, conversation.customerId)) };
  } catch (error) {
    if ((error as { data?: { code?: string } }).data?.code === "NOT_FOUND") throw notFound();
    throw error;
  }
}

/** The thread of a customer (general when `bookingId` is absent), or null before its first message. */
export async function findConversation(ctx: ReadCtx, customerId: Id<"customers">, bookingId: Id<"bookings"> | undefined) {
  return await ctx.db
    .query("conversations")
    .withIndex("by_customerId_and_bookingId", (q) => q.eq("customerId", customerId).eq("bookingId", bookingId))
    .unique();
}

async function requireOwnBooking(ctx: ReadCtx, customer: Doc<"customers">, bookingId: Id<"bookings"> | undefined) {
  if (bookingId === undefined) return;
  const booking = await ctx.db.get("bookings", bookingId);
  if (booking === null || booking.customerId !== customer._id) throw appError("NOT_FOUND", "Booking not found.", { param: "bookingId" });
}

/** `contentType`: what the uploader sent; the stored file's own type wins when it has one. */
export type AttachmentInput = { storageId: Id<"_storage">; contentType?: string; name?: string };

/** Checks uploaded files: they exist, are images and are small enough. */
async function validAttachments(ctx: ReadCtx, input: AttachmentInput[] | undefined) {
  if (input === undefined || input.length === 0) return undefined;
  if (input.length > MAX_ATTACHMENTS) throw invalid("attachments", `attachments: at most ${MAX_ATTACHMENTS} files per message.`);
  const out: NonNullable<Doc<"messages">["attachments"]> = [];
  for (const [i, a] of input.entries()) {
    const file = await ctx.db.system.get("_storage", a.storageId);
    if (file === null) throw invalid(`attachments[${i}]`, `attachments[${i}] is not an uploaded file.`);
    const contentType = (file.contentType ?? a.contentType ?? "").trim().toLowerCase();
    if (!contentType.startsWith("image/")) throw invalid(`attachments[${i}]`, `attachments[${i}] must be an image (got ${contentType || "unknown type"}).`);
    if (file.size > MAX_ATTACHMENT_BYTES) throw invalid(`attachments[${i}]`, `attachments[${i}] is larger than 5 MB.`);
    const name = a.name?.trim().slice(0, 200) || undefined;
    out.push({ storageId: a.storageId, contentType, size: file.size, ...(name ? { name } : {}) });
  }
  return out;
}

function preview(body: string, attachments: unknown[] | undefined): string {
  const text = body.replace(/\s+/g, " ").trim();
  const short = text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS - 1)}…` : text;
  if (short !== "") return short;
  return attachments?.length === 1 ? "(image)" : `(${attachments?.length ?? 0} images)`;
}

export type SendInput = {
  customerId: Id<"customers">;
  bookingId?: Id<"bookings">;
  body: string;
  attachments?: AttachmentInput[];
};

/** Writes a message into the customer's thread (creating it), counts it unread for the other side and tells them. */
export async function sendMessage(ctx: MutationCtx, actor: UserActor, input: SendInput) {
  const { customer, side } = await customerThreadAccess(ctx, actor, input.customerId);
  const business = await ctx.db.get("businesses", customer.businessId);
  if (business === null || business.status === "DELETED") throw appError("NOT_FOUND", "Customer not found.", { param: "customerId" });
  await requireOwnBooking(ctx, customer, input.bookingId);
  const attachments = await validAttachments(ctx, input.attachments);
  const body = attachments ? input.body.trim() : requireText(input.body, "body", MAX_BODY);
  if (body.length > MAX_BODY) throw invalid("body", `body must be at most ${MAX_BODY} characters.`);

  const createdAt = Date.now();
  const existing = await findConversation(ctx, customer._id, input.bookingId);
  const unreadKey = side === "customer" ? "unreadByBusiness" : "unreadByCustomer";
  const summary = { lastMessageAt: createdAt, lastMessagePreview: preview(body, attachments), lastFrom: side };
  let conversationId: Id<"conversations">;
  let startsStreak: boolean;
  if (existing === null) {
    conversationId = await ctx.db.insert("conversations", {
      businessId: customer.businessId,
      customerId: customer._id,
      bookingId: input.bookingId,
      ...summary,
      unreadByBusiness: side === "customer" ? 1 : 0,
      unreadByCustomer: side === "business" ? 1 : 0,
      createdAt,
    });
    startsStreak = true;
  } else {
    conversationId = existing._id;
    startsStreak = existing[unreadKey] === 0;
    await ctx.db.patch("conversations", existing._id, { ...summary, [unreadKey]: existing[unreadKey] + 1 });
  }
  const messageId = await ctx.db.insert("messages", {
    businessId: customer.businessId,
    customerId: customer._id,
    conversationId,
    bookingId: input.bookingId,
    from: side,
    authorId: actor.viewer.user._id,
    body,
    ...(attachments ? { attachments } : {}),
    createdAt,
  });
  // Both rooms are authenticated (staff of the business / that customer). No body in the
  // push: subscribers refetch through the queries, which check access again.
  await emitEvent(ctx, {
    businessId: customer.businessId,
    type: "message.created",
    entity: { table: "messages", id: messageId },
    data: { messageId, conversationId, customerId: customer._id, from: side, createdAt },
    rooms: [rooms.customers(customer.businessId)],
    roomData: customerChangedNotice(customer, ["messages"]),
  });
  if (startsStreak) await notifyOtherSide(ctx, { business, customer, conversationId, side, sender: actor.viewer.user, body: summary.lastMessagePreview });
  return { messageId, conversationId };
}

async function notifyOtherSide(
  ctx: WriteCtx,
  args: { business: Doc<"businesses">; customer: Doc<"customers">; conversationId: Id<"conversations">; side: Side; sender: Doc<"users">; body: string },
) {
  const { business, customer, conversationId } = args;
  const portal = env.portalUrl();
  if (args.side === "business") {
    const channel = customerChannel(customer) ?? "email";
    await queueNotification(ctx, {
      businessId: business._id,
      templateKey: "new_message",
      channel,
      to: customerAddress(customer, channel),
      customerId: customer._id,
      vars: {
        recipientName: customer.name,
        senderName: business.name,
        businessName: business.name,
        messagePreview: args.body,
        messageUrl: `${portal}/messages?conversation=${conversationId}`,
      },
    });
    return;
  }
  // To the business: the thread's assignee, else the owner.
  const conversation = await ctx.db.get("conversations", conversationId);
  const membership = conversation?.assigneeId ? await ctx.db.get("memberships", conversation.assigneeId) : null;
  const recipient = await ctx.db.get("users", membership?.userId ?? business.ownerId);
  if (recipient === null) return;
  await queueNotification(ctx, {
    businessId: business._id,
    templateKey: "new_message",
    channel: "email",
    to: recipient.email ?? "",
    userId: recipient._id,
    locale: business.locale,
    vars: {
      recipientName: recipient.name,
      senderName: customer.name,
      businessName: business.name,
      messagePreview: args.body,
      messageUrl: `${portal}/inbox?conversation=${conversationId}`,
    },
  });
}

/**
 * Files a message written before conversations existed into its thread (creating it), for
 * the `backfillConversations` migration. Messages already in a thread are left alone.
 */
export async function fileLegacyMessage(ctx: Pick<MutationCtx, "db">, m: Doc<"messages">) {
  if (m.conversationId !== undefined) return;
  const existing = await findConversation(ctx, m.customerId, m.bookingId);
  const unreadKey = m.from === "customer" ? "unreadByBusiness" : "unreadByCustomer";
  const unread = m.readAt === undefined ? 1 : 0;
  let conversationId: Id<"conversations">;
  if (existing === null) {
    conversationId = await ctx.db.insert("conversations", {
      businessId: m.businessId,
      customerId: m.customerId,
      bookingId: m.bookingId,
      lastMessageAt: m.createdAt,
      lastMessagePreview: preview(m.body, m.attachments),
      lastFrom: m.from,
      unreadByBusiness: 0,
      unreadByCustomer: 0,
      [unreadKey]: unread,
      createdAt: m.createdAt,
    });
  } else {
    conversationId = existing._id;
    const newer = m.createdAt >= existing.lastMessageAt;
    await ctx.db.patch("conversations", existing._id, {
      [unreadKey]: existing[unreadKey] + unread,
      ...(newer ? { lastMessageAt: m.createdAt, lastMessagePreview: preview(m.body, m.attachments), lastFrom: m.from } : {}),
    });
  }
  await ctx.db.patch("messages", m._id, { conversationId });
}

/** Marks the other side's unread messages of a thread read; returns how many. */
export async function markConversationRead(ctx: MutationCtx, actor: UserActor, conversationId: string) {
  const { conversation, side } = await conversationAccess(ctx, actor, conversationId);
  const other: Side = side === "customer" ? "business" : "customer";
  const unreadKey = side === "customer" ? "unreadByCustomer" : "unreadByBusiness";
  if (conversation[unreadKey] === 0) return 0;
  const now = Date.now();
  const recent = await ctx.db
    .query("messages")
    .withIndex("by_conversationId_and_createdAt", (q) => q.eq("conversationId", conversation._id))
    .order("desc")
    .take(READ_BATCH);
  let marked = 0;
  for (const m of recent) {
    if (m.from !== other || m.readAt !== undefined) continue;
    await ctx.db.patch("messages", m._id, { readAt: now });
    marked++;
  }
  await ctx.db.patch("conversations", conversation._id, { [unreadKey]: 0 });
  return marked;
}

/**
 * Marks the other side's messages of all of a customer's threads up to `upTo` read (the
 * customer-wide form of `markConversationRead`); returns how many.
 */
export async function markCustomerRead(ctx: MutationCtx, actor: UserActor, customerId: Id<"customers">, upTo: number | undefined) {
  const { customer, side } = await customerThreadAccess(ctx, actor, customerId);
  const other: Side = side === "customer" ? "business" : "customer";
  const unreadKey = side === "customer" ? "unreadByCustomer" : "unreadByBusiness";
  const now = Date.now();
  const recent = await ctx.db
    .query("messages")
    .withIndex("by_customerId_and_createdAt", (q) => q.eq("customerId", customer._id).lte("createdAt", upTo ?? now))
    .order("desc")
    .take(READ_BATCH);
  const perConversation = new Map<Id<"conversations">, number>();
  let marked = 0;
  for (const m of recent) {
    if (m.from !== other || m.readAt !== undefined) continue;
    await ctx.db.patch("messages", m._id, { readAt: now });
    marked++;
    if (m.conversationId) perConversation.set(m.conversationId, (perConversation.get(m.conversationId) ?? 0) + 1);
  }
  for (const [id, n] of perConversation) {
    const c = await ctx.db.get("conversations", id);
    if (c !== null) await ctx.db.patch("conversations", id, { [unreadKey]: Math.max(0, c[unreadKey] - n) });
  }
  return marked;
}

/** How many of the other side's messages the viewer has not read, over all of a customer's threads. */
export async function customerUnread(ctx: ReadCtx, actor: UserActor, customerId: Id<"customers">) {
  const { customer, side } = await customerThreadAccess(ctx, actor, customerId);
  const threads = await ctx.db
    .query("conversations")
    .withIndex("by_customerId_and_lastMessageAt", (q) => q.eq("customerId", customer._id))
    .take(READ_BATCH);
  return threads.reduce((n, c) => n + (side === "customer" ? c.unreadByCustomer : c.unreadByBusiness), 0);
}

/**
 * Gives a thread to a team member (`membershipId`) or back to nobody (null). Managers and
 * owners assign anyone of the business; staff only take a thread themself or give theirs back.
 */
export async function assignConversation(ctx: MutationCtx, actor: UserActor, conversationId: string, membershipId: string | null) {
  const { conversation, side } = await conversationAccess(ctx, actor, conversationId);
  if (side === "customer") throw appError("FORBIDDEN", "Only the business's team assigns conversations.");
  const access = await requireBusinessRole(viewerCtx(ctx, actor), conversation.businessId, "staff", {
    param: "conversationId",
    message: "Conversation not found.",
  });
  let assignee: Doc<"memberships"> | null = null;
  if (membershipId !== null) {
    const mid = ctx.db.normalizeId("memberships", membershipId);
    assignee = mid === null ? null : await ctx.db.get("memberships", mid);
    if (assignee === null || assignee.businessId !== conversation.businessId) {
      throw appError("NOT_FOUND", "Team member not found.", { param: "membershipId" });
    }
  }
  if (!atLeast(access.role, "manager")) {
    const own = access.membership._id;
    const takesIt = assignee?._id === own;
    const givesBack = assignee === null && conversation.assigneeId === own;
    if (!takesIt && !givesBack) throw appError("FORBIDDEN", "Staff can only take a conversation themselves; ask a manager to assign it.");
  }
  await ctx.db.patch("conversations", conversation._id, { assigneeId: assignee?._id });
  return assignee?._id ?? null;
}

/** Staff check for the business inbox; returns the caller's access. */
export async function inboxAccess(ctx: ReadCtx, actor: UserActor, businessId: Id<"businesses">) {
  return await requireBusinessRole(viewerCtx(ctx, actor), businessId, "staff");
}

/** A message as the portal shows it, with links to its images. */
export async function messageView(ctx: Pick<QueryCtx, "storage">, m: Doc<"messages">) {
  const attachments = await Promise.all(
    (m.attachments ?? []).map(async (a) => ({ ...a, url: await ctx.storage.getUrl(a.storageId) })),
  );
  return {
    _id: m._id,
    conversationId: m.conversationId,
    bookingId: m.bookingId,
    from: m.from,
    authorId: m.authorId,
    body: m.body,
    attachments,
    createdAt: m.createdAt,
    readAt: m.readAt,
  };
}
