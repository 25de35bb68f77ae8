/**
 * Demo data: `seed:demo` (an internal action; `npm start` runs it on an empty database with the
 * admin key). Idempotent: when the demo business exists it writes nothing and returns the
 * summary. It runs as a few small mutations (see `demo`), never one that nears Convex's limits.
 *
 * One ACTIVE home-services business in New York with three zones (ZIP codes, one boundary
 * polygon), two industries (home cleaning, handyman), eight providers, an owner, a
 * dispatcher, a platform admin, a dozen customers with addresses, and a week of bookings
 * from today in various statuses, each with its invoice. Every booking is checked with the
 * domain's `checkSlot` against everything already placed (the seed runs alone on an empty
 * database), so none overlaps on a provider, and every history is a path the state machine
 * allows. People are users whose `tokenIdentifier` is `<LOCAL_AUTH_ISSUER>|demo-…`, so the
 * local sign-in can issue tokens for them.
 *
 * The seed writes no events: there is nobody to notify about the past, and the outbox
 * would otherwise start with hundreds of pushes for rooms nobody has opened yet.
 */
import { v, type Infer } from "convex/values";
import { addDays, localDateOf, localToInstant, MINUTE_MS, todayIn, weekdayOf } from "../domain/time";
import { internal } from "./_generated/api";
import type { Doc, Id } from "./_generated/dataModel";
import type { MutationCtx } from "./_generated/server";
import { DEFAULT_POLICIES } from "./businesses";
import { env } from "./env";
import { internalAction, internalMutation, internalQuery } from "./functions";
import { registerDemoKeyFor } from "./api/keys";
import { priceCart } from "./model/bookingPricing";
import { checkSlot, type BusyBlock, type DateOverride } from "../domain/availability";
import { canTransition } from "../domain/bookingStatus";
import { activeAssignmentsAround, busyBlockOf, overridesBetween, timeOffAround, toAvailabilityResource } from "./model/bookingSlots";
import { depositFor, formatInvoiceNumber, invoiceLinesFor } from "./model/invoiceLines";
import type { Actor, BookingStatus, BusinessPolicies } from "./schema";

export const DEMO_SLUG = "brightside-home-services";
const TZ = "America/New_York";
/** Days of bookings from today. */
const DAYS = 7;
const HOLD_MS = { HELD: 10 * MINUTE_MS, PENDING_PAYMENT: 30 * MINUTE_MS } as const;

const vSignIn = v.object({ subject: v.string(), name: v.string(), role: v.string(), email: v.string() });
const vSummary = v.object({
  created: v.boolean(),
  businessId: v.id("businesses"),
  businessName: v.string(),
  timeZone: v.string(),
  counts: v.object({
    zones: v.number(),
    industries: v.number(),
    products: v.number(),
    extras: v.number(),
    providers: v.number(),
    customers: v.number(),
    bookings: v.number(),
    invoices: v.number(),
  }),
  bookingsByStatus: v.record(v.string(), v.number()),
  signIns: v.array(vSignIn),
});

type SignIn = { subject: string; name: string; role: string; email: string };

const POLICIES: BusinessPolicies = {
  cancellation: { ...DEFAULT_POLICIES.cancellation, freeUntilHours: 24, lateFeePercentBp: 2_500 },
  reschedule: { ...DEFAULT_POLICIES.reschedule, freeUntilHours: 24, maxReschedules: 3 },
  booking: {
    ...DEFAULT_POLICIES.booking,
    minimumNoticeMinutes: 120,
    bookingHorizonDays: 60,
    slotStepMinutes: 30,
    arrivalWindowMinutes: 0,
    holdMinutes: 10,
    depositBp: 2_500,
    autoAssign: "round_robin",
  },
};

const ZONES = [
  {
    name: "Brooklyn",
    postalCodes: ["11201", "11211", "11215", "11217", "11238"],
    pricing: { tripChargeMinor: 0, priceMultiplierBp: 10_000, minimumMinor: 9_000 },
    taxRateBp: 888,
    boundaries: [],
  },
  {
    name: "Manhattan",
    postalCodes: ["10001", "10003", "10011", "10014", "10016", "10024"],
    pricing: { tripChargeMinor: 1_500, priceMultiplierBp: 11_000, minimumMinor: 12_000 },
    taxRateBp: 888,
    boundaries: [],
  },
  {
    name: "Queens",
    postalCodes: ["11101", "11105", "11375", "11385"],
    pricing: { tripChargeMinor: 1_000, priceMultiplierBp: 10_000, minimumMinor: 9_000 },
    taxRateBp: 888,
    // Long Island City and Astoria.
    boundaries: [
      {
        outer: [
          { lat: 40.7795, lng: -73.9405 },
          { lat: 40.7845, lng: -73.9120 },
          { lat: 40.7640, lng: -73.8990 },
          { lat: 40.7385, lng: -73.9270 },
          { lat: 40.7400, lng: -73.9610 },
        ],
      },
    ],
  },
] as const;

