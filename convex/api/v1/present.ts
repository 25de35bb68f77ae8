/**
 * Documents → REST API objects (`id`, `object`, camelCase fields, `null` for absent values,
 * no internal fields such as `businessId` or secrets). The shapes are the response schemas in
 * `schemas.ts`; the tests check real responses against them.
 *
 * Plain module: no registered functions.
 */
import type { Doc } from "../../_generated/dataModel";

const orNull = <T>(value: T | undefined): T | null => (value === undefined ? null : value);

export function presentAddressFields(a: Doc<"customerAddresses">["address"]) {
  return {
    line1: a.line1,
    line2: orNull(a.line2),
    city: a.city,
    region: orNull(a.region),
    postalCode: a.postalCode,
    country: a.country,
    location: a.location ? { lat: a.location.lat, lng: a.location.lng } : null,
  };
}

export function presentAddress(a: Doc<"customerAddresses">) {
  return {
    id: a._id,
    object: "address" as const,
    customerId: a.customerId,
    label: orNull(a.label),
    address: presentAddressFields(a.address),
    zoneId: orNull(a.zoneId),
    isDefault: a.isDefault,
  };
}

export function presentCustomer(c: Doc<"customers">, addresses?: Doc<"customerAddresses">[]) {
  return {
    id: c._id,
    object: "customer" as const,
    name: c.name,
    email: orNull(c.email),
    phone: orNull(c.phone),
    locale: orNull(c.locale),
    timeZone: orNull(c.timeZone),
    tags: c.tags,
    ...(addresses !== undefined ? { addresses: addresses.map(presentAddress) } : {}),
    createdAt: c.createdAt,
  };
}

export function presentZone(z: Doc<"zones">, postalCodes?: string[]) {
  return {
    id: z._id,
    object: "zone" as const,
    name: z.name,
    active: z.active,
    pricing: { ...z.pricing },
    taxRateBp: z.taxRateBp,
    taxInclusive: z.taxInclusive,
    boundaries: z.boundaries,
    ...(postalCodes !== undefined ? { postalCodes } : {}),
  };
}

export function presentIndustry(i: Doc<"industries">) {
  return { id: i._id, object: "industry" as const, name: i.name, slug: i.slug, description: orNull(i.description), active: i.active };
}

export function presentCategory(c: Doc<"categories">) {
  return { id: c._id, object: "category" as const, industryId: c.industryId, name: c.name, sortOrder: c.sortOrder };
}

export function presentProduct(p: Doc<"products">) {
  return {
    id: p._id,
    object: "product" as const,
    industryId: p.industryId,
    categoryId: p.categoryId,
    name: p.name,
    description: orNull(p.description),
    priceMinor: p.priceMinor,
    durationMinutes: p.durationMinutes,
    quantity: { ...p.quantity, unitLabel: orNull(p.quantity.unitLabel) },
    active: p.active,
    sortOrder: p.sortOrder,
  };
}

export function presentExtra(e: Doc<"extras">) {
  return {
    id: e._id,
    object: "extra" as const,
    industryId: e.industryId,
    name: e.name,
    priceMinor: e.priceMinor,
    durationMinutes: e.durationMinutes,
    pricing: e.pricing,
    maxQuantity: e.maxQuantity,
    productIds: e.productIds,
    active: e.active,
  };
}

export function presentResource(r: Doc<"resources">) {
  return {
    id: r._id,
    object: "resource" as const,
    kind: r.kind,
    name: r.name,
    capacity: r.capacity,
    priority: r.priority,
    active: r.active,
    weeklyHours: r.weeklyHours,
    bufferBeforeMinutes: r.bufferBeforeMinutes,
    bufferAfterMinutes: r.bufferAfterMinutes,
    maxBookingsPerDay: orNull(r.maxBookingsPerDay),
    zoneIds: r.zoneIds,
    productIds: r.productIds,
    color: orNull(r.color),
  };
}

export function presentInvoice(i: Doc<"invoices">) {
  return {
    id: i._id,
    object: "invoice" as const,
    bookingId: i.bookingId,
    customerId: i.customerId,
    number: i.number,
    status: i.status,
    currency: i.currency,
    lines: i.lines,
    subtotalMinor: i.subtotalMinor,
    discountMinor: i.discountMinor,
    taxMinor: i.taxMinor,
    totalMinor: i.totalMinor,
    depositMinor: i.depositMinor,
    amountPaidMinor: i.amountPaidMinor,
    amountRefundedMinor: i.amountRefundedMinor,
    issuedAt: i.issuedAt,
    paidAt: orNull(i.paidAt),
  };
}

export function presentRefund(r: Doc<"refunds">) {
  return {
    id: r._id,
    object: "refund" as const,
    invoiceId: r.invoiceId,
    paymentId: r.paymentId,
    amountMinor: r.amountMinor,
    currency: r.currency,
    reason: orNull(r.reason),
    status: r.status,
    createdAt: r.createdAt,
  };
}

export function presentBooking(b: Doc<"bookings">) {
  return {
    id: b._id,
    object: "booking" as const,
    status: b.status,
    customerId: b.customerId,
    zoneId: b.zoneId,
    industryId: b.industryId,
    start: b.start,
    end: b.end,
    localDate: b.localDate,
    arrivalWindowEnd: orNull(b.arrivalWindowEnd),
    holdExpiresAt: orNull(b.holdExpiresAt),
    items: b.items,
    quote: b.quote,
    frequency: b.frequency,
    seriesId: orNull(b.seriesId),
    invoiceId: orNull(b.invoiceId),
    resourceIds: b.assignedResourceIds,
    address: b.address ? presentAddressFields(b.address) : null,
    customerNotes: orNull(b.customerNotes),
    rescheduleCount: b.rescheduleCount,
    cancellation: b.cancellation
      ? { at: b.cancellation.at, by: b.cancellation.actor.role, reason: orNull(b.cancellation.reason), feeMinor: b.cancellation.feeMinor }
      : null,
    source: b.source,
    createdAt: b.createdAt,
  };
}

export function presentWebhookEndpoint(e: Doc<"webhookEndpoints">) {
  return {
    id: e._id,
    object: "webhook_endpoint" as const,
    url: e.url,
    description: orNull(e.description),
    eventTypes: e.eventTypes,
    status: e.status,
    disabledReason: orNull(e.disabledReason),
    failingSince: orNull(e.failingSince),
    createdAt: e.createdAt,
  };
}

export function presentEvent(e: Doc<"events">) {
  return { id: e._id, object: "event" as const, type: e.type, entity: e.entity, data: e.data, createdAt: e.createdAt };
}
