/**
 * The whole domain of the platform. Conventions:
 * - Every tenant-owned document carries `businessId`; every read goes through an index that
 *   starts with it (or with a parent id that belongs to one business).
 * - Money is integer minor units (`...Minor`) with the business's ISO currency.
 * - Instants are epoch milliseconds (UTC); local calendar dates are "YYYY-MM-DD" in the
 *   business's IANA time zone, local times "HH:MM".
 * - Index names list their fields: `by_businessId_and_start`.
 *
 * Validators are exported so function `args` reuse them.
 */
import { authTables } from "@convex-dev/auth/server";
import { defineSchema, defineTable } from "convex/server";
import { v, type Infer } from "convex/values";
import { BOOKING_STATUSES, FIELD_STATUSES } from "../domain/bookingStatus";

// ---------------------------------------------------------------------------------------
// Shared validators
// ---------------------------------------------------------------------------------------

export const businessTypes = ["home_services", "salon", "clinic", "coworking", "hotel", "other"] as const;
export const vBusinessType = v.union(...businessTypes.map((t) => v.literal(t)));
export type BusinessType = Infer<typeof vBusinessType>;

export const businessStatuses = ["PENDING", "ACTIVE", "INACTIVE", "SUSPENDED", "DELETED"] as const;
export const vBusinessStatus = v.union(...businessStatuses.map((s) => v.literal(s)));
export type BusinessStatus = Infer<typeof vBusinessStatus>;

export const plans = ["free", "basic", "pro", "premium"] as const;
export const vPlan = v.union(...plans.map((p) => v.literal(p)));
export type Plan = Infer<typeof vPlan>;

/** Roles inside one business. Platform admins are flagged on `users`. */
export const memberRoles = ["owner", "manager", "staff"] as const;
export const vMemberRole = v.union(...memberRoles.map((r) => v.literal(r)));
export type MemberRole = Infer<typeof vMemberRole>;

export const bookingStatuses = BOOKING_STATUSES;
export const vBookingStatus = v.union(...bookingStatuses.map((s) => v.literal(s)));
/** The statuses the field sets on a job (en route, in progress, done, no-show, back to confirmed). */
export const vFieldStatus = v.union(...FIELD_STATUSES.map((s) => v.literal(s)));
export type BookingStatus = Infer<typeof vBookingStatus>;

export const resourceKinds = ["provider", "room", "chair", "desk", "other"] as const;
export const vResourceKind = v.union(...resourceKinds.map((k) => v.literal(k)));

/** "HH:MM" local wall-clock interval; `end` may be <= `start` to cross midnight. */
export const vLocalTimeRange = v.object({ start: v.string(), end: v.string() });

/** Weekly working hours: 0 = Sunday … 6 = Saturday, local wall-clock. */
export const vWeeklyHours = v.array(
  v.object({ weekday: v.number(), start: v.string(), end: v.string() }),
);

export const vLatLng = v.object({ lat: v.number(), lng: v.number() });

/** A polygon ring of lat/lng points (first point need not repeat); optional holes. */
export const vPolygon = v.object({ outer: v.array(vLatLng), holes: v.optional(v.array(v.array(vLatLng))) });

export const vZonePricing = v.object({
  tripChargeMinor: v.number(),
  /** Basis points applied to the service price: 10_000 = ×1. */
  priceMultiplierBp: v.number(),
  minimumMinor: v.number(),
});

export const vCancellationPolicy = v.object({
  /** Free cancellation until this many hours before the start. */
  freeUntilHours: v.number(),
  lateFeeFlatMinor: v.number(),
  /** Basis points of the booking total. */
  lateFeePercentBp: v.number(),
  noShowFeeFlatMinor: v.number(),
  noShowFeePercentBp: v.number(),
});

export const vReschedulePolicy = v.object({
  freeUntilHours: v.number(),
  lateFeeFlatMinor: v.number(),
  maxReschedules: v.number(),
});

export const vBookingRules = v.object({
  minimumNoticeMinutes: v.number(),
  bookingHorizonDays: v.number(),
  slotStepMinutes: v.number(),
  /** 0 = exact start times; > 0 = customers pick an arrival window of this length. */
  arrivalWindowMinutes: v.number(),
  holdMinutes: v.number(),
  /** Basis points of the total taken when a booking is confirmed; 10_000 = pay in full. */
  depositBp: v.number(),
  autoAssign: v.union(v.literal("priority"), v.literal("round_robin"), v.literal("manual")),
  /**
   * How long before the arrival window a provider may mark a job en route; absent = the
   * platform default (DEFAULT_EN_ROUTE_LEAD_MINUTES in domain/bookingStatus.ts).
   */
  enRouteLeadMinutes: v.optional(v.number()),
});

/** Recurring plans: whether a plan's first visit is charged at full price (no frequency discount). */
export const vRecurringRules = v.object({ firstVisitFullPrice: v.boolean() });

export const vBusinessPolicies = v.object({
  cancellation: vCancellationPolicy,
  reschedule: vReschedulePolicy,
  booking: vBookingRules,
  /** Absent = every visit of a plan gets the frequency discount. */
  recurring: v.optional(vRecurringRules),
});
export type BusinessPolicies = Infer<typeof vBusinessPolicies>;

export const frequencies = ["once", "weekly", "every_n_weeks", "monthly"] as const;
export const vFrequency = v.union(...frequencies.map((f) => v.literal(f)));