type ProductSeed = {
  name: string;
  category: number;
  priceMinor: number;
  durationMinutes: number;
  quantity?: { min: number; max: number; included: number; extraUnitPriceMinor: number; extraUnitDurationMinutes: number; unitLabel?: string };
};
type ExtraSeed = { name: string; priceMinor: number; durationMinutes: number; pricing: "flat" | "per_quantity"; maxQuantity: number; forProducts?: number[] };

const INDUSTRIES: { name: string; slug: string; description: string; categories: string[]; products: ProductSeed[]; extras: ExtraSeed[] }[] = [
  {
    name: "Home cleaning",
    slug: "home-cleaning",
    description: "Recurring and one-off cleaning by vetted, insured cleaners.",
    categories: ["Regular cleaning", "Deep cleaning"],
    products: [
      { name: "Standard clean", category: 0, priceMinor: 12_000, durationMinutes: 150, quantity: { min: 1, max: 6, included: 1, extraUnitPriceMinor: 3_000, extraUnitDurationMinutes: 30, unitLabel: "bedroom" } },
      { name: "Deep clean", category: 1, priceMinor: 22_000, durationMinutes: 240, quantity: { min: 1, max: 6, included: 1, extraUnitPriceMinor: 4_500, extraUnitDurationMinutes: 45, unitLabel: "bedroom" } },
      { name: "Move-out clean", category: 1, priceMinor: 28_000, durationMinutes: 300 },
    ],
    extras: [
      { name: "Inside fridge", priceMinor: 2_500, durationMinutes: 30, pricing: "flat", maxQuantity: 1 },
      { name: "Inside oven", priceMinor: 3_000, durationMinutes: 30, pricing: "flat", maxQuantity: 1 },
      { name: "Interior windows", priceMinor: 800, durationMinutes: 10, pricing: "per_quantity", maxQuantity: 20 },
      { name: "Laundry (per load)", priceMinor: 1_500, durationMinutes: 20, pricing: "per_quantity", maxQuantity: 4, forProducts: [0] },
    ],
  },
  {
    name: "Handyman",
    slug: "handyman",
    description: "Small repairs, mounting and assembly, billed by the job or by the hour.",
    categories: ["Repairs", "Assembly & mounting"],
    products: [
      { name: "Handyman hour", category: 0, priceMinor: 8_500, durationMinutes: 60, quantity: { min: 1, max: 4, included: 1, extraUnitPriceMinor: 8_500, extraUnitDurationMinutes: 60, unitLabel: "hour" } },
      { name: "TV mounting", category: 1, priceMinor: 12_900, durationMinutes: 90 },
      { name: "Furniture assembly", category: 1, priceMinor: 9_500, durationMinutes: 120 },
    ],
    extras: [
      { name: "Wall anchors & hardware", priceMinor: 1_500, durationMinutes: 0, pricing: "flat", maxQuantity: 1 },
      { name: "Haul-away of packaging", priceMinor: 4_000, durationMinutes: 30, pricing: "flat", maxQuantity: 1 },
    ],
  },
];

const WEEKDAYS = (start: string, end: string, days = [1, 2, 3, 4, 5]) => days.map((weekday) => ({ weekday, start, end }));

/** zones: indexes into ZONES; empty = all. industry: 0 cleaning, 1 handyman. */
const PROVIDERS = [
  { name: "Maria Gonzalez", industry: 0, zones: [], hours: WEEKDAYS("08:00", "16:00"), priority: 1, color: "#2563eb" },
  { name: "Aisha Johnson", industry: 0, zones: [0], hours: WEEKDAYS("08:00", "16:00", [1, 2, 3, 4, 5, 6]), priority: 1, color: "#16a34a" },
  { name: "Tomasz Nowak", industry: 0, zones: [0, 2], hours: WEEKDAYS("09:00", "17:00", [2, 3, 4, 5, 6]), priority: 2, color: "#db2777" },
  { name: "Grace Kim", industry: 0, zones: [1], hours: WEEKDAYS("07:30", "15:30"), priority: 2, color: "#ea580c" },
  { name: "Luis Ramirez", industry: 0, zones: [], hours: WEEKDAYS("10:00", "18:00", [0, 1, 3, 5, 6]), priority: 3, color: "#7c3aed" },
  { name: "Dev Patel", industry: 1, zones: [], hours: WEEKDAYS("08:00", "17:00"), priority: 1, color: "#0891b2" },
  { name: "Sam O'Brien", industry: 1, zones: [0, 1], hours: WEEKDAYS("09:00", "17:00", [1, 2, 3, 4, 5, 6]), priority: 2, color: "#ca8a04" },
  { name: "Chen Wei", industry: 1, zones: [1, 2], hours: WEEKDAYS("12:00", "20:00", [0, 2, 3, 4, 6]), priority: 2, color: "#4b5563" },
];

