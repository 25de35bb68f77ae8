import { describe, expect, it } from "vitest";
import { type AssignmentCandidate, chooseResource, rankCandidates } from "./assignment";

const c = (id: string, priority: number, assignmentsToday = 0, lastAssignedAt?: number): AssignmentCandidate => ({ id, priority, assignmentsToday, lastAssignedAt });

describe("chooseResource", () => {
  it.each([
    ["lower priority number wins", [c("a", 2), c("b", 1)], "b"],
    ["fewest assignments today within a priority", [c("a", 1, 3), c("b", 1, 1)], "b"],
    ["priority beats round-robin", [c("a", 1, 9), c("b", 2, 0)], "a"],
    ["least recently assigned when counts tie", [c("a", 1, 1, 200), c("b", 1, 1, 100)], "b"],
    ["never assigned goes first", [c("a", 1, 0, 100), c("b", 1, 0)], "b"],
    ["id breaks full ties", [c("b", 1), c("a", 1)], "a"],
  ])("%s", (_label, candidates, expected) => {
    expect(chooseResource(candidates)?.id).toBe(expected);
  });

  it("restricts to the available ids and returns null when none is left", () => {
    const candidates = [c("a", 1), c("b", 2)];
    expect(chooseResource(candidates, ["b"])?.id).toBe("b");
    expect(chooseResource(candidates, ["zzz"])).toBeNull();
    expect(chooseResource([])).toBeNull();
  });

  it("is deterministic whatever the input order", () => {
    const candidates = [c("d", 1, 2, 5), c("a", 2), c("c", 1, 2, 5), c("b", 1, 1, 50)];
    const expected = ["b", "c", "d", "a"];
    expect(rankCandidates(candidates).map((x) => x.id)).toEqual(expected);
    expect(rankCandidates([...candidates].reverse()).map((x) => x.id)).toEqual(expected);
  });

  it("rotates through equals as assignments accumulate", () => {
    const state = new Map([["a", c("a", 1)], ["b", c("b", 1)], ["c", c("c", 1)]]);
    const picks: string[] = [];
    for (let t = 1; t <= 6; t++) {
      const pick = chooseResource([...state.values()])!;
      picks.push(pick.id);
      state.set(pick.id, { ...pick, assignmentsToday: pick.assignmentsToday + 1, lastAssignedAt: t });
    }
    expect(picks).toEqual(["a", "b", "c", "a", "b", "c"]);
  });

  it("rejects malformed candidates", () => {
    expect(() => chooseResource([c("", 1)])).toThrow(/id/);
    expect(() => chooseResource([c("a", 1, -1)])).toThrow(/assignmentsToday/);
  });
});
