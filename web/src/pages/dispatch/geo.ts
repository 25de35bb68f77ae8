/**
 * The board map's projection: Web Mercator in 256-pixel tiles, the same as OpenStreetMap-style
 * tile servers, so the drawn points land on the tiles when a tile URL is configured and on a
 * plain background otherwise.
 */
export type LatLng = { lat: number; lng: number };
export type Viewport = { zoom: number; left: number; top: number; width: number; height: number };

const TILE = 256;
const MAX_ZOOM = 17;
/** One point alone is shown at street level. */
const SINGLE_POINT_ZOOM = 14;

/** World pixel of a coordinate at a zoom level. */
export function project(p: LatLng, zoom: number): { x: number; y: number } {
  const scale = TILE * 2 ** zoom;
  const lat = Math.max(-85.0511, Math.min(85.0511, p.lat));
  const sin = Math.sin((lat * Math.PI) / 180);
  return {
    x: ((p.lng + 180) / 360) * scale,
    y: (0.5 - Math.log((1 + sin) / (1 - sin)) / (4 * Math.PI)) * scale,
  };
}

/**
 * The zoom (fractional: the points fill the drawing) at which every point fits in
 * width × height with `pad` pixels around, centred on them.
 */
export function fit(points: LatLng[], width: number, height: number, pad: number): Viewport {
  if (points.length === 0) return { zoom: 0, left: 0, top: 0, width, height };
  const bounds = (zoom: number) => {
    const xy = points.map((p) => project(p, zoom));
    const xs = xy.map((q) => q.x);
    const ys = xy.map((q) => q.y);
    return { minX: Math.min(...xs), maxX: Math.max(...xs), minY: Math.min(...ys), maxY: Math.max(...ys) };
  };
  let zoom = SINGLE_POINT_ZOOM;
  const b0 = bounds(0);
  const spanX = b0.maxX - b0.minX;
  const spanY = b0.maxY - b0.minY;
  if (spanX > 0 || spanY > 0) {
    const zx = spanX > 0 ? Math.log2((width - 2 * pad) / spanX) : MAX_ZOOM;
    const zy = spanY > 0 ? Math.log2((height - 2 * pad) / spanY) : MAX_ZOOM;
    zoom = Math.max(0, Math.min(MAX_ZOOM, Math.min(zx, zy)));
  }
  const b = bounds(zoom);
  return { zoom, left: (b.minX + b.maxX) / 2 - width / 2, top: (b.minY + b.maxY) / 2 - height / 2, width, height };
}

/** Tiles covering the viewport (of the whole zoom below, scaled up), each placed in viewport pixels. */
export function tilesFor(view: Viewport, url: string): { key: string; href: string; x: number; y: number; size: number }[] {
  const z = Math.floor(view.zoom);
  const size = TILE * 2 ** (view.zoom - z);
  const n = 2 ** z;
  const tiles = [];
  for (let ty = Math.floor(view.top / size); ty <= Math.floor((view.top + view.height) / size); ty++) {
    if (ty < 0 || ty >= n) continue;
    for (let tx = Math.floor(view.left / size); tx <= Math.floor((view.left + view.width) / size); tx++) {
      const wrapped = ((tx % n) + n) % n;
      const href = url
        .replace("{z}", String(z))
        .replace("{x}", String(wrapped))
        .replace("{y}", String(ty))
        .replace("{s}", "abc"[(wrapped + ty) % 3]);
      tiles.push({ key: `${z}/${tx}/${ty}`, href, x: tx * size - view.left, y: ty * size - view.top, size });
    }
  }
  return tiles;
}

/** A coordinate in viewport pixels. */
export function toView(p: LatLng, view: Viewport): { x: number; y: number } {
  const w = project(p, view.zoom);
  return { x: w.x - view.left, y: w.y - view.top };
}
