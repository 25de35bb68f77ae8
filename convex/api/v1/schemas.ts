/**
 * zod schemas of the REST API: request bodies and query strings (validated by the router)
 * and response objects (the OpenAPI document's components, checked by the tests against
 * real responses). One source for validation and documentation.
 *
 * Conventions: ids are strings; instants are epoch milliseconds; local dates "YYYY-MM-DD";
 * money is integer minor units; absent values are `null` in responses. Request objects are
 * strict: an unknown field is a 422 naming it.
 *
 * Plain module: no registered functions.
 */
import { z } from "zod";
import { FIELD_STATUSES } from "../../../domain/bookingStatus";
import { apiScopeResources, bookingStatuses, invoiceStatuses, resourceKinds } from "../../schema";
import { apiErrorCodes } from "./errors";
import { DEFAULT_LIMIT, MAX_LIMIT } from "./pagination";

// ---------------------------------------------------------------------------------------
// Building blocks
// ---------------------------------------------------------------------------------------

/** Named schemas: the OpenAPI document's `components.schemas`. */
export const apiRegistry = z.registry<{ id: string }>();

export const zId = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, "must be an id");
export const zInstant = z.int().min(946_684_800_000).max(7_258_118_400_000).describe("Epoch milliseconds (UTC).");
export const zLocalDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date YYYY-MM-DD");
export const zMinor = z.int().min(0).max(100_000_000);
const zText = (max: number) => z.string().max(max);

export const zLatLng = z.strictObject({ lat: z.number().min(-90).max(90), lng: z.number().min(-180).max(180) }).register(apiRegistry, { id: "LatLng" });

export const zAddressInput = z
  .strictObject({
    line1: zText(200),
    line2: zText(200).optional(),
    city: zText(120),
    region: zText(120).optional(),
    postalCode: zText(20),
    country: z.string().length(2).describe("ISO 3166-1 alpha-2"),
    location: zLatLng.optional(),
  })
  .register(apiRegistry, { id: "AddressInput" });

export const zAddressFields = z
  .object({
    line1: z.string(),
    line2: z.string().nullable(),
    city: z.string(),
    region: z.string().nullable(),
    postalCode: z.string(),
    country: z.string(),
    location: zLatLng.nullable(),
  })
  .register(apiRegistry, { id: "AddressFields" });

// ---------------------------------------------------------------------------------------
// Lists
// ---------------------------------------------------------------------------------------

export const zOrder = z.enum(["asc", "desc"]);

/** `limit` and `cursor`, shared by every list's query string. */
export const listQuery = {
  limit: z.coerce.number().int().min(1).max(MAX_LIMIT).default(DEFAULT_LIMIT).describe(`1–${MAX_LIMIT}, default ${DEFAULT_LIMIT}.`),
  cursor: z.string().max(2000).optional().describe("`next_cursor` of the previous page."),
};

const zBoolString = z.enum(["true", "false"]).transform((s) => s === "true");

export function listOf<T extends z.ZodType>(item: T, id: string) {
  return z
    .object({
      object: z.literal("list"),
      data: z.array(item),
      has_more: z.boolean(),
      next_cursor: z.string().nullable(),
    })
    .register(apiRegistry, { id });
}

export const zError = z
  .object({
    error: z.object({
      code: z.enum(apiErrorCodes as [string, ...string[]]),
      message: z.string(),
      param: z.string().optional(),
      request_id: z.string(),
    }),
  })
  .register(apiRegistry, { id: "Error" });

// ---------------------------------------------------------------------------------------
// Customers
// ---------------------------------------------------------------------------------------

export const zAddress = z
  .object({
    id: z.string(),
    object: z.literal("address"),
    customerId: z.string(),
    label: z.string().nullable(),
    address: zAddressFields,
    zoneId: z.string().nullable().describe("The service zone the address resolves to; null when outside every zone."),
    isDefault: z.boolean(),
  })
  .register(apiRegistry, { id: "Address" });

