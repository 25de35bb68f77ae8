/**
 * The timeline's geometry. A lane is a grid of 5-minute columns; each job card starts at its
 * start time and is at least wide enough to read (customer, service, address, status and its
 * links), so a short job's card may reach past its end: a bar at the card's top shows the real
 * busy time, and a card that would cover the next one goes to a row below (the lane grows).
 */
import { useCallback, useRef, useState, useSyncExternalStore } from "react";

const SLOT_MS = 5 * 60_000;
/** The narrowest card that shows everything without clipping (px); matches .job min-width. */
export const MIN_CARD_PX = 176;
/** Hour labels are at least this far apart (px): "10:00 AM" at 0.75 rem is about 56 px. */
export const MIN_LABEL_GAP_PX = 80;
/** Width assumed before the lane is measured. */
const DEFAULT_WIDTH_PX = 900;

export type Placed = { column: number; span: number; row: number; bar: { left: number; width: number } };

export function layoutLane(
  items: { id: string; start: number; end: number }[],
  range: { start: number; end: number },
  widthPx: number,
): { columns: number; byId: Map<string, Placed> } {
  const columns = Math.max(1, Math.ceil((range.end - range.start) / SLOT_MS));
  const slotPx = (widthPx > 0 ? widthPx : DEFAULT_WIDTH_PX) / columns;
  const minSpan = Math.min(columns, Math.ceil(MIN_CARD_PX / slotPx));
  const rowEnds: number[] = [];
  const byId = new Map<string, Placed>();
  for (const item of [...items].sort((a, b) => a.start - b.start || a.end - b.end)) {
    const at = Math.min(columns - 1, Math.max(0, Math.floor((item.start - range.start) / SLOT_MS)));
    const busy = Math.max(1, Math.min(columns - at, Math.ceil((item.end - Math.max(item.start, range.start)) / SLOT_MS)));
    const span = Math.max(busy, minSpan);
    const column = Math.max(0, Math.min(at, columns - span));
    let row = rowEnds.findIndex((end) => end <= column);
    if (row === -1) {
      row = rowEnds.length;
      rowEnds.push(0);
    }
    rowEnds[row] = column + span;
    byId.set(item.id, {
      column: column + 1,
      span,
      row: row + 1,
      bar: { left: ((at - column) / span) * 100, width: (busy / span) * 100 },
    });
  }
  return { columns, byId };
}

/** Every how many hours an hour gets a label, so that labels never crowd. */
export function labelStep(widthPx: number, hours: number): number {
  const perHour = (widthPx > 0 ? widthPx : DEFAULT_WIDTH_PX) / Math.max(1, hours);
  return [1, 2, 3, 4, 6, 12, 24].find((step) => perHour * step >= MIN_LABEL_GAP_PX) ?? 24;
}

/** A ref callback and the element's content width, kept current as it resizes. */
export function useElementWidth<T extends HTMLElement>(): [(el: T | null) => void, number] {
  const [width, setWidth] = useState(0);
  const observer = useRef<ResizeObserver | null>(null);
  const ref = useCallback((el: T | null) => {
    observer.current?.disconnect();
    observer.current = null;
    if (el === null) return;
    setWidth(el.getBoundingClientRect().width);
    observer.current = new ResizeObserver((entries) => {
      const w = entries[0]?.contentRect.width;
      if (w !== undefined) setWidth((old) => (Math.abs(old - w) < 0.5 ? old : w));
    });
    observer.current.observe(el);
  }, []);
  return [ref, width];
}

export function useMediaQuery(query: string): boolean {
  return useSyncExternalStore(
    (notify) => {
      const list = window.matchMedia(query);
      list.addEventListener("change", notify);
      return () => list.removeEventListener("change", notify);
    },
    () => window.matchMedia(query).matches,
  );
}