const CUSTOMERS: { name: string; zone: number; line1: string; city: string; postalCode: string; location?: { lat: number; lng: number } }[] = [
  { name: "Emily Carter", zone: 0, line1: "214 Clinton St", city: "Brooklyn", postalCode: "11201", location: { lat: 40.6887, lng: -73.9965 } },
  { name: "Marcus Lee", zone: 0, line1: "88 N 6th St", city: "Brooklyn", postalCode: "11211", location: { lat: 40.7197, lng: -73.9603 } },
  { name: "Sofia Rossi", zone: 0, line1: "470 5th Ave", city: "Brooklyn", postalCode: "11215", location: { lat: 40.6686, lng: -73.9866 } },
  { name: "Daniel Cohen", zone: 0, line1: "35 Prospect Park W", city: "Brooklyn", postalCode: "11215", location: { lat: 40.6712, lng: -73.9737 } },
  { name: "Hannah Schmidt", zone: 1, line1: "301 W 22nd St", city: "New York", postalCode: "10011", location: { lat: 40.7456, lng: -74.0003 } },
  { name: "James Wilson", zone: 1, line1: "155 E 29th St", city: "New York", postalCode: "10016", location: { lat: 40.743, lng: -73.9803 } },
  { name: "Priya Shah", zone: 1, line1: "250 W 85th St", city: "New York", postalCode: "10024", location: { lat: 40.7878, lng: -73.9779 } },
  { name: "Olivia Martin", zone: 1, line1: "40 Bleecker St", city: "New York", postalCode: "10014", location: { lat: 40.7258, lng: -73.9945 } },
  { name: "Kevin Nguyen", zone: 2, line1: "27-15 Jackson Ave", city: "Long Island City", postalCode: "11101", location: { lat: 40.7466, lng: -73.9394 } },
  { name: "Fatima Ali", zone: 2, line1: "31-10 Ditmars Blvd", city: "Astoria", postalCode: "11105", location: { lat: 40.7751, lng: -73.9117 } },
  { name: "Robert Brown", zone: 2, line1: "108-20 Queens Blvd", city: "Forest Hills", postalCode: "11375" },
  { name: "Ana Souza", zone: 2, line1: "60-12 Myrtle Ave", city: "Ridgewood", postalCode: "11385" },
];

/** The booking pattern of each day: local time, customer offset, industry, product, quantity, extras. */
const DAY_PLAN: { time: string; industry: number; product: number; quantity: number; extras: number[] }[] = [
  { time: "08:00", industry: 0, product: 0, quantity: 2, extras: [0] },
  { time: "09:00", industry: 1, product: 1, quantity: 1, extras: [0] },
  { time: "10:30", industry: 0, product: 1, quantity: 1, extras: [] },
  { time: "12:30", industry: 0, product: 0, quantity: 1, extras: [2] },
  { time: "13:00", industry: 0, product: 0, quantity: 3, extras: [1] },
  { time: "14:00", industry: 1, product: 2, quantity: 1, extras: [1] },
];

function requireIssuer(): string {
  const issuer = env.localAuthIssuer();
  if (issuer === undefined) {
    throw new Error(
      "LOCAL_AUTH_ISSUER: required to seed demo users (their tokenIdentifier is <issuer>|<subject>); `npm start` generates it.",
    );
  }
  return issuer;
}

async function insertUser(ctx: MutationCtx, issuer: string, subject: string, name: string, isPlatformAdmin = false) {
  const email = `${subject}@brightside.example`;
  const userId = await ctx.db.insert("users", { tokenIdentifier: `${issuer}|${subject}`, name, email, isPlatformAdmin });
  return { userId, email };
}

async function summaryOf(ctx: MutationCtx, business: Doc<"businesses">, created: boolean, signIns: SignIn[]) {
  const count = async <T>(p: Promise<T[]>) => (await p).length;
  const businessId = business._id;
  const bookings = await ctx.db
    .query("bookings")
    .withIndex("by_businessId_and_start", (q) => q.eq("businessId", businessId))
    .take(2_000);
  const byStatus: Record<string, number> = {};
  for (const b of bookings) byStatus[b.status] = (byStatus[b.status] ?? 0) + 1;
  return {
    created,
    businessId,
    businessName: business.name,
    timeZone: business.timeZone,
    counts: {
      zones: await count(ctx.db.query("zones").withIndex("by_businessId", (q) => q.eq("businessId", businessId)).take(100)),
      industries: await count(ctx.db.query("industries").withIndex("by_businessId", (q) => q.eq("businessId", businessId)).take(100)),
      products: await count(ctx.db.query("products").withIndex("by_businessId", (q) => q.eq("businessId", businessId)).take(500)),
      extras: await count(ctx.db.query("extras").withIndex("by_businessId", (q) => q.eq("businessId", businessId)).take(500)),
      providers: await count(ctx.db.query("resources").withIndex("by_businessId", (q) => q.eq("businessId", businessId)).take(500)),
      customers: await count(ctx.db.query("customers").withIndex("by_businessId", (q) => q.eq("businessId", businessId)).take(2_000)),
      bookings: bookings.length,
      invoices: await count(
        ctx.db.query("invoices").withIndex("by_businessId_and_issuedAt", (q) => q.eq("businessId", businessId)).take(2_000),
      ),
    },
    bookingsByStatus: byStatus,
    signIns,
  };
}

