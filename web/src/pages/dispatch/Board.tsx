/**
 * The live dispatch board (managers and owners): one day, a timeline lane per provider with
 * their jobs as blocks coloured by status, the unassigned queue, drag and drop to assign or
 * reassign (HTML5 DnD; every job also has a keyboard "Assign to" menu), who else is watching
 * (PartyKit dispatch room presence). Which providers can take a job, and why the others
 * cannot, is asked of the server (`dispatch.candidates`, the check the assignment runs):
 * lanes that cannot take the dragged job refuse the drop and say why, and the "Move…" menu
 * lists them disabled with the reason. Each lane shows the provider's time off and changed
 * hours of the day.
 */
import { DndContext, MouseSensor, TouchSensor, useDraggable, useDroppable, useSensor, useSensors, type DragEndEvent } from "@dnd-kit/core";
import * as DropdownMenu from "@radix-ui/react-dropdown-menu";
import { useMutation, useQuery } from "convex/react";
import type { FunctionReturnType } from "convex/server";
import { useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { api } from "../../../../convex/_generated/api";
import type { Id } from "../../../../convex/_generated/dataModel";
import { ASSIGNABLE_STATUSES } from "../../../../domain/bookingStatus";
import { localToInstant } from "../../../../domain/time";
import type { Viewer } from "../../../../party/messages";
import { roomIds } from "../../../../party/rooms";
import { CustomerLookup } from "../../components/CustomerSearch";
import { Button, Empty, ErrorBox, LiveDot, Loading, PageHeader, StatusBadge } from "../../components/ui";
import { useAuthBridge } from "../../lib/auth";
import { addDays, localDateLabel, minutes, planFrequencyLabel, statusLabel, time, todayIn, zoneName } from "../../lib/format";
import { useRoom } from "../../lib/live";
import { Link, useQueryParams } from "../../lib/router";
import { ROLE_LABELS, useReadySession } from "../../lib/session";

type Board = FunctionReturnType<typeof api.dispatch.board>;
type Job = Board["unassigned"][number];
type Provider = Board["providers"][number];
type Candidates = FunctionReturnType<typeof api.dispatch.candidates>;

const HEARTBEAT_MS = 20_000;
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
  const initial = useQueryParams().get("date");
  const [date, setDate] = useState(() => (initial && /^\d{4}-\d{2}-\d{2}$/.test(initial) ? initial : todayIn(Date.now(), timeZone)));
  const board = useQuery(api.dispatch.board, { businessId, date });
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
        subtitle={`${localDateLabel(date)} · times in ${zoneName(timeZone)}`}
        actions={
          <div className="button-row">
            <Button variant="secondary" className="btn-small" onClick={() => setDate(addDays(date, -1))} aria-label="Previous day">
              ‹
            </Button>
            <input type="date" value={date} aria-label="Day" onChange={(e) => e.target.value && setDate(e.target.value)} />
            <Button variant="secondary" className="btn-small" onClick={() => setDate(addDays(date, 1))} aria-label="Next day">
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
      <CustomerLookup businessId={businessId} timeZone={timeZone} onShowDay={setDate} />
      <Legend />
      {board === undefined ? <Loading label="Loading the board…" /> : <BoardView board={board} flash={flash} />}
    </div>
  );
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
  const tz = board.timeZone;
  // Mouse drags start after a few pixels; on touch screens a press-and-hold picks a job up,
  // so a swipe still scrolls the board.
  const sensors = useSensors(
    useSensor(MouseSensor, { activationConstraint: { distance: 6 } }),
    useSensor(TouchSensor, { activationConstraint: { delay: 200, tolerance: 8 } }),
  );

  const allJobs = useMemo(() => [...board.unassigned, ...board.providers.flatMap((p) => p.jobs)], [board]);
  const range = useMemo(() => {
    let start = Number.POSITIVE_INFINITY;
    let end = Number.NEGATIVE_INFINITY;
    for (const p of board.providers) {
      for (const h of hoursOf(p, board.date, tz)) {
        start = Math.min(start, h.start);
        end = Math.max(end, h.end);
      }
    }
    for (const j of allJobs) {
      start = Math.min(start, j.start);
      end = Math.max(end, j.end);
    }
    if (!Number.isFinite(start)) {
      start = localToInstant(board.date, "08:00", tz);
      end = localToInstant(board.date, "18:00", tz);
    }
    const hour = 3_600_000;
    return { start: Math.floor(start / hour) * hour, end: Math.ceil(end / hour) * hour };
  }, [board, allJobs, tz]);
  const span = range.end - range.start;
  const pct = (t: number) => `${((Math.min(Math.max(t, range.start), range.end) - range.start) / span) * 100}%`;
  const ticks: number[] = [];
  for (let t = range.start; t <= range.end; t += 3_600_000) ticks.push(t);

  async function move(job: Job, provider: Provider) {
    setError(null);
    setRefused(null);
    setPending(job.bookingId);
    try {
      if (job.assignmentStatus === undefined && !board.providers.some((p) => p.jobs.some((j) => j.bookingId === job.bookingId))) {
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

  const jobCard = (job: Job, where: "queue" | "lane") => (
    <JobBlock
      key={job.bookingId}
      job={job}
      tz={tz}
      where={where}
      flash={flash.has(job.bookingId)}
      pending={pending === job.bookingId}
      style={where === "lane" ? { left: pct(busyOf(job).start), width: `calc(${pct(busyOf(job).end)} - ${pct(busyOf(job).start)})` } : undefined}
      providers={board.providers}
      onMove={(p) => void move(job, p)}
      onUnassign={where === "lane" && ASSIGNABLE.has(job.status) ? () => void toQueue(job) : undefined}
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
          Unassigned <span className="count">{board.unassigned.length}</span>
        </h2>
        {board.unassigned.length === 0 ? <p className="muted small">Every job has a provider.</p> : <div className="queue-list">{board.unassigned.map((j) => jobCard(j, "queue"))}</div>}
      </section>
      <section className="timeline" aria-label="Providers' day">
        {board.providers.length === 0 ? (
          <Empty title="No active providers">
            Add staff under <Link href="/owner/staff">Staff</Link>.
          </Empty>
        ) : (
          <>
            <div className="timeline-head">
              <div className="lane-label" />
              <div className="ticks" aria-hidden="true">
                {ticks.map((t) => (
                  <span key={t} style={{ left: pct(t) }}>
                    {time(t, tz)}
                  </span>
                ))}
              </div>
            </div>
            {board.providers.map((provider) => {
              const why = dragging ? refusalOf(dragCandidates, provider) : undefined;
              const note = dayNote(provider);
              return (
                <LaneRow
                  key={provider.resourceId}
                  provider={provider}
                  className={`lane-row${why ? " refuses" : why === null ? " accepts" : ""}`}
                  canTake={why === undefined ? undefined : why === null ? "yes" : "no"}
                >
                  <div className="lane-label">
                    <span className="provider-color" style={{ background: provider.color ?? "var(--accent)" }} aria-hidden="true" />
                    <strong>{provider.name}</strong>
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
                    {dragging && why && <span className="refuse-reason small">Can't take: {why}</span>}
                  </div>
                  <div className="lane" role="group" aria-label={`${provider.name}'s jobs`}>
                    {ticks.map((t) => (
                      <span key={`t${t}`} className="tick-line" style={{ left: pct(t) }} aria-hidden="true" />
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
                    {provider.jobs.map((job) => jobCard(job, "lane"))}
                  </div>
                </LaneRow>
              );
            })}
          </>
        )}
      </section>
    </div>
    </DndContext>
  );
}

/** A provider's row: where a dragged job is dropped (by mouse or touch). */
function LaneRow({ provider, className, canTake, children }: { provider: Provider; className: string; canTake?: "yes" | "no"; children: ReactNode }) {
  const { setNodeRef, isOver } = useDroppable({ id: provider.resourceId });
  return (
    <div ref={setNodeRef} className={`${className}${isOver ? " drop-over" : ""}`} data-provider={provider.name} data-can-take={canTake}>
      {children}
    </div>
  );
}

function JobBlock({
  job,
  tz,
  where,
  flash,
  pending,
  style,
  providers,
  onMove,
  onUnassign,
}: {
  job: Job;
  tz: string;
  where: "queue" | "lane";
  flash: boolean;
  pending: boolean;
  style?: React.CSSProperties;
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
      className={`job status-${job.status.toLowerCase()}${where === "lane" ? " in-lane" : ""}${flash ? " flash" : ""}${pending ? " pending" : ""}${isDragging ? " dragging" : ""}`}
      style={{ ...style, ...dragStyle }}
      data-booking={job.bookingId}
      data-status={job.status}
      data-customer={job.customerName}
      title={`${job.serviceName} for ${job.customerName}, ${time(job.start, tz)}–${time(job.end, tz)} (${statusLabel(job.status)})`}
    >
      <div className="job-main">
        <strong className="job-time">
          {time(job.start, tz)}–{time(job.end, tz)}
        </strong>
        <span className="job-customer">{job.customerName}</span>
        <span className="job-service small">{job.serviceName}</span>
        {job.plan && (
          <span className="badge tone-info small" data-testid="job-plan" title="A visit of a recurring plan">
            Plan · {planFrequencyLabel(job.plan.frequency)}
          </span>
        )}
        {where === "queue" && (
          <span className="small">
            <StatusBadge status={job.status} /> {minutes(Math.round((job.end - job.start) / 60_000))}
          </span>
        )}
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
  return (
    <DropdownMenu.Content
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
      {onUnassign && (
        <DropdownMenu.Item className="move-menu-item" onSelect={onUnassign}>
          Back to the queue
        </DropdownMenu.Item>
      )}
    </DropdownMenu.Content>
  );
}
