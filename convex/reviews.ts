/**
 * Reviews: after a COMPLETED booking its customer (and only they) may leave one review,
 * rating 1–5 with an optional comment; the business (manager and up) may reply. Reviews of
 * an ACTIVE business are public, showing the reviewer's first name only.
 */
import { paginationOptsValidator } from "convex/server";
import { v } from "convex/values";
import type { Doc } from "./_generated/dataModel";
import { accessTo, getBusinessOrThrow, requireDocRole, requireUser } from "./access";
import { appError } from "./errors";
import { mutation, query, type QueryCtx } from "./functions";
import { emitEvent } from "./model/events";
import { optionalText, requireInt, requireText } from "./model/validation";

const vPublicReview = v.object({
  _id: v.id("reviews"),
  rating: v.number(),
  comment: v.optional(v.string()),
  reply: v.optional(v.string()),
  reviewerName: v.string(),
  createdAt: v.number(),
});

async function publicReview(ctx: QueryCtx, review: Doc<"reviews">) {
  const customer = await ctx.db.get("customers", review.customerId);
  const firstName = customer?.name.trim().split(/\s+/)[0] ?? "";
  return {
    _id: review._id,
    rating: review.rating,
    comment: review.comment,
    reply: review.reply,
    reviewerName: firstName || "Customer",
    createdAt: review.createdAt,
  };
}

export const create = mutation({
  args: { bookingId: v.id("bookings"), rating: v.number(), comment: v.optional(v.string()) },
  returns: v.id("reviews"),
  handler: async (ctx, args) => {
    const user = requireUser(ctx);
    const booking = await ctx.db.get("bookings", args.bookingId);
    const customer = booking === null ? null : await ctx.db.get("customers", booking.customerId);
    if (booking === null || customer === null || customer.userId !== user._id) {
      throw appError("NOT_FOUND", "Booking not found.", { param: "bookingId" });
    }
    const rating = requireInt(args.rating, "rating", 1, 5);
    const comment = optionalText(args.comment, "comment", 5_000);
    if (booking.status !== "COMPLETED") {
      throw appError("CONFLICT", "You can review a booking once it is completed.", { param: "bookingId" });
    }
    const existing = await ctx.db
      .query("reviews")
      .withIndex("by_bookingId", (q) => q.eq("bookingId", booking._id))
      .first();
    if (existing !== null) throw appError("ALREADY_EXISTS", "This booking has already been reviewed.", { param: "bookingId" });
    const createdAt = Date.now();
    const reviewId = await ctx.db.insert("reviews", {
      businessId: booking.businessId,
      bookingId: booking._id,
      customerId: customer._id,
      resourceIds: booking.assignedResourceIds,
      rating,
      comment,
      createdAt,
    });
    await emitEvent(ctx, {
      businessId: booking.businessId,
      type: "review.created",
      entity: { table: "reviews", id: reviewId },
      data: { reviewId, bookingId: booking._id, rating, createdAt },
      rooms: [],
    });
    return reviewId;
  },
});

/** The business answers a review (manager and up); replying again replaces the reply. */
export const reply = mutation({
  args: { reviewId: v.id("reviews"), reply: v.string() },
  returns: v.null(),
  handler: async (ctx, args) => {
    const { doc } = await requireDocRole(ctx, await ctx.db.get("reviews", args.reviewId), "manager", "reviewId", "Review not found.");
    await ctx.db.patch("reviews", doc._id, { reply: requireText(args.reply, "reply", 5_000) });
    return null;
  },
});

async function requireReadableBusiness(ctx: QueryCtx, businessId: Doc<"businesses">["_id"]) {
  const business = await getBusinessOrThrow(ctx, businessId);
  if (business.status !== "ACTIVE") {
    const access = await accessTo(ctx, businessId);
    if (access === null || access.role === "customer") throw appError("NOT_FOUND", "Business not found.", { param: "businessId" });
  }
  return business;
}

/** Reviews of a business, newest first (public for ACTIVE businesses). */
export const listForBusiness = query({
  args: { businessId: v.id("businesses"), paginationOpts: paginationOptsValidator },
  handler: async (ctx, args) => {
    await requireReadableBusiness(ctx, args.businessId);
    const page = await ctx.db
      .query("reviews")
      .withIndex("by_businessId_and_createdAt", (q) => q.eq("businessId", args.businessId))
      .order("desc")
      .paginate(args.paginationOpts);
    const reviews = [];
    for (const review of page.page) reviews.push(await publicReview(ctx, review));
    return { ...page, page: reviews };
  },
});

/** Average rating over the latest 1,000 reviews (public for ACTIVE businesses). */
export const summary = query({
  args: { businessId: v.id("businesses") },
  returns: v.object({ count: v.number(), averageRating: v.union(v.number(), v.null()) }),
  handler: async (ctx, args) => {
    await requireReadableBusiness(ctx, args.businessId);
    const latest = await ctx.db
      .query("reviews")
      .withIndex("by_businessId_and_createdAt", (q) => q.eq("businessId", args.businessId))
      .order("desc")
      .take(1_000);
    if (latest.length === 0) return { count: 0, averageRating: null };
    const total = latest.reduce((sum, r) => sum + r.rating, 0);
    return { count: latest.length, averageRating: Math.round((total / latest.length) * 100) / 100 };
  },
});

/** The review of one booking, or null: its customer or the business's staff. */
export const forBooking = query({
  args: { bookingId: v.id("bookings") },
  returns: v.union(vPublicReview, v.null()),
  handler: async (ctx, args) => {
    const user = requireUser(ctx);
    const booking = await ctx.db.get("bookings", args.bookingId);
    if (booking === null) throw appError("NOT_FOUND", "Booking not found.", { param: "bookingId" });
    const customer = await ctx.db.get("customers", booking.customerId);
    if (customer?.userId !== user._id) {
      const access = await accessTo(ctx, booking.businessId);
      if (access === null || access.role === "customer" || access.role === "platform_admin") {
        throw appError("NOT_FOUND", "Booking not found.", { param: "bookingId" });
      }
    }
    const review = await ctx.db
      .query("reviews")
      .withIndex("by_bookingId", (q) => q.eq("bookingId", booking._id))
      .first();
    return review === null ? null : await publicReview(ctx, review);
  },
});
