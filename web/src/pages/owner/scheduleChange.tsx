/**
 * Schedule changes that may hit booked jobs, as the staff pages run them: the server is asked
 * which jobs a change hits (`resources.previewScheduleChange`, the same check the change's
 * mutation runs); with none it is applied at once, otherwise the jobs are listed with who
 * could take each (`ImpactReview`) and the change goes through only on confirmation.
 */
import { useConvex } from "convex/react";
import type { FunctionArgs, FunctionReturnType } from "convex/server";
import { useState } from "react";
import { api } from "../../../../convex/_generated/api";
import type { Id } from "../../../../convex/_generated/dataModel";
import { Button, useRun } from "../../components/ui";
import { date as dateOf, time } from "../../lib/format";

export type ScheduleChange = FunctionArgs<typeof api.resources.previewScheduleChange>["change"];
export type Affected = FunctionReturnType<typeof api.resources.previewScheduleChange>;
export type Resolution = { moveAffected: "queue" | "other_provider"; confirmedBookingIds: Id<"bookings">[] };

export type Review = { what: string; affected: Affected; apply: (resolution: Resolution) => Promise<unknown> };

/**
 * Runs a schedule change: asks the server which booked jobs it hits; with none, applies it
 * at once; otherwise holds it for review (`ImpactReview`) until the person confirms.
 */
export function useScheduleChange(onDone: () => void) {
  const convex = useConvex();
  const run = useRun();
  const [review, setReview] = useState<Review | null>(null);
  const submit = (what: string, change: ScheduleChange, apply: (resolution?: Resolution) => Promise<unknown>) =>
    run.run(async () => {
      const affected = await convex.query(api.resources.previewScheduleChange, { change });
      if (affected.length === 0) {
        await apply();
        onDone();
        return;
      }
      setReview({ what, affected, apply });
    });
  const confirm = (resolution: Resolution) =>
    run.run(async () => {
      await review!.apply(resolution);
      setReview(null);
      onDone();
    });
  return { run, review, submit, confirm, cancel: () => setReview(null) };
}

export function ImpactReview({
  review,
  tz,
  busy,
  onConfirm,
  onCancel,
}: {
  review: Review;
  tz: string;
  busy: boolean;
  onConfirm: (resolution: Resolution) => void;
  onCancel: () => void;
}) {
  const [moveAffected, setMoveAffected] = useState<Resolution["moveAffected"]>("other_provider");
  const n = review.affected.length;
  return (
    <div className="alert alert-warning" role="alert" data-testid="impact-review">
      <strong>
        This {review.what} overlaps {n === 1 ? "1 booked job" : `${n} booked jobs`}:
      </strong>
      <ul data-testid="affected-jobs">
        {review.affected.map((j) => (
          <li key={j.bookingId} data-booking={j.bookingId}>
            {dateOf(j.start, tz)} {time(j.start, tz)}–{time(j.end, tz)} · <strong>{j.customerName}</strong> · {j.serviceName}{" "}
            <span className="muted small">({j.reason})</span>{" "}
            <span className="small">
              {j.suggestedResourceName ? `→ ${j.suggestedResourceName} can take it` : "→ nobody else is free: unassigned queue"}
            </span>
          </li>
        ))}
      </ul>
      <fieldset className="inline-form">
        <label>
          <input type="radio" name="moveAffected" checked={moveAffected === "other_provider"} onChange={() => setMoveAffected("other_provider")} /> Give
          them to another provider who is free (else the unassigned queue)
        </label>
        <label>
          <input type="radio" name="moveAffected" checked={moveAffected === "queue"} onChange={() => setMoveAffected("queue")} /> Put them in the
          unassigned queue
        </label>
      </fieldset>
      <p className="small">The jobs keep their times, so customers' appointments do not change.</p>
      <div className="button-row">
        <Button busy={busy} onClick={() => onConfirm({ moveAffected, confirmedBookingIds: review.affected.map((j) => j.bookingId) })}>
          Move {n === 1 ? "the job" : `${n} jobs`} and save
        </Button>
        <Button variant="ghost" onClick={onCancel}>
          Cancel
        </Button>
      </div>
    </div>
  );
}