function demoSignInList(): SignIn[] {
  const list: SignIn[] = [
    { subject: "demo-owner", name: "Olivia Bright", role: "owner", email: "demo-owner@brightside.example" },
    { subject: "demo-dispatcher", name: "Dana Reyes", role: "manager", email: "demo-dispatcher@brightside.example" },
    { subject: "demo-admin", name: "Avery Admin", role: "platform_admin", email: "demo-admin@brightside.example" },
  ];
  PROVIDERS.forEach((p, i) => list.push({ subject: `demo-provider-${i + 1}`, name: p.name, role: "staff", email: `demo-provider-${i + 1}@brightside.example` }));
  CUSTOMERS.forEach((c, i) => list.push({ subject: `demo-customer-${i + 1}`, name: c.name, role: "customer", email: `demo-customer-${i + 1}@brightside.example` }));
  return list;
}

/** What a booking of the seeded week becomes, given where it sits relative to now. */
function statusFor(start: number, end: number, now: number, n: number): BookingStatus {
  if (end <= now) return n % 11 === 5 ? "NO_SHOW" : "COMPLETED";
  if (start <= now) return "IN_PROGRESS";
  if (start - now <= 90 * MINUTE_MS) return "EN_ROUTE";
  if (n % 13 === 4) return "CANCELLED";
  if (n % 9 === 2) return "PENDING_PAYMENT";
  if (n % 17 === 7) return "HELD";
  return "CONFIRMED";
}


type Step = { from?: BookingStatus; to: BookingStatus; at: number; actor: Actor; reason?: string };

/**
 * The history of a seeded booking from HELD to `status`, every step checked with the
 * domain's `canTransition` (a seed that invents an impossible history fails loudly).
 */
function historyPath(
  status: BookingStatus,
  t: { createdAt: number; start: number; end: number; now: number },
  customer: Actor,
  provider: Actor,
): Step[] {
  const steps: Step[] = [{ to: "HELD", at: t.createdAt, actor: customer }];
  const add = (to: BookingStatus, at: number, actor: Actor, role: "customer" | "staff", reason?: string) => {
    const from = steps[steps.length - 1].to;
    const verdict = canTransition(from, to, role, { now: at, startsAt: t.start });
    if (!verdict.ok) throw new Error(`seed: ${from} → ${to}: ${verdict.reason}`);
    steps.push({ from, to, at, actor, ...(reason ? { reason } : {}) });
  };
  if (status === "HELD") return steps;
  if (status === "PENDING_PAYMENT") {
    add("PENDING_PAYMENT", t.createdAt + MINUTE_MS, customer, "customer");
    return steps;
  }
  add("CONFIRMED", t.createdAt + MINUTE_MS, customer, "customer");
  if (status === "CANCELLED") add("CANCELLED", t.now, customer, "customer", "Schedule conflict");
  if (status === "EN_ROUTE" || status === "IN_PROGRESS" || status === "COMPLETED" || status === "NO_SHOW") {
    add("EN_ROUTE", Math.min(t.now, t.start - 20 * MINUTE_MS), provider, "staff");
  }
  if (status === "IN_PROGRESS" || status === "COMPLETED") add("IN_PROGRESS", t.start, provider, "staff");
  if (status === "COMPLETED") add("COMPLETED", t.end, provider, "staff");
  if (status === "NO_SHOW") add("NO_SHOW", t.start + 15 * MINUTE_MS, provider, "staff", "Customer not home");
  return steps;
}

/**
 * The demo business, run as steps so each transaction stays far inside a mutation's limits
 * (1 s of execution on Convex): the business with its people, zones, catalogue, providers and
 * customers, then one transaction per day of bookings, then the API key and the summary.
 */
export const demo = internalAction({
  args: {},
  returns: vSummary,
  handler: async (ctx): Promise<Infer<typeof vSummary>> => {
    const now = Date.now();
    const { businessId, created } = await ctx.runMutation(internal.seed.demoBusiness, { now });
    if (created) {
      for (let day = 0; day < DAYS; day++) await ctx.runMutation(internal.seed.demoBookingsForDay, { businessId, day, now });
    }
    return await ctx.runMutation(internal.seed.demoFinish, { businessId, created });
  },
});

