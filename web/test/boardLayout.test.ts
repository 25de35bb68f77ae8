/**
 * The board's geometry without a browser: lane cards never overlap and are never narrower
 * than readable, hour labels get room, and the map's projection keeps every point in view.
 */
import { describe, expect, test } from "vitest";
import { fit, tilesFor, toView } from "../src/pages/dispatch/geo";
import { MIN_CARD_PX, MIN_LABEL_GAP_PX, labelStep, layoutLane } from "../src/pages/dispatch/layout";

const HOUR = 3_600_000;
const day = { start: 8 * HOUR, end: 20 * HOUR };

describe("layoutLane", () => {
  test("a short job's card is still readable, starts at its time, and a card it would cover goes below", () => {
    const width = 960; // 144 five-minute columns: 6.67 px each
    const { columns, byId } = layoutLane(
      [
        { id: "a", start: 9 * HOUR, end: 9.5 * HOUR },
        { id: "b", start: 9.75 * HOUR, end: 10.5 * HOUR },
        { id: "c", start: 14 * HOUR, end: 18 * HOUR },
      ],
      day,
      width,
    );
    expect(columns).toBe(144);
    const px = width / columns;
    const a = byId.get("a")!;
    const b = byId.get("b")!;
    const c = byId.get("c")!;
    expect(a.span * px).toBeGreaterThanOrEqual(MIN_CARD_PX);
    expect(a.column).toBe(12 + 1);
    expect(a.bar).toEqual({ left: 0, width: (6 / a.span) * 100 });
    // b starts inside a's card: its own row.
    expect(b.row).toBe(2);
    // c is long and far away: its real width, back in the first row.
    expect(c).toMatchObject({ column: 72 + 1, span: 48, row: 1, bar: { left: 0, width: 100 } });
  });

  test("a card near the end of the day stays inside the lane and its bar marks the real time", () => {
    const { columns, byId } = layoutLane([{ id: "late", start: 19.5 * HOUR, end: 20 * HOUR }], day, 960);
    const late = byId.get("late")!;
    expect(late.column + late.span - 1).toBe(columns);
    expect(late.bar.left + late.bar.width).toBeCloseTo(100);
  });

  test("no two cards of a row overlap, whatever the jobs", () => {
    const items = Array.from({ length: 30 }, (_, i) => ({ id: String(i), start: 8 * HOUR + ((i * 37) % 660) * 60_000, end: 8 * HOUR + (((i * 37) % 660) + 20 + (i % 5) * 30) * 60_000 }));
    const { byId } = layoutLane(items, day, 700);
    const rows = new Map<number, [number, number][]>();
    for (const p of byId.values()) rows.set(p.row, [...(rows.get(p.row) ?? []), [p.column, p.column + p.span]]);
    for (const spans of rows.values()) {
      spans.sort((x, y) => x[0] - y[0]);
      for (let i = 1; i < spans.length; i++) expect(spans[i][0]).toBeGreaterThanOrEqual(spans[i - 1][1]);
    }
  });
});

describe("labelStep", () => {
  test("labels are at least the minimum gap apart at every width", () => {
    for (const width of [300, 600, 900, 1200, 2000]) {
      for (const hours of [4, 10, 14, 24]) expect((width / hours) * labelStep(width, hours)).toBeGreaterThanOrEqual(Math.min(MIN_LABEL_GAP_PX, width));
    }
    expect(labelStep(1200, 12)).toBe(1);
    expect(labelStep(600, 14)).toBe(2);
  });
});

describe("map projection", () => {
  const points = [
    { lat: 40.6887, lng: -73.9965 },
    { lat: 40.7878, lng: -73.9779 },
    { lat: 40.7751, lng: -73.9117 },
  ];
  test("every point lands inside the drawing, the farthest ones near its padded edge", () => {
    const view = fit(points, 800, 500, 48);
    const xy = points.map((p) => toView(p, view));
    for (const q of xy) {
      expect(q.x).toBeGreaterThanOrEqual(47.9);
      expect(q.x).toBeLessThanOrEqual(752.1);
      expect(q.y).toBeGreaterThanOrEqual(47.9);
      expect(q.y).toBeLessThanOrEqual(452.1);
    }
    const ys = xy.map((q) => q.y);
    expect(Math.max(...ys) - Math.min(...ys)).toBeCloseTo(500 - 96, 0);
    // North is up: the northernmost point is highest.
    expect(xy[1].y).toBeLessThan(xy[0].y);
  });

  test("tiles of the whole zoom below cover the drawing, with the configured URL", () => {
    const view = fit(points, 800, 500, 48);
    const tiles = tilesFor(view, "https://tiles.example/{z}/{x}/{y}.png");
    const z = Math.floor(view.zoom);
    expect(tiles.length).toBeGreaterThan(0);
    for (const t of tiles) expect(t.href).toMatch(new RegExp(`^https://tiles\\.example/${z}/\\d+/\\d+\\.png$`));
    const minX = Math.min(...tiles.map((t) => t.x));
    const maxX = Math.max(...tiles.map((t) => t.x + t.size));
    const minY = Math.min(...tiles.map((t) => t.y));
    const maxY = Math.max(...tiles.map((t) => t.y + t.size));
    expect([minX <= 0, maxX >= 800, minY <= 0, maxY >= 500]).toEqual([true, true, true, true]);
  });
});
