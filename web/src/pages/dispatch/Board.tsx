/**
 * The live dispatch board (managers and owners). Three views of the business's day:
 * - Day: a timeline lane per provider with their jobs as cards coloured by status (on phones a
 *   list of each provider's day instead), the unassigned queue with filters (zone, service,
 *   time of day) and a search across the day's jobs; drag and drop (@dnd-kit, mouse and touch)
 *   to assign or reassign, and every job's keyboard "Move…" menu (Radix) does the same.
 * - Map: the day's jobs at their addresses' coordinates, a route per provider (DayMap.tsx).
 * - Week: providers × seven days with their jobs, a day opens the day view (Week.tsx).
 * Who else is watching comes from the PartyKit dispatch room's presence. Which providers can take a job, and why the others
 * cannot, is asked of the server (`dispatch.candidates`, the check the assignment runs):
 * lanes that cannot take the dragged job refuse the drop and say why, and the "Move…" menu
 * lists them disabled with the reason. Each lane shows the provider's time off and changed
 * hours of the day.
 */
import {
  DndContext,
  MouseSensor,
  TouchSensor,
  pointerWithin,
  rectIntersection,
  useDraggable,
  useDroppable,
  useSensor,
  useSensors,
  type CollisionDetection,
  type DragEndEvent,
} from "@dnd-kit/core";
import * as DropdownMenu from "@radix-ui/react-dropdown-menu";
import { useMutation, useQuery } from "convex/react";
import type { FunctionReturnType } from "convex/server";
import { useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { api } from "../../../../convex/_generated/api";
import type { Id } from "../../../../convex/_generated/dataModel";
import { ASSIGNABLE_STATUSES } from "../../../../domain/bookingStatus";
import { localToInstant, weekdayOf } from "../../../../domain/time";
import type { Viewer } from "../../../../party/messages";
import { roomIds } from "../../../../party/rooms";
import { CustomerLookup } from "../../components/CustomerSearch";
import { Button, Empty, ErrorBox, LiveDot, Loading, PageHeader, StatusBadge } from "../../components/ui";
import { useAuthBridge } from "../../lib/auth";
import { addDays, localDateLabel, minutes, planFrequencyLabel, statusLabel, time, todayIn, zoneName } from "../../lib/format";
import { useRoom } from "../../lib/live";
import { Link, useQueryParams } from "../../lib/router";
import { ROLE_LABELS, useReadySession } from "../../lib/session";
import "./board.css";
import { DayMap } from "./DayMap";
import { QueueFilters, NO_FILTERS, matchesFilters, matchesSearch, type Filters } from "./filters";
import { layoutLane, labelStep, useElementWidth, useMediaQuery, type Placed } from "./layout";
import { WeekView } from "./Week";

export type Board = FunctionReturnType<typeof api.dispatch.board>;
export type Job = Board["unassigned"][number];
export type Provider = Board["providers"][number];
type Candidates = FunctionReturnType<typeof api.dispatch.candidates>;

const HEARTBEAT_MS = 20_000;
const HOUR_MS = 3_600_000;
/** At or below this width the day is a list per provider instead of a timeline. */
const PHONE_QUERY = "(max-width: 700px)";
type View = "day" | "map" | "week";
const VIEWS: { id: View; label: string }[] = [
  { id: "day", label: "Day" },
  { id: "map", label: "Map" },
  { id: "week", label: "Week" },
];
// Only decides whether to offer drag and the menu at all; who can take it is the server's answer.
const ASSIGNABLE = new Set<string>(ASSIGNABLE_STATUSES);

export function DispatchBoard() {
  const session = useReadySession();
  const businessId = session.current!.businessId!;
  const business = useQuery(api.businesses.get, { businessId });
  if (business === undefined) return <Loading />;
  if (business === null) return <Empty title="Business not found" />;
  return <BoardForBusiness businessId={businessId} timeZone={business.timeZone} />;
}

function BoardForBusiness({ businessId, timeZone }: { businessId: Id<"businesses">; timeZone: string }) {
  const bridge = useAuthBridge();
  const params = useQueryParams();
  const initial = params.get("date");
  const initialView = params.get("view");
  const [date, setDate] = useState(() => (initial && /^\d{4}-\d{2}-\d{2}$/.test(initial) ? initial : todayIn(Date.now(), timeZone)));
  const [view, setView] = useState<View>(() => VIEWS.find((v) => v.id === initialView)?.id ?? "day");
  const board = useQuery(api.dispatch.board, view === "week" ? "skip" : { businessId, date });
  // Once the day or view is changed, the address bar follows, so a reload or a shared link
  // opens the same; back on the day and view it opened with, the board keeps its own address.
  const opened = useRef({ date, view, search: window.location.search });
  useEffect(() => {
    const url = new URL(window.location.href);
    if (date === opened.current.date && view === opened.current.view) {
      url.search = opened.current.search;
    } else {
      url.searchParams.set("date", date);
      if (view === "day") url.searchParams.delete("view");
      else url.searchParams.set("view", view);
    }
    if (url.href !== window.location.href) window.history.replaceState(window.history.state, "", url);
  }, [date, view]);
  const step = view === "week" ? 7 : 1;
  const [viewers, setViewers] = useState<Viewer[]>([]);
  const [flash, setFlash] = useState<Set<string>>(new Set());

  const room = useRoom(
    "dispatch",
    roomIds.dispatch(businessId, date),
    {
      onMessage: (m) => {
        if (m.type === "presence.snapshot") setViewers(m.viewers);
        else if (m.type === "presence.joined") setViewers((v) => [...v.filter((x) => x.userId !== m.viewer.userId), m.viewer]);
        else if (m.type === "presence.left") setViewers((v) => v.filter((x) => x.userId !== m.userId));
      },
      onEvent: (m) => {
        const e = m.event;
        const id = "bookingId" in e ? e.bookingId : "booking" in e ? e.booking.bookingId : null;
        if (!id) return;
        setFlash((s) => new Set(s).add(id));
        setTimeout(() => setFlash((s) => {
          const n = new Set(s);
          n.delete(id);
          return n;
        }), 2_500);
      },
    },
    bridge.partyToken,
  );
  const sendRef = useRef(room.send);
  sendRef.current = room.send;
  useEffect(() => {
    if (room.status !== "open") return;
    sendRef.current({ type: "presence.heartbeat" });
    const t = setInterval(() => sendRef.current({ type: "presence.heartbeat" }), HEARTBEAT_MS);
    return () => clearInterval(t);
  }, [room.status]);

  // Presence ids are token subjects: everyone but me.
  const others = viewers.filter((v) => v.userId !== bridge.subject);

  return (
    <div className="dispatch">
      <PageHeader
        title="Dispatch board"
        subtitle={`${view === "week" ? `Week of ${localDateLabel(weekStart(date))}` : localDateLabel(date)} · times in ${zoneName(timeZone)}`}
        actions={
          <div className="button-row board-nav">
            <Button variant="secondary" className="btn-small" onClick={() => setDate(addDays(date, -step))} aria-label={view === "week" ? "Previous week" : "Previous day"}>
              ‹
            </Button>
            <input type="date" value={date} aria-label="Day" onChange={(e) => e.target.value && setDate(e.target.value)} />
            <Button variant="secondary" className="btn-small" onClick={() => setDate(addDays(date, step))} aria-label={view === "week" ? "Next week" : "Next day"}>
              ›
            </Button>
            <Button variant="ghost" className="btn-small" onClick={() => setDate(todayIn(Date.now(), timeZone))}>
              Today
            </Button>
          </div>
        }
      />
      <div className="presence" data-testid="presence">
        <LiveDot status={room.status} />
        {others.length > 0 ? (
          <span>
            Watching now:{" "}
            {others.map((v) => (
              <span key={v.userId} className="avatar" title={`${v.name ?? v.userId} (${ROLE_LABELS[v.role] ?? v.role})`} data-viewer={v.name ?? v.userId}>
                <span className="avatar-initial" aria-hidden="true">
                  {(v.name ?? "?").slice(0, 1).toUpperCase()}
                </span>
                <span className="avatar-name">{v.name ?? v.userId}</span>
              </span>
            ))}
          </span>
        ) : (
          <span className="muted small">{room.status === "open" ? "Only you are watching this day." : ""}</span>
        )}
      </div>
      <div className="view-switch" role="group" aria-label="View">
        {VIEWS.map((v) => (
          <button key={v.id} type="button" className={`btn btn-small ${view === v.id ? "btn-primary" : "btn-secondary"}`} aria-pressed={view === v.id} onClick={() => setView(v.id)}>
            {v.label}
          </button>
        ))}
      </div>
      <CustomerLookup
        businessId={businessId}
        timeZone={timeZone}
        onShowDay={(d) => {
          setDate(d);
          setView("day");
        }}
      />
      {view === "week" ? (
        <WeekView
          businessId={businessId}
          start={weekStart(date)}
          selected={date}
          onOpenDay={(d) => {
            setDate(d);
            setView("day");
          }}
        />
      ) : board === undefined ? (
        <Loading label="Loading the board…" />
      ) : view === "map" ? (
        <DayMap board={board} />
      ) : (
        <>
          <Legend />
          <BoardView board={board} flash={flash} />
        </>
      )}
    </div>
  );
}

/** The Monday of the date's week. */
function weekStart(date: string): string {
  return addDays(date, -((weekdayOf(date) + 6) % 7));
}

function Legend() {
  return (
    <ul className="legend" aria-label="Status colours">
      {["HELD", "PENDING_PAYMENT", "CONFIRMED", "EN_ROUTE", "IN_PROGRESS", "COMPLETED"].map((s) => (
        <li key={s}>
          <span className={`swatch status-${s.toLowerCase()}`} aria-hidden="true" />
          {statusLabel(s)}
        </li>
      ))}
    </ul>
  );
}

type Range = { start: number; end: number };

function hoursOf(provider: Provider, date: string, tz: string): Range[] {
  return provider.hours.map((h) => {
    const start = localToInstant(date, h.start, tz);
    let end = localToInstant(date, h.end, tz);
    if (end <= start) end = localToInstant(addDays(date, 1), h.end, tz);
    return { start, end };
  });
}

function busyOf(job: Job): Range {
  return { start: job.busyStart ?? job.start, end: job.busyEnd ?? job.end };
}

/** The server's reason a provider cannot take the job, null when they can, undefined while unknown. */
function refusalOf(candidates: Candidates | undefined, provider: Provider): string | null | undefined {
  const entry = candidates?.providers.find((c) => c.resourceId === provider.resourceId);
  if (entry === undefined) return undefined;
  return entry.canTake ? null : (entry.reason ?? "cannot take this job");
}

function dayNote(provider: Provider): string {
  if (provider.override) return provider.override.closed ? "day off (changed hours)" : "changed hours";
  return "";
}

/** The lane under the finger or pointer; when it is between lanes, the one the card covers most. */
const laneUnderPointer: CollisionDetection = (args) => {
  const within = pointerWithin(args);
  return within.length > 0 ? within : rectIntersection(args);
};

/** The hour grid of the day: from the earliest hour or job to the latest, whole hours. */
function dayRange(board: Board, allJobs: Job[]): Range {
  const tz = board.timeZone;
  let start = Number.POSITIVE_INFINITY;
  let end = Number.NEGATIVE_INFINITY;
  for (const p of board.providers) {
    for (const h of hoursOf(p, board.date, tz)) {
      start = Math.min(start, h.start);
      end = Math.max(end, h.end);
    }
  }
  for (const j of allJobs) {
    start = Math.min(start, busyOf(j).start, j.start);
    end = Math.max(end, busyOf(j).end, j.end);
  }
  if (!Number.isFinite(start)) {
    start = localToInstant(board.date, "08:00", tz);
    end = localToInstant(board.date, "18:00", tz);
  }
  return { start: Math.floor(start / HOUR_MS) * HOUR_MS, end: Math.max(Math.ceil(end / HOUR_MS) * HOUR_MS, Math.floor(start / HOUR_MS) * HOUR_MS + HOUR_MS) };
}

function BoardView({ board, flash }: { board: Board; flash: Set<string> }) {
  const assign = useMutation(api.dispatch.assign);
  const reassign = useMutation(api.dispatch.reassign);
  const unassign = useMutation(api.dispatch.unassign);
  const [dragging, setDragging] = useState<Job | null>(null);
  const dragCandidates = useQuery(api.dispatch.candidates, dragging ? { bookingId: dragging.bookingId } : "skip");
  const [refused, setRefused] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [pending, setPending] = useState<string | null>(null);
  const [lastMove, setLastMove] = useState<string | null>(null);
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const phone = useMediaQuery(PHONE_QUERY);
  const tz = board.timeZone;
  // Mouse drags start after a few pixels; on touch screens a press-and-hold picks a job up,
  // so a swipe still scrolls the board.
  const sensors = useSensors(
    useSensor(MouseSensor, { activationConstraint: { distance: 6 } }),
    useSensor(TouchSensor, { activationConstraint: { delay: 200, tolerance: 8 } }),
  );
  const timelineRef = useRef<HTMLElement | null>(null);

  const allJobs = useMemo(() => [...board.unassigned, ...board.providers.flatMap((p) => p.jobs)], [board]);
  const providerOf = useMemo(() => {
    const m = new Map<string, Provider>();
    for (const p of board.providers) for (const j of p.jobs) m.set(j.bookingId, p);
    return m;
  }, [board]);
  const queue = board.unassigned.filter((j) => matchesFilters(j, filters, tz) && matchesSearch(j, filters.search));
  const searching = filters.search.trim() !== "";
  const matches = searching ? allJobs.filter((j) => matchesSearch(j, filters.search)).sort((a, b) => a.start - b.start) : [];

  async function move(job: Job, provider: Provider) {
    setError(null);
    setRefused(null);
    setPending(job.bookingId);
    try {
      if (job.assignmentStatus === undefined && !providerOf.has(job.bookingId)) {
        await assign({ bookingId: job.bookingId, resourceId: provider.resourceId });
      } else {
        await reassign({ bookingId: job.bookingId, resourceId: provider.resourceId });
      }
      setLastMove(`${job.customerName}'s ${job.serviceName} is now with ${provider.name}.`);
    } catch (e) {
      setError(e);
    } finally {
      setPending(null);
    }
  }

  async function toQueue(job: Job) {
    setError(null);
    setPending(job.bookingId);
    try {
      await unassign({ bookingId: job.bookingId });
      setLastMove(`${job.customerName}'s ${job.serviceName} is back in the queue.`);
    } catch (e) {
      setError(e);
    } finally {
      setPending(null);
    }
  }

  const jobCard = (job: Job, where: "queue" | "lane" | "list", gridStyle?: React.CSSProperties, bar?: Placed["bar"]) => (
    <JobBlock
      key={job.bookingId}
      job={job}
      tz={tz}
      where={where}
      flash={flash.has(job.bookingId)}
      pending={pending === job.bookingId}
      matched={searching && matchesSearch(job, filters.search)}
      style={gridStyle}
      bar={bar}
      providers={board.providers}
      onMove={(p) => void move(job, p)}
      onUnassign={where !== "queue" && ASSIGNABLE.has(job.status) ? () => void toQueue(job) : undefined}
    />
  );

  function onDragEnd(event: DragEndEvent) {
    const job = dragging ?? allJobs.find((j) => j.bookingId === event.active.id);
    setDragging(null);
    const provider = board.providers.find((p) => p.resourceId === event.over?.id);
    if (!job || !provider) return;
    if (job.assignmentStatus !== undefined && provider.jobs.some((j) => j.bookingId === job.bookingId)) return;
    // While the answer is still on its way the server decides (and says why).
    const why = refusalOf(dragCandidates, provider);
    if (why) {
      setRefused(`${provider.name} cannot take this job: ${why}.`);
      return;
    }
    void move(job, provider);
  }

  return (
    <DndContext
      sensors={sensors}
      collisionDetection={laneUnderPointer}
      // The page may scroll under a drag; the timeline's own box never does (the lanes would
      // slide away from the finger).
      autoScroll={{ canScroll: (element) => element !== timelineRef.current }}
      onDragStart={(event) => {
        setRefused(null);
        setDragging(allJobs.find((j) => j.bookingId === event.active.id) ?? null);
      }}
      onDragEnd={onDragEnd}
      onDragCancel={() => setDragging(null)}
    >
      <div className="board">
        {error !== null && <ErrorBox error={error} onRetry={() => setError(null)} />}
        {refused !== null && (
          <div className="alert alert-warning" role="alert" data-testid="drop-refused">
            {refused}
          </div>
        )}
        <p className="sr-only" aria-live="polite">
          {lastMove}
        </p>
        <section className="queue" aria-label="Unassigned jobs" data-testid="unassigned">
          <h2>
            Unassigned{" "}
            <span className="count" data-testid="queue-count">
              {queue.length === board.unassigned.length ? board.unassigned.length : `${queue.length} of ${board.unassigned.length}`}
            </span>
          </h2>
          <QueueFilters board={board} filters={filters} onChange={setFilters} />
          {searching && (
            <div className="search-results" data-testid="search-results">
              <h3 className="small">
                {matches.length === 0 ? "No job today matches" : `${matches.length} job${matches.length === 1 ? "" : "s"} today match${matches.length === 1 ? "es" : ""}`}
              </h3>
              {matches.length > 0 && (
                <ul aria-label="Jobs matching the search">
                  {matches.map((j) => (
                    <li key={j.bookingId} data-booking={j.bookingId}>
                      <Link href={`/bookings/${j.bookingId}`}>
                        {time(j.start, tz)} {j.customerName}
                      </Link>{" "}
                      <span className="muted small">
                        {j.serviceName} · {providerOf.get(j.bookingId)?.name ?? "unassigned"}
                      </span>
                    </li>
                  ))}
                </ul>
              )}
            </div>
          )}
          {board.unassigned.length === 0 ? (
            <p className="muted small">Every job has a provider.</p>
          ) : queue.length === 0 ? (
            <p className="muted small">No unassigned job matches these filters.</p>
          ) : (
            <div className="queue-list">{queue.map((j) => jobCard(j, "queue"))}</div>
          )}
        </section>
        {board.providers.length === 0 ? (
          <section className="timeline" aria-label="Providers' day">
            <Empty title="No active providers">
              Add staff under <Link href="/owner/staff">Staff</Link>.
            </Empty>
          </section>
        ) : phone ? (
          <section className="day-list" aria-label="Providers' day" data-testid="day-list">
            {board.providers.map((provider) => (
              <LaneRow key={provider.resourceId} provider={provider} className="provider-day" dragging={dragging !== null} candidates={dragCandidates}>
                <ProviderHeading provider={provider} tz={tz} as="h3" />
                {provider.jobs.length === 0 ? (
                  <p className="muted small">No jobs this day.</p>
                ) : (
                  <ol className="provider-day-jobs" aria-label={`${provider.name}'s jobs`}>
                    {provider.jobs.map((job) => (
                      <li key={job.bookingId}>{jobCard(job, "list")}</li>
                    ))}
                  </ol>
                )}
              </LaneRow>
            ))}
          </section>
        ) : (
          <Timeline
            board={board}
            allJobs={allJobs}
            boxRef={timelineRef}
            dragging={dragging !== null}
            candidates={dragCandidates}
            card={(job, style, bar) => jobCard(job, "lane", style, bar)}
          />
        )}
      </div>
    </DndContext>
  );
}

/** The desktop day: hour labels over one lane per provider, the jobs placed by their start time. */
function Timeline({
  board,
  allJobs,
  boxRef,
  dragging,
  candidates,
  card,
}: {
  board: Board;
  allJobs: Job[];
  boxRef: React.MutableRefObject<HTMLElement | null>;
  dragging: boolean;
  candidates: Candidates | undefined;
  card: (job: Job, style: React.CSSProperties, bar: Placed["bar"]) => ReactNode;
}) {
  const tz = board.timeZone;
  const range = useMemo(() => dayRange(board, allJobs), [board, allJobs]);
  const [trackRef, trackWidth] = useElementWidth<HTMLDivElement>();
  const span = range.end - range.start;
  const frac = (t: number) => (Math.min(Math.max(t, range.start), range.end) - range.start) / span;
  const pct = (t: number) => `${frac(t) * 100}%`;
  const hours = span / HOUR_MS;
  const step = labelStep(trackWidth, hours);
  const ticks: { at: number; label: boolean }[] = [];
  for (let i = 0; i <= hours; i++) ticks.push({ at: range.start + i * HOUR_MS, label: i % step === 0 });
  return (
    <section className="timeline" aria-label="Providers' day" ref={boxRef} data-testid="timeline" style={{ "--hours": hours } as React.CSSProperties}>
      <div className="timeline-grid">
        <div className="timeline-head">
          <div className="lane-label" />
          <div className="ticks" aria-hidden="true">
            <div className="ticks-track" ref={trackRef}>
              {ticks
                .filter((t) => t.label)
                .map((t) => (
                  <span key={t.at} className="tick-label" style={{ left: pct(t.at) }}>
                    {time(t.at, tz)}
                  </span>
                ))}
            </div>
          </div>
        </div>
        {board.providers.map((provider) => {
          const placed = layoutLane(
            provider.jobs.map((j) => ({ id: j.bookingId, start: busyOf(j).start, end: busyOf(j).end })),
            range,
            trackWidth,
          );
          return (
            <LaneRow key={provider.resourceId} provider={provider} className="lane-row" dragging={dragging} candidates={candidates}>
              <ProviderHeading provider={provider} tz={tz} />
              <div className="lane" role="group" aria-label={`${provider.name}'s jobs`}>
                <div className="lane-track">
                  {ticks.map((t) => (
                    <span key={`t${t.at}`} className={`tick-line${t.label ? " labelled" : ""}`} style={{ left: pct(t.at) }} aria-hidden="true" />
                  ))}
                  {hoursOf(provider, board.date, tz).map((h, i) => (
                    <span key={i} className="hours" style={{ left: pct(h.start), width: `calc(${pct(h.end)} - ${pct(h.start)})` }} aria-hidden="true" />
                  ))}
                  {provider.timeOff.map((t) => (
                    <span
                      key={`off${t.start}`}
                      className="time-off"
                      style={{ left: pct(t.start), width: `calc(${pct(t.end)} - ${pct(t.start)})` }}
                      title={`Time off${t.reason ? `: ${t.reason}` : ""}`}
                    >
                      Time off
                    </span>
                  ))}
                  <div className="lane-grid" style={{ gridTemplateColumns: `repeat(${placed.columns}, minmax(0, 1fr))` }}>
                    {provider.jobs.map((job) => {
                      const p = placed.byId.get(job.bookingId)!;
                      return card(job, { gridColumn: `${p.column} / span ${p.span}`, gridRow: p.row }, p.bar);
                    })}
                  </div>
                </div>
              </div>
            </LaneRow>
          );
        })}
      </div>
    </section>
  );
}

function ProviderHeading({ provider, tz, as = "div" }: { provider: Provider; tz: string; as?: "div" | "h3" }) {
  const note = dayNote(provider);
  const Name = as === "h3" ? "h3" : "strong";
  return (
    <div className="lane-label">
      <span className="provider-color" style={{ background: provider.color ?? "var(--accent)" }} aria-hidden="true" />
      <Name className="provider-name">{provider.name}</Name>
      <span className="muted small">
        {provider.hours.length ? provider.hours.map((h) => `${h.start}–${h.end}`).join(", ") : "off"} · {provider.jobs.length} job
        {provider.jobs.length === 1 ? "" : "s"}
      </span>
      {note && (
        <span className="small day-note" data-testid="override-note">
          {note}
        </span>
      )}
      {provider.timeOff.map((t) => (
        <span key={`${t.start}`} className="small day-note" data-testid="time-off-note">
          Time off {time(t.start, tz)}–{time(t.end, tz)}
          {t.reason ? ` (${t.reason})` : ""}
        </span>
      ))}
    </div>
  );
}

/** A provider's row: where a dragged job is dropped (by mouse or touch). */
function LaneRow({
  provider,
  className,
  dragging,
  candidates,
  children,
}: {
  provider: Provider;
  className: string;
  dragging: boolean;
  candidates: Candidates | undefined;
  children: ReactNode;
}) {
  const { setNodeRef, isOver } = useDroppable({ id: provider.resourceId });
  const why = dragging ? refusalOf(candidates, provider) : undefined;
  const state = why ? " refuses" : why === null ? " accepts" : "";
  return (
    <div
      ref={setNodeRef}
      className={`${className}${state}${isOver ? " drop-over" : ""}`}
      data-provider={provider.name}
      data-can-take={why === undefined ? undefined : why === null ? "yes" : "no"}
    >
      {children}
      {/* Over the row, not in it: the rows keep their size while a job is dragged over them. */}
      {why && <span className="refuse-reason small">Can't take: {why}</span>}
    </div>
  );
}

function JobBlock({
  job,
  tz,
  where,
  flash,
  pending,
  matched,
  style,
  bar,
  providers,
  onMove,
  onUnassign,
}: {
  job: Job;
  tz: string;
  where: "queue" | "lane" | "list";
  flash: boolean;
  pending: boolean;
  /** A search is on and this job matches it. */
  matched: boolean;
  style?: React.CSSProperties;
  /** Where the job's busy time is within the card, in % (cards are at least readable). */
  bar?: Placed["bar"];
  providers: Provider[];
  onMove: (p: Provider) => void;
  onUnassign?: () => void;
}) {
  const [open, setOpen] = useState(false);
  const movable = ASSIGNABLE.has(job.status);
  // Drag by mouse or touch; from the keyboard the Move… menu does the same (the card holds
  // links and buttons, so it is not made a button itself).
  const { setNodeRef, listeners, transform, isDragging } = useDraggable({ id: job.bookingId, disabled: !movable || open });
  const dragStyle = transform ? { transform: `translate3d(${transform.x}px, ${transform.y}px, 0)`, zIndex: 40 } : undefined;
  return (
    <div
      ref={setNodeRef}
      {...listeners}
      className={`job status-${job.status.toLowerCase()}${where === "lane" ? " in-lane" : where === "list" ? " in-list" : ""}${flash ? " flash" : ""}${pending ? " pending" : ""}${matched ? " matched" : ""}${isDragging ? " dragging" : ""}`}
      style={{ ...style, ...dragStyle }}
      data-booking={job.bookingId}
      data-status={job.status}
      data-customer={job.customerName}
      data-zone={job.zoneId}
      title={`${job.serviceName} for ${job.customerName}, ${time(job.start, tz)}–${time(job.end, tz)} (${statusLabel(job.status)})`}
    >
      {bar !== undefined && bar.width < 99 && <span className="job-span" style={{ left: `${bar.left}%`, width: `${bar.width}%` }} aria-hidden="true" />}
      <div className="job-main">
        <span className="job-when">
          <strong className="job-time">
            {time(job.start, tz)}–{time(job.end, tz)}
          </strong>
          <StatusBadge status={job.status} />
        </span>
        <span className="job-customer">{job.customerName}</span>
        <span className="job-service small">
          {job.serviceName}
          {where === "queue" && ` · ${minutes(Math.round((job.end - job.start) / 60_000))}`}
        </span>
        {job.plan && (
          <span className="badge tone-info small" data-testid="job-plan" title="A visit of a recurring plan">
            Plan · {planFrequencyLabel(job.plan.frequency)}
          </span>
        )}
        {job.address && <span className="job-address small">{job.address}</span>}
        {job.assignmentStatus === "offered" && <span className="small muted">offered, not accepted yet</span>}
      </div>
      <div className="job-actions">
        <Link href={`/bookings/${job.bookingId}`} className="small">
          Details
        </Link>
        {movable && (
          <DropdownMenu.Root open={open} onOpenChange={setOpen} modal={false}>
            <DropdownMenu.Trigger asChild>
              <button type="button" className="linklike small">
                {where === "queue" ? "Assign…" : "Move…"}
                <span className="sr-only"> {job.customerName}'s job to another provider</span>
              </button>
            </DropdownMenu.Trigger>
            {open && <MoveMenu job={job} providers={providers} onMove={onMove} onUnassign={onUnassign} />}
          </DropdownMenu.Root>
        )}
      </div>
    </div>
  );
}


/**
 * The providers of the day, each enabled or disabled with the server's reason. A menu from
 * the keyboard too: arrows move, Enter picks, Escape closes and returns to the button. It is
 * rendered inside the job card (not in a portal) and placed beside its button, never over it.
 */
function MoveMenu({
  job,
  providers,
  onMove,
  onUnassign,
}: {
  job: Job;
  providers: Provider[];
  onMove: (p: Provider) => void;
  onUnassign?: () => void;
}) {
  const candidates = useQuery(api.dispatch.candidates, { bookingId: job.bookingId });
  const content = useRef<HTMLDivElement | null>(null);
  const loaded = candidates !== undefined;
  // The entries arrive with the server's answer: focus then goes to the first one that can be
  // chosen (Radix focused the menu itself while there was none), unless the person moved on.
  useEffect(() => {
    const menu = content.current;
    if (!loaded || menu === null || document.activeElement !== menu) return;
    menu.querySelector<HTMLElement>('[role="menuitem"]:not([data-disabled])')?.focus();
  }, [loaded]);
  return (
    <DropdownMenu.Content
      ref={content}
      className="move-menu"
      data-testid="move-menu"
      side="bottom"
      align="start"
      sideOffset={4}
      collisionPadding={8}
      aria-label={`Who can take ${job.customerName}'s job`}
      onClick={(e) => e.stopPropagation()}
    >
      {candidates === undefined && (
        <DropdownMenu.Label className="muted small" role="status">
          Checking who can take it…
        </DropdownMenu.Label>
      )}
      {candidates !== undefined &&
        providers.map((p) => {
          const why = refusalOf(candidates, p) ?? null;
          return (
            <DropdownMenu.Item key={p.resourceId} className="move-menu-item" disabled={why !== null} title={why ?? undefined} data-provider={p.name} onSelect={() => onMove(p)}>
              {p.name}
              {why && <span className="muted small"> — {why}</span>}
            </DropdownMenu.Item>
          );
        })}
      {loaded && onUnassign && (
        <DropdownMenu.Item className="move-menu-item" onSelect={onUnassign}>
          Back to the queue
        </DropdownMenu.Item>
      )}
    </DropdownMenu.Content>
  );
}
