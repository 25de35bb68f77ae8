/**
 * Every message that crosses a PartyKit room, both ways, as zod discriminated unions:
 *
 *   push      Convex delivery worker -> room (HTTP POST body), one envelope per outbox event
 *   server    room -> browser (WebSocket)
 *   client    browser -> room (WebSocket)
 *
 * Imported by party/, web/ and convex/: no PartyKit imports here. All objects are strict, so
 * an unexpected field (for instance personal data slipping into a public availability notice)
 * is refused instead of being passed on.
 */
import { z } from "zod";
import { BOOKING_STATUSES } from "../domain/bookingStatus";
import { isValidEntityId, isValidLocalDate, type PartyName, type RoomKey } from "./rooms";

/** Largest WebSocket message a browser may send to a room. */
export const MAX_CLIENT_MESSAGE_BYTES = 4_096;
/** Largest push body Convex may POST to a room. */
export const MAX_PUSH_BODY_BYTES = 64 * 1_024;

// ---------------------------------------------------------------------------------------------
// Building blocks

export const entityId = z.string().refine(isValidEntityId, { message: "expected an id (letters, digits, single - or _)" });
export const localDate = z.string().refine(isValidLocalDate, { message: "expected a calendar date YYYY-MM-DD" });
/** Unix epoch milliseconds. */
export const instant = z.int().nonnegative();
export const seqNumber = z.int().positive();
const minorUnits = z.int().nonnegative();
const currency = z.string().regex(/^[A-Z]{3}$/, { message: "expected an ISO 4217 code such as EUR" });
const shortText = z.string().min(1).max(200);

export const bookingStatus = z.enum(BOOKING_STATUSES);

export const INVOICE_STATUSES = ["DRAFT", "OPEN", "PAID", "PARTIALLY_REFUNDED", "REFUNDED", "VOID"] as const;
export const PAYMENT_STATUSES = [
  "REQUIRES_PAYMENT",
  "PROCESSING",
  "SUCCEEDED",
  "FAILED",
  "PARTIALLY_REFUNDED",
  "REFUNDED",
  "CANCELLED",
] as const;
export const PROVIDER_STATUSES = ["AVAILABLE", "EN_ROUTE", "ON_SITE", "ON_BREAK", "OFFLINE"] as const;
export const providerStatus = z.enum(PROVIDER_STATUSES);

export const ROLES = ["platform_admin", "owner", "manager", "staff", "customer"] as const;
export const role = z.enum(ROLES);
export type Role = z.infer<typeof role>;

const resourceIdList = z.array(entityId).max(500);

export const bookingSummary = z.strictObject({
  bookingId: entityId,
  status: bookingStatus,
  startsAt: instant,
  endsAt: instant,
  zoneId: entityId,
  customerId: entityId,
  resourceIds: resourceIdList,
  serviceName: shortText.optional(),
  customerName: shortText.optional(),
});
export type BookingSummary = z.infer<typeof bookingSummary>;

export const invoiceSummary = z.strictObject({
  invoiceId: entityId,
  bookingId: entityId,
  customerId: entityId,
  status: z.enum(INVOICE_STATUSES),
  currency,
  totalMinor: minorUnits,
  amountPaidMinor: minorUnits,
  amountRefundedMinor: minorUnits,
});

// ---------------------------------------------------------------------------------------------
// Committed events (written to Convex's outbox, pushed to rooms, broadcast as `event`)

export const SLOT_CHANGE_REASONS = [
  "booking_created",
  "booking_cancelled",
  "booking_rescheduled",
  "hold_created",
  "hold_released",
  "hold_expired",
  "schedule_changed",
  "capacity_changed",
] as const;

/** Public: ids and a reason only, never personal data. Empty resourceIds means "any resource". */
export const availabilityEvent = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("slots.changed"),
    businessId: entityId,
    zoneId: entityId,
    date: localDate,
    resourceIds: resourceIdList,
    reason: z.enum(SLOT_CHANGE_REASONS),
  }),
]);

export const dispatchEvent = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("booking.upserted"), businessId: entityId, date: localDate, booking: bookingSummary }),
  z.strictObject({
    type: z.literal("booking.status_changed"),
    businessId: entityId,
    date: localDate,
    bookingId: entityId,
    from: bookingStatus,
    to: bookingStatus,
    changedAt: instant,
  }),
  z.strictObject({
    type: z.literal("booking.assigned"),
    businessId: entityId,
    date: localDate,
    bookingId: entityId,
    resourceIds: resourceIdList,
    previousResourceIds: resourceIdList,
  }),
  z.strictObject({ type: z.literal("booking.removed"), businessId: entityId, date: localDate, bookingId: entityId }),
]);