export const zCustomer = z
  .object({
    id: z.string(),
    object: z.literal("customer"),
    name: z.string(),
    email: z.string().nullable(),
    phone: z.string().nullable(),
    locale: z.string().nullable(),
    timeZone: z.string().nullable(),
    tags: z.array(z.string()),
    addresses: z.array(zAddress).optional().describe("On single-customer responses."),
    createdAt: z.number(),
  })
  .register(apiRegistry, { id: "Customer" });

export const zCustomerCreate = z
  .strictObject({
    name: zText(120),
    email: zText(254).optional(),
    phone: zText(40).optional(),
    locale: zText(35).optional(),
    timeZone: zText(64).optional(),
    tags: z.array(zText(40)).max(20).optional(),
    address: zAddressInput.optional().describe("A first address (becomes the default)."),
  })
  .register(apiRegistry, { id: "CustomerCreate" });

export const zCustomerUpdate = z
  .strictObject({
    name: zText(120).optional(),
    email: zText(254).optional(),
    phone: zText(40).optional(),
    locale: zText(35).optional(),
    timeZone: zText(64).optional(),
    tags: z.array(zText(40)).max(20).optional(),
  })
  .register(apiRegistry, { id: "CustomerUpdate" });

export const zCustomerListQuery = z.strictObject({
  ...listQuery,
  email: zText(254).optional().describe("Exact email (case-insensitive)."),
  order: zOrder.default("desc").describe("By creation time."),
});

export const zAddressCreate = z
  .strictObject({ label: zText(60).optional(), address: zAddressInput, isDefault: z.boolean().optional() })
  .register(apiRegistry, { id: "AddressCreate" });
export const zAddressUpdate = z
  .strictObject({ label: zText(60).optional(), address: zAddressInput.optional(), isDefault: z.literal(true).optional() })
  .register(apiRegistry, { id: "AddressUpdate" });

// ---------------------------------------------------------------------------------------
// Zones
// ---------------------------------------------------------------------------------------

const zPricing = z
  .strictObject({ tripChargeMinor: zMinor, priceMultiplierBp: z.int().min(1).max(100_000), minimumMinor: zMinor })
  .register(apiRegistry, { id: "ZonePricing" });
const zPolygon = z.strictObject({ outer: z.array(zLatLng).max(2000), holes: z.array(z.array(zLatLng).max(2000)).max(50).optional() }).register(apiRegistry, { id: "Polygon" });

export const zZone = z
  .object({
    id: z.string(),
    object: z.literal("zone"),
    name: z.string(),
    active: z.boolean(),
    pricing: zPricing,
    taxRateBp: z.number(),
    taxInclusive: z.boolean(),
    boundaries: z.array(zPolygon),
    postalCodes: z.array(z.string()).optional().describe("On single-zone responses."),
  })
  .register(apiRegistry, { id: "Zone" });

export const zZoneCreate = z
  .strictObject({
    name: zText(120),
    postalCodes: z.array(zText(20)).max(2000).default([]),
    boundaries: z.array(zPolygon).max(50).default([]),
    pricing: zPricing.default({ tripChargeMinor: 0, priceMultiplierBp: 10_000, minimumMinor: 0 }),
    taxRateBp: z.int().min(0).max(10_000).default(0),
    taxInclusive: z.boolean().default(false),
  })
  .register(apiRegistry, { id: "ZoneCreate" });

export const zZoneUpdate = z
  .strictObject({
    name: zText(120).optional(),
    postalCodes: z.array(zText(20)).max(2000).optional(),
    boundaries: z.array(zPolygon).max(50).optional(),
    pricing: zPricing.optional(),
    taxRateBp: z.int().min(0).max(10_000).optional(),
    taxInclusive: z.boolean().optional(),
    active: z.boolean().optional(),
  })
  .register(apiRegistry, { id: "ZoneUpdate" });

