/** What the portal is told at build/dev time (only VITE_* variables reach the browser). */
const env = import.meta.env;

const convexUrl = (env.VITE_CONVEX_URL as string | undefined) ?? "http://127.0.0.1:3210";

/**
 * The deployment's HTTP actions origin from its client URL: Convex's `*.convex.cloud` serves
 * them at `*.convex.site`; the local backend one port up (3210 → 3211).
 */
export function siteUrlFor(url: string): string {
  const parsed = new URL(url);
  if (parsed.hostname.endsWith(".convex.cloud")) return `${parsed.protocol}//${parsed.hostname.replace(/\.convex\.cloud$/, ".convex.site")}`;
  if (parsed.port !== "") parsed.port = String(Number(parsed.port) + 1);
  return parsed.origin;
}

export const config = {
  convexUrl,
  /** The HTTP actions site (GET /invoices/pdf, POST /auth/ticket); VITE_CONVEX_SITE_URL, else derived from convexUrl. */
  convexSiteUrl: ((env.VITE_CONVEX_SITE_URL as string | undefined) || siteUrlFor(convexUrl)).replace(/\/+$/, ""),
  /** host:port of PartyKit, e.g. 127.0.0.1:1999; empty = live room features off. */
  partykitHost: (env.VITE_PARTYKIT_HOST as string | undefined) ?? "",
  clerkPublishableKey: (env.VITE_CLERK_PUBLISHABLE_KEY as string | undefined) ?? "",
  /**
   * An XYZ tile URL for the dispatch map, e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png;
   * empty = the map draws its points and routes on a plain background (works offline).
   */
  mapTileUrl: (env.VITE_MAP_TILE_URL as string | undefined) ?? "",
  /** Shown on the map with the tiles, e.g. "© OpenStreetMap contributors". */
  mapTileAttribution: (env.VITE_MAP_TILE_ATTRIBUTION as string | undefined) ?? "",
};

export const usesClerk = config.clerkPublishableKey !== "";