export const bookingsEvent = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("booking.upserted"), businessId: entityId, booking: bookingSummary }),
  z.strictObject({
    type: z.literal("booking.status_changed"),
    businessId: entityId,
    customerId: entityId,
    bookingId: entityId,
    from: bookingStatus,
    to: bookingStatus,
    changedAt: instant,
  }),
  z.strictObject({
    type: z.literal("booking.rescheduled"),
    businessId: entityId,
    customerId: entityId,
    bookingId: entityId,
    startsAt: instant,
    endsAt: instant,
    previousStartsAt: instant,
    previousEndsAt: instant,
  }),
]);

export const invoicesEvent = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("invoice.upserted"), businessId: entityId, invoice: invoiceSummary }),
  z.strictObject({
    type: z.literal("payment.status_changed"),
    businessId: entityId,
    invoiceId: entityId,
    paymentId: entityId,
    status: z.enum(PAYMENT_STATUSES),
    amountMinor: minorUnits,
    currency,
  }),
]);

export const CUSTOMER_CHANGE_ASPECTS = [
  "profile",
  "addresses",
  "notes",
  "messages",
  "payment_methods",
  "subscriptions",
] as const;

export const customersEvent = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("customer.changed"),
    businessId: entityId,
    customerId: entityId,
    aspects: z.array(z.enum(CUSTOMER_CHANGE_ASPECTS)).min(1),
  }),
]);

export const committedEventSchemas = {
  availability: availabilityEvent,
  dispatch: dispatchEvent,
  bookings: bookingsEvent,
  invoices: invoicesEvent,
  customers: customersEvent,
} as const;

export type AvailabilityEvent = z.infer<typeof availabilityEvent>;
export type DispatchEvent = z.infer<typeof dispatchEvent>;
export type BookingsEvent = z.infer<typeof bookingsEvent>;
export type InvoicesEvent = z.infer<typeof invoicesEvent>;
export type CustomersEvent = z.infer<typeof customersEvent>;
export type CommittedEventOf<P extends PartyName> = z.infer<(typeof committedEventSchemas)[P]>;
export type CommittedEvent = CommittedEventOf<PartyName>;

// ---------------------------------------------------------------------------------------------
// Push envelope: the JSON body Convex POSTs to /parties/<party>/<room>

const pushItemFields = {
  /** Per-room sequence number assigned by Convex's outbox, 1, 2, 3, ... */
  seq: seqNumber,
  /** The outbox document id; stable across redeliveries. */
  eventId: z.string().min(1).max(128),
  occurredAt: instant,
};
const roomField = z.string().min(1).max(200);
export const MAX_PUSH_BATCH = 100;

function pushEnvelope<P extends PartyName, E extends z.ZodType>(party: P, event: E) {
  return z.strictObject({ party: z.literal(party), room: roomField, ...pushItemFields, event });
}

/** Several consecutive events of one room in one POST, in increasing seq order. */
function pushBatch<P extends PartyName, E extends z.ZodType>(party: P, event: E) {
  return z.strictObject({
    party: z.literal(party),
    room: roomField,
    events: z
      .array(z.strictObject({ ...pushItemFields, event }))
      .min(1)
      .max(MAX_PUSH_BATCH)
      .refine((items) => items.every((item, i) => i === 0 || item.seq > items[i - 1].seq), {
        message: "events must be in strictly increasing seq order",
      }),
  });
}

export const pushSchemas = {
  availability: pushEnvelope("availability", availabilityEvent),
  dispatch: pushEnvelope("dispatch", dispatchEvent),
  bookings: pushEnvelope("bookings", bookingsEvent),
  invoices: pushEnvelope("invoices", invoicesEvent),
  customers: pushEnvelope("customers", customersEvent),
} as const;

// ---------------------------------------------------------------------------------------------
// The slot grid of an availability room (domain/slotGrid.ts): cart-free, ids/instants/minutes only

/** A 25-hour day at a 1-minute step. */
const MAX_GRID_STARTS = 1_500;
const MAX_GRID_RESOURCES = 200;
const gridChange = z.tuple([z.int().min(0).max(MAX_GRID_RESOURCES), z.int().min(0).max(MAX_GRID_STARTS), z.int().min(0).max(24 * 60)]);

