/**
 * The slot grid an availability room keeps, and what it tells its visitors when a newer one
 * arrives: the whole grid (first one, or the day's layout / resources changed) or the changed
 * cells, numbered by `version` (1, 2, 3, … per room lifetime) so that a visitor who missed one
 * asks again (`grid.resync`). Grids are ordered by `asOf` (Convex's clock when it computed
 * them): an older one arriving late (a pull racing a push) is dropped. Pure; no PartyKit.
 */
import { applyGridChanges, diffGrids, patchGrid, type GridChange, type SlotGrid } from "../domain/slotGrid";

export type GridMessage = { type: "grid"; version: number; grid: SlotGrid };
export type GridDiffMessage = { type: "grid.diff"; version: number; asOf: number; changes: GridChange[] };

export type GridOffer = { kind: "older" | "unchanged" } | { kind: "full"; message: GridMessage } | { kind: "diff"; message: GridDiffMessage };

export class GridBook {
  private grid: SlotGrid | null = null;
  private version = 0;
  /** Room clock when the current grid arrived. */
  private receivedAt = 0;

  get current(): SlotGrid | null {
    return this.grid;
  }

  offer(next: SlotGrid, now: number): GridOffer {
    const previous = this.grid;
    if (previous !== null && next.asOf < previous.asOf) return { kind: "older" };
    this.receivedAt = now;
    const changes = previous === null ? null : diffGrids(previous, next);
    this.grid = next;
    if (changes !== null && changes.length === 0) return { kind: "unchanged" };
    this.version += 1;
    if (changes === null) return { kind: "full", message: this.snapshot()! };
    return { kind: "diff", message: { type: "grid.diff", version: this.version, asOf: next.asOf, changes } };
  }

  /**
   * Some rows of the grid (a booking's resources), computed at `patch.asOf`: the changed cells
   * as the next diff. "unusable" when there is no grid to put them in or they do not fit it
   * (the room then needs the whole grid). Pushes reach a room in order, each computed after
   * the last, so a patch older than the grid can only follow a pull, which already saw it.
   */
  offerPatch(patch: SlotGrid): GridOffer | { kind: "unusable" } {
    const previous = this.grid;
    if (previous === null) return { kind: "unusable" };
    if (patch.asOf < previous.asOf) return { kind: "older" };
    const patched = patchGrid(previous, patch);
    if (patched === null) return { kind: "unusable" };
    // receivedAt stays: the other rows are as old as the last whole grid (see isStale).
    this.grid = patched.grid;
    if (patched.changes.length === 0) return { kind: "unchanged" };
    this.version += 1;
    return { kind: "diff", message: { type: "grid.diff", version: this.version, asOf: patched.grid.asOf, changes: patched.changes } };
  }

  snapshot(): GridMessage | null {
    return this.grid === null ? null : { type: "grid", version: this.version, grid: this.grid };
  }

  /** No grid, or no whole grid newer than `maxAgeMs` (a change Convex did not push, such as time passing the horizon). */
  isStale(now: number, maxAgeMs: number): boolean {
    return this.grid === null || now - this.receivedAt > maxAgeMs;
  }
}

/**
 * A visitor's side: applies `grid` / `grid.diff` messages in order; a diff whose version is not
 * the next one means something was missed, and the answer is "resync".
 */
export type GridReceive = { action: "applied"; grid: SlotGrid } | { action: "resync" } | { action: "ignored" };

export function receiveGrid(
  state: { grid: SlotGrid | null; version: number },
  message: GridMessage | GridDiffMessage,
): GridReceive {
  if (message.type === "grid") {
    state.grid = message.grid;
    state.version = message.version;
    return { action: "applied", grid: message.grid };
  }
  if (state.grid === null) return { action: "resync" };
  if (message.version <= state.version) return { action: "ignored" };
  if (message.version !== state.version + 1) return { action: "resync" };
  try {
    state.grid = applyGridChanges(state.grid, message.changes, message.asOf);
  } catch {
    return { action: "resync" };
  }
  state.version = message.version;
  return { action: "applied", grid: state.grid };
}