/** Step 1: everything but the bookings. Nothing is written when the demo business exists. */
export const demoBusiness = internalMutation({
  args: { now: v.number() },
  returns: v.object({ businessId: v.id("businesses"), created: v.boolean() }),
  handler: async (ctx, { now }) => {
    const existing = await ctx.db
      .query("businesses")
      .withIndex("by_slug", (q) => q.eq("slug", DEMO_SLUG))
      .unique();
    if (existing !== null) return { businessId: existing._id, created: false };

    const issuer = requireIssuer();

    // People and the business.
    const owner = await insertUser(ctx, issuer, "demo-owner", "Olivia Bright");
    const dispatcher = await insertUser(ctx, issuer, "demo-dispatcher", "Dana Reyes");
    const admin = await insertUser(ctx, issuer, "demo-admin", "Avery Admin", true);
    const businessId = await ctx.db.insert("businesses", {
      ownerId: owner.userId,
      name: "Brightside Home Services",
      slug: DEMO_SLUG,
      type: "home_services",
      status: "ACTIVE",
      verification: { verifiedAt: now, verifiedBy: admin.userId, note: "Demo business" },
      timeZone: TZ,
      currency: "USD",
      locale: "en-US",
      policies: POLICIES,
      plan: "pro",
    });
    await ctx.db.insert("memberships", { businessId, userId: owner.userId, role: "owner" });
    await ctx.db.insert("memberships", { businessId, userId: dispatcher.userId, role: "manager" });

    // Zones.
    const zoneIds: Id<"zones">[] = [];
    for (const zone of ZONES) {
      const zoneId = await ctx.db.insert("zones", {
        businessId,
        name: zone.name,
        active: true,
        boundaries: zone.boundaries.map((b) => ({ outer: [...b.outer] })),
        pricing: { ...zone.pricing },
        taxRateBp: zone.taxRateBp,
        taxInclusive: false,
      });
      zoneIds.push(zoneId);
      for (const postalCode of zone.postalCodes) await ctx.db.insert("zonePostalCodes", { businessId, zoneId, postalCode });
    }

    // Catalogue.
    const catalogue: { industryId: Id<"industries">; productIds: Id<"products">[]; extraIds: Id<"extras">[] }[] = [];
    for (const industry of INDUSTRIES) {
      const industryId = await ctx.db.insert("industries", {
        businessId,
        name: industry.name,
        slug: industry.slug,
        description: industry.description,
        active: true,
      });
      const categoryIds: Id<"categories">[] = [];
      for (const [sortOrder, name] of industry.categories.entries()) {
        categoryIds.push(await ctx.db.insert("categories", { businessId, industryId, name, sortOrder }));
      }
      const productIds: Id<"products">[] = [];
      for (const [sortOrder, p] of industry.products.entries()) {
        const q = p.quantity ?? { min: 1, max: 1, included: 1, extraUnitPriceMinor: 0, extraUnitDurationMinutes: 0 };
        productIds.push(
          await ctx.db.insert("products", {
            businessId,
            industryId,
            categoryId: categoryIds[p.category],
            name: p.name,
            priceMinor: p.priceMinor,
            durationMinutes: p.durationMinutes,
            quantity: { ...q, step: 1 },
            active: true,
            sortOrder,
          }),
        );
      }
      const extraIds: Id<"extras">[] = [];
      for (const e of industry.extras) {
        extraIds.push(
          await ctx.db.insert("extras", {
            businessId,
            industryId,
            name: e.name,
            priceMinor: e.priceMinor,
            durationMinutes: e.durationMinutes,
            pricing: e.pricing,
            maxQuantity: e.maxQuantity,
            productIds: (e.forProducts ?? []).map((i) => productIds[i]),
            active: true,
          }),
        );
      }
      catalogue.push({ industryId, productIds, extraIds });
    }

    // Providers: a staff member and a resource each.
    const today = todayIn(now, TZ);
    const resources: Id<"resources">[] = [];
    for (const [i, p] of PROVIDERS.entries()) {
      const user = await insertUser(ctx, issuer, `demo-provider-${i + 1}`, p.name);
      const fields = {
        businessId,
        kind: "provider" as const,
        name: p.name,
        userId: user.userId,
        capacity: 1,
        priority: p.priority,
        active: true,
        weeklyHours: p.hours,
        bufferBeforeMinutes: 0,
        bufferAfterMinutes: 15,
        maxBookingsPerDay: 5,
        zoneIds: p.zones.map((z) => zoneIds[z]),
        productIds: catalogue[p.industry].productIds,
        color: p.color,
      };
      const resourceId = await ctx.db.insert("resources", fields);
      await ctx.db.insert("memberships", { businessId, userId: user.userId, role: "staff", resourceId });
      resources.push(resourceId);
    }
    // Time off: Tomasz is away for two days later this week; Grace has a dentist appointment;
    // Luis works a late shift the day after tomorrow.
    const timeOff = [
      { resource: 2, start: localToInstant(addDays(today, 3), "00:00", TZ), end: localToInstant(addDays(today, 5), "00:00", TZ), reason: "Family visit" },
      { resource: 3, start: localToInstant(addDays(today, 1), "12:00", TZ), end: localToInstant(addDays(today, 1), "14:00", TZ), reason: "Dentist" },
    ];
    for (const off of timeOff) {
      await ctx.db.insert("timeOff", { businessId, resourceId: resources[off.resource], start: off.start, end: off.end, reason: off.reason });
    }
    const lateShift = { date: addDays(today, 2), hours: [{ start: "12:00", end: "20:00" }] };
    await ctx.db.insert("resourceDateOverrides", { businessId, resourceId: resources[4], closed: false, ...lateShift });

    // Customers with addresses.
    for (const [i, c] of CUSTOMERS.entries()) {
      const user = await insertUser(ctx, issuer, `demo-customer-${i + 1}`, c.name);
      const customerId = await ctx.db.insert("customers", {
        businessId,
        userId: user.userId,
        name: c.name,
        email: user.email,
        phone: `+1212555${String(100 + i).padStart(4, "0")}`,
        tags: i % 4 === 0 ? ["recurring"] : [],
        createdAt: now - (30 - i) * 86_400_000,
      });
      const address = { line1: c.line1, city: c.city, region: "NY", postalCode: c.postalCode, country: "US", ...(c.location ? { location: c.location } : {}) };
      await ctx.db.insert("customerAddresses", { businessId, customerId, address, zoneId: zoneIds[c.zone], isDefault: true });
      if (i % 3 === 0) {
        await ctx.db.insert("clientNotes", {
          businessId,
          customerId,
          authorId: dispatcher.userId,
          body: i % 2 === 0 ? "Friendly dog; please close the gate." : "Building buzzer 4B; key with the doorman.",
          visibleToStaff: true,
          createdAt: now,
        });
      }
    }

    return { businessId, created: true };
  },
});