export const zZoneListQuery = z.strictObject({ ...listQuery, active: zBoolString.optional() });
export const zZoneResolveQuery = z.strictObject({
  postalCode: zText(20).optional(),
  country: z.string().length(2).optional(),
  lat: z.coerce.number().min(-90).max(90).optional(),
  lng: z.coerce.number().min(-180).max(180).optional(),
});
export const zZoneResolution = z.object({ object: z.literal("zone_resolution"), zone: zZone.nullable() }).register(apiRegistry, { id: "ZoneResolution" });

// ---------------------------------------------------------------------------------------
// Catalogue
// ---------------------------------------------------------------------------------------

export const zIndustry = z
  .object({ id: z.string(), object: z.literal("industry"), name: z.string(), slug: z.string(), description: z.string().nullable(), active: z.boolean() })
  .register(apiRegistry, { id: "Industry" });
export const zIndustryCreate = z
  .strictObject({ name: zText(120), slug: zText(60).optional(), description: zText(2000).optional() })
  .register(apiRegistry, { id: "IndustryCreate" });
export const zIndustryUpdate = z
  .strictObject({ name: zText(120).optional(), slug: zText(60).optional(), description: zText(2000).optional(), active: z.boolean().optional() })
  .register(apiRegistry, { id: "IndustryUpdate" });

export const zCategory = z
  .object({ id: z.string(), object: z.literal("category"), industryId: z.string(), name: z.string(), sortOrder: z.number() })
  .register(apiRegistry, { id: "Category" });
export const zCategoryCreate = z
  .strictObject({ industryId: zId, name: zText(120), sortOrder: z.int().min(-1_000_000).max(1_000_000).optional() })
  .register(apiRegistry, { id: "CategoryCreate" });
export const zCategoryUpdate = z
  .strictObject({ name: zText(120).optional(), sortOrder: z.int().min(-1_000_000).max(1_000_000).optional() })
  .register(apiRegistry, { id: "CategoryUpdate" });

const zQuantityRules = z
  .strictObject({
    min: z.int().min(1).max(10_000),
    max: z.int().min(1).max(10_000),
    step: z.int().min(1).max(10_000),
    included: z.int().min(0).max(10_000),
    extraUnitPriceMinor: zMinor,
    extraUnitDurationMinutes: z.int().min(0).max(10_080),
    unitLabel: zText(40).optional(),
  })
  .register(apiRegistry, { id: "QuantityRules" });

export const zProduct = z
  .object({
    id: z.string(),
    object: z.literal("product"),
    industryId: z.string(),
    categoryId: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    priceMinor: z.number(),
    durationMinutes: z.number(),
    quantity: z.object({
      min: z.number(),
      max: z.number(),
      step: z.number(),
      included: z.number(),
      extraUnitPriceMinor: z.number(),
      extraUnitDurationMinutes: z.number(),
      unitLabel: z.string().nullable(),
    }),
    active: z.boolean(),
    sortOrder: z.number(),
  })
  .register(apiRegistry, { id: "Product" });
export const zProductCreate = z
  .strictObject({
    categoryId: zId,
    name: zText(120),
    description: zText(4000).optional(),
    priceMinor: zMinor,
    durationMinutes: z.int().min(1).max(10_080),
    quantity: zQuantityRules.default({ min: 1, max: 1, step: 1, included: 1, extraUnitPriceMinor: 0, extraUnitDurationMinutes: 0 }),
    sortOrder: z.int().min(-1_000_000).max(1_000_000).optional(),
  })
  .register(apiRegistry, { id: "ProductCreate" });
export const zProductUpdate = z
  .strictObject({
    categoryId: zId.optional(),
    name: zText(120).optional(),
    description: zText(4000).optional(),
    priceMinor: zMinor.optional(),
    durationMinutes: z.int().min(1).max(10_080).optional(),
    quantity: zQuantityRules.optional(),
    sortOrder: z.int().min(-1_000_000).max(1_000_000).optional(),
    active: z.boolean().optional(),
  })
  .register(apiRegistry, { id: "ProductUpdate" });

