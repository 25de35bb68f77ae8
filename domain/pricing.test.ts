import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Catalogue, type CartLine, type QuoteInput, bookingTitle, formatRate, quoteCart } from "./pricing";

const catalogue: Catalogue = {
  products: [
    { id: "std", name: "Standard clean", currency: "USD", unitPriceMinor: 10_000, durationMinutes: 120 },
    {
      id: "rooms",
      name: "Deep clean",
      currency: "USD",
      basePriceMinor: 12_000,
      includedQuantity: 2,
      unitPriceMinor: 2_500,
      durationMinutes: 150,
      perUnitDurationMinutes: 30,
      quantity: { min: 1, max: 8, step: 1 },
      extraIds: ["fridge", "cabinets"],
    },
    { id: "windows", name: "Windows", currency: "USD", unitPriceMinor: 500, durationMinutes: 0, perUnitDurationMinutes: 4, quantity: { min: 5, max: 50, step: 5 } },
    { id: "euro", name: "Euro service", currency: "EUR", unitPriceMinor: 5_000, durationMinutes: 60 },
  ],
  extras: [
    { id: "fridge", name: "Inside fridge", currency: "USD", priceMinor: 3_000, durationMinutes: 30, chargeBasis: "flat" },
    { id: "cabinets", name: "Inside cabinets", currency: "USD", priceMinor: 700, durationMinutes: 10, chargeBasis: "perQuantity", maxQuantity: 12 },
    { id: "oven", name: "Oven", currency: "USD", priceMinor: 4_000, durationMinutes: 45, chargeBasis: "flat" },
  ],
};

function quote(cart: CartLine[], extra: Partial<QuoteInput> = {}) {
  return quoteCart({ currency: "USD", catalogue, cart, ...extra });
}

const lineSum = (q: ReturnType<typeof quote>) => q.lines.reduce((sum, line) => sum + line.amountMinor, 0);