export const slotGridSchema = z.strictObject({
  date: localDate,
  timeZone: z.string().min(1).max(64),
  dayStart: instant,
  stepMinutes: z.int().min(1).max(24 * 60),
  minimumNoticeMinutes: z.int().nonnegative(),
  arrivalWindowMinutes: z.int().nonnegative(),
  asOf: instant,
  resources: z
    .array(
      z.strictObject({
        id: entityId,
        productIds: z.array(entityId).max(500),
        spans: z.array(z.int().min(0).max(24 * 60)).max(MAX_GRID_STARTS),
      }),
    )
    .max(MAX_GRID_RESOURCES),
});
export type SlotGridMessage = z.infer<typeof slotGridSchema>;

export const pushBatchSchemas = {
  /**
   * An availability room's batch carries the room's grid as of its delivery (`grid`), or, for
   * bookings' changes, the rows of the resources they changed (`gridPatch`, same shape).
   */
  availability: pushBatch("availability", availabilityEvent).extend({ grid: slotGridSchema.optional(), gridPatch: slotGridSchema.optional() }),
  dispatch: pushBatch("dispatch", dispatchEvent),
  bookings: pushBatch("bookings", bookingsEvent),
  invoices: pushBatch("invoices", invoicesEvent),
  customers: pushBatch("customers", customersEvent),
} as const;

export type PushOf<P extends PartyName> = z.infer<(typeof pushSchemas)[P]>;
export type Push = PushOf<PartyName>;
export type PushBatchOf<P extends PartyName> = z.infer<(typeof pushBatchSchemas)[P]>;
export type PushItemOf<P extends PartyName> = PushBatchOf<P>["events"][number];

const pushStatus = z.enum(["applied", "applied_after_gap", "duplicate"]);

/** The room's answer to a push: 200 for applied and for ignored duplicates (so the outbox stops retrying). */
export const pushResult = z.strictObject({
  status: pushStatus,
  seq: seqNumber,
  lastSeq: z.int().nonnegative(),
});
export type PushResult = z.infer<typeof pushResult>;

/** The room's answer to a batch: one status per event, in the order sent. */
export const pushBatchResult = z.strictObject({
  results: z.array(z.strictObject({ seq: seqNumber, status: pushStatus })),
  lastSeq: z.int().nonnegative(),
  /**
   * An availability room that could not use the rows it was sent (`gridPatch`: it has no grid
   * yet, or they do not fit it) and has visitors: send the whole grid (the same batch again).
   */
  wantsGrid: z.literal(true).optional(),
});
export type PushBatchResult = z.infer<typeof pushBatchResult>;

/**
 * Checks the scoping fields of a push against the room it was posted to. Returns a message
 * naming the mismatch, or null when the push belongs in the room.
 */
export function pushRoomMismatch(key: RoomKey, push: Pick<Push, "party" | "event">): string | null {
  if (push.party !== key.party) return `push is for party ${push.party}, not ${key.party}`;
  const event: Record<string, unknown> = push.event;
  const expected: Record<string, string | undefined> = { businessId: key.businessId };
  if (key.party === "availability") Object.assign(expected, { zoneId: key.zoneId, date: key.date });
  if (key.party === "dispatch") expected.date = key.date;
  if (key.party === "bookings" && key.customerId !== undefined) expected.customerId = key.customerId;
  for (const [field, want] of Object.entries(expected)) {
    const got = field === "customerId" ? customerIdOf(event) : event[field];
    if (got !== want) {
      return `event ${field} ${JSON.stringify(got)} does not match the room's ${field} ${JSON.stringify(want)}`;
    }
  }
  return null;
}

function customerIdOf(event: Record<string, unknown>): unknown {
  const booking = event.booking as { customerId?: unknown } | undefined;
  return booking?.customerId ?? event.customerId;
}

// ---------------------------------------------------------------------------------------------
// Room -> browser

export const ERROR_CODES = [
  "invalid_message",
  "unsupported_message",
  "forbidden",
  "rate_limited",
  "limit_exceeded",
] as const;

export const errorMessage = z.strictObject({
  type: z.literal("error"),
  code: z.enum(ERROR_CODES),
  message: z.string(),
  issues: z.array(z.strictObject({ path: z.string(), message: z.string() })).optional(),
  retryAfterMs: z.int().nonnegative().optional(),
});
export type ErrorMessage = z.infer<typeof errorMessage>;
export type ErrorCode = ErrorMessage["code"];

/** First message on every connection: the room's last seq lets a client detect what it missed. */
const welcomeMessage = z.strictObject({
  type: z.literal("welcome"),
  room: z.string(),
  seq: z.int().nonnegative(),
  serverTime: instant,
});

