/**
 * Named builders that seed test data straight into the database (through `t.run`), so a
 * test reads as its scenario: `const biz = await aBusiness(t); const zone = await aZone(t,
 * biz.businessId)`. Every builder creates the users and memberships it needs and returns
 * ids plus, for people, their identity and a `t.withIdentity(...)` client (`as`).
 *
 * Defaults describe an ACTIVE home-cleaning business in New York that charges USD, with
 * the platform's default policies. Signatures are stable: add options, never reorder.
 */
import type { UserIdentity } from "convex/server";
import type { Doc, Id } from "./_generated/dataModel";
import { DEFAULT_POLICIES } from "./businesses";
import type { TestConvex } from "./test.setup";
import type { BusinessPolicies, BusinessStatus, BusinessType, MemberRole } from "./schema";

export const TEST_ISSUER = "https://auth.test";

type Identity = Pick<UserIdentity, "subject" | "issuer" | "tokenIdentifier" | "name" | "email">;

export type TestUser = {
  userId: Id<"users">;
  identity: Identity;
  /** The test client acting as this person. */
  as: ReturnType<TestConvex["withIdentity"]>;
};

let counter = 0;
function nextId(prefix: string) {
  counter += 1;
  return `${prefix}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
}

/** An identity the auth provider would issue; not stored as a user (see `aUser`). */
export function anIdentity(opts: { name?: string; email?: string; subject?: string } = {}): Identity {
  const subject = opts.subject ?? nextId("user");
  return {
    subject,
    issuer: TEST_ISSUER,
    tokenIdentifier: `${TEST_ISSUER}|${subject}`,
    name: opts.name ?? `Test ${subject}`,
    email: opts.email ?? `${subject}@example.test`,
  };
}

/** A signed-in person with a stored user record (as after `users:store`). */
export async function aUser(
  t: TestConvex,
  opts: { name?: string; email?: string; isPlatformAdmin?: boolean } = {},
): Promise<TestUser> {
  const identity = anIdentity(opts);
  const userId = await t.run((ctx) =>
    ctx.db.insert("users", {
      tokenIdentifier: identity.tokenIdentifier,
      name: identity.name!,
      email: identity.email,
      isPlatformAdmin: opts.isPlatformAdmin ?? false,
    }),
  );
  return { userId, identity, as: t.withIdentity(identity) };
}

export async function aPlatformAdmin(t: TestConvex, opts: { name?: string; email?: string } = {}) {
  return aUser(t, { name: "Platform Admin", ...opts, isPlatformAdmin: true });
}

/** A user meant to own a business (pass it to `aBusiness({ owner })`). */
export async function anOwner(t: TestConvex, opts: { name?: string; email?: string } = {}) {
  return aUser(t, { name: "Olivia Owner", ...opts });
}

export type TestBusiness = {
  businessId: Id<"businesses">;
  owner: TestUser;
  business: Doc<"businesses">;
};

export async function aBusiness(
  t: TestConvex,
  opts: {
    name?: string;
    slug?: string;
    type?: BusinessType;
    status?: BusinessStatus;
    timeZone?: string;
    currency?: string;
    locale?: string;
    /** Deep-merged over the default policies. */
    policies?: { [K in keyof BusinessPolicies]?: Partial<BusinessPolicies[K]> };
    owner?: TestUser;
  } = {},
): Promise<TestBusiness> {
  const owner = opts.owner ?? (await anOwner(t));
  const status = opts.status ?? "ACTIVE";
  const slug = opts.slug ?? nextId("biz");
  const policies: BusinessPolicies = {
    cancellation: { ...DEFAULT_POLICIES.cancellation, ...opts.policies?.cancellation },
    reschedule: { ...DEFAULT_POLICIES.reschedule, ...opts.policies?.reschedule },
    booking: { ...DEFAULT_POLICIES.booking, ...opts.policies?.booking },
  };
  const admin = status === "PENDING" ? null : await aPlatformAdmin(t);
  const business = await t.run(async (ctx) => {
    const businessId = await ctx.db.insert("businesses", {
      ownerId: owner.userId,
      name: opts.name ?? "Sparkle Cleaning",
      slug,
      type: opts.type ?? "home_services",
      status,
      ...(admin ? { verification: { verifiedAt: Date.now(), verifiedBy: admin.userId } } : {}),
      timeZone: opts.timeZone ?? "America/New_York",
      currency: opts.currency ?? "USD",
      locale: opts.locale ?? "en-US",
      policies,
      plan: "free",
    });
    await ctx.db.insert("memberships", { businessId, userId: owner.userId, role: "owner" });
    return (await ctx.db.get("businesses", businessId))!;
  });
  return { businessId: business._id, owner, business };
}

/** A staff member (default role "staff") of the business. */
export async function aStaffMember(
  t: TestConvex,
  businessId: Id<"businesses">,
  opts: { role?: MemberRole; name?: string; email?: string; user?: TestUser } = {},
): Promise<TestUser & { membershipId: Id<"memberships"> }> {
  const user = opts.user ?? (await aUser(t, { name: opts.name ?? `Sam ${opts.role ?? "staff"}`, email: opts.email }));
  const membershipId = await t.run((ctx) =>
    ctx.db.insert("memberships", { businessId, userId: user.userId, role: opts.role ?? "staff" }),
  );
  return { ...user, membershipId };
}

export async function aManager(t: TestConvex, businessId: Id<"businesses">, opts: { name?: string; email?: string } = {}) {
  return aStaffMember(t, businessId, { ...opts, role: "manager" });
}

export type ZoneOptions = {
  name?: string;
  postalCodes?: string[];
  boundaries?: Doc<"zones">["boundaries"];
  pricing?: Partial<Doc<"zones">["pricing"]>;
  taxRateBp?: number;
  taxInclusive?: boolean;
  active?: boolean;
};

/** A zone covering postal code "10001" by default, no trip charge, no tax. */
export async function aZone(t: TestConvex, businessId: Id<"businesses">, opts: ZoneOptions = {}) {
  const postalCodes = opts.postalCodes ?? ["10001"];
  const zoneId = await t.run(async (ctx) => {
    const zoneId = await ctx.db.insert("zones", {
      businessId,
      name: opts.name ?? "Manhattan",
      active: opts.active ?? true,
      boundaries: opts.boundaries ?? [],
      pricing: { tripChargeMinor: 0, priceMultiplierBp: 10_000, minimumMinor: 0, ...opts.pricing },
      taxRateBp: opts.taxRateBp ?? 0,
      taxInclusive: opts.taxInclusive ?? false,
    });
    for (const postalCode of postalCodes) {
      await ctx.db.insert("zonePostalCodes", { businessId, zoneId, postalCode: postalCode.replace(/\s+/g, "").toUpperCase() });
    }
    return zoneId;
  });
  return { zoneId };
}

export type ProductSpec = {
  name?: string;
  priceMinor?: number;
  durationMinutes?: number;
  quantity?: Partial<Doc<"products">["quantity"]>;
  active?: boolean;
};

export type ExtraSpec = {
  name?: string;
  priceMinor?: number;
  durationMinutes?: number;
  pricing?: "flat" | "per_quantity";
  maxQuantity?: number;
  /** Indexes into the catalogue's products; empty = every product. */
  forProducts?: number[];
  active?: boolean;
};

/**
 * One industry with one category, its products (default: "Standard clean", $100, 120 min,
 * 1–5 rooms with 1 included, +$25 / +30 min per extra room) and extras (default: "Inside
 * fridge", flat $20, 30 min).
 */
export async function aCatalogue(
  t: TestConvex,
  businessId: Id<"businesses">,
  opts: { industryName?: string; categoryName?: string; products?: ProductSpec[]; extras?: ExtraSpec[] } = {},
) {
  const productSpecs = opts.products ?? [{}];
  const extraSpecs = opts.extras ?? [{}];
  return await t.run(async (ctx) => {
    const industryName = opts.industryName ?? "Cleaning";
    const industryId = await ctx.db.insert("industries", {
      businessId,
      name: industryName,
      slug: `${industryName.toLowerCase().replace(/[^a-z0-9]+/g, "-")}-${nextId("i")}`,
      active: true,
    });
    const categoryId = await ctx.db.insert("categories", {
      businessId,
      industryId,
      name: opts.categoryName ?? "Home cleaning",
      sortOrder: 0,
    });
    const productIds: Id<"products">[] = [];
    for (const [i, p] of productSpecs.entries()) {
      productIds.push(
        await ctx.db.insert("products", {
          businessId,
          industryId,
          categoryId,
          name: p.name ?? (i === 0 ? "Standard clean" : `Product ${i + 1}`),
          priceMinor: p.priceMinor ?? 10_000,
          durationMinutes: p.durationMinutes ?? 120,
          quantity: {
            min: 1,
            max: 5,
            step: 1,
            included: 1,
            extraUnitPriceMinor: 2_500,
            extraUnitDurationMinutes: 30,
            unitLabel: "room",
            ...p.quantity,
          },
          active: p.active ?? true,
          sortOrder: i,
        }),
      );
    }
    const extraIds: Id<"extras">[] = [];
    for (const [i, e] of extraSpecs.entries()) {
      extraIds.push(
        await ctx.db.insert("extras", {
          businessId,
          industryId,
          name: e.name ?? (i === 0 ? "Inside fridge" : `Extra ${i + 1}`),
          priceMinor: e.priceMinor ?? 2_000,
          durationMinutes: e.durationMinutes ?? 30,
          pricing: e.pricing ?? "flat",
          maxQuantity: e.maxQuantity ?? 1,
          productIds: (e.forProducts ?? []).map((index) => productIds[index]),
          active: e.active ?? true,
        }),
      );
    }
    return { industryId, categoryId, productId: productIds[0], productIds, extraId: extraIds[0], extraIds };
  });
}

export const WEEKDAYS_9_TO_5 = [1, 2, 3, 4, 5].map((weekday) => ({ weekday, start: "09:00", end: "17:00" }));

export type ResourceOptions = {
  name?: string;
  kind?: Doc<"resources">["kind"];
  capacity?: number;
  priority?: number;
  active?: boolean;
  weeklyHours?: Doc<"resources">["weeklyHours"];
  bufferBeforeMinutes?: number;
  bufferAfterMinutes?: number;
  maxBookingsPerDay?: number;
  zoneIds?: Id<"zones">[];
  productIds?: Id<"products">[];
};

async function insertResource(
  t: TestConvex,
  businessId: Id<"businesses">,
  opts: ResourceOptions,
  userId: Id<"users"> | undefined,
  defaultKind: Doc<"resources">["kind"],
) {
  return await t.run((ctx) =>
    ctx.db.insert("resources", {
      businessId,
      kind: opts.kind ?? defaultKind,
      name: opts.name ?? (defaultKind === "provider" ? "Pat Provider" : "Room 1"),
      ...(userId ? { userId } : {}),
      capacity: opts.capacity ?? 1,
      priority: opts.priority ?? 0,
      active: opts.active ?? true,
      weeklyHours: opts.weeklyHours ?? WEEKDAYS_9_TO_5,
      bufferBeforeMinutes: opts.bufferBeforeMinutes ?? 0,
      bufferAfterMinutes: opts.bufferAfterMinutes ?? 0,
      ...(opts.maxBookingsPerDay !== undefined ? { maxBookingsPerDay: opts.maxBookingsPerDay } : {}),
      zoneIds: opts.zoneIds ?? [],
      productIds: opts.productIds ?? [],
    }),
  );
}

/**
 * A provider: a staff member (role "staff") linked to a bookable resource working
 * Monday–Friday 09:00–17:00 local time, serving every zone and product by default.
 */
export async function aProvider(t: TestConvex, businessId: Id<"businesses">, opts: ResourceOptions & { email?: string } = {}) {
  const staff = await aStaffMember(t, businessId, { name: opts.name ?? "Pat Provider", email: opts.email });
  const resourceId = await insertResource(t, businessId, opts, staff.userId, "provider");
  await t.run((ctx) => ctx.db.patch("memberships", staff.membershipId, { resourceId }));
  return { ...staff, resourceId };
}

/** A bookable resource with no person behind it (room, chair, desk). */
export async function aResource(t: TestConvex, businessId: Id<"businesses">, opts: ResourceOptions = {}) {
  const resourceId = await insertResource(t, businessId, opts, undefined, "room");
  return { resourceId };
}

export type CustomerOptions = {
  name?: string;
  email?: string;
  phone?: string;
  locale?: string;
  /** Default true: the customer signs in (a user linked by `userId`). */
  signedIn?: boolean;
  address?: Partial<Doc<"customerAddresses">["address"]> & { zoneId?: Id<"zones"> };
};

export type TestCustomer = TestUser & { customerId: Id<"customers">; addressId: Id<"customerAddresses"> | undefined };

/** A customer of the business, signed in (a user linked by `userId`) unless `signedIn: false`. */
export async function aCustomer(
  t: TestConvex,
  businessId: Id<"businesses">,
  opts?: CustomerOptions & { signedIn?: true },
): Promise<TestCustomer>;
export async function aCustomer(
  t: TestConvex,
  businessId: Id<"businesses">,
  opts: CustomerOptions & { signedIn: false },
): Promise<{ customerId: Id<"customers">; addressId: Id<"customerAddresses"> | undefined }>;
export async function aCustomer(t: TestConvex, businessId: Id<"businesses">, opts: CustomerOptions = {}) {
  const signedIn = opts.signedIn ?? true;
  const user = signedIn ? await aUser(t, { name: opts.name ?? "Casey Customer", email: opts.email }) : null;
  const email = opts.email ?? user?.identity.email ?? `${nextId("customer")}@example.test`;
  const { customerId, addressId } = await t.run(async (ctx) => {
    const customerId = await ctx.db.insert("customers", {
      businessId,
      ...(user ? { userId: user.userId } : {}),
      name: opts.name ?? "Casey Customer",
      email: email.toLowerCase(),
      ...(opts.phone ? { phone: opts.phone } : {}),
      ...(opts.locale ? { locale: opts.locale } : {}),
      tags: [],
      createdAt: Date.now(),
    });
    let addressId: Id<"customerAddresses"> | undefined;
    if (opts.address) {
      const { zoneId, ...address } = opts.address;
      addressId = await ctx.db.insert("customerAddresses", {
        businessId,
        customerId,
        address: { line1: "1 Main St", city: "New York", postalCode: "10001", country: "US", ...address },
        ...(zoneId ? { zoneId } : {}),
        isDefault: true,
      });
    }
    return { customerId, addressId };
  });
  return user ? { ...user, customerId, addressId } : { customerId, addressId };
}

export type BookingOptions = {
  businessId: Id<"businesses">;
  customerId: Id<"customers">;
  zoneId: Id<"zones">;
  industryId: Id<"industries">;
  productId?: Id<"products">;
  status?: Doc<"bookings">["status"];
  start?: number;
  durationMinutes?: number;
  totalMinor?: number;
  currency?: string;
  timeZone?: string;
  assignedResourceIds?: Id<"resources">[];
};

/**
 * A booking row written directly (bypassing bookings.create and availability), for tests
 * of things that happen around bookings: reviews, history, reminders, messages.
 * Default: CONFIRMED, starting in 3 days, 2 hours, $100.
 */
export async function aBooking(t: TestConvex, opts: BookingOptions) {
  const start = opts.start ?? Date.now() + 3 * 24 * 3_600_000;
  const durationMinutes = opts.durationMinutes ?? 120;
  const total = opts.totalMinor ?? 10_000;
  const localDate = new Intl.DateTimeFormat("en-CA", { timeZone: opts.timeZone ?? "America/New_York" }).format(start);
  const bookingId = await t.run(async (ctx) => {
    const productId = opts.productId ?? (await ctx.db.query("products").withIndex("by_industryId", (q) => q.eq("industryId", opts.industryId)).first())?._id;
    if (!productId) throw new Error("aBooking: the industry has no product; pass productId or seed aCatalogue");
    return await ctx.db.insert("bookings", {
      businessId: opts.businessId,
      customerId: opts.customerId,
      zoneId: opts.zoneId,
      industryId: opts.industryId,
      status: opts.status ?? "CONFIRMED",
      start,
      end: start + durationMinutes * 60_000,
      localDate,
      items: [{ productId, name: "Standard clean", quantity: 1, unitPriceMinor: total, durationMinutes, extras: [] }],
      quote: {
        currency: opts.currency ?? "USD",
        subtotalMinor: total,
        discountMinor: 0,
        tripChargeMinor: 0,
        minimumTopUpMinor: 0,
        taxMinor: 0,
        totalMinor: total,
        durationMinutes,
      },
      frequency: "once",
      assignedResourceIds: opts.assignedResourceIds ?? [],
      rescheduleCount: 0,
      source: "portal",
      createdAt: Date.now(),
    });
  });
  return { bookingId, start };
}

/** An ACTIVE business with a zone, a catalogue, a provider, a manager and a signed-in customer. */
export async function aBusinessScenario(t: TestConvex, opts: Parameters<typeof aBusiness>[1] = {}) {
  const biz = await aBusiness(t, opts);
  const zone = await aZone(t, biz.businessId);
  const catalogue = await aCatalogue(t, biz.businessId);
  const provider = await aProvider(t, biz.businessId);
  const manager = await aManager(t, biz.businessId);
  const customer = await aCustomer(t, biz.businessId, { address: { zoneId: zone.zoneId } });
  return { ...biz, ...zone, catalogue, provider, manager, customer };
}

/**
 * Awaits a call that must fail with an app error of `code` (and `param`, when given);
 * returns the error data for further checks.
 */
export async function expectAppError(promise: Promise<unknown>, code: string, param?: string) {
  const outcome = await promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  if (outcome.ok) throw new Error(`expected ${code}${param ? ` (${param})` : ""}, but the call succeeded with ${JSON.stringify(outcome.value)}`);
  const data = (outcome.error as { data?: { code?: string; param?: string; message?: string } }).data;
  if (data?.code !== code || (param !== undefined && data?.param !== param)) {
    throw new Error(
      `expected ${code}${param ? ` (${param})` : ""}, got ${data ? JSON.stringify(data) : String(outcome.error)}`,
    );
  }
  return data;
}

/** Every document of every table, to check that a refused call wrote nothing. */
export async function snapshotDatabase(t: TestConvex, tables: readonly string[]) {
  return await t.run(async (ctx) => {
    const out: Record<string, unknown[]> = {};
    for (const table of tables) out[table] = await ctx.db.query(table as "users").take(10_000);
    return out;
  });
}
