/**
 * Room ids shared by Convex (the outbox / delivery worker), the parties and the portal.
 *
 * Scheme (segments joined by "__", each segment "<prefix>_<value>" except the date):
 *
 *   availability  biz_<businessId>__zone_<zoneId>__<YYYY-MM-DD>
 *   dispatch      biz_<businessId>__<YYYY-MM-DD>
 *   bookings      biz_<businessId>                 (the business's bookings)
 *                 biz_<businessId>__cust_<customerId>  (one customer's own bookings)
 *   invoices      biz_<businessId>
 *   customers     biz_<businessId>
 *
 * Ids are limited to letters, digits and single "-" / "_" separators so that "__" can never
 * occur inside an id and every room id parses back to exactly one key. Convex document ids
 * (lowercase base32) always fit. Dates are the business's local calendar date.
 *
 * No PartyKit imports: web/ and convex/ import this module.
 */

export const PARTY_NAMES = ["availability", "dispatch", "bookings", "invoices", "customers"] as const;
export type PartyName = (typeof PARTY_NAMES)[number];

export type AvailabilityRoomKey = { party: "availability"; businessId: string; zoneId: string; date: string };
export type DispatchRoomKey = { party: "dispatch"; businessId: string; date: string };
export type BusinessBookingsRoomKey = { party: "bookings"; businessId: string; customerId?: undefined };
export type CustomerBookingsRoomKey = { party: "bookings"; businessId: string; customerId: string };
export type BookingsRoomKey = BusinessBookingsRoomKey | CustomerBookingsRoomKey;
export type InvoicesRoomKey = { party: "invoices"; businessId: string };
export type CustomersRoomKey = { party: "customers"; businessId: string };

export type RoomKey =
  | AvailabilityRoomKey
  | DispatchRoomKey
  | BookingsRoomKey
  | InvoicesRoomKey
  | CustomersRoomKey;

export type RoomKeyOf<P extends PartyName> = Extract<RoomKey, { party: P }>;

/** Thrown when an id, a date or a room id does not follow the scheme. */
export class RoomIdError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RoomIdError";
  }
}

const SEGMENT_SEPARATOR = "__";
const MAX_ID_LENGTH = 64;
const ID_PATTERN = /^[A-Za-z0-9]+(?:[-_][A-Za-z0-9]+)*$/;
const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

export function isPartyName(value: string): value is PartyName {
  return (PARTY_NAMES as readonly string[]).includes(value);
}

export function isValidEntityId(value: string): boolean {
  return value.length <= MAX_ID_LENGTH && ID_PATTERN.test(value);
}

/** A real calendar date written YYYY-MM-DD (no 2026-02-30). */
export function isValidLocalDate(value: string): boolean {
  const match = DATE_PATTERN.exec(value);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (month < 1 || month > 12 || day < 1) return false;
  return day <= daysInMonth(year, month);
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function requireId(label: string, value: string): string {
  if (!isValidEntityId(value)) {
    throw new RoomIdError(
      `${label} ${JSON.stringify(value)} is not a valid id (1-${MAX_ID_LENGTH} letters/digits, single "-" or "_" between them)`,
    );
  }
  return value;
}

function requireDate(value: string): string {
  if (!isValidLocalDate(value)) {
    throw new RoomIdError(`date ${JSON.stringify(value)} is not a calendar date written YYYY-MM-DD`);
  }
  return value;
}

/** Builds the room id for a key; throws RoomIdError on an invalid id or date. */
export function buildRoomId(key: RoomKey): string {
  const business = `biz_${requireId("businessId", key.businessId)}`;
  switch (key.party) {
    case "availability":
      return [business, `zone_${requireId("zoneId", key.zoneId)}`, requireDate(key.date)].join(SEGMENT_SEPARATOR);
    case "dispatch":
      return [business, requireDate(key.date)].join(SEGMENT_SEPARATOR);
    case "bookings":
      return key.customerId === undefined
        ? business
        : [business, `cust_${requireId("customerId", key.customerId)}`].join(SEGMENT_SEPARATOR);
    case "invoices":
    case "customers":
      return business;
  }
}

export const roomIds = {
  availability: (businessId: string, zoneId: string, date: string) =>
    buildRoomId({ party: "availability", businessId, zoneId, date }),
  dispatch: (businessId: string, date: string) => buildRoomId({ party: "dispatch", businessId, date }),
  businessBookings: (businessId: string) => buildRoomId({ party: "bookings", businessId }),
  customerBookings: (businessId: string, customerId: string) =>
    buildRoomId({ party: "bookings", businessId, customerId }),
  invoices: (businessId: string) => buildRoomId({ party: "invoices", businessId }),
  customers: (businessId: string) => buildRoomId({ party: "customers", businessId }),
};

function prefixed(segment: string | undefined, prefix: string, label: string, roomId: string): string {
  if (segment === undefined || !segment.startsWith(`${prefix}_`)) {
    throw new RoomIdError(`room id ${JSON.stringify(roomId)} lacks the ${prefix}_<${label}> segment`);
  }
  return requireId(label, segment.slice(prefix.length + 1));
}

function expectSegmentCount(roomId: string, segments: string[], allowed: number[], party: PartyName): void {
  if (!allowed.includes(segments.length)) {
    throw new RoomIdError(`room id ${JSON.stringify(roomId)} does not follow the ${party} scheme`);
  }
}

/** Parses a room id of a party back into its key; throws RoomIdError if it does not follow the scheme. */
export function parseRoomId<P extends PartyName>(party: P, roomId: string): RoomKeyOf<P>;
export function parseRoomId(party: PartyName, roomId: string): RoomKey {
  const segments = roomId.split(SEGMENT_SEPARATOR);
  const businessId = prefixed(segments[0], "biz", "businessId", roomId);
  switch (party) {
    case "availability":
      expectSegmentCount(roomId, segments, [3], party);
      return {
        party,
        businessId,
        zoneId: prefixed(segments[1], "zone", "zoneId", roomId),
        date: requireDate(segments[2]),
      };
    case "dispatch":
      expectSegmentCount(roomId, segments, [2], party);
      return { party, businessId, date: requireDate(segments[1]) };
    case "bookings":
      expectSegmentCount(roomId, segments, [1, 2], party);
      return segments.length === 1
        ? { party, businessId }
        : { party, businessId, customerId: prefixed(segments[1], "cust", "customerId", roomId) };
    case "invoices":
    case "customers":
      expectSegmentCount(roomId, segments, [1], party);
      return { party, businessId };
  }
}

/** The non-throwing twin of parseRoomId. */
export function tryParseRoomId<P extends PartyName>(
  party: P,
  roomId: string,
): { ok: true; key: RoomKeyOf<P> } | { ok: false; message: string } {
  try {
    return { ok: true, key: parseRoomId(party, roomId) };
  } catch (error) {
    if (error instanceof RoomIdError) return { ok: false, message: error.message };
    throw error;
  }
}

/** The path a push is POSTed to and a socket connects to, relative to the PartyKit host. */
export function roomPath(party: PartyName, roomId: string): string {
  return `/parties/${party}/${encodeURIComponent(roomId)}`;
}