function eventMessage<E extends z.ZodType>(event: E) {
  return z.strictObject({
    type: z.literal("event"),
    seq: seqNumber,
    eventId: z.string(),
    occurredAt: instant,
    event,
  });
}

export const slotHoldCount = z.strictObject({
  startsAt: instant,
  resourceId: entityId.nullable(),
  count: z.int().positive(),
});
export type SlotHoldCount = z.infer<typeof slotHoldCount>;

export const viewer = z.strictObject({
  userId: z.string().min(1).max(200),
  role,
  name: shortText.optional(),
  since: instant,
});
export type Viewer = z.infer<typeof viewer>;

export const providerPosition = z.strictObject({
  resourceId: entityId,
  status: providerStatus,
  lat: z.number().min(-90).max(90),
  lng: z.number().min(-180).max(180),
  accuracyM: z.number().nonnegative().max(100_000).optional(),
  bookingId: entityId.optional(),
  at: instant,
});
export type ProviderPosition = z.infer<typeof providerPosition>;

export const serverMessageSchemas = {
  availability: z.discriminatedUnion("type", [
    welcomeMessage,
    errorMessage,
    z.strictObject({ type: z.literal("holds"), holds: z.array(slotHoldCount) }),
    /** The whole grid: on connect, on `grid.resync`, and when the day's layout or resources changed. */
    z.strictObject({ type: z.literal("grid"), version: z.int().nonnegative(), grid: slotGridSchema }),
    /** What changed since `version - 1`: [resource index, start index, longest span]. */
    z.strictObject({ type: z.literal("grid.diff"), version: seqNumber, asOf: instant, changes: z.array(gridChange) }),
  ]),
  dispatch: z.discriminatedUnion("type", [
    welcomeMessage,
    eventMessage(dispatchEvent),
    errorMessage,
    z.strictObject({ type: z.literal("presence.snapshot"), viewers: z.array(viewer) }),
    z.strictObject({ type: z.literal("presence.joined"), viewer }),
    z.strictObject({ type: z.literal("presence.left"), userId: z.string() }),
    z.strictObject({ type: z.literal("providers.snapshot"), providers: z.array(providerPosition) }),
    z.strictObject({ type: z.literal("provider.position"), provider: providerPosition }),
  ]),
  bookings: z.discriminatedUnion("type", [welcomeMessage, eventMessage(bookingsEvent), errorMessage]),
  invoices: z.discriminatedUnion("type", [welcomeMessage, eventMessage(invoicesEvent), errorMessage]),
  customers: z.discriminatedUnion("type", [welcomeMessage, eventMessage(customersEvent), errorMessage]),
} as const;

export type ServerMessageOf<P extends PartyName> = z.infer<(typeof serverMessageSchemas)[P]>;
export type ServerMessage = ServerMessageOf<PartyName>;
export type EventMessageOf<P extends PartyName> = Extract<ServerMessageOf<P>, { type: "event" }>;

// ---------------------------------------------------------------------------------------------
// Browser -> room

const slotRef = { startsAt: instant, resourceId: entityId.optional() };

export const clientMessageSchemas = {
  availability: z.discriminatedUnion("type", [
    /** "Someone is checking out this slot": refreshes the hold; it expires unless pinged again. */
    z.strictObject({ type: z.literal("hold.ping"), ...slotRef }),
    z.strictObject({ type: z.literal("hold.release"), ...slotRef }),
    /** "I missed a diff (or want the whole grid)": answered with a `grid` message. */
    z.strictObject({ type: z.literal("grid.resync") }),
  ]),
  dispatch: z.discriminatedUnion("type", [
    z.strictObject({ type: z.literal("presence.heartbeat") }),
    z.strictObject({
      type: z.literal("provider.ping"),
      resourceId: entityId,
      status: providerStatus,
      lat: z.number().min(-90).max(90),
      lng: z.number().min(-180).max(180),
      accuracyM: z.number().nonnegative().max(100_000).optional(),
      bookingId: entityId.optional(),
    }),
  ]),
  bookings: null,
  invoices: null,
  customers: null,
} as const;

export type AvailabilityClientMessage = z.infer<(typeof clientMessageSchemas)["availability"]>;
export type DispatchClientMessage = z.infer<(typeof clientMessageSchemas)["dispatch"]>;
export type ClientMessageOf<P extends PartyName> = P extends "availability"
  ? AvailabilityClientMessage
  : P extends "dispatch"
    ? DispatchClientMessage
    : never;

