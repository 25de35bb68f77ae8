/**
 * Delivery of the transactional outbox (`model/events.ts`) to PartyKit rooms: at least once,
 * in `seq` order per room.
 *
 *   emitEvent (in the changing mutation) ──► outbox rows, status "pending"
 *   requestDelivery (one run per DELIVERY_WINDOW_MS; AVAILABILITY_WINDOW_MS for a change to an
 *   availability room) / sweep (cron) ──► deliverOutbox (action)
 *   deliverOutbox: claimDue (lease) ──► POST batch per room, signed ──► settleRooms
 *
 * Batching. A change never pays for its own delivery: `requestDelivery` schedules one
 * deliverOutbox run at the end of the current short window (DELIVERY_WINDOW_MS), recorded
 * in `outboxDeliveryRuns` so that every other change in that window finds it and schedules
 * nothing (one indexed read). The run then claims the rows of every change of the window at
 * once (CLAIM_LIMIT per round) and settles every room of a round in one mutation, so
 * delivery costs a few transactions per window, not per change, and never runs on a
 * request's path.
 *
 * Ordering. A room's rows are delivered strictly in seq order, one POST at a time, so the
 * delivered rows of a room always form a prefix of its sequence and its pending rows a
 * suffix. `claimDue` only hands out a room's rows when the row just before the earliest one
 * is not pending (delivered, or seq 1), and it leases them (`nextAttemptAt` = now + lease)
 * so that concurrent runs (cron, kicks) never post the same room at once. A row that fails
 * keeps the room blocked: it is retried with exponential backoff (1 s, 2 s, 4 s … capped at
 * 5 min) and the rows after it wait for it (their `nextAttemptAt` follows the head's, so a
 * blocked room does not fill every claim). Nothing is ever dropped: a row leaves "pending"
 * only when the room answered 200 for it (applied, applied after a gap, or duplicate).
 *
 * A 4xx (invalid push, room mismatch, bad signature) is a bug or a configuration problem on
 * this side; it is recorded on the row (`attempts`, `lastError`), logged, and retried at the
 * capped backoff, so the room stays blocked until someone looks: see `lastError` on the
 * outbox rows with `status = "pending"` and `attempts > 0`. Rows that fail the party's own
 * schema are caught here before sending and recorded the same way ("not sent").
 *
 * Push body: a batch `{ party, room, events: [{ seq, eventId, occurredAt, event }] }`
 * (party/messages.ts `pushBatchSchemas`), `eventId` = the outbox row id, `event` = the data
 * given to emitEvent (the party's committed-event object), signed with `signPush`. A batch to
 * an availability room also carries `grid`: the room's slot grid read once per room and run,
 * after its rows were committed (`availabilityGrid.forRoom`), which the room diffs for visitors.
 */
import { v, type Infer } from "convex/values";
import { MAX_PUSH_BATCH, MAX_PUSH_BODY_BYTES, parsePushBody, pushBatchResult, pushRoomMismatch } from "../party/messages";
import { signPush } from "../party/push-signature";
import { isPartyName, roomPath, tryParseRoomId, type PartyName } from "../party/rooms";
import { internal } from "./_generated/api";
import type { Doc, Id } from "./_generated/dataModel";
import type { ActionCtx, MutationCtx as RawMutationCtx } from "./_generated/server";
import { env } from "./env";
import { internalAction, internalMutation } from "./functions";
import type { OutboxPayload } from "./model/events";
import type { SlotGrid } from "../domain/slotGrid";

/** Rows read per claim (one bounded index range read). */
export const CLAIM_LIMIT = 100;
/** How long a claim owns its rows; longer than one run can take (see RUN_BUDGET_MS). */
export const LEASE_MS = 120_000;
/** One run stops claiming after this long and hands over to a fresh run. */
export const RUN_BUDGET_MS = 20_000;
export const MAX_ROUNDS = 10;
export const POST_TIMEOUT_MS = 5_000;
/** Rooms posted to in parallel (each room itself strictly sequentially). */
export const ROOM_CONCURRENCY = 8;
export const BACKOFF_BASE_MS = 1_000;
export const BACKOFF_CAP_MS = 5 * 60 * 1_000;
/** Leave room under the party's 64 KiB body limit for the envelope. */
const MAX_BATCH_BODY_BYTES = MAX_PUSH_BODY_BYTES - 1_024;
const DELIVER_PATH = /^realtime(\.js)?:deliverOutbox$/;
/** Changes within one window share one delivery run, scheduled at the window's end. */
export const DELIVERY_WINDOW_MS = 50;
/**
 * The window of a change to a public availability room: thousands of visitors wait for it
 * (`npm run bench -- widget`), so it goes out almost at once; changes within it still share a run.
 */
