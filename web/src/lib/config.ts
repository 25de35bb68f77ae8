/** What the portal is told at build/dev time (only VITE_* variables reach the browser). */
const env = import.meta.env;

export const config = {
  convexUrl: (env.VITE_CONVEX_URL as string | undefined) ?? "http://127.0.0.1:3210",
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
