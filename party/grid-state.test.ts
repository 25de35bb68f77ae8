import { describe, expect, it } from "vitest";
import { applyGridChanges, type SlotGrid } from "../domain/slotGrid";
import { GridBook, receiveGrid, type GridDiffMessage, type GridMessage } from "./grid-state";
import { parseClientMessage, parsePushBody, parseServerMessage } from "./messages";

const grid = (asOf: number, spans: number[][], ids = spans.map((_, i) => `r${i}`)): SlotGrid => ({
  date: "2026-11-24",
  timeZone: "America/New_York",
  dayStart: Date.parse("2026-11-24T05:00:00Z"),
  stepMinutes: 15,
  minimumNoticeMinutes: 0,
  arrivalWindowMinutes: 0,
  asOf,
  resources: spans.map((s, i) => ({ id: ids[i], productIds: [], spans: s })),
});

describe("the room's grid book", () => {
  it("sends the whole grid first, then only the changed cells, numbered", () => {
    const book = new GridBook();
    const first = book.offer(grid(1, [[0, 120, 105], [60, 45, 30]]), 0);
    expect(first).toEqual({ kind: "full", message: { type: "grid", version: 1, grid: grid(1, [[0, 120, 105], [60, 45, 30]]) } });
    const second = book.offer(grid(2, [[0, 0, 0], [60, 45, 30]]), 0);
    expect(second).toEqual({ kind: "diff", message: { type: "grid.diff", version: 2, asOf: 2, changes: [[0, 1, 0], [0, 2, 0]] } });
    expect(book.offer(grid(3, [[0, 0, 0], [60, 45, 30]]), 0)).toEqual({ kind: "unchanged" });
    expect(book.snapshot()).toMatchObject({ type: "grid", version: 2, grid: { asOf: 3 } });
  });

  it("drops an older grid arriving late (a pull racing a push)", () => {
    const book = new GridBook();
    book.offer(grid(10, [[30]]), 0);
    expect(book.offer(grid(9, [[0]]), 0)).toEqual({ kind: "older" });
    expect(book.current?.resources[0].spans).toEqual([30]);
  });

  it("sends the whole grid again when the resources change", () => {
    const book = new GridBook();
    book.offer(grid(1, [[30]]), 0);
    expect(book.offer(grid(2, [[30], [15]]), 0)).toMatchObject({ kind: "full", message: { version: 2 } });
    expect(book.offer(grid(3, [[30], [15]], ["r0", "other"]), 0)).toMatchObject({ kind: "full", message: { version: 3 } });
  });

  it("puts a booking's rows into the grid and sends only their changed cells", () => {
    const book = new GridBook();
    book.offer(grid(1, [[0, 120, 105], [60, 45, 30], [15, 15, 15]]), 0);
    const patch = { ...grid(5, [[60, 0, 30]], ["r1"]) };
    expect(book.offerPatch(patch)).toEqual({ kind: "diff", message: { type: "grid.diff", version: 2, asOf: 5, changes: [[1, 1, 0]] } });
    expect(book.current?.resources.map((r) => r.spans)).toEqual([[0, 120, 105], [60, 0, 30], [15, 15, 15]]);
    expect(book.current?.asOf).toBe(5);
    // The visitor's copy, diffed from the whole grid, is the room's.
    const state = { grid: null as SlotGrid | null, version: 0 };
    receiveGrid(state, { type: "grid", version: 1, grid: grid(1, [[0, 120, 105], [60, 45, 30], [15, 15, 15]]) });
    receiveGrid(state, { type: "grid.diff", version: 2, asOf: 5, changes: [[1, 1, 0]] });
    expect(state.grid).toEqual(book.current);
    expect(book.offerPatch(grid(6, [[60, 0, 30]], ["r1"]))).toEqual({ kind: "unchanged" });
    expect(book.offerPatch(grid(4, [[0, 0, 0]], ["r1"]))).toEqual({ kind: "older" });
  });

  it("cannot use rows without a grid, of a resource it does not have, or of another day layout", () => {
    const book = new GridBook();
    expect(book.offerPatch(grid(1, [[0]]))).toEqual({ kind: "unusable" });
    book.offer(grid(1, [[30, 30]]), 0);
    expect(book.offerPatch(grid(2, [[0, 0]], ["new"]))).toEqual({ kind: "unusable" });
    expect(book.offerPatch(grid(2, [[0]]))).toEqual({ kind: "unusable" }); // another number of starts
    expect(book.offerPatch({ ...grid(2, [[0, 0]]), stepMinutes: 30 })).toEqual({ kind: "unusable" });
    expect(book.current?.resources[0].spans).toEqual([30, 30]);
  });

  it("is stale without a grid or when no push refreshed it for a while", () => {
    const book = new GridBook();
    expect(book.isStale(0, 1_000)).toBe(true);
    book.offer(grid(1, [[30]]), 0);
    expect(book.isStale(1_000, 1_000)).toBe(false);
    expect(book.isStale(1_001, 1_000)).toBe(true);
  });
});