/** What a day of bookings is planned against, read back from what the earlier steps wrote. */
async function demoPlanState(ctx: MutationCtx, businessId: Id<"businesses">, date: string) {
  const business = (await ctx.db.get("businesses", businessId))!;
  // Documents come back in insertion order within an index key, which is the order of the
  // constants above (zones, industries, providers); customers were created a day apart.
  const zones = await ctx.db.query("zones").withIndex("by_businessId", (q) => q.eq("businessId", businessId)).take(100);
  const catalogue = await Promise.all(
    (await ctx.db.query("industries").withIndex("by_businessId", (q) => q.eq("businessId", businessId)).take(100)).map(async (industry) => ({
      industryId: industry._id,
      productIds: (await ctx.db.query("products").withIndex("by_industryId", (q) => q.eq("industryId", industry._id)).take(100))
        .sort((a, b) => a.sortOrder - b.sortOrder)
        .map((p) => p._id),
      extraIds: (await ctx.db.query("extras").withIndex("by_industryId", (q) => q.eq("industryId", industry._id)).take(100)).map((e) => e._id),
    })),
  );
  const resources = (await ctx.db.query("resources").withIndex("by_businessId", (q) => q.eq("businessId", businessId)).take(500)).filter((r) => r.kind === "provider");
  // The day's busy time, time off and overrides, read as a booking reads them.
  const dayStart = localToInstant(date, "00:00", TZ);
  const dayEnd = localToInstant(addDays(date, 1), "00:00", TZ);
  const known = new Map<string, { busy: BusyBlock[]; timeOff: { start: number; end: number }[]; overrides: DateOverride[] }>();
  /** Jobs per provider on the days seeded so far, for the round robin. */
  const roundRobin = new Map<string, number>();
  for (const resource of resources) {
    const jobs = await ctx.db.query("bookingAssignments").withIndex("by_resourceId_and_busyEnd", (q) => q.eq("resourceId", resource._id)).take(500);
    roundRobin.set(resource._id, jobs.length);
    known.set(resource._id, {
      busy: (await activeAssignmentsAround(ctx, resource._id, dayStart, dayEnd)).map(busyBlockOf),
      timeOff: await timeOffAround(ctx, resource._id, dayStart, dayEnd),
      overrides: await overridesBetween(ctx, resource._id, date, date),
    });
  }
  const customers = await Promise.all(
    (await ctx.db.query("customers").withIndex("by_businessId", (q) => q.eq("businessId", businessId)).take(500))
      .sort((a, b) => a.createdAt - b.createdAt)
      .map(async (c) => {
        const address = (await ctx.db.query("customerAddresses").withIndex("by_customerId", (q) => q.eq("customerId", c._id)).first())!;
        const invoices = await ctx.db.query("invoices").withIndex("by_customerId", (q) => q.eq("customerId", c._id)).take(100);
        return {
          customerId: c._id,
          userId: c.userId!,
          zone: zones.findIndex((z) => z._id === address.zoneId),
          address: address.address,
          invoiceCount: invoices.length,
        };
      }),
  );
  return { business, zones, catalogue, resources, known, roundRobin, customers };
}