// ---------------------------------------------------------------------------------------------
// Parsing helpers

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: ErrorMessage };

export function invalidMessage(message: string, zodError?: z.ZodError): ErrorMessage {
  return {
    type: "error",
    code: "invalid_message",
    message,
    ...(zodError ? { issues: describeIssues(zodError) } : {}),
  };
}

export function describeIssues(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join(".") || "(root)",
    message: issue.message,
  }));
}

function byteLength(text: string): number {
  return new TextEncoder().encode(text).byteLength;
}

function parseJson(raw: string, what: string): Parsed<unknown> {
  try {
    return { ok: true, value: JSON.parse(raw) as unknown };
  } catch {
    return { ok: false, error: invalidMessage(`${what} is not valid JSON`) };
  }
}

/*
 * The public parsers below index the schema tables with a generic party P; TypeScript cannot
 * relate `schemas[P]`'s output to the P-indexed type, so each narrows the result once.
 */
function parseWith(schema: z.ZodType, raw: string, what: string): Parsed<unknown> {
  const json = parseJson(raw, what);
  if (!json.ok) return json;
  const result = schema.safeParse(json.value);
  if (!result.success) {
    const types = result.error.issues.map((issue) => issue.path.join(".") || "(root)").join(", ");
    return { ok: false, error: invalidMessage(`${what} failed validation at ${types}`, result.error) };
  }
  return { ok: true, value: result.data };
}

/** Parses a WebSocket message from a browser for a party (size, JSON, schema). */
export function parseClientMessage<P extends PartyName>(
  party: P,
  raw: string | ArrayBuffer | ArrayBufferView,
): Parsed<ClientMessageOf<P>> {
  if (typeof raw !== "string") return { ok: false, error: invalidMessage("binary messages are not accepted") };
  const schema = clientMessageSchemas[party];
  if (schema === null) {
    return {
      ok: false,
      error: { type: "error", code: "unsupported_message", message: `${party} rooms accept no messages from clients` },
    };
  }
  if (byteLength(raw) > MAX_CLIENT_MESSAGE_BYTES) {
    return { ok: false, error: invalidMessage(`message exceeds ${MAX_CLIENT_MESSAGE_BYTES} bytes`) };
  }
  return parseWith(schema, raw, "message") as Parsed<ClientMessageOf<P>>;
}

/** Parses a message a room sent to a browser. */
export function parseServerMessage<P extends PartyName>(party: P, raw: string): Parsed<ServerMessageOf<P>> {
  return parseWith(serverMessageSchemas[party], raw, `${party} server message`) as Parsed<ServerMessageOf<P>>;
}

/** Parses a single-event push body (already size-checked by the caller) for a party. */
export function parsePush<P extends PartyName>(party: P, body: string): Parsed<PushOf<P>> {
  return parseWith(pushSchemas[party], body, "push body") as Parsed<PushOf<P>>;
}

export type ParsedPushBody<P extends PartyName> = {
  kind: "single" | "batch";
  room: string;
  items: PushItemOf<P>[];
  /** Availability batches: the room's grid as of the delivery. */
  grid?: SlotGridMessage;
  /** Availability batches: the changed resources' rows of the room's grid, as of the delivery. */
  gridPatch?: SlotGridMessage;
};

/** Parses a push body that is either one event (`seq`, `event`) or a batch (`events: [...]`). */
export function parsePushBody<P extends PartyName>(party: P, body: string): Parsed<ParsedPushBody<P>> {
  const json = parseJson(body, "push body");
  if (!json.ok) return json;
  const isBatch = typeof json.value === "object" && json.value !== null && "events" in json.value;
  if (isBatch) {
    const batch = parseWith(pushBatchSchemas[party], body, "push batch") as Parsed<PushBatchOf<P>>;
    if (!batch.ok) return batch;
    const { grid, gridPatch } = batch.value as { grid?: SlotGridMessage; gridPatch?: SlotGridMessage };
    return {
      ok: true,
      value: {
        kind: "batch",
        room: batch.value.room,
        items: batch.value.events as PushItemOf<P>[],
        ...(grid ? { grid } : {}),
        ...(gridPatch ? { gridPatch } : {}),
      },
    };
  }
  const single = parsePush(party, body);
  if (!single.ok) return single;
  const { party: _party, room, ...item } = single.value;
  return { ok: true, value: { kind: "single", room, items: [item as PushItemOf<P>] } };
}

export { byteLength as utf8ByteLength };
