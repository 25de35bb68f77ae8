/**
 * Choosing a resource for a booking among those eligible and available.
 *
 * Order: lower `priority` number first; then round-robin within a priority: fewest
 * assignments on the booking's day, then least recently assigned (never assigned first);
 * then resource id, so the choice is deterministic.
 */
import { invalidArgument } from "./errors";

export interface AssignmentCandidate {
  id: string;
  /** Lower is preferred. */
  priority: number;
  /** Bookings already assigned to this resource on the booking's local day. */
  assignmentsToday: number;
  /** Instant of this resource's most recent assignment; undefined if never assigned. */
  lastAssignedAt?: number;
}

function validateCandidate(candidate: AssignmentCandidate, index: number): void {
  if (typeof candidate.id !== "string" || candidate.id.length === 0) {
    throw invalidArgument(`candidates[${index}].id must be a non-empty string`);
  }
  if (!Number.isFinite(candidate.priority)) throw invalidArgument(`candidates[${index}].priority must be a number`);
  if (!Number.isInteger(candidate.assignmentsToday) || candidate.assignmentsToday < 0) {
    throw invalidArgument(`candidates[${index}].assignmentsToday must be a non-negative integer`);
  }
}

export function compareCandidates(a: AssignmentCandidate, b: AssignmentCandidate): number {
  if (a.priority !== b.priority) return a.priority - b.priority;
  if (a.assignmentsToday !== b.assignmentsToday) return a.assignmentsToday - b.assignmentsToday;
  const lastA = a.lastAssignedAt ?? Number.NEGATIVE_INFINITY;
  const lastB = b.lastAssignedAt ?? Number.NEGATIVE_INFINITY;
  if (lastA !== lastB) return lastA < lastB ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Candidates best-first. */
export function rankCandidates(candidates: readonly AssignmentCandidate[]): AssignmentCandidate[] {
  candidates.forEach(validateCandidate);
  return [...candidates].sort(compareCandidates);
}

/**
 * The resource to assign, or null when there is none. `availableIds`, when given, restricts
 * the choice to those (e.g. a slot's `availableResourceIds`).
 */
export function chooseResource(
  candidates: readonly AssignmentCandidate[],
  availableIds?: readonly string[],
): AssignmentCandidate | null {
  const allowed = availableIds ? new Set(availableIds) : null;
  const eligible = allowed ? candidates.filter((c) => allowed.has(c.id)) : candidates;
  return rankCandidates(eligible)[0] ?? null;
}