/**
 * Step 2, once per day of the week from today. Each candidate start is checked with the
 * domain's `checkSlot` against the complete picture of what is placed (hours, overrides,
 * time off, buffers, per-day limit), read back at the start of the step: the seed runs alone
 * on a new database, so nothing else places jobs meanwhile. The assignment, the resource-day
 * counters, the invoice and the status history are written straight away, which keeps the
 * seed to a few writes per booking.
 */
export const demoBookingsForDay = internalMutation({
  args: { businessId: v.id("businesses"), day: v.number(), now: v.number() },
  returns: v.null(),
  handler: async (ctx, { businessId, day, now }) => {
    const date = addDays(todayIn(now, TZ), day);
    const { business, zones, catalogue, resources, known, roundRobin, customers } = await demoPlanState(ctx, businessId, date);
    const dayCounts = new Map<string, { resourceId: Id<"resources">; date: string; count: number; last: number }>();
    const pricedCache = new Map<string, Awaited<ReturnType<typeof priceCart>>>();
    for (const [slot, plan] of DAY_PLAN.entries()) {
      const n = day * DAY_PLAN.length + slot + 1;
      const customer = customers[(day * 5 + slot) % customers.length];
      const zone = zones[customer.zone];
      const industry = catalogue[plan.industry];
      const productId = industry.productIds[plan.product];
      const priceKey = `${customer.zone}/${slot}`;
      let priced = pricedCache.get(priceKey);
      if (priced === undefined) {
        const extras = plan.extras
          .filter((e) => e < industry.extraIds.length)
          .map((e) => ({ extraId: industry.extraIds[e], quantity: INDUSTRIES[plan.industry].extras[e].pricing === "flat" ? 1 : 6 }));
        priced = await priceCart(ctx, business, zone, [{ productId, quantity: plan.quantity, extras }]);
        pricedCache.set(priceKey, priced);
      }
      const start = localToInstant(date, plan.time, TZ);
      const durationMinutes = priced.quote.durationMinutes;

      // Round robin among free providers, as auto-assignment would do.
      let chosen: Doc<"resources"> | null = null;
      const ordered = [...resources].sort((a, b) => (roundRobin.get(a._id) ?? 0) - (roundRobin.get(b._id) ?? 0) || a.priority - b.priority);
      const weekday = weekdayOf(date);
      const busyEndFor = (r: Doc<"resources">) => start + durationMinutes * MINUTE_MS + r.bufferAfterMinutes * MINUTE_MS;
      for (const resource of ordered) {
        // Cheap filters first (serves it, works that day, nothing overlapping); the domain
        // check is the judge for the candidate that passes them.
        const mine = known.get(resource._id)!;
        if (!resource.productIds.includes(productId)) continue;
        if (resource.zoneIds.length > 0 && !resource.zoneIds.includes(zone._id)) continue;
        if (!resource.weeklyHours.some((h) => h.weekday === weekday) && !mine.overrides.some((o) => o.date === date)) continue;
        if (mine.busy.some((b) => b.start < busyEndFor(resource) && start < b.end)) continue;
        const verdict = checkSlot({
          resource: toAvailabilityResource(resource, known.get(resource._id)!),
          start,
          timeZone: TZ,
          now: Math.min(now, start),
          durationMinutes,
          zoneId: zone._id,
          productIds: [productId],
        });
        if (verdict.ok) {
          chosen = resource;
          break;
        }
      }
      if (chosen === null) continue;
      roundRobin.set(chosen._id, (roundRobin.get(chosen._id) ?? 0) + 1);

      const end = start + durationMinutes * MINUTE_MS;
      const status = statusFor(start, end, now, n);
      const localDate = localDateOf(start, TZ);
      const createdAt = Math.min(now, start) - (7 - day) * 3_600_000;
      const customerActor = { role: "customer" as const, userId: customer.userId };
      const providerActor = { role: "staff" as const, userId: chosen.userId };
      // The path from HELD to the final status, each step validated by the state machine.
      const path = historyPath(status, { createdAt, start, end, now }, customerActor, providerActor);
      const occupiesTime = status !== "CANCELLED" && status !== "COMPLETED" && status !== "NO_SHOW";
      const cancellation =
        status === "CANCELLED"
          ? { at: now, actor: customerActor, reason: "Schedule conflict", feeMinor: 0 }
          : status === "NO_SHOW"
            ? { at: start + 15 * MINUTE_MS, actor: providerActor, reason: "no_show", feeMinor: 0 }
            : undefined;
      const holdExpiresAt = status === "HELD" || status === "PENDING_PAYMENT" ? now + HOLD_MS[status] : undefined;
      const bookingFields = {
        businessId,
        customerId: customer.customerId,
        zoneId: zone._id,
        industryId: industry.industryId,
        address: customer.address,
        status,
        start,
        end,
        localDate,
        items: priced.items,
        quote: priced.storedQuote,
        frequency: "once" as const,
        assignedResourceIds: status === "CANCELLED" ? [] : [chosen._id],
        holdExpiresAt,
        customerNotes: slot % 4 === 1 ? "Please call when you are 10 minutes away." : undefined,
        cancellation,
        rescheduleCount: 0,
        source: slot % 3 === 0 ? ("staff" as const) : ("portal" as const),
        createdAt,
      };
      const bookingId = await ctx.db.insert("bookings", bookingFields);
      const busyEnd = end + chosen.bufferAfterMinutes * MINUTE_MS;
      await ctx.db.insert("bookingAssignments", {
        businessId,
        bookingId,
        resourceId: chosen._id,
        busyStart: start,
        busyEnd,
        localDate,
        capacityUnits: 1,
        status: occupiesTime ? (start <= now || slot % 2 === 0 ? "accepted" : "offered") : "released",
        assignedAt: createdAt,
      });
      if (occupiesTime) {
        known.get(chosen._id)!.busy.push({ start, end: busyEnd, units: 1 });
        const key = `${chosen._id}/${localDate}`;
        const counter = dayCounts.get(key) ?? { resourceId: chosen._id, date: localDate, count: 0, last: 0 };
        counter.count++;
        counter.last = Math.max(counter.last, createdAt);
        dayCounts.set(key, counter);
      }
      for (const step of path) {
        await ctx.db.insert("bookingStatusHistory", { businessId, bookingId, ...step });
      }
      if (holdExpiresAt !== undefined) await ctx.scheduler.runAt(holdExpiresAt, internal.bookings.expireHold, { bookingId });
      if (status === "HELD") continue;

      // The invoice, 1:1, numbered in the customer's own sequence.
      const sequence = ++customer.invoiceCount;
      const total = priced.storedQuote.totalMinor;
      const depositMinor = depositFor(total, POLICIES.booking.depositBp);
      const paid = status === "PENDING_PAYMENT" ? 0 : status === "COMPLETED" || status === "IN_PROGRESS" ? total : depositMinor;
      const invoiceId = await ctx.db.insert("invoices", {
        businessId,
        bookingId,
        customerId: customer.customerId,
        number: formatInvoiceNumber(customer.customerId, sequence),
        status: status === "CANCELLED" ? "refunded" : paid >= total ? "paid" : "open",
        currency: business.currency,
        lines: invoiceLinesFor({ ...bookingFields }, zone.taxRateBp),
        subtotalMinor: priced.storedQuote.subtotalMinor,
        discountMinor: priced.storedQuote.discountMinor,
        taxMinor: priced.storedQuote.taxMinor,
        totalMinor: total,
        depositMinor,
        amountPaidMinor: paid,
        // A free cancellation returns the deposit (the payments module would refund it).
        amountRefundedMinor: status === "CANCELLED" ? paid : 0,
        issuedAt: createdAt + MINUTE_MS,
        ...(paid > 0 ? { paidAt: createdAt + 2 * MINUTE_MS } : {}),
      });
      await ctx.db.patch("bookings", bookingId, { invoiceId });
    }
    for (const counter of dayCounts.values()) {
      await ctx.db.insert("resourceDays", {
        businessId,
        resourceId: counter.resourceId,
        date: counter.date,
        bookingCount: counter.count,
        lastAssignedAt: counter.last,
      });
    }
    return null;
  },
});

/** Step 3: the REST API's demo key (generated into .env.local by `npm start`) and the summary. */
export const demoFinish = internalMutation({
  args: { businessId: v.id("businesses"), created: v.boolean() },
  returns: vSummary,
  handler: async (ctx, { businessId, created }) => {
    const business = (await ctx.db.get("businesses", businessId))!;
    const demoApiKey = env.demoApiKey();
    if (created && demoApiKey !== undefined) await registerDemoKeyFor(ctx, businessId, demoApiKey);
    return await summaryOf(ctx, business, created, demoSignInList());
  },
});

/** The demo accounts the local sign-in offers (empty until the demo business exists). */
export const demoSignIns = internalQuery({
  args: {},
  returns: v.array(vSignIn),
  handler: async (ctx) => {
    const existing = await ctx.db
      .query("businesses")
      .withIndex("by_slug", (q) => q.eq("slug", DEMO_SLUG))
      .unique();
    return existing === null ? [] : demoSignInList();
  },
});
