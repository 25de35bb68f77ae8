/**
 * Team management: inviting by email (the mail through queueNotification, the token only
 * hashed), accepting (membership with the role, the resource linked), resend and revoke,
 * expired / used / withdrawn links refused; member roles (never the last owner) and
 * deactivating a member whose resource has booked jobs (the schedule-change rules).
 */
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import { NOW, TUESDAY, at, bookingScenario, expectCode, freezeClock } from "./bookings.testkit";
import { INVITE_TTL_MS } from "./model/teamCommands";
import { aBusiness, aManager, aProvider, aResource, aStaffMember, aUser, type TestUser } from "./test.builders";
import { newTest, type TestConvex } from "./test.setup";

beforeEach(() => freezeClock());
afterEach(() => vi.useRealTimers());

async function inviteMails(t: TestConvex, to: string) {
  const rows = await t.run((ctx) => ctx.db.query("notifications").collect());
  return rows.filter((r) => r.templateKey === "staff_invite" && r.to === to);
}

/** The token of the newest invitation link mailed to `to`. */
async function tokenMailedTo(t: TestConvex, to: string): Promise<string> {
  const mails = await inviteMails(t, to);
  const body = mails.at(-1)?.body ?? "";
  const match = /\/invite\/([A-Za-z0-9_-]+)/.exec(body);
  if (!match) throw new Error(`no invitation link mailed to ${to}: ${body}`);
  return match[1];
}

async function team(t: TestConvex) {
  const biz = await aBusiness(t, { name: "Sparkle" });
  const manager = await aManager(t, biz.businessId, { name: "Dana Manager" });
  return { ...biz, manager };
}

