import { describe, expect, it } from "vitest";
import { type BoundaryPolygon, type ServiceZoneArea, normalizePostalCode, pointInPolygon, postalCodeMatches, resolveZone } from "./zones";

describe("normalizePostalCode", () => {
  it.each([
    ["02139", "US", "02139"],
    ["02139-4307", "US", "02139"],
    [" 021394307 ", "US", "02139"],
    ["sw1a1aa", "GB", "SW1A 1AA"],
    ["SW1A   1AA", "GB", "SW1A 1AA"],
    ["m1 1ae", "GB", "M1 1AE"],
    ["k1a0b1", "CA", "K1A 0B1"],
    ["K1A 0B1", undefined, "K1A 0B1"],
    ["90210-1234", undefined, "90210"],
    ["ec1a 1bb", undefined, "EC1A 1BB"],
    ["75 008", "FR", "75008"],
  ])("%j (%s) → %s", (code, country, expected) => {
    expect(normalizePostalCode(code, country)).toBe(expected);
  });

  it.each([
    ["1234", "US", /US ZIP/],
    ["ABCDE", "US", /US ZIP/],
    ["K1A 0B", "CA", /Canadian/],
    ["SW1A", "GB", /UK postcode/],
    ["  ", undefined, /non-empty/],
  ])("rejects %j for %s", (code, country, message) => {
    expect(() => normalizePostalCode(code, country)).toThrow(message);
  });
});

describe("postalCodeMatches", () => {
  it.each([
    ["02139", "02139-4307", "US", true],
    ["02139", "02140", "US", false],
    ["SW1A", "SW1A 1AA", "GB", true],
    ["SW1", "SW1A 1AA", "GB", false],
    ["SW1A 1AA", "sw1a1aa", "GB", true],
    ["K1A", "K1A 0B1", "CA", true],
    ["K1B", "K1A 0B1", "CA", false],
    ["021*", "02139", "US", true],
    ["022*", "02139", "US", false],
    ["M*", "M1 1AE", "GB", true],
  ])("entry %j covers %j (%s): %s", (entry, code, country, expected) => {
    expect(postalCodeMatches(entry, code, country)).toBe(expected);
  });
});

const square: BoundaryPolygon = {
  outer: [
    { lat: 0, lng: 0 },
    { lat: 0, lng: 10 },
    { lat: 10, lng: 10 },
    { lat: 10, lng: 0 },
  ],
  holes: [
    [
      { lat: 4, lng: 4 },
      { lat: 4, lng: 6 },
      { lat: 6, lng: 6 },
      { lat: 6, lng: 4 },
    ],
  ],
};

describe("pointInPolygon", () => {
  it.each([
    [{ lat: 2, lng: 2 }, true, "inside"],
    [{ lat: 5, lng: 5 }, false, "inside the hole"],
    [{ lat: 4, lng: 5 }, true, "on the hole's edge"],
    [{ lat: 0, lng: 5 }, true, "on the outer edge"],
    [{ lat: 10, lng: 10 }, true, "on a vertex"],
    [{ lat: 11, lng: 5 }, false, "outside"],
    [{ lat: -0.0001, lng: 5 }, false, "just outside"],
  ])("%j → %s (%s)", (point, expected) => {
    expect(pointInPolygon(point, square)).toBe(expected);
  });

  it("works for a concave polygon", () => {
    const u: BoundaryPolygon = {
      outer: [
        { lat: 0, lng: 0 },
        { lat: 0, lng: 3 },
        { lat: 3, lng: 3 },
        { lat: 3, lng: 2 },
        { lat: 1, lng: 2 },
        { lat: 1, lng: 1 },
        { lat: 3, lng: 1 },
        { lat: 3, lng: 0 },
      ],
    };
    expect(pointInPolygon({ lat: 2, lng: 1.5 }, u)).toBe(false);
    expect(pointInPolygon({ lat: 2, lng: 0.5 }, u)).toBe(true);
    expect(pointInPolygon({ lat: 0.5, lng: 1.5 }, u)).toBe(true);
  });

  it("rejects bad points and rings", () => {
    expect(() => pointInPolygon({ lat: 91, lng: 0 }, square)).toThrow(/lat/);
    expect(() => pointInPolygon({ lat: 1, lng: 1 }, { outer: [{ lat: 0, lng: 0 }, { lat: 1, lng: 1 }] })).toThrow(/3 points/);
  });
});

describe("resolveZone", () => {
  const zones: ServiceZoneArea[] = [
    { id: "cambridge", country: "US", postalCodes: ["02139", "02138"] },
    { id: "metro", country: "US", postalCodes: ["021*"], priority: 5 },
    { id: "drawn", polygons: [square] },
    { id: "westminster", country: "GB", postalCodes: ["SW1A"] },
  ];

  it.each([
    [{ postalCode: "02139-1234", country: "US" }, { ok: true, zoneId: "cambridge", matchedBy: "postalCode" }],
    [{ postalCode: "02115", country: "US" }, { ok: true, zoneId: "metro", matchedBy: "postalCode" }],
    [{ postalCode: "sw1a 2aa", country: "GB" }, { ok: true, zoneId: "westminster", matchedBy: "postalCode" }],
    [{ postalCode: "90210", country: "US", location: { lat: 1, lng: 1 } }, { ok: true, zoneId: "drawn", matchedBy: "polygon" }],
    [{ location: { lat: 1, lng: 1 } }, { ok: true, zoneId: "drawn", matchedBy: "polygon" }],
    [{ postalCode: "02139", country: "US", location: { lat: 1, lng: 1 } }, { ok: true, zoneId: "cambridge", matchedBy: "postalCode" }],
  ])("%j → %j", (address, expected) => {
    expect(resolveZone(address, zones)).toEqual(expected);
  });

  it("says clearly when no zone covers the address", () => {
    expect(resolveZone({ postalCode: "90210", country: "US", location: { lat: 50, lng: 50 } }, zones)).toEqual({
      ok: false,
      reason: "No service zone covers this address (checked postal code 90210 or location)",
    });
    expect(resolveZone({}, zones)).toEqual({ ok: false, reason: "The address has neither a postal code nor a location" });
  });

  it("a postal code of another country does not match", () => {
    expect(resolveZone({ postalCode: "02139", country: "FR" }, zones).ok).toBe(false);
  });

  it("rejects a malformed postal code instead of reporting no zone", () => {
    expect(() => resolveZone({ postalCode: "0213", country: "US" }, zones)).toThrow(/US ZIP/);
  });
});