/** One row of a zone's frequency discount table: every `interval` weeks / months, `discountBp` off. */
export const vFrequencyDiscount = v.object({
  frequency: v.union(v.literal("weekly"), v.literal("monthly")),
  interval: v.number(),
  discountBp: v.number(),
});

/** How a plan's visits are billed: a card saved off-session, charged per visit (model/planBilling.ts). */
export const planBillingStatuses = ["needs_card", "active", "card_update_needed"] as const;
export const vPlanBillingStatus = v.union(...planBillingStatuses.map((s) => v.literal(s)));

export const vCartItem = v.object({
  productId: v.id("products"),
  quantity: v.number(),
  extras: v.array(v.object({ extraId: v.id("extras"), quantity: v.number() })),
});
export type CartItem = Infer<typeof vCartItem>;

/** A cart line as priced when booked (names and prices frozen). */
export const vBookedItem = v.object({
  productId: v.id("products"),
  name: v.string(),
  quantity: v.number(),
  unitPriceMinor: v.number(),
  durationMinutes: v.number(),
  extras: v.array(
    v.object({ extraId: v.id("extras"), name: v.string(), quantity: v.number(), amountMinor: v.number() }),
  ),
});

export const vInvoiceLineKind = v.union(
  v.literal("product"),
  v.literal("extra"),
  v.literal("trip_charge"),
  v.literal("minimum"),
  v.literal("discount"),
  v.literal("tax"),
  v.literal("fee"),
);

export const vInvoiceLine = v.object({
  kind: vInvoiceLineKind,
  description: v.string(),
  quantity: v.number(),
  unitAmountMinor: v.number(),
  amountMinor: v.number(),
});
export type InvoiceLine = Infer<typeof vInvoiceLine>;

export const vQuote = v.object({
  currency: v.string(),
  subtotalMinor: v.number(),
  discountMinor: v.number(),
  tripChargeMinor: v.number(),
  minimumTopUpMinor: v.number(),
  taxMinor: v.number(),
  totalMinor: v.number(),
  durationMinutes: v.number(),
});

export const vAddress = v.object({
  line1: v.string(),
  line2: v.optional(v.string()),
  city: v.string(),
  region: v.optional(v.string()),
  postalCode: v.string(),
  country: v.string(),
  location: v.optional(vLatLng),
});

export const invoiceStatuses = ["draft", "open", "paid", "partially_refunded", "refunded", "void"] as const;
export const vInvoiceStatus = v.union(...invoiceStatuses.map((s) => v.literal(s)));

export const paymentStatuses = ["requires_payment", "processing", "succeeded", "failed", "canceled"] as const;
export const vPaymentStatus = v.union(...paymentStatuses.map((s) => v.literal(s)));

/** How many units of a product a booking takes, and what units beyond the included ones cost. */
export const vProductQuantity = v.object({
  min: v.number(),
  max: v.number(),
  step: v.number(),
  /** Units covered by the base price and duration. */
  included: v.number(),
  extraUnitPriceMinor: v.number(),
  extraUnitDurationMinutes: v.number(),
  unitLabel: v.optional(v.string()),
});
/** A flat extra is taken once; a per-quantity one up to its maxQuantity. */
export const vExtraPricing = v.union(v.literal("flat"), v.literal("per_quantity"));

export const vActor = v.object({
  role: v.union(
    v.literal("platform_admin"),
    v.literal("owner"),
    v.literal("manager"),
    v.literal("staff"),
    v.literal("customer"),
    v.literal("system"),
    v.literal("api"),
  ),
  userId: v.optional(v.id("users")),
  apiKeyId: v.optional(v.id("apiKeys")),
});
export type Actor = Infer<typeof vActor>;

export const channels = ["email", "sms", "whatsapp"] as const;
export const vChannel = v.union(...channels.map((c) => v.literal(c)));

export const templateKeys = [
  "booking_confirmed",
  "reminder_24h",
  "reminder_2h",
  "booking_rescheduled",
  "booking_cancelled",
  "payment_receipt",
  "refund_receipt",
  "payment_failed",
  "review_request",
  "provider_en_route",
  "new_message",
  "plan_visit_upcoming",
  "card_update_needed",
  "staff_invite",
  "account_verify_code",
  "account_reset_code",
  "account_sign_in_code",
  "account_welcome",
] as const;
export const vTemplateKey = v.union(...templateKeys.map((k) => v.literal(k)));

export const notificationStatuses = ["queued", "sending", "sent", "failed", "skipped"] as const;
export const vNotificationStatus = v.union(...notificationStatuses.map((s) => v.literal(s)));
/** A notification's attachment, produced when it is sent: an invoice rendered as PDF. */
export const vNotificationAttachment = v.object({ kind: v.literal("invoice_pdf"), invoiceId: v.id("invoices") });

export const apiScopeResources = [
  "customers",
  "zones",
  "catalogue",
  "resources",
  "availability",
  "bookings",
  "invoices",
  "refunds",
  "webhooks",
  "events",
  /** The staff assistant's tools over MCP (`/mcp`): the key acts as the person who created it. */
  "assistant",
] as const;
export const vApiScope = v.object({
  resource: v.union(...apiScopeResources.map((r) => v.literal(r))),
  access: v.union(v.literal("read"), v.literal("write")),
});

// ---------------------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------------------

/** Convex Auth's tables but `users`, which is the platform's own (below) with Convex Auth's fields. */
const { users: _authUsers, ...accountTables } = authTables;