describe("invitations", () => {
  test("the owner invites by email; the mail carries a link whose token is stored only hashed; accepting makes the person staff of the resource", async () => {
    const t = newTest();
    const s = await team(t);
    const { resourceId } = await aResource(t, s.businessId, { kind: "provider", name: "New provider" });
    const inviteId = await s.owner.as.mutation(api.invites.create, { businessId: s.businessId, email: " Nia@Example.test ", role: "staff", resourceId });

    const [mail] = await inviteMails(t, "nia@example.test");
    expect(mail).toMatchObject({ status: "queued", channel: "email", subject: "Olivia Owner invited you to Sparkle" });
    expect(mail.body).toContain("as a provider");
    expect(mail.body).toContain("http://127.0.0.1:5173/invite/");
    const token = await tokenMailedTo(t, "nia@example.test");
    const stored = (await t.run((ctx) => ctx.db.get("invites", inviteId)))!;
    expect(stored).toMatchObject({ email: "nia@example.test", role: "staff", status: "pending", expiresAt: NOW + INVITE_TTL_MS });
    expect(stored.tokenHash).not.toContain(token);
    expect(JSON.stringify(stored)).not.toContain(token);

    const open = await s.owner.as.query(api.invites.listOpen, { businessId: s.businessId });
    expect(open).toEqual([expect.objectContaining({ inviteId, email: "nia@example.test", resourceName: "New provider", expired: false, invitedByName: "Olivia Owner" })]);

    const nia = await aUser(t, { name: "Nia", email: "nia.personal@example.test" });
    const details = await nia.as.query(api.invites.byToken, { token });
    expect(details).toMatchObject({ businessName: "Sparkle", role: "staff", resourceName: "New provider", refusal: null, alreadyMember: false });
    expect(await nia.as.mutation(api.invites.accept, { token })).toEqual({ businessId: s.businessId, role: "staff" });

    const me = await nia.as.query(api.users.me, {});
    expect(me?.memberships).toEqual([{ businessId: s.businessId, role: "staff", resourceId }]);
    expect((await t.run((ctx) => ctx.db.get("resources", resourceId)))?.userId).toBe(nia.userId);
    expect(await nia.as.query(api.resources.mine, { businessId: s.businessId })).toMatchObject({ _id: resourceId });
    expect(await s.owner.as.query(api.invites.listOpen, { businessId: s.businessId })).toEqual([]);

    // The link is used up.
    const used = await expectCode(aUser(t).then((u) => u.as.mutation(api.invites.accept, { token })), "CONFLICT", "token");
    expect(used.message).toBe("This invitation has already been used.");
    expect((await nia.as.query(api.invites.byToken, { token })).refusal).toEqual({ code: "CONFLICT", message: "This invitation has already been used." });
  });

  test("an expired invitation is refused with EXPIRED; resending sends a new link (the old one stops working) valid another week", async () => {
    const t = newTest();
    const s = await team(t);
    const inviteId = await s.manager.as.mutation(api.invites.create, { businessId: s.businessId, email: "ray@example.test", role: "staff" });
    const first = await tokenMailedTo(t, "ray@example.test");
    const ray = await aUser(t, { name: "Ray" });

    vi.setSystemTime(NOW + INVITE_TTL_MS + 1);
    const expired = await expectCode(ray.as.mutation(api.invites.accept, { token: first }), "EXPIRED", "token");
    expect(expired.message).toMatch(/expired: ask the business to send it again/);
    expect((await s.owner.as.query(api.invites.listOpen, { businessId: s.businessId }))[0]).toMatchObject({ expired: true });

    await s.manager.as.mutation(api.invites.resend, { inviteId });
    expect(await inviteMails(t, "ray@example.test")).toHaveLength(2);
    const second = await tokenMailedTo(t, "ray@example.test");
    expect(second).not.toBe(first);
    await expectCode(ray.as.mutation(api.invites.accept, { token: first }), "NOT_FOUND", "token");
    await ray.as.mutation(api.invites.accept, { token: second });
    expect((await ray.as.query(api.users.me, {}))?.memberships).toEqual([{ businessId: s.businessId, role: "staff" }]);
    await expectCode(s.manager.as.mutation(api.invites.resend, { inviteId }), "CONFLICT", "inviteId");
  });

  test("a revoked invitation is refused; unknown links name the token", async () => {
    const t = newTest();
    const s = await team(t);
    const inviteId = await s.owner.as.mutation(api.invites.create, { businessId: s.businessId, email: "kim@example.test", role: "manager" });
    const token = await tokenMailedTo(t, "kim@example.test");
    await s.owner.as.mutation(api.invites.revoke, { inviteId });
    const kim = await aUser(t);
    const revoked = await expectCode(kim.as.mutation(api.invites.accept, { token }), "CONFLICT", "token");
    expect(revoked.message).toBe("This invitation was withdrawn by the business.");
    await expectCode(s.owner.as.mutation(api.invites.revoke, { inviteId }), "CONFLICT", "inviteId");
    await expectCode(kim.as.mutation(api.invites.accept, { token: "x".repeat(43) }), "NOT_FOUND", "token");
    await expectCode(kim.as.query(api.invites.byToken, { token: "not a token" }), "NOT_FOUND", "token");
    expect((await kim.as.query(api.users.me, {}))?.memberships).toEqual([]);
  });

  test("refusals: who may invite, which role, which address, which resource", async () => {
    const t = newTest();
    const s = await team(t);
    const staff = await aStaffMember(t, s.businessId, { email: "sam@example.test" });
    const other = await aBusiness(t, { name: "Other" });
    const stranger = await aUser(t);
    const invite = (who: TestUser, extra: Partial<{ email: string; role: "owner" | "manager" | "staff"; resourceId: Id<"resources"> }> = {}) =>
      who.as.mutation(api.invites.create, { businessId: s.businessId, email: "new@example.test", role: "staff", ...extra });

    await expectCode(t.mutation(api.invites.create, { businessId: s.businessId, email: "new@example.test", role: "staff" }), "UNAUTHENTICATED");
    await expectCode(invite(staff), "FORBIDDEN");
    await expectCode(invite(stranger), "NOT_FOUND", "businessId");
    await expectCode(invite(other.owner), "NOT_FOUND", "businessId");
    await expectCode(invite(s.manager, { role: "owner" }), "FORBIDDEN", "role");
    await expectCode(invite(s.owner, { email: "not-an-address" }), "INVALID_ARGUMENT", "email");
    await expectCode(invite(s.owner, { email: "SAM@example.test" }), "ALREADY_EXISTS", "email");
    const { resourceId: foreign } = await aResource(t, other.businessId);
    await expectCode(invite(s.owner, { resourceId: foreign }), "NOT_FOUND", "resourceId");
    const linked = await aProvider(t, s.businessId);
    await expectCode(invite(s.owner, { resourceId: linked.resourceId }), "CONFLICT", "resourceId");
    expect(await inviteMails(t, "new@example.test")).toEqual([]);

    const inviteId = await invite(s.owner, { role: "owner" });
    await expectCode(invite(s.owner), "ALREADY_EXISTS", "email");
    // A manager can neither resend nor withdraw an owner's invitation; outsiders see nothing.
    await expectCode(s.manager.as.mutation(api.invites.revoke, { inviteId }), "FORBIDDEN", "role");
    await expectCode(other.owner.as.mutation(api.invites.resend, { inviteId }), "NOT_FOUND", "inviteId");
    await expectCode(staff.as.query(api.invites.listOpen, { businessId: s.businessId }), "FORBIDDEN");
    await expectCode(other.owner.as.query(api.invites.listOpen, { businessId: s.businessId }), "NOT_FOUND", "businessId");

    // Someone already on the staff cannot accept a second membership.
    const token = await tokenMailedTo(t, "new@example.test");
    const dup = await expectCode(staff.as.mutation(api.invites.accept, { token }), "ALREADY_EXISTS", "token");
    expect(dup.message).toBe("You are already on the staff of Sparkle.");
    expect((await staff.as.query(api.invites.byToken, { token })).alreadyMember).toBe(true);
  });
});