describe("a visitor receiving grids", () => {
  const full: GridMessage = { type: "grid", version: 4, grid: grid(1, [[0, 30]]) };
  const diff = (version: number, changes: GridDiffMessage["changes"]): GridDiffMessage => ({ type: "grid.diff", version, asOf: 2, changes });

  it("applies the next diff, ignores old ones, resyncs on a gap", () => {
    const state = { grid: null as SlotGrid | null, version: 0 };
    expect(receiveGrid(state, diff(1, [])).action).toBe("resync"); // nothing to apply it to
    expect(receiveGrid(state, full).action).toBe("applied");
    const applied = receiveGrid(state, diff(5, [[0, 0, 45]]));
    expect(applied.action).toBe("applied");
    expect(state.grid!.resources[0].spans).toEqual([45, 30]);
    expect(receiveGrid(state, diff(5, [[0, 0, 60]])).action).toBe("ignored");
    expect(receiveGrid(state, diff(7, [[0, 0, 60]])).action).toBe("resync");
    expect(state.version).toBe(5);
    expect(receiveGrid(state, diff(6, [[3, 0, 60]])).action).toBe("resync"); // a cell outside the grid
    expect(state.grid!.resources[0].spans).toEqual([45, 30]);
  });

  it("leaves the grid it applied changes to as it was", () => {
    const before = grid(1, [[0, 30]]);
    const after = applyGridChanges(before, [[0, 1, 0]], 2);
    expect(before.resources[0].spans).toEqual([0, 30]);
    expect(after).toMatchObject({ asOf: 2, resources: [{ spans: [0, 0] }] });
  });
});

describe("grid messages are validated", () => {
  it("accepts grid.resync and refuses anything else from a visitor", () => {
    expect(parseClientMessage("availability", JSON.stringify({ type: "grid.resync" })).ok).toBe(true);
    const extra = parseClientMessage("availability", JSON.stringify({ type: "grid.resync", grid: {} }));
    expect(extra.ok).toBe(false);
    if (!extra.ok) expect(extra.error).toMatchObject({ code: "invalid_message" });
    expect(parseClientMessage("availability", JSON.stringify({ type: "grid.diff", version: 1, asOf: 1, changes: [] })).ok).toBe(false);
  });

  it("checks a pushed grid field by field (no names, bounded sizes)", () => {
    const push = (g: unknown) =>
      parsePushBody(
        "availability",
        JSON.stringify({
          party: "availability",
          room: "biz_b__zone_z__2026-11-24",
          events: [{ seq: 1, eventId: "e1", occurredAt: 1, event: { type: "slots.changed", businessId: "b", zoneId: "z", date: "2026-11-24", resourceIds: [], reason: "booking_created" } }],
          grid: g,
        }),
      );
    const patched = parsePushBody(
      "availability",
      JSON.stringify({
        party: "availability",
        room: "biz_b__zone_z__2026-11-24",
        events: [{ seq: 1, eventId: "e1", occurredAt: 1, event: { type: "slots.changed", businessId: "b", zoneId: "z", date: "2026-11-24", resourceIds: ["r0"], reason: "booking_created" } }],
        gridPatch: grid(1, [[0, 15]]),
      }),
    );
    expect(patched.ok && patched.value.gridPatch?.resources[0].spans).toEqual([0, 15]);
    const ok = push(grid(1, [[0, 30]]));
    expect(ok.ok && ok.value.grid?.resources[0].spans).toEqual([0, 30]);
    const named = push({ ...grid(1, [[0]]), resources: [{ id: "r0", productIds: [], spans: [0], name: "Pat" }] });
    expect(named.ok).toBe(false);
    expect(push({ ...grid(1, [[0]]), resources: [{ id: "r0", productIds: [], spans: [2_000] }] }).ok).toBe(false);
    expect(push({ ...grid(1, [[0]]), date: "2026-13-01" }).ok).toBe(false);
  });

  it("parses what the room sends", () => {
    expect(parseServerMessage("availability", JSON.stringify({ type: "grid", version: 0, grid: grid(1, [[0]]) })).ok).toBe(true);
    expect(parseServerMessage("availability", JSON.stringify({ type: "grid.diff", version: 2, asOf: 3, changes: [[0, 1, 30]] })).ok).toBe(true);
    expect(parseServerMessage("availability", JSON.stringify({ type: "grid.diff", version: 2, asOf: 3, changes: [[0, 1]] })).ok).toBe(false);
  });
});