export const AVAILABILITY_WINDOW_MS = 5;
/** Run markers older than this are deleted by the runs (bounded per claim). */
const RUN_MARKER_TTL_MS = 60_000;
const RUN_MARKER_PURGE_BATCH = 50;

/** Delay before the next attempt after `attempts` failed ones: 1 s, 2 s, 4 s, … capped at 5 min. */
export function backoffMs(attempts: number): number {
  const exponent = Math.max(0, Math.min(attempts - 1, 30));
  return Math.min(BACKOFF_BASE_MS * 2 ** exponent, BACKOFF_CAP_MS);
}

// ---------------------------------------------------------------------------------------
// Claiming
// ---------------------------------------------------------------------------------------

type ClaimedRow = { id: Id<"outbox">; seq: number; payload: OutboxPayload };
type ClaimedRoom = { party: string; room: string; leaseUntil: number; rows: ClaimedRow[] };

/**
 * Leases the due rows of every room whose earlier rows are all delivered: returns, per room,
 * the contiguous run of due rows starting at the room's earliest pending row, in seq order.
 */
export const claimDue = internalMutation({
  args: { limit: v.optional(v.number()) },
  handler: async (ctx, args): Promise<{ scanned: number; rooms: ClaimedRoom[] }> => {
    const now = Date.now();
    const limit = Math.max(1, Math.min(args.limit ?? CLAIM_LIMIT, CLAIM_LIMIT));
    const due = await ctx.db
      .query("outbox")
      .withIndex("by_status_and_nextAttemptAt", (q) => q.eq("status", "pending").lte("nextAttemptAt", now))
      .take(limit);

    const byRoom = new Map<string, Doc<"outbox">[]>();
    for (const row of due) {
      const key = `${row.party}/${row.room}`;
      const list = byRoom.get(key);
      if (list) list.push(row);
      else byRoom.set(key, [row]);
    }

    const stale = await ctx.db
      .query("outboxDeliveryRuns")
      .withIndex("by_runAt", (q) => q.lt("runAt", now - RUN_MARKER_TTL_MS))
      .take(RUN_MARKER_PURGE_BATCH);
    for (const marker of stale) await ctx.db.delete("outboxDeliveryRuns", marker._id);

    const leaseUntil = now + LEASE_MS;
    const rooms: ClaimedRoom[] = [];
    for (const rows of byRoom.values()) {
      rows.sort((a, b) => a.seq - b.seq);
      const head = rows[0];
      const previous =
        head.seq > 1
          ? await ctx.db
              .query("outbox")
              .withIndex("by_party_and_room_and_seq", (q) => q.eq("party", head.party).eq("room", head.room).eq("seq", head.seq - 1))
              .first()
          : null;
      if (previous !== null && previous.status === "pending") {
        // An earlier row is being delivered or backing off: wait for it, out of the way of
        // the next claims (settleRooms brings these forward when the room unblocks).
        if (previous.nextAttemptAt > now) {
          for (const row of rows) await ctx.db.patch("outbox", row._id, { nextAttemptAt: previous.nextAttemptAt });
        }
        continue;
      }
      const claimed: ClaimedRow[] = [];
      for (const row of rows) {
        if (row.seq !== head.seq + claimed.length) break;
        await ctx.db.patch("outbox", row._id, { nextAttemptAt: leaseUntil });
        claimed.push({ id: row._id, seq: row.seq, payload: row.payload as OutboxPayload });
      }
      rooms.push({ party: head.party, room: head.room, leaseUntil, rows: claimed });
    }
    return { scanned: due.length, rooms };
  },
});

// ---------------------------------------------------------------------------------------
// Settling
// ---------------------------------------------------------------------------------------