export const zExtra = z
  .object({
    id: z.string(),
    object: z.literal("extra"),
    industryId: z.string(),
    name: z.string(),
    priceMinor: z.number(),
    durationMinutes: z.number(),
    pricing: z.enum(["flat", "per_quantity"]),
    maxQuantity: z.number(),
    productIds: z.array(z.string()),
    active: z.boolean(),
  })
  .register(apiRegistry, { id: "Extra" });
export const zExtraCreate = z
  .strictObject({
    industryId: zId,
    name: zText(120),
    priceMinor: zMinor,
    durationMinutes: z.int().min(0).max(10_080),
    pricing: z.enum(["flat", "per_quantity"]).default("flat"),
    maxQuantity: z.int().min(1).max(1000).default(1),
    productIds: z.array(zId).max(500).default([]),
  })
  .register(apiRegistry, { id: "ExtraCreate" });
export const zExtraUpdate = z
  .strictObject({
    name: zText(120).optional(),
    priceMinor: zMinor.optional(),
    durationMinutes: z.int().min(0).max(10_080).optional(),
    pricing: z.enum(["flat", "per_quantity"]).optional(),
    maxQuantity: z.int().min(1).max(1000).optional(),
    productIds: z.array(zId).max(500).optional(),
    active: z.boolean().optional(),
  })
  .register(apiRegistry, { id: "ExtraUpdate" });

export const zCatalogueListQuery = z.strictObject({ ...listQuery, industryId: zId.optional(), active: zBoolString.optional() });
export const zProductListQuery = z.strictObject({
  ...listQuery,
  industryId: zId.optional(),
  categoryId: zId.optional(),
  active: zBoolString.optional(),
});
export const zPlainListQuery = z.strictObject({ ...listQuery });

// ---------------------------------------------------------------------------------------
// Resources
// ---------------------------------------------------------------------------------------

const zWeeklyHours = z.array(z.strictObject({ weekday: z.int().min(0).max(6), start: zText(5), end: zText(5) })).max(50);

export const zResource = z
  .object({
    id: z.string(),
    object: z.literal("resource"),
    kind: z.enum(resourceKinds),
    name: z.string(),
    capacity: z.number(),
    priority: z.number(),
    active: z.boolean(),
    weeklyHours: z.array(z.object({ weekday: z.number(), start: z.string(), end: z.string() })),
    bufferBeforeMinutes: z.number(),
    bufferAfterMinutes: z.number(),
    maxBookingsPerDay: z.number().nullable(),
    zoneIds: z.array(z.string()),
    productIds: z.array(z.string()),
    color: z.string().nullable(),
  })
  .register(apiRegistry, { id: "Resource" });
export const zResourceCreate = z
  .strictObject({
    kind: z.enum(resourceKinds),
    name: zText(120),
    capacity: z.int().min(1).max(10_000).default(1),
    priority: z.int().min(0).max(10_000).default(0),
    weeklyHours: zWeeklyHours,
    bufferBeforeMinutes: z.int().min(0).max(720).default(0),
    bufferAfterMinutes: z.int().min(0).max(720).default(0),
    maxBookingsPerDay: z.int().min(1).max(1000).optional(),
    zoneIds: z.array(zId).max(200).default([]),
    productIds: z.array(zId).max(500).default([]),
    color: zText(7).optional(),
  })
  .register(apiRegistry, { id: "ResourceCreate" });
export const zResourceUpdate = z
  .strictObject({
    kind: z.enum(resourceKinds).optional(),
    name: zText(120).optional(),
    capacity: z.int().min(1).max(10_000).optional(),
    priority: z.int().min(0).max(10_000).optional(),
    weeklyHours: zWeeklyHours.optional(),
    bufferBeforeMinutes: z.int().min(0).max(720).optional(),
    bufferAfterMinutes: z.int().min(0).max(720).optional(),
    maxBookingsPerDay: z.int().min(1).max(1000).nullable().optional(),
    zoneIds: z.array(zId).max(200).optional(),
    productIds: z.array(zId).max(500).optional(),
    color: zText(7).optional(),
    active: z.boolean().optional(),
    /**
     * Where booked jobs go that new hours, zones, services or deactivation would leave
     * outside the resource's time: without it such a change answers 409 listing them.
     */
    moveAffected: z.enum(["queue", "other_provider"]).optional(),
  })
  .register(apiRegistry, { id: "ResourceUpdate" });