describe("quoteCart", () => {
  it("prices a single simple product", () => {
    const q = quote([{ productId: "std", quantity: 1 }]);
    expect(q).toMatchObject({ subtotalMinor: 10_000, discountMinor: 0, taxMinor: 0, totalMinor: 10_000, durationMinutes: 120 });
    expect(q.lines).toEqual([
      { kind: "product", description: "Standard clean", quantity: 1, unitAmountMinor: 10_000, amountMinor: 10_000, productId: "std", cartLineIndex: 0 },
    ]);
  });

  it.each([
    [1, 12_000, 150],
    [2, 12_000, 150],
    [3, 14_500, 180],
    [8, 27_000, 330],
  ])("included quantity: %i rooms cost %i and take %i minutes", (rooms, price, minutes) => {
    const q = quote([{ productId: "rooms", quantity: rooms }]);
    expect(q.subtotalMinor).toBe(price);
    expect(q.durationMinutes).toBe(minutes);
    for (const line of q.lines) expect(line.amountMinor).toBe(line.quantity * line.unitAmountMinor);
  });

  it("adds flat and per-quantity extras with their durations", () => {
    const q = quote([{ productId: "rooms", quantity: 2, extras: [{ extraId: "fridge", quantity: 1 }, { extraId: "cabinets", quantity: 4 }] }]);
    expect(q.subtotalMinor).toBe(12_000 + 3_000 + 2_800);
    expect(q.durationMinutes).toBe(150 + 30 + 40);
    expect(q.lines.filter((l) => l.kind === "extra").map((l) => [l.description, l.quantity, l.amountMinor])).toEqual([
      ["Inside fridge", 1, 3_000],
      ["Inside cabinets", 4, 2_800],
    ]);
  });

  it("applies the full chain: multiplier, discount, trip charge, exclusive tax", () => {
    const q = quote([{ productId: "std", quantity: 1 }, { productId: "windows", quantity: 10 }], {
      zone: { priceMultiplierBp: 11_000, tripChargeMinor: 1_500, taxRateBp: 825 },
      discountBp: 1_500,
      discountLabel: "Weekly discount",
    });
    // std 11 000, windows 10 × 550 = 5 500 → subtotal 16 500; discount 2 475; + trip 1 500 = 15 525; tax 8.25 % = 1 280.8125 → 1 281
    expect(q).toMatchObject({ subtotalMinor: 16_500, discountMinor: 2_475, tripChargeMinor: 1_500, minimumTopUpMinor: 0, taxMinor: 1_281, totalMinor: 16_806 });
    expect(q.lines.map((l) => [l.kind, l.description, l.amountMinor])).toEqual([
      ["product", "Standard clean", 11_000],
      ["product", "Windows", 5_500],
      ["discount", "Weekly discount", -2_475],
      ["tripCharge", "Trip charge", 1_500],
      ["tax", "Tax (8.25%)", 1_281],
    ]);
    expect(lineSum(q)).toBe(q.totalMinor);
  });

  it("tops up to the zone minimum before tax", () => {
    const q = quote([{ productId: "windows", quantity: 5 }], { zone: { minimumBookingMinor: 5_000, taxRateBp: 1_000 } });
    expect(q).toMatchObject({ subtotalMinor: 2_500, minimumTopUpMinor: 2_500, taxMinor: 500, totalMinor: 5_500 });
    expect(lineSum(q)).toBe(q.totalMinor);
  });

  it("no top-up when the trip charge already reaches the minimum", () => {
    const q = quote([{ productId: "windows", quantity: 5 }], { zone: { minimumBookingMinor: 4_000, tripChargeMinor: 1_500 } });
    expect(q.minimumTopUpMinor).toBe(0);
    expect(q.totalMinor).toBe(4_000);
  });

  it("inclusive tax is extracted from the total, which does not change", () => {
    const q = quote([{ productId: "std", quantity: 1 }], { zone: { taxRateBp: 2_000, taxInclusive: true } });
    expect(q).toMatchObject({ totalMinor: 10_000, taxMinor: 1_667, taxInclusive: true });
    expect(q.lines.some((l) => l.kind === "tax")).toBe(false);
    expect(lineSum(q)).toBe(q.totalMinor);
  });

  it("scales duration by the zone multiplier", () => {
    expect(quote([{ productId: "std", quantity: 1 }], { zone: { durationMultiplierBp: 12_500 } }).durationMinutes).toBe(150);
  });

  it("prices zero-exponent currencies in whole units", () => {
    const yen: Catalogue = { products: [{ id: "cut", name: "Haircut", currency: "JPY", unitPriceMinor: 4_500, durationMinutes: 45 }] };
    const q = quoteCart({ currency: "JPY", catalogue: yen, cart: [{ productId: "cut", quantity: 1 }], zone: { taxRateBp: 1_000 } });
    expect(q.totalMinor).toBe(4_950);
  });
});