const vRoomOutcome = v.object({
  party: v.string(),
  room: v.string(),
  delivered: v.array(v.id("outbox")),
  failed: v.array(v.id("outbox")),
  waiting: v.array(v.id("outbox")),
  error: v.optional(v.string()),
});
type RoomOutcome = Infer<typeof vRoomOutcome>;

/**
 * Records one room's outcome: `delivered` rows are done; `failed` rows (the batch that was
 * refused, or the row that could not be sent) get an attempt, the error and the backoff;
 * `waiting` rows (claimed but not attempted because an earlier row failed) follow the head.
 * Returns how many rows after the delivered ones were brought forward (more work now).
 */
async function settleOneRoom(ctx: RawMutationCtx, args: RoomOutcome, now: number): Promise<number> {
  let lastDeliveredSeq = 0;
  for (const id of args.delivered) {
    const row = await ctx.db.get("outbox", id);
    if (row === null) continue;
    lastDeliveredSeq = Math.max(lastDeliveredSeq, row.seq);
    if (row.status === "delivered") continue;
    await ctx.db.patch("outbox", id, { status: "delivered", deliveredAt: now, attempts: row.attempts + 1 });
  }

  if (args.failed.length > 0) {
    const error = (args.error ?? "delivery failed").slice(0, 1_000);
    let retryAt = now;
    for (const [index, id] of args.failed.entries()) {
      const row = await ctx.db.get("outbox", id);
      if (row === null || row.status !== "pending") continue;
      const attempts = row.attempts + 1;
      const nextAttemptAt = index === 0 ? now + backoffMs(attempts) : Math.max(retryAt, now + backoffMs(attempts));
      if (index === 0) retryAt = nextAttemptAt;
      await ctx.db.patch("outbox", id, { attempts, lastError: error, nextAttemptAt });
    }
    for (const id of args.waiting) {
      const row = await ctx.db.get("outbox", id);
      if (row === null || row.status !== "pending") continue;
      await ctx.db.patch("outbox", id, { nextAttemptAt: retryAt });
    }
    console.error(
      `[realtime] push to ${args.party}/${args.room} failed (${args.failed.length} row(s), retry in ${Math.round((retryAt - now) / 1_000)} s): ${error}`,
    );
    return 0;
  }

  // The room is unblocked: bring forward the rows that were parked behind its head.
  let released = 0;
  if (lastDeliveredSeq > 0) {
    const after = await ctx.db
      .query("outbox")
      .withIndex("by_party_and_room_and_seq", (q) =>
        q.eq("party", args.party).eq("room", args.room).gt("seq", lastDeliveredSeq),
      )
      .take(CLAIM_LIMIT);
    for (const row of after) {
      if (row.status !== "pending" || row.nextAttemptAt <= now) continue;
      await ctx.db.patch("outbox", row._id, { nextAttemptAt: now });
      released++;
    }
  }
  return released;
}

/** Settles every room of one delivery round in one transaction; how many rows were released. */
export const settleRooms = internalMutation({
  args: { rooms: v.array(vRoomOutcome) },
  handler: async (ctx, args): Promise<{ released: number }> => {
    const now = Date.now();
    let released = 0;
    for (const room of args.rooms) released += await settleOneRoom(ctx, room, now);
    return { released };
  },
});

// ---------------------------------------------------------------------------------------
// Delivering
// ---------------------------------------------------------------------------------------

type Item = { seq: number; eventId: string; occurredAt: number; event: unknown };

/** The push item for a row, or why the party would refuse it. */
function toItem(party: PartyName, room: string, row: ClaimedRow): { ok: true; item: Item } | { ok: false; error: string } {
  const payload = row.payload;
  if (payload?.event === undefined || payload.seq !== row.seq) {
    return { ok: false, error: `outbox row ${row.id} has a malformed payload` };
  }
  const item: Item = { seq: row.seq, eventId: row.id, occurredAt: payload.event.createdAt, event: payload.event.data };
  const parsed = parsePushBody(party, JSON.stringify({ party, room, ...item }));
  if (!parsed.ok) {
    const issues = (parsed.error.issues ?? []).map((issue) => `${issue.path}: ${issue.message}`).join("; ");
    return { ok: false, error: `invalid push (not sent): ${parsed.error.message}${issues ? ` (${issues})` : ""}` };
  }
  return { ok: true, item };
}