export const zResourceListQuery = z.strictObject({ ...listQuery, active: zBoolString.optional(), kind: z.enum(resourceKinds).optional() });

// ---------------------------------------------------------------------------------------
// Availability
// ---------------------------------------------------------------------------------------

export const zCartItem = z
  .strictObject({
    productId: zId,
    quantity: z.int().min(1).max(10_000).default(1),
    extras: z.array(z.strictObject({ extraId: zId, quantity: z.int().min(1).max(1000).default(1) })).max(10).default([]),
  })
  .register(apiRegistry, { id: "CartItem" });
export const zCart = z.array(zCartItem).min(1).max(20);

export const zAvailabilityQuery = z.strictObject({
  zoneId: zId,
  from: zLocalDate.describe("First local date (business time zone), inclusive."),
  to: zLocalDate.describe("Last local date, inclusive; at most 92 days after `from`."),
  cart: z.string().max(10_000).optional().describe("The cart as JSON: [{productId, quantity, extras:[{extraId, quantity}]}]."),
  productId: zId.optional().describe("Shorthand for a one-line cart (instead of `cart`)."),
  quantity: z.coerce.number().int().min(1).max(10_000).optional(),
  extraIds: z.string().max(2000).optional().describe("Comma-separated extra ids for the `productId` shorthand."),
});

export const zQuote = z
  .object({
    currency: z.string(),
    subtotalMinor: z.number(),
    discountMinor: z.number(),
    tripChargeMinor: z.number(),
    minimumTopUpMinor: z.number(),
    taxMinor: z.number(),
    totalMinor: z.number(),
    durationMinutes: z.number(),
  })
  .register(apiRegistry, { id: "Quote" });

export const zAvailability = z
  .object({
    object: z.literal("availability"),
    zoneId: z.string(),
    timeZone: z.string(),
    durationMinutes: z.number(),
    arrivalWindowMinutes: z.number(),
    quote: zQuote,
    slots: z.array(
      z.object({ start: z.number(), end: z.number(), arrivalWindowEnd: z.number().nullable(), remainingCapacity: z.number() }),
    ),
  })
  .register(apiRegistry, { id: "Availability" });

// ---------------------------------------------------------------------------------------
// Invoices and refunds
// ---------------------------------------------------------------------------------------

export const zInvoice = z
  .object({
    id: z.string(),
    object: z.literal("invoice"),
    bookingId: z.string(),
    customerId: z.string(),
    number: z.string(),
    status: z.enum(invoiceStatuses),
    currency: z.string(),
    lines: z.array(
      z.object({ kind: z.string(), description: z.string(), quantity: z.number(), unitAmountMinor: z.number(), amountMinor: z.number() }),
    ),
    subtotalMinor: z.number(),
    discountMinor: z.number(),
    taxMinor: z.number(),
    totalMinor: z.number(),
    depositMinor: z.number(),
    amountPaidMinor: z.number(),
    amountRefundedMinor: z.number(),
    issuedAt: z.number(),
    paidAt: z.number().nullable(),
  })
  .register(apiRegistry, { id: "Invoice" });
export const zInvoiceListQuery = z.strictObject({
  ...listQuery,
  status: z.enum(invoiceStatuses).optional(),
  customerId: zId.optional(),
  from: z.coerce.number().int().optional().describe("issuedAt ≥ from (epoch ms)."),
  to: z.coerce.number().int().optional().describe("issuedAt < to (epoch ms)."),
  order: zOrder.default("desc").describe("By issue time."),
});