export default defineSchema({
  // --- People and tenants --------------------------------------------------------------

  /**
   * A signed-in person, linked to the auth provider's identity. Clerk and the local sign-in:
   * `tokenIdentifier` is `<issuer>|<subject>`. Convex Auth (auth.ts) owns its users directly
   * (its tokens name the user id) and stores `convex-auth|<userId>` here; the other fields
   * are Convex Auth's own (`authTables.users`), which its providers fill in.
   */
  users: defineTable({
    tokenIdentifier: v.string(),
    name: v.string(),
    email: v.optional(v.string()),
    isPlatformAdmin: v.boolean(),
    image: v.optional(v.string()),
    emailVerificationTime: v.optional(v.number()),
    phone: v.optional(v.string()),
    phoneVerificationTime: v.optional(v.number()),
    isAnonymous: v.optional(v.boolean()),
  })
    .index("by_tokenIdentifier", ["tokenIdentifier"])
    // Convex Auth's index names (it looks users up by them).
    .index("email", ["email"])
    .index("phone", ["phone"]),

  // Convex Auth's tables: sessions, accounts (password hashes), refresh tokens, hashed
  // one-time codes, OAuth verifiers, failed-attempt counters.
  ...accountTables,

  businesses: defineTable({
    /** One business per owner, enforced by `by_ownerId` lookups in `businesses.create`. */
    ownerId: v.id("users"),
    name: v.string(),
    slug: v.string(),
    type: vBusinessType,
    status: vBusinessStatus,
    verification: v.optional(
      v.object({ verifiedAt: v.number(), verifiedBy: v.id("users"), note: v.optional(v.string()) }),
    ),
    statusReason: v.optional(v.string()),
    timeZone: v.string(),
    currency: v.string(),
    locale: v.string(),
    policies: vBusinessPolicies,
    plan: vPlan,
    stripeCustomerId: v.optional(v.string()),
    stripeSubscriptionId: v.optional(v.string()),
    planStatus: v.optional(v.string()),
  })
    .index("by_ownerId", ["ownerId"])
    .index("by_slug", ["slug"])
    .index("by_status", ["status"])
    .index("by_stripeCustomerId", ["stripeCustomerId"]),

  /** Staff of a business: owner, manager/dispatcher, staff (providers). */
  memberships: defineTable({
    businessId: v.id("businesses"),
    userId: v.id("users"),
    role: vMemberRole,
    /** The bookable resource this staff member is, when they are a provider. */
    resourceId: v.optional(v.id("resources")),
  })
    .index("by_userId", ["userId"])
    .index("by_businessId_and_userId", ["businessId", "userId"])
    .index("by_businessId_and_role", ["businessId", "role"]),

  /**
   * An invitation to join a business's staff, sent by email (model/teamCommands.ts). Only
   * the SHA-256 of the link's token is stored; resending issues a new token.
   */
  invites: defineTable({
    businessId: v.id("businesses"),
    /** Lower-cased. */
    email: v.string(),
    role: vMemberRole,
    /** The resource the person will be (a provider's schedule), linked on acceptance. */
    resourceId: v.optional(v.id("resources")),
    tokenHash: v.string(),
    status: v.union(v.literal("pending"), v.literal("accepted"), v.literal("revoked")),
    expiresAt: v.number(),
    invitedBy: v.id("users"),
    createdAt: v.number(),
    sentAt: v.number(),
    acceptedBy: v.optional(v.id("users")),
    acceptedAt: v.optional(v.number()),
    revokedAt: v.optional(v.number()),
  })
    .index("by_tokenHash", ["tokenHash"])
    .index("by_businessId_and_status", ["businessId", "status"]),

  // --- Zones --------------------------------------------------------------------------

  zones: defineTable({
    businessId: v.id("businesses"),
    name: v.string(),
    active: v.boolean(),
    boundaries: v.array(vPolygon),
    pricing: vZonePricing,
    /** Basis points; 825 = 8.25 %. */
    taxRateBp: v.number(),
    taxInclusive: v.boolean(),
    /** Discounts for recurring plans in this zone; absent = the platform's default table. */
    frequencyDiscounts: v.optional(v.array(vFrequencyDiscount)),
  }).index("by_businessId", ["businessId"]),

  /** One row per (zone, normalised postal code) so an address resolves with one index read. */
  zonePostalCodes: defineTable({
    businessId: v.id("businesses"),
    zoneId: v.id("zones"),
    postalCode: v.string(),
  })
    .index("by_businessId_and_postalCode", ["businessId", "postalCode"])
    .index("by_zoneId", ["zoneId"]),

  // --- Catalogue ----------------------------------------------------------------------

  industries: defineTable({
    businessId: v.id("businesses"),
    name: v.string(),
    slug: v.string(),
    description: v.optional(v.string()),
    active: v.boolean(),
  })
    // Kept beside by_businessId_and_slug for lists in creation order.
    // eslint-disable-next-line @convex-dev/no-duplicate-indexes
    .index("by_businessId", ["businessId"])
    .index("by_businessId_and_slug", ["businessId", "slug"]),

  categories: defineTable({
    businessId: v.id("businesses"),
    industryId: v.id("industries"),
    name: v.string(),
    sortOrder: v.number(),
  })
    .index("by_industryId", ["industryId"])
    .index("by_businessId", ["businessId"]),

  products: defineTable({
    businessId: v.id("businesses"),
    industryId: v.id("industries"),
    categoryId: v.id("categories"),
    name: v.string(),
    description: v.optional(v.string()),
    priceMinor: v.number(),
    durationMinutes: v.number(),
    quantity: vProductQuantity,
    active: v.boolean(),
    sortOrder: v.number(),
  })
    .index("by_businessId", ["businessId"])
    .index("by_industryId", ["industryId"])
    .index("by_categoryId", ["categoryId"])
    // Customers search the portal's catalogue (convex/search.ts).
    .searchIndex("search_name", { searchField: "name", filterFields: ["businessId", "active"] }),

  extras: defineTable({
    businessId: v.id("businesses"),
    industryId: v.id("industries"),
    name: v.string(),
    priceMinor: v.number(),
    durationMinutes: v.number(),
    pricing: vExtraPricing,
    maxQuantity: v.number(),
    /** Empty = applies to every product of the industry. */
    productIds: v.array(v.id("products")),
    active: v.boolean(),
  })
    .index("by_businessId", ["businessId"])
    .index("by_industryId", ["industryId"]),

  // --- Resources ----------------------------------------------------------------------

  /** Anything bookable: a provider, a room, a chair, a desk. */
  resources: defineTable({
    businessId: v.id("businesses"),
    kind: vResourceKind,
    name: v.string(),
    userId: v.optional(v.id("users")),
    capacity: v.number(),
    /** Lower is preferred by auto-assignment. */
    priority: v.number(),
    active: v.boolean(),
    weeklyHours: vWeeklyHours,
    bufferBeforeMinutes: v.number(),
    bufferAfterMinutes: v.number(),
    maxBookingsPerDay: v.optional(v.number()),
    /** Empty = serves every zone / product of the business. */
    zoneIds: v.array(v.id("zones")),
    productIds: v.array(v.id("products")),
    color: v.optional(v.string()),
  })
    .index("by_businessId", ["businessId"])
    .index("by_userId", ["userId"]),

  resourceDateOverrides: defineTable({
    businessId: v.id("businesses"),
    resourceId: v.id("resources"),
    date: v.string(),
    closed: v.boolean(),
    hours: v.array(vLocalTimeRange),
  }).index("by_resourceId_and_date", ["resourceId", "date"]),

  timeOff: defineTable({
    businessId: v.id("businesses"),
    resourceId: v.id("resources"),
    start: v.number(),
    end: v.number(),
    reason: v.optional(v.string()),
  }).index("by_resourceId_and_end", ["resourceId", "end"]),

  /**
   * The unit of contention for booking a resource: one document per resource and local
   * day. Every mutation that places work on a resource-day reads and writes it, so two
   * bookings racing for the same provider on the same day are serialized (Convex's OCC
   * retries the loser, which then sees the winner's assignment), while bookings for other
   * providers or days never conflict. It also carries the per-day counters.
   */
  resourceDays: defineTable({
    businessId: v.id("businesses"),
    resourceId: v.id("resources"),
    date: v.string(),
    bookingCount: v.number(),
    lastAssignedAt: v.number(),
  }).index("by_resourceId_and_date", ["resourceId", "date"]),

  // --- Customers (CRM) ----------------------------------------------------------------

  customers: defineTable({
    businessId: v.id("businesses"),
    userId: v.optional(v.id("users")),
    name: v.string(),
    email: v.optional(v.string()),
    phone: v.optional(v.string()),
    locale: v.optional(v.string()),
    timeZone: v.optional(v.string()),
    /** The channel the customer wants messages on (absent: email when they have one, else SMS). */
    preferredChannel: v.optional(vChannel),
    /** Channels the customer opted out of: nothing is sent to them there. */
    optedOutChannels: v.optional(v.array(vChannel)),
    stripeCustomerId: v.optional(v.string()),
    tags: v.array(v.string()),
    createdAt: v.number(),
  })
    // Kept beside by_businessId_and_email for lists in creation order.
    // eslint-disable-next-line @convex-dev/no-duplicate-indexes
    .index("by_businessId", ["businessId"])
    .index("by_businessId_and_email", ["businessId", "email"])
    .index("by_userId", ["userId"])
    .index("by_stripeCustomerId", ["stripeCustomerId"])
    // Staff look customers up by name (text search), email or phone (prefix ranges); see
    // convex/model/search.ts for why email and phone are not search indexes.
    .index("by_businessId_and_phone", ["businessId", "phone"])
    .searchIndex("search_name", { searchField: "name", filterFields: ["businessId"] }),

  customerAddresses: defineTable({
    businessId: v.id("businesses"),
    customerId: v.id("customers"),
    label: v.optional(v.string()),
    address: vAddress,
    zoneId: v.optional(v.id("zones")),
    isDefault: v.boolean(),
  }).index("by_customerId", ["customerId"]),

  /** Stripe references only: card data never touches the platform. */
  paymentMethods: defineTable({
    businessId: v.id("businesses"),
    customerId: v.id("customers"),
    stripePaymentMethodId: v.string(),
    brand: v.optional(v.string()),
    last4: v.optional(v.string()),
    expMonth: v.optional(v.number()),
    expYear: v.optional(v.number()),
    isDefault: v.boolean(),
  })
    .index("by_customerId", ["customerId"])
    .index("by_stripePaymentMethodId", ["stripePaymentMethodId"]),

  /** A customer's recurring plan (e.g. weekly cleaning) as billed through Stripe. */
  customerSubscriptions: defineTable({
    businessId: v.id("businesses"),
    customerId: v.id("customers"),
    seriesId: v.optional(v.id("recurringSeries")),
    stripeSubscriptionId: v.optional(v.string()),
    status: v.string(),
    currentPeriodEnd: v.optional(v.number()),
  })
    .index("by_customerId", ["customerId"])
    .index("by_stripeSubscriptionId", ["stripeSubscriptionId"]),

  clientNotes: defineTable({
    businessId: v.id("businesses"),
    customerId: v.id("customers"),
    authorId: v.id("users"),
    body: v.string(),
    /** Shown to the provider on the job. */
    visibleToStaff: v.boolean(),
    createdAt: v.number(),
  }).index("by_customerId", ["customerId"]),

  // --- Bookings -----------------------------------------------------------------------

  bookings: defineTable({
    businessId: v.id("businesses"),
    customerId: v.id("customers"),
    zoneId: v.id("zones"),
    industryId: v.id("industries"),
    address: v.optional(vAddress),
    status: vBookingStatus,
    /** Service start and end instants (without buffers). */
    start: v.number(),
    end: v.number(),
    /** Local date of `start` in the business time zone, for the dispatch board. */
    localDate: v.string(),
    /** When > start: the customer was promised arrival within [start, arrivalWindowEnd). */
    arrivalWindowEnd: v.optional(v.number()),
    items: v.array(vBookedItem),
    quote: vQuote,
    frequency: vFrequency,
    seriesId: v.optional(v.id("recurringSeries")),
    occurrenceIndex: v.optional(v.number()),
    invoiceId: v.optional(v.id("invoices")),
    /** Denormalised from bookingAssignments for the board and the customer view. */
    assignedResourceIds: v.array(v.id("resources")),
    holdExpiresAt: v.optional(v.number()),
    customerNotes: v.optional(v.string()),
    rescheduleCount: v.number(),
    cancellation: v.optional(
      v.object({ at: v.number(), actor: vActor, reason: v.optional(v.string()), feeMinor: v.number() }),
    ),
    source: v.union(v.literal("portal"), v.literal("api"), v.literal("staff"), v.literal("series")),
    createdAt: v.number(),
  })
    .index("by_businessId_and_start", ["businessId", "start"])
    .index("by_businessId_and_localDate", ["businessId", "localDate"])
    .index("by_businessId_and_status_and_start", ["businessId", "status", "start"])
    .index("by_customerId_and_start", ["customerId", "start"])
    .index("by_seriesId", ["seriesId"])
    .index("by_status_and_holdExpiresAt", ["status", "holdExpiresAt"]),

  /**
   * A resource's share of a booking. `busyStart`/`busyEnd` include the resource's buffers;
   * availability subtracts these. Active while the booking holds time (HELD … IN_PROGRESS).
   */
  bookingAssignments: defineTable({
    businessId: v.id("businesses"),
    bookingId: v.id("bookings"),
    resourceId: v.id("resources"),
    busyStart: v.number(),
    busyEnd: v.number(),
    localDate: v.string(),
    capacityUnits: v.number(),
    status: v.union(v.literal("offered"), v.literal("accepted"), v.literal("declined"), v.literal("released")),
    assignedAt: v.number(),
  })
    .index("by_resourceId_and_busyEnd", ["resourceId", "busyEnd"])
    .index("by_bookingId", ["bookingId"])
    .index("by_businessId_and_localDate", ["businessId", "localDate"]),

  /** Every status transition, with who made it and why. */
  bookingStatusHistory: defineTable({
    businessId: v.id("businesses"),
    bookingId: v.id("bookings"),
    from: v.optional(vBookingStatus),
    to: vBookingStatus,
    at: v.number(),
    actor: vActor,
    reason: v.optional(v.string()),
  }).index("by_bookingId", ["bookingId"]),

  recurringSeries: defineTable({
    businessId: v.id("businesses"),
    customerId: v.id("customers"),
    zoneId: v.id("zones"),
    industryId: v.id("industries"),
    frequency: vFrequency,
    /** Weeks between occurrences for every_n_weeks. */
    interval: v.number(),
    startDate: v.string(),
    localTime: v.string(),
    occurrences: v.number(),
    cart: v.array(vCartItem),
    discountBp: v.number(),
    status: v.union(v.literal("active"), v.literal("paused"), v.literal("cancelled")),
    /**
     * Occurrence number of `startDate` in the plan as a whole: 0 until the plan's time or
     * frequency is changed from some visit on, which restarts the rule there.
     */
    indexOffset: v.optional(v.number()),
    /** Per-visit billing against a saved card; absent = visits are paid one by one at checkout. */
    billing: v.optional(
      v.object({
        status: vPlanBillingStatus,
        paymentMethodId: v.optional(v.id("paymentMethods")),
        /** When the last charge failed for good (the customer was asked to update the card). */
        cardUpdateRequestedAt: v.optional(v.number()),
      }),
    ),
    createdAt: v.number(),
  })
    .index("by_customerId", ["customerId"])
    .index("by_businessId", ["businessId"])
    .index("by_status", ["status"]),

  // --- Invoices and payments ----------------------------------------------------------

  invoices: defineTable({
    businessId: v.id("businesses"),
    bookingId: v.id("bookings"),
    customerId: v.id("customers"),
    number: v.string(),
    status: vInvoiceStatus,
    currency: v.string(),
    lines: v.array(vInvoiceLine),
    subtotalMinor: v.number(),
    discountMinor: v.number(),
    taxMinor: v.number(),
    totalMinor: v.number(),
    depositMinor: v.number(),
    amountPaidMinor: v.number(),
    amountRefundedMinor: v.number(),
    issuedAt: v.number(),
    paidAt: v.optional(v.number()),
  })
    .index("by_bookingId", ["bookingId"])
    .index("by_businessId_and_status", ["businessId", "status"])
    .index("by_businessId_and_issuedAt", ["businessId", "issuedAt"])
    .index("by_customerId", ["customerId"]),

  payments: defineTable({
    businessId: v.id("businesses"),
    invoiceId: v.id("invoices"),
    bookingId: v.id("bookings"),
    customerId: v.id("customers"),
    kind: v.union(v.literal("deposit"), v.literal("full"), v.literal("balance"), v.literal("fee")),
    amountMinor: v.number(),
    currency: v.string(),
    status: vPaymentStatus,
    provider: v.union(v.literal("stripe"), v.literal("local_test")),
    stripeCheckoutSessionId: v.optional(v.string()),
    stripePaymentIntentId: v.optional(v.string()),
    failureReason: v.optional(v.string()),
    /** A plan visit charged off-session against the plan's saved card, and which try this is (1, 2, …). */
    offSession: v.optional(v.object({ seriesId: v.id("recurringSeries"), attempt: v.number(), paymentMethodId: v.id("paymentMethods") })),
    /** Stripe's event `created` of the last applied event, to ignore stale out-of-order ones. */
    lastEventAt: v.optional(v.number()),
    createdAt: v.number(),
    updatedAt: v.number(),
  })
    .index("by_invoiceId", ["invoiceId"])
    .index("by_stripePaymentIntentId", ["stripePaymentIntentId"])
    .index("by_stripeCheckoutSessionId", ["stripeCheckoutSessionId"]),

  refunds: defineTable({
    businessId: v.id("businesses"),
    paymentId: v.id("payments"),
    invoiceId: v.id("invoices"),
    amountMinor: v.number(),
    currency: v.string(),
    reason: v.optional(v.string()),
    status: v.union(v.literal("pending"), v.literal("succeeded"), v.literal("failed")),
    stripeRefundId: v.optional(v.string()),
    requestedBy: vActor,
    createdAt: v.number(),
  })
    .index("by_paymentId", ["paymentId"])
    .index("by_invoiceId", ["invoiceId"])
    .index("by_stripeRefundId", ["stripeRefundId"]),

  /**
   * Saving a card for a recurring plan's off-session charges: one row per attempt (a Stripe
   * Checkout Session in setup mode, or the local test checkout), done by `setup_intent.succeeded`.
   */
  planCardSetups: defineTable({
    businessId: v.id("businesses"),
    seriesId: v.id("recurringSeries"),
    customerId: v.id("customers"),
    provider: v.union(v.literal("stripe"), v.literal("local_test")),
    status: v.union(v.literal("open"), v.literal("succeeded"), v.literal("canceled")),
    stripeCheckoutSessionId: v.optional(v.string()),
    stripeSetupIntentId: v.optional(v.string()),
    createdAt: v.number(),
  })
    .index("by_seriesId", ["seriesId"])
    .index("by_stripeCheckoutSessionId", ["stripeCheckoutSessionId"])
    .index("by_stripeSetupIntentId", ["stripeSetupIntentId"]),

  /** Stripe event ids already applied: each event takes effect once. */
  stripeEvents: defineTable({
    eventId: v.string(),
    type: v.string(),
    created: v.number(),
    processedAt: v.number(),
  }).index("by_eventId", ["eventId"]),

  // --- Events: outbox, realtime, partner webhooks -------------------------------------

  /** The platform's event log, written in the same transaction as the change it records. */
  events: defineTable({
    businessId: v.id("businesses"),
    type: v.string(),
    entity: v.object({ table: v.string(), id: v.string() }),
    data: v.any(),
    createdAt: v.number(),
  })
    .index("by_businessId_and_createdAt", ["businessId", "createdAt"])
    .index("by_businessId_and_type_and_createdAt", ["businessId", "type", "createdAt"]),

  /** One push per (event, PartyKit room), with the room's next sequence number. */
  outbox: defineTable({
    eventId: v.id("events"),
    party: v.string(),
    room: v.string(),
    seq: v.number(),
    payload: v.any(),
    status: v.union(v.literal("pending"), v.literal("delivered")),
    attempts: v.number(),
    nextAttemptAt: v.number(),
    deliveredAt: v.optional(v.number()),
    lastError: v.optional(v.string()),
  })
    .index("by_status_and_nextAttemptAt", ["status", "nextAttemptAt"])
    .index("by_party_and_room_and_seq", ["party", "room", "seq"]),

  /** Last sequence number per PartyKit room (a small, per-room unit of contention). */
  outboxRooms: defineTable({
    party: v.string(),
    room: v.string(),
    lastSeq: v.number(),
  }).index("by_party_and_room", ["party", "room"]),

  /**
   * One row per scheduled outbox delivery run (realtime.ts `requestDelivery`): the first
   * change in a short window schedules the run at the window's end, later ones in the same
   * window find the row and schedule nothing. Old rows are deleted by the runs.
   */
  outboxDeliveryRuns: defineTable({ runAt: v.number() }).index("by_runAt", ["runAt"]),

  webhookEndpoints: defineTable({
    businessId: v.id("businesses"),
    url: v.string(),
    description: v.optional(v.string()),
    /** Empty = every event type. */
    eventTypes: v.array(v.string()),
    /** While a secret rotates both are valid and deliveries carry two signatures. */
    secrets: v.array(v.object({ secret: v.string(), createdAt: v.number(), expiresAt: v.optional(v.number()) })),
    status: v.union(v.literal("enabled"), v.literal("disabled")),
    disabledReason: v.optional(v.string()),
    failingSince: v.optional(v.number()),
    createdAt: v.number(),
  }).index("by_businessId", ["businessId"]),

  webhookDeliveries: defineTable({
    businessId: v.id("businesses"),
    endpointId: v.id("webhookEndpoints"),
    eventId: v.id("events"),
    status: v.union(v.literal("pending"), v.literal("succeeded"), v.literal("failed"), v.literal("abandoned")),
    attempts: v.number(),
    nextAttemptAt: v.number(),
    createdAt: v.number(),
    lastAttemptAt: v.optional(v.number()),
  })
    .index("by_endpointId_and_createdAt", ["endpointId", "createdAt"])
    .index("by_status_and_nextAttemptAt", ["status", "nextAttemptAt"])
    .index("by_eventId", ["eventId"]),

  webhookAttempts: defineTable({
    businessId: v.id("businesses"),
    deliveryId: v.id("webhookDeliveries"),
    at: v.number(),
    statusCode: v.optional(v.number()),
    latencyMs: v.number(),
    responseExcerpt: v.optional(v.string()),
    error: v.optional(v.string()),
  }).index("by_deliveryId", ["deliveryId"]),

  // --- Public API -----------------------------------------------------------------------

  /** Hashed at rest; the full key is shown once. */
  apiKeys: defineTable({
    businessId: v.id("businesses"),
    name: v.string(),
    /** Visible part, e.g. "bk_test_3fa9": tells test from live and identifies the key. */
    prefix: v.string(),
    /** SHA-256 of the full key, hex. */
    hash: v.string(),
    mode: v.union(v.literal("test"), v.literal("live")),
    scopes: v.array(vApiScope),
    status: v.union(v.literal("active"), v.literal("revoked")),
    /** Set during rotation: the old key keeps working until then. */
    expiresAt: v.optional(v.number()),
    lastUsedAt: v.optional(v.number()),
    createdAt: v.number(),
    createdBy: v.id("users"),
  })
    .index("by_hash", ["hash"])
    .index("by_businessId", ["businessId"]),

  idempotencyRecords: defineTable({
    apiKeyId: v.id("apiKeys"),
    key: v.string(),
    requestHash: v.string(),
    status: v.union(v.literal("in_flight"), v.literal("completed")),
    response: v.optional(v.object({ status: v.number(), body: v.string() })),
    createdAt: v.number(),
    expiresAt: v.number(),
  })
    .index("by_apiKeyId_and_key", ["apiKeyId", "key"])
    .index("by_expiresAt", ["expiresAt"]),

  /**
   * Retired: the REST rate limit is the rate-limiter component's now. Kept until
   * `migrations:clearRateLimitWindows` has run on every deployment; then remove it.
   */
  rateLimitWindows: defineTable({
    apiKeyId: v.id("apiKeys"),
    windowStart: v.number(),
    count: v.number(),
  }).index("by_apiKeyId_and_windowStart", ["apiKeyId", "windowStart"]),

  // --- Communications -------------------------------------------------------------------

  messageTemplates: defineTable({
    /** Absent = platform default. */
    businessId: v.optional(v.id("businesses")),
    key: vTemplateKey,
    channel: vChannel,
    locale: v.string(),
    subject: v.optional(v.string()),
    /** Mustache-style {{placeholders}}. */
    body: v.string(),
    active: v.boolean(),
  }).index("by_businessId_and_key_and_channel_and_locale", ["businessId", "key", "channel", "locale"]),

  /**
   * The secret of a notification whose log row masks it (an account's one-time code,
   * model/notify.ts): kept apart until the message is sent or the code expires, then deleted.
   */
  notificationSecrets: defineTable({ notificationId: v.id("notifications"), value: v.string(), expiresAt: v.number() })
    .index("by_notificationId", ["notificationId"])
    .index("by_expiresAt", ["expiresAt"]),

  /**
   * Sign-in tickets of the accounts' front door that were used (authTickets.ts): a ticket is
   * good for one `auth:signIn` call, so its id is kept until it expires (then purged hourly).
   */
  authTicketsUsed: defineTable({ ticketId: v.string(), expiresAt: v.number() })
    .index("by_ticketId", ["ticketId"])
    .index("by_expiresAt", ["expiresAt"]),

  notifications: defineTable({
    /** Absent for messages that belong to no business (sign-up and sign-in codes). */
    businessId: v.optional(v.id("businesses")),
    customerId: v.optional(v.id("customers")),
    userId: v.optional(v.id("users")),
    bookingId: v.optional(v.id("bookings")),
    /** The booking's start when this was written: a reminder is sent once per start. */
    bookingStart: v.optional(v.number()),
    templateKey: vTemplateKey,
    channel: vChannel,
    to: v.string(),
    locale: v.optional(v.string()),
    subject: v.optional(v.string()),
    body: v.string(),
    /** What goes with the message, rendered when it is sent (an invoice as PDF). */
    attachments: v.optional(v.array(vNotificationAttachment)),
    /**
     * queued: waiting for (its next) delivery attempt; sending: an attempt is under way;
     * sent: the provider accepted it; failed: given up (see `error`); skipped: not sent
     * on purpose (the customer opted out of the channel).
     */
    status: vNotificationStatus,
    error: v.optional(v.string()),
    providerMessageId: v.optional(v.string()),
    /** Which transport delivered it: "smtp", "twilio", "local-inbox". */
    transport: v.optional(v.string()),
    attempts: v.optional(v.number()),
    lastAttemptAt: v.optional(v.number()),
    nextAttemptAt: v.optional(v.number()),
    createdAt: v.number(),
    sentAt: v.optional(v.number()),
    /** The subject and body show a secret (a one-time code) masked; the value is in notificationSecrets while it lasts. */
    hidesSecret: v.optional(v.boolean()),
  })
    .index("by_bookingId_and_templateKey", ["bookingId", "templateKey"])
    .index("by_businessId_and_createdAt", ["businessId", "createdAt"])
    .index("by_businessId_and_status_and_createdAt", ["businessId", "status", "createdAt"])
    .index("by_businessId_and_channel_and_createdAt", ["businessId", "channel", "createdAt"])
    .index("by_businessId_and_templateKey_and_createdAt", ["businessId", "templateKey", "createdAt"])
    .index("by_customerId_and_createdAt", ["customerId", "createdAt"])
    .index("by_status", ["status"]),

  /**
   * A thread between a customer and the business: the general one (no `bookingId`) or one
   * per booking. Carries what the inbox lists (last message, unread per side, assignee) so
   * the inbox reads one document per thread (model/conversations.ts keeps it in step).
   */
  conversations: defineTable({
    businessId: v.id("businesses"),
    customerId: v.id("customers"),
    bookingId: v.optional(v.id("bookings")),
    /** The team member who answers it (a membership of the business); absent = unassigned. */
    assigneeId: v.optional(v.id("memberships")),
    lastMessageAt: v.number(),
    lastMessagePreview: v.string(),
    lastFrom: v.union(v.literal("customer"), v.literal("business")),
    /** Messages of the customer the business has not read, and the other way round. */
    unreadByBusiness: v.number(),
    unreadByCustomer: v.number(),
    createdAt: v.number(),
  })
    .index("by_customerId_and_bookingId", ["customerId", "bookingId"])
    .index("by_customerId_and_lastMessageAt", ["customerId", "lastMessageAt"])
    .index("by_businessId_and_lastMessageAt", ["businessId", "lastMessageAt"])
    .index("by_businessId_and_assigneeId_and_lastMessageAt", ["businessId", "assigneeId", "lastMessageAt"]),

  /** One message of a conversation. */
  // --- Staff assistant chat (convex/assistant/chat.ts) ----------------------------------

  assistantThreads: defineTable({
    businessId: v.id("businesses"),
    userId: v.id("users"),
    title: v.string(),
    createdAt: v.number(),
    updatedAt: v.number(),
  }).index("by_userId_and_businessId_and_updatedAt", ["userId", "businessId", "updatedAt"]),

  assistantMessages: defineTable({
    threadId: v.id("assistantThreads"),
    role: v.union(v.literal("user"), v.literal("assistant"), v.literal("tool"), v.literal("error")),
    text: v.string(),
    /** A tool call: read tools run at once ("done"); write tools wait for the person ("pending"). */
    tool: v.optional(
      v.object({
        name: v.string(),
        input: v.any(),
        status: v.union(v.literal("done"), v.literal("pending"), v.literal("confirmed"), v.literal("dismissed"), v.literal("failed"), v.literal("undone")),
        summary: v.optional(v.string()),
        feeMinor: v.optional(v.number()),
        result: v.optional(v.any()),
        /** A confirmed change that can be taken back until `until`, while the booking is as it left it. */
        undo: v.optional(
          v.object({
            tool: v.string(),
            input: v.any(),
            summary: v.string(),
            until: v.number(),
            bookingId: v.id("bookings"),
            start: v.number(),
            status: v.string(),
          }),
        ),
      }),
    ),
    /** A reply still being written by the model (its text grows until the step ends). */
    streaming: v.optional(v.boolean()),
    createdAt: v.number(),
  }).index("by_threadId", ["threadId"]),

  messages: defineTable({
    businessId: v.id("businesses"),
    customerId: v.id("customers"),
    /** Absent only on messages written before conversations existed. */
    conversationId: v.optional(v.id("conversations")),
    bookingId: v.optional(v.id("bookings")),
    from: v.union(v.literal("customer"), v.literal("business")),
    authorId: v.id("users"),
    body: v.string(),
    /** Images of the job, in Convex file storage. */
    attachments: v.optional(
      v.array(v.object({ storageId: v.id("_storage"), contentType: v.string(), size: v.number(), name: v.optional(v.string()) })),
    ),
    createdAt: v.number(),
    readAt: v.optional(v.number()),
  })
    .index("by_customerId_and_createdAt", ["customerId", "createdAt"])
    .index("by_conversationId_and_createdAt", ["conversationId", "createdAt"]),

  reviews: defineTable({
    businessId: v.id("businesses"),
    bookingId: v.id("bookings"),
    customerId: v.id("customers"),
    resourceIds: v.array(v.id("resources")),
    rating: v.number(),
    comment: v.optional(v.string()),
    reply: v.optional(v.string()),
    createdAt: v.number(),
  })
    .index("by_bookingId", ["bookingId"])
    .index("by_businessId_and_createdAt", ["businessId", "createdAt"]),
});