type Outcome = { delivered: Id<"outbox">[]; failed: Id<"outbox">[]; waiting: Id<"outbox">[]; error?: string };

async function postBatch(
  baseUrl: string,
  secret: string,
  party: PartyName,
  room: string,
  items: Item[],
  grid: RoomGrid | null,
): Promise<string | typeof WANTS_GRID | null> {
  const body = JSON.stringify(grid === null ? { party, room, events: items } : { party, room, events: items, [grid.kind]: grid.grid });
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), POST_TIMEOUT_MS);
  let response: Response;
  try {
    response = await fetch(`${baseUrl}${roomPath(party, room)}`, {
      method: "POST",
      body,
      headers: { ...(await signPush(secret, body)), "content-type": "application/json" },
      signal: controller.signal,
    });
  } catch (error) {
    return controller.signal.aborted
      ? `no answer within ${POST_TIMEOUT_MS} ms`
      : `network error: ${error instanceof Error ? error.message : String(error)}`;
  } finally {
    clearTimeout(timer);
  }
  const text = await response.text().catch((error: unknown) => `(unreadable body: ${String(error)})`);
  if (response.status !== 200) {
    let detail = text.slice(0, 300);
    try {
      const parsed = JSON.parse(text) as { error?: { code?: string; message?: string } };
      if (parsed.error?.code) detail = `${parsed.error.code}: ${parsed.error.message ?? ""}`;
    } catch {
      // not JSON: keep the raw excerpt as the detail
    }
    return `HTTP ${response.status} ${detail}`.trim();
  }
  let result: ReturnType<typeof pushBatchResult.safeParse>;
  try {
    result = pushBatchResult.safeParse(JSON.parse(text));
  } catch {
    return `HTTP 200 with a body that is not JSON: ${text.slice(0, 200)}`;
  }
  if (!result.success) return `HTTP 200 with an unexpected body: ${text.slice(0, 200)}`;
  const answered = result.data.results.map((r) => r.seq).join(",");
  const sent = items.map((i) => i.seq).join(",");
  if (answered !== sent) return `HTTP 200 answering seqs [${answered}] for [${sent}]`;
  return result.data.wantsGrid === true ? WANTS_GRID : null;
}

/** postBatch's answer when the room took the batch but could not use the rows it carried. */
const WANTS_GRID = Symbol("wants the whole grid");

/** What an availability room's batch carries: its whole grid, or the rows of the resources that changed. */
type RoomGrid = { kind: "grid" | "gridPatch"; grid: SlotGrid };

/**
 * The resources whose time the claimed rows of an availability room changed, when every row is
 * a booking's change naming them (held, booked, moved, cancelled, expired, reassigned); null
 * when one is not (a schedule change can add or remove a resource, or change the day's rules):
 * then the room gets its whole grid.
 */
export function changedResources(rows: readonly { payload: OutboxPayload }[]): string[] | null {
  const ids = new Set<string>();
  for (const row of rows) {
    const data = row.payload?.event?.data as { type?: unknown; reason?: unknown; resourceIds?: unknown } | undefined;
    if (data?.type !== "slots.changed" || data.reason === "schedule_changed" || !Array.isArray(data.resourceIds) || data.resourceIds.length === 0) {
      return null;
    }
    for (const id of data.resourceIds) if (typeof id === "string") ids.add(id);
  }
  return ids.size === 0 ? null : [...ids].sort();
}

/**
 * Posts one room's claimed rows in seq order, batch by batch, stopping at the first failure.
 * An availability room's batches also carry its slot grid as of now (read after the rows were
 * committed, so at least as new as every change they announce): `gridOf`. When the rows are
 * bookings' changes, only the rows of the resources they name are read and sent (`gridPatch`,
 * which the room puts into its grid with `patchGrid`); otherwise the whole grid (`grid`).
 */