export const zRefund = z
  .object({
    id: z.string(),
    object: z.literal("refund"),
    invoiceId: z.string(),
    paymentId: z.string(),
    amountMinor: z.number(),
    currency: z.string(),
    reason: z.string().nullable(),
    status: z.enum(["pending", "succeeded", "failed"]),
    createdAt: z.number(),
  })
  .register(apiRegistry, { id: "Refund" });
export const zRefundCreate = z
  .strictObject({
    invoiceId: zId,
    amountMinor: z.int().min(1).max(100_000_000).optional().describe("Absent = what the cancellation policy allows."),
    reason: zText(500),
  })
  .register(apiRegistry, { id: "RefundCreate" });
export const zRefundRequest = z
  .object({ object: z.literal("refund_request"), totalMinor: z.number(), policyReason: z.string().nullable(), refunds: z.array(zRefund) })
  .register(apiRegistry, { id: "RefundRequest" });

// ---------------------------------------------------------------------------------------
// Bookings
// ---------------------------------------------------------------------------------------

export const expandableBookingFields = ["customer", "invoice", "zone"] as const;

export const zBooking = z
  .object({
    id: z.string(),
    object: z.literal("booking"),
    status: z.enum(bookingStatuses),
    customerId: z.string(),
    zoneId: z.string(),
    industryId: z.string(),
    start: z.number(),
    end: z.number(),
    localDate: z.string(),
    arrivalWindowEnd: z.number().nullable(),
    holdExpiresAt: z.number().nullable().describe("HELD / PENDING_PAYMENT: when the booking is released unless confirmed / paid."),
    items: z.array(
      z.object({
        productId: z.string(),
        name: z.string(),
        quantity: z.number(),
        unitPriceMinor: z.number(),
        durationMinutes: z.number(),
        extras: z.array(z.object({ extraId: z.string(), name: z.string(), quantity: z.number(), amountMinor: z.number() })),
      }),
    ),
    quote: zQuote,
    frequency: z.string(),
    seriesId: z.string().nullable(),
    invoiceId: z.string().nullable(),
    resourceIds: z.array(z.string()),
    address: zAddressFields.nullable(),
    customerNotes: z.string().nullable(),
    rescheduleCount: z.number(),
    cancellation: z.object({ at: z.number(), by: z.string(), reason: z.string().nullable(), feeMinor: z.number() }).nullable(),
    source: z.string(),
    createdAt: z.number(),
    customer: zCustomer.optional().describe("With ?expand=customer."),
    invoice: zInvoice.nullable().optional().describe("With ?expand=invoice."),
    zone: zZone.optional().describe("With ?expand=zone."),
  })
  .register(apiRegistry, { id: "Booking" });

const zActingFor = z
  .enum(["customer", "business"])
  .default("customer")
  .describe("`customer` (default): the customer's booking rules and fees apply; `business`: staff rules, no customer fees.");

const zExpand = z
  .string()
  .max(100)
  .optional()
  .describe(`Comma-separated related objects to embed: ${expandableBookingFields.join(", ")}.`);

export const zBookingCreate = z
  .strictObject({
    customerId: zId,
    zoneId: zId,
    cart: zCart,
    start: zInstant.describe("A slot start from GET /v1/availability."),
    address: zAddressInput.optional(),
    addressId: zId.optional().describe("One of the customer's saved addresses (instead of `address`)."),
    customerNotes: zText(2000).optional(),
    confirm: z.boolean().default(true).describe("true (default): hold and confirm in one call; false: only hold (confirm later)."),
    actingFor: zActingFor,
  })
  .register(apiRegistry, { id: "BookingCreate" });
export const zBookingUpdate = z.strictObject({ customerNotes: zText(2000).nullable() }).register(apiRegistry, { id: "BookingUpdate" });
export const zBookingReschedule = z
  .strictObject({
    start: zInstant,
    expectedFeeMinor: zMinor.optional().describe("Refuse (422) if the fee is not this amount."),
    actingFor: zActingFor,
  })
  .register(apiRegistry, { id: "BookingReschedule" });