describe("roles", () => {
  test("the business always keeps an owner, and the account holder stays one", async () => {
    const t = newTest();
    const s = await team(t);
    const last = await expectCode(
      s.owner.as.mutation(api.businesses.changeMemberRole, { businessId: s.businessId, userId: s.owner.userId, role: "manager" }),
      "FORBIDDEN",
      "userId",
    );
    expect(last.message).toMatch(/at least one owner/);
    await expectCode(s.manager.as.mutation(api.businesses.changeMemberRole, { businessId: s.businessId, userId: s.manager.userId, role: "owner" }), "FORBIDDEN", "role");

    await s.owner.as.mutation(api.businesses.changeMemberRole, { businessId: s.businessId, userId: s.manager.userId, role: "owner" });
    const holder = await expectCode(
      s.manager.as.mutation(api.businesses.changeMemberRole, { businessId: s.businessId, userId: s.owner.userId, role: "staff" }),
      "FORBIDDEN",
      "userId",
    );
    expect(holder.message).toMatch(/account holder/);
    // With two owners, one may step down.
    await s.manager.as.mutation(api.businesses.changeMemberRole, { businessId: s.businessId, userId: s.manager.userId, role: "manager" });
    const members = await s.owner.as.query(api.businesses.listMembers, { businessId: s.businessId });
    expect(members.map((m) => [m.name, m.role])).toEqual([
      ["Olivia Owner", "owner"],
      ["Dana Manager", "manager"],
    ]);
  });
});

describe("deactivating a member", () => {
  test("their booked jobs are refused until the caller says where they go, then moved; the resource stays, inactive", async () => {
    const t = newTest();
    const s = await bookingScenario(t, { policies: { booking: { depositBp: 0 } } });
    const quinn = await aProvider(t, s.businessId, { name: "Quinn", priority: 3 });
    const { bookingId } = await s.customer.as.mutation(api.bookings.hold, { businessId: s.businessId, zoneId: s.zoneId, cart: s.cart, start: at(TUESDAY, "10:00") });
    const remove = (extra = {}) => s.manager.as.mutation(api.businesses.removeMember, { businessId: s.businessId, userId: s.provider.userId, ...extra });

    const refused = await expectCode(remove(), "CONFLICT");
    expect(refused.message).toMatch(/booked job/);
    expect((await t.run((ctx) => ctx.db.get("memberships", s.provider.membershipId)))).not.toBeNull();

    const preview = await s.manager.as.query(api.resources.previewScheduleChange, {
      change: { kind: "settings", resourceId: s.provider.resourceId, patch: { active: false } },
    });
    expect(preview.map((j) => j.bookingId)).toEqual([bookingId]);
    await remove({ moveAffected: "other_provider", confirmedBookingIds: [bookingId] });

    expect(await t.run((ctx) => ctx.db.get("memberships", s.provider.membershipId))).toBeNull();
    const resource = (await t.run((ctx) => ctx.db.get("resources", s.provider.resourceId)))!;
    expect(resource).toMatchObject({ active: false });
    expect(resource.userId).toBeUndefined();
    expect((await t.run((ctx) => ctx.db.get("bookings", bookingId)))?.assignedResourceIds).toEqual([quinn.resourceId]);
    expect(await s.provider.as.query(api.users.me, {})).toMatchObject({ memberships: [] });
  });

  test("the sole owner cannot be removed; staff cannot remove anyone", async () => {
    const t = newTest();
    const s = await team(t);
    const staff = await aStaffMember(t, s.businessId);
    await expectCode(s.owner.as.mutation(api.businesses.removeMember, { businessId: s.businessId, userId: s.owner.userId }), "FORBIDDEN", "userId");
    await expectCode(staff.as.mutation(api.businesses.removeMember, { businessId: s.businessId, userId: s.manager.userId }), "FORBIDDEN");
    await expectCode(s.manager.as.mutation(api.businesses.removeMember, { businessId: s.businessId, userId: s.owner.userId }), "FORBIDDEN", "userId");
  });
});