async function deliverRoom(
  baseUrl: string,
  secret: string,
  claim: ClaimedRoom,
  gridOf: (room: string, resourceIds?: string[]) => Promise<SlotGrid | null>,
): Promise<Outcome> {
  const ids = claim.rows.map((row) => row.id);
  const outcome: Outcome = { delivered: [], failed: [], waiting: [] };
  const fail = (failed: Id<"outbox">[], error: string, from: number): Outcome => ({
    delivered: outcome.delivered,
    failed,
    waiting: ids.slice(from),
    error,
  });

  if (!isPartyName(claim.party)) return fail([ids[0]], `unknown party ${JSON.stringify(claim.party)}`, 1);
  const party = claim.party;
  const key = tryParseRoomId(party, claim.room);
  if (!key.ok) return fail([ids[0]], `invalid room id: ${key.message}`, 1);

  let grid: RoomGrid | null = null;
  if (party === "availability") {
    try {
      const changed = changedResources(claim.rows);
      const read = changed === null ? await gridOf(claim.room) : await gridOf(claim.room, changed);
      // No row of theirs serves this zone (none was in the room's grid): nothing to send.
      if (read !== null && (changed === null || read.resources.length > 0)) grid = { kind: changed === null ? "grid" : "gridPatch", grid: read };
    } catch (error) {
      console.error(`[realtime] no slot grid for ${claim.room}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  const gridBytes = grid === null ? 0 : JSON.stringify(grid.grid).length + 16;
  if (gridBytes > MAX_BATCH_BODY_BYTES / 2) {
    console.error(`[realtime] slot grid of ${claim.room} is ${gridBytes} bytes: sent without it`);
    grid = null;
  }
  const budget = MAX_BATCH_BODY_BYTES - (grid === null ? 0 : gridBytes);

  let index = 0;
  while (index < claim.rows.length) {
    const batch: Item[] = [];
    let bytes = 0;
    let invalid: string | null = null;
    while (index + batch.length < claim.rows.length && batch.length < MAX_PUSH_BATCH) {
      const row = claim.rows[index + batch.length];
      const built = toItem(party, claim.room, row);
      if (!built.ok) {
        invalid = built.error;
        break;
      }
      const mismatch = pushRoomMismatch(key.key, { party, event: built.item.event } as Parameters<typeof pushRoomMismatch>[1]);
      if (mismatch !== null) {
        invalid = `room mismatch (not sent): ${mismatch}`;
        break;
      }
      const size = JSON.stringify(built.item).length + 1;
      if (batch.length > 0 && bytes + size > budget) break;
      batch.push(built.item);
      bytes += size;
    }
    if (batch.length > 0) {
      let error = await postBatch(baseUrl, secret, party, claim.room, batch, grid);
      if (error === WANTS_GRID) {
        // The room had no grid for the rows (or they did not fit it): the same batch again
        // (duplicates to it now) with the whole grid, read after the rows.
        grid = await gridOf(claim.room).then(
          (whole) => (whole === null || JSON.stringify(whole).length + 16 > MAX_BATCH_BODY_BYTES / 2 ? null : { kind: "grid" as const, grid: whole }),
          () => null,
        );
        error = grid === null ? null : await postBatch(baseUrl, secret, party, claim.room, batch, grid);
        if (error === WANTS_GRID) error = null;
        // That grid was read after every claimed row: the room's later batches need none.
        grid = null;
      }
      const batchIds = ids.slice(index, index + batch.length);
      if (error !== null) return fail(batchIds, error, index + batch.length);
      outcome.delivered.push(...batchIds);
      index += batch.length;
    }
    // The row at `index` cannot be sent: record it; the room waits for it.
    if (invalid !== null) return fail([ids[index]], invalid, index + 1);
  }
  return outcome;
}

async function forEachLimited<T>(items: T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++];
      await run(item);
    }
  });
  await Promise.all(workers);
}

export type DeliveryReport = { rounds: number; rooms: number; delivered: number; failed: number };

/**
 * Delivers every due outbox row (scheduled by `kick`, `sweep` or `requestDelivery`).
 * Bounded: at most MAX_ROUNDS claims of CLAIM_LIMIT rows within RUN_BUDGET_MS; when work is
 * left it schedules a follow-up run.
 */
export const deliverOutbox = internalAction({
  args: {},
  handler: async (ctx: ActionCtx, _args: Record<string, never>): Promise<DeliveryReport> => {
    const baseUrl = env.partykitUrl();
    const secret = env.partykitPushSecret();
    const started = Date.now();
    const report: DeliveryReport = { rounds: 0, rooms: 0, delivered: 0, failed: 0 };
    let more = false;
    const gridOf = (room: string, resourceIds?: string[]) =>
      ctx.runQuery(internal.availabilityGrid.forRoom, resourceIds === undefined ? { room } : { room, resourceIds });
    while (report.rounds < MAX_ROUNDS) {
      if (Date.now() - started > RUN_BUDGET_MS) {
        more = true;
        break;
      }
      const claim = await ctx.runMutation(internal.realtime.claimDue, { limit: CLAIM_LIMIT });
      report.rounds++;
      const outcomes: RoomOutcome[] = [];
      await forEachLimited(claim.rooms, ROOM_CONCURRENCY, async (room) => {
        const outcome = await deliverRoom(baseUrl, secret, room, gridOf);
        outcomes.push({ party: room.party, room: room.room, ...outcome });
        report.rooms++;
        report.delivered += outcome.delivered.length;
        report.failed += outcome.failed.length;
      });
      const { released } = outcomes.length === 0 ? { released: 0 } : await ctx.runMutation(internal.realtime.settleRooms, { rooms: outcomes });
      more = claim.scanned === CLAIM_LIMIT || released > 0;
      if (!more) break;
    }
    if (more) await ctx.scheduler.runAfter(0, internal.realtime.kick, {});
    return report;
  },
});

// ---------------------------------------------------------------------------------------
// Triggers
// ---------------------------------------------------------------------------------------

/** Whether a deliverOutbox run is already scheduled to start (not yet started) by now. */
async function deliveryPending(ctx: Pick<RawMutationCtx, "db">, now: number): Promise<boolean> {
  const recent = await ctx.db.system.query("_scheduled_functions").order("desc").take(200);
  return recent.some(
    (job) => job.state.kind === "pending" && DELIVER_PATH.test(job.name) && job.scheduledTime <= now + 1_000,
  );
}

/** Schedules deliverOutbox now unless a run is already waiting to start. */
export const kick = internalMutation({
  args: {},
  handler: async (ctx): Promise<{ scheduled: boolean }> => {
    if (await deliveryPending(ctx, Date.now())) return { scheduled: false };
    await ctx.scheduler.runAfter(0, internal.realtime.deliverOutbox, {});
    return { scheduled: true };
  },
});

/**
 * For the cron: starts a delivery run when rows are due (retries after backoff, rows a
 * failed or lost run left behind) and none is waiting to start. Cheap when idle.
 */
export const sweep = internalMutation({
  args: {},
  handler: async (ctx): Promise<{ scheduled: boolean }> => {
    const now = Date.now();
    const due = await ctx.db
      .query("outbox")
      .withIndex("by_status_and_nextAttemptAt", (q) => q.eq("status", "pending").lte("nextAttemptAt", now))
      .first();
    if (due === null || (await deliveryPending(ctx, now))) return { scheduled: false };
    await ctx.scheduler.runAfter(0, internal.realtime.deliverOutbox, {});
    return { scheduled: true };
  },
});

/** The window this mutation already asked for (per mutation: its scheduler object). */
const requested = new WeakMap<object, number>();

/**
 * For `emitEvent`: after queuing outbox rows, makes sure a delivery run is scheduled at the
 * end of the current window (once per mutation and window, however many events it emits).
 * The first change of a window records the run and schedules it; the others read that record
 * and add nothing, so a burst of changes shares one run. `windowMs`: DELIVERY_WINDOW_MS, or
 * AVAILABILITY_WINDOW_MS for a change that alters a public availability room (the run then
 * delivers every due row, this mutation's other rooms included).
 */
export async function requestDelivery(ctx: Pick<RawMutationCtx, "scheduler" | "db">, windowMs: number = DELIVERY_WINDOW_MS): Promise<void> {
  const asked = requested.get(ctx.scheduler);
  if (asked !== undefined && asked <= windowMs) return;
  requested.set(ctx.scheduler, windowMs);
  const runAt = (Math.floor(Date.now() / windowMs) + 1) * windowMs;
  const marker = await ctx.db
    .query("outboxDeliveryRuns")
    .withIndex("by_runAt", (q) => q.eq("runAt", runAt))
    .first();
  if (marker !== null) return;
  await ctx.db.insert("outboxDeliveryRuns", { runAt });
  await ctx.scheduler.runAt(runAt, internal.realtime.deliverOutbox, {});
}