describe("quoteCart errors", () => {
  it.each([
    [[], "EMPTY_CART", /empty/],
    [[{ productId: "nope", quantity: 1 }], "UNKNOWN_PRODUCT", /"nope"/],
    [[{ productId: "std", quantity: 2 }], "QUANTITY_OUT_OF_RANGE", /between 1 and 1, got 2/],
    [[{ productId: "rooms", quantity: 0 }], "QUANTITY_OUT_OF_RANGE", /between 1 and 8/],
    [[{ productId: "rooms", quantity: 9 }], "QUANTITY_OUT_OF_RANGE", /between 1 and 8/],
    [[{ productId: "rooms", quantity: 2.5 }], "QUANTITY_OUT_OF_RANGE", /whole number/],
    [[{ productId: "windows", quantity: 12 }], "QUANTITY_OUT_OF_RANGE", /multiple of 5/],
    [[{ productId: "euro", quantity: 1 }], "CURRENCY_MISMATCH", /EUR.*USD/],
    [[{ productId: "rooms", quantity: 2, extras: [{ extraId: "ghost", quantity: 1 }] }], "UNKNOWN_EXTRA", /"ghost"/],
    [[{ productId: "rooms", quantity: 2, extras: [{ extraId: "oven", quantity: 1 }] }], "EXTRA_NOT_ALLOWED", /Oven/],
    [[{ productId: "rooms", quantity: 2, extras: [{ extraId: "fridge", quantity: 2 }] }], "QUANTITY_OUT_OF_RANGE", /Inside fridge/],
    [[{ productId: "rooms", quantity: 2, extras: [{ extraId: "cabinets", quantity: 13 }] }], "QUANTITY_OUT_OF_RANGE", /between 1 and 12/],
    [[{ productId: "rooms", quantity: 2, extras: [{ extraId: "fridge", quantity: 1 }, { extraId: "fridge", quantity: 1 }] }], "INVALID_ARGUMENT", /twice/],
  ])("cart %j → %s", (cart, code, message) => {
    expect(() => quote(cart as CartLine[])).toThrowError(expect.objectContaining({ code, message: expect.stringMatching(message) }));
  });

  it("rejects malformed catalogue entries by name", () => {
    const broken: Catalogue = {
      products: [{ id: "p", name: "P", currency: "USD", unitPriceMinor: 100, durationMinutes: 30, extraIds: ["x"] }],
      extras: [{ id: "x", name: "X", currency: "USD", priceMinor: 10, durationMinutes: 5, chargeBasis: "sometimes" as never }],
    };
    expect(() => quoteCart({ currency: "USD", catalogue: broken, cart: [{ productId: "p", quantity: 1, extras: [{ extraId: "x", quantity: 1 }] }] })).toThrow(
      /extra "x" chargeBasis/,
    );
    const negative: Catalogue = { products: [{ id: "p", name: "P", currency: "USD", unitPriceMinor: -1, durationMinutes: 30 }] };
    expect(() => quoteCart({ currency: "USD", catalogue: negative, cart: [{ productId: "p", quantity: 1 }] })).toThrow(/product "p" unitPriceMinor/);
  });

  it("rejects bad currencies and zone settings", () => {
    expect(() => quote([{ productId: "std", quantity: 1 }], { currency: "usd" })).toThrowError(expect.objectContaining({ code: "UNKNOWN_CURRENCY" }));
    expect(() => quote([{ productId: "std", quantity: 1 }], { zone: { taxRateBp: -1 } })).toThrow(/taxRateBp/);
    expect(() => quote([{ productId: "std", quantity: 1 }], { discountBp: 10_001 })).toThrow(/discountBp/);
  });
});

describe("quote properties", () => {
  it("line items always sum exactly to the total", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 10 }).map((n) => n * 5),
        fc.integer({ min: 0, max: 12 }),
        fc.record({
          priceMultiplierBp: fc.integer({ min: 5_000, max: 20_000 }),
          tripChargeMinor: fc.integer({ min: 0, max: 5_000 }),
          minimumBookingMinor: fc.integer({ min: 0, max: 60_000 }),
          taxRateBp: fc.integer({ min: 0, max: 2_500 }),
          taxInclusive: fc.boolean(),
        }),
        fc.integer({ min: 0, max: 3_000 }),
        (rooms, windows, cabinets, zone, discountBp) => {
          const cart: CartLine[] = [
            { productId: "rooms", quantity: rooms, extras: cabinets > 0 ? [{ extraId: "cabinets", quantity: cabinets }] : [] },
            { productId: "windows", quantity: windows },
          ];
          const q = quote(cart, { zone, discountBp });
          expect(lineSum(q)).toBe(q.totalMinor);
          expect(q.totalMinor).toBeGreaterThanOrEqual(zone.minimumBookingMinor);
          for (const line of q.lines) expect(Number.isInteger(line.amountMinor)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("formatRate", () => {
  it.each([
    [825, "8.25%"],
    [2000, "20%"],
    [1250, "12.5%"],
    [5, "0.05%"],
  ])("%i bp → %s", (bp, text) => {
    expect(formatRate(bp)).toBe(text);
  });
});

describe("bookingTitle", () => {
  const productLines = (cart: CartLine[]) =>
    quote(cart).lines.filter((l) => l.kind === "product").map((l) => ({ productId: l.productId!, name: l.description }));

  it("names each product once, however many price lines it was billed as", () => {
    const lines = productLines([{ productId: "rooms", quantity: 5 }]);
    expect(lines.map((l) => l.name)).toEqual(["Deep clean (includes 2)", "Deep clean, additional"]);
    expect(bookingTitle(lines)).toBe("Deep clean");
  });

  it("lists several products in cart order", () => {
    expect(bookingTitle(productLines([{ productId: "std", quantity: 1 }, { productId: "rooms", quantity: 3 }, { productId: "windows", quantity: 10 }]))).toBe(
      "Standard clean, Deep clean, Windows",
    );
  });

  it("falls back when nothing is booked", () => {
    expect(bookingTitle([])).toBe("Service");
  });
});