export const zBookingCancel = z
  .strictObject({
    reason: zText(500).optional(),
    expectedFeeMinor: zMinor.optional().describe("Refuse (422) if the fee is not this amount."),
    actingFor: zActingFor,
  })
  .register(apiRegistry, { id: "BookingCancel" });
export const zBookingStatusChange = z
  .strictObject({
    status: z.enum(FIELD_STATUSES),
    note: zText(500).optional(),
    overrideReason: zText(500)
      .optional()
      .describe("Set the status before its time (en route earlier than the business's lead time, started or completed before the start), saying why; kept in the booking's history."),
  })
  .register(apiRegistry, { id: "BookingStatusChange" });
export const zBookingConfirm = z.strictObject({}).register(apiRegistry, { id: "BookingConfirm" });

export const zBookingListQuery = z.strictObject({
  ...listQuery,
  status: z.enum(bookingStatuses).optional(),
  from: z.coerce.number().int().optional().describe("start ≥ from (epoch ms)."),
  to: z.coerce.number().int().optional().describe("start < to (epoch ms)."),
  customerId: zId.optional(),
  zoneId: zId.optional(),
  resourceId: zId.optional(),
  order: zOrder.default("asc").describe("By start time."),
  expand: zExpand,
});
export const zExpandQuery = z.strictObject({ expand: zExpand });

// ---------------------------------------------------------------------------------------
// Webhook endpoints and events
// ---------------------------------------------------------------------------------------

export const zWebhookEndpoint = z
  .object({
    id: z.string(),
    object: z.literal("webhook_endpoint"),
    url: z.string(),
    description: z.string().nullable(),
    eventTypes: z.array(z.string()),
    status: z.enum(["enabled", "disabled"]),
    disabledReason: z.string().nullable(),
    failingSince: z.number().nullable(),
    createdAt: z.number(),
    secret: z.string().optional().describe("The signing secret: only in the response that created or rotated it."),
    previousSecretsExpireAt: z.number().optional(),
  })
  .register(apiRegistry, { id: "WebhookEndpoint" });
export const zWebhookEndpointCreate = z
  .strictObject({ url: zText(2048), description: zText(500).optional(), eventTypes: z.array(zText(100)).max(50).default([]) })
  .register(apiRegistry, { id: "WebhookEndpointCreate" });
export const zWebhookEndpointUpdate = z
  .strictObject({
    url: zText(2048).optional(),
    description: zText(500).optional(),
    eventTypes: z.array(zText(100)).max(50).optional(),
    status: z.enum(["enabled", "disabled"]).optional(),
  })
  .register(apiRegistry, { id: "WebhookEndpointUpdate" });
export const zDeleted = z.object({ id: z.string(), object: z.string(), deleted: z.literal(true) }).register(apiRegistry, { id: "Deleted" });

export const zEvent = z
  .object({
    id: z.string(),
    object: z.literal("event"),
    type: z.string(),
    entity: z.object({ table: z.string(), id: z.string() }),
    data: z.unknown(),
    createdAt: z.number(),
  })
  .register(apiRegistry, { id: "Event" });
export const zEventListQuery = z.strictObject({
  ...listQuery,
  type: zText(100).optional(),
  from: z.coerce.number().int().optional().describe("createdAt ≥ from (epoch ms)."),
  to: z.coerce.number().int().optional().describe("createdAt < to (epoch ms)."),
  order: zOrder.default("asc").describe("By creation time: asc to catch up from a point in time."),
});
export const zEventReplay = z
  .strictObject({ endpointId: zId.optional().describe("Absent = every enabled endpoint whose filters match.") })
  .register(apiRegistry, { id: "EventReplay" });
export const zEventReplayResult = z
  .object({
    object: z.literal("event_replay"),
    eventId: z.string(),
    deliveries: z.array(z.object({ id: z.string(), endpointId: z.string() })),
  })
  .register(apiRegistry, { id: "EventReplayResult" });

export const scopeResources = apiScopeResources;
