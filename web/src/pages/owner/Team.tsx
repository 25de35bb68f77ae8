/**
 * The people of a business: members with their roles (owners and managers change them; the
 * business always keeps an owner), taking someone off the staff (their booked jobs reviewed
 * first, like any schedule change), and invitations by email with resend and revoke.
 */
import { useConvex, useMutation, useQuery } from "convex/react";
import type { FunctionReturnType } from "convex/server";
import { useState } from "react";
import { api } from "../../../../convex/_generated/api";
import type { Id } from "../../../../convex/_generated/dataModel";
import { Badge, Button, Card, Empty, ErrorBox, Field, Loading, Notice, useRun } from "../../components/ui";
import { dateTime } from "../../lib/format";
import { ROLE_LABELS, useReadySession } from "../../lib/session";
import { ImpactReview, type Review } from "./scheduleChange";

type MemberRole = "owner" | "manager" | "staff";
type Member = FunctionReturnType<typeof api.businesses.listMembers>[number];
type Resource = FunctionReturnType<typeof api.resources.list>[number];
const ROLES: MemberRole[] = ["staff", "manager", "owner"];
const RANK: Record<MemberRole, number> = { staff: 1, manager: 2, owner: 3 };

/** Roles someone with `mine` may hand out (a manager: up to manager, never owner). */
function grantable(mine: MemberRole): MemberRole[] {
  return mine === "owner" ? ROLES : ROLES.filter((r) => r !== "owner" && RANK[r] <= RANK[mine]);
}

export function Team({ businessId, resources, tz }: { businessId: Id<"businesses">; resources: Resource[]; tz: string }) {
  const session = useReadySession();
  const myRole = session.current!.role as MemberRole;
  const members = useQuery(api.businesses.listMembers, { businessId });
  if (members === undefined) return <Loading />;
  return (
    <Card title="People">
      <Members businessId={businessId} members={members} myRole={myRole} myUserId={session.me.user._id} resources={resources} tz={tz} />
      <Invites businessId={businessId} myRole={myRole} resources={resources} tz={tz} />
    </Card>
  );
}

function Members({
  businessId,
  members,
  myRole,
  myUserId,
  resources,
  tz,
}: {
  businessId: Id<"businesses">;
  members: Member[];
  myRole: MemberRole;
  myUserId: Id<"users">;
  resources: Resource[];
  tz: string;
}) {
  const convex = useConvex();
  const changeRole = useMutation(api.businesses.changeMemberRole);
  const remove = useMutation(api.businesses.removeMember);
  const run = useRun();
  const [review, setReview] = useState<(Review & { userId: Id<"users"> }) | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const owners = members.filter((m) => m.role === "owner").length;

  const deactivate = (m: Member) =>
    run.run(async () => {
      setDone(null);
      const resource = resources.find((r) => r._id === m.resourceId && r.active);
      const affected = resource
        ? await convex.query(api.resources.previewScheduleChange, { change: { kind: "settings", resourceId: resource._id, patch: { active: false } } })
        : [];
      const apply = async (resolution?: { moveAffected: "queue" | "other_provider"; confirmedBookingIds: Id<"bookings">[] }) => {
        await remove({ businessId, userId: m.userId, ...resolution });
        setDone(`${m.name} is no longer on the staff.`);
      };
      if (affected.length === 0) return apply();
      setReview({ what: `removal of ${m.name}`, affected, apply, userId: m.userId });
    });

  return (
    <>
      <div className="table-wrap">
        <table className="data">
          <caption className="sr-only">Staff members and their roles</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Role</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {members.map((m) => {
              const canManage = m.userId !== myUserId && (myRole === "owner" || RANK[m.role] <= RANK[myRole]);
              const lastOwner = m.role === "owner" && owners <= 1;
              const resource = resources.find((r) => r._id === m.resourceId);
              return (
                <tr key={m.membershipId} data-member={m.name}>
                  <td>
                    <strong>{m.name}</strong>
                    <div className="muted small">
                      {m.email}
                      {resource ? ` · schedule: ${resource.name}` : ""}
                    </div>
                  </td>
                  <td>
                    {canManage && !lastOwner ? (
                      <select
                        aria-label={`Role of ${m.name}`}
                        value={m.role}
                        disabled={run.busy}
                        onChange={(e) => void run.run(() => changeRole({ businessId, userId: m.userId, role: e.target.value as MemberRole }))}
                      >
                        {(grantable(myRole).includes(m.role) ? grantable(myRole) : [m.role, ...grantable(myRole)]).map((r) => (
                          <option key={r} value={r}>
                            {ROLE_LABELS[r]}
                          </option>
                        ))}
                      </select>
                    ) : (
                      <span>
                        {ROLE_LABELS[m.role]}
                        {lastOwner && <span className="muted small"> (the only owner)</span>}
                      </span>
                    )}
                  </td>
                  <td>
                    {canManage && !lastOwner && (
                      <Button variant="ghost" className="btn-small" busy={run.busy} aria-label={`Remove ${m.name} from the staff`} onClick={() => void deactivate(m)}>
                        Remove
                      </Button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {review && (
        <ImpactReview
          review={review}
          tz={tz}
          busy={run.busy}
          onConfirm={(resolution) =>
            void run.run(async () => {
              await review.apply(resolution);
              setReview(null);
            })
          }
          onCancel={() => setReview(null)}
        />
      )}
      {done && <Notice kind="success">{done}</Notice>}
      {run.error !== null && <ErrorBox error={run.error} />}
    </>
  );
}

function Invites({ businessId, myRole, resources, tz }: { businessId: Id<"businesses">; myRole: MemberRole; resources: Resource[]; tz: string }) {
  const open = useQuery(api.invites.listOpen, { businessId });
  const create = useMutation(api.invites.create);
  const resend = useMutation(api.invites.resend);
  const revoke = useMutation(api.invites.revoke);
  const run = useRun();
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<MemberRole>("staff");
  const [resourceId, setResourceId] = useState<string>("");
  const [sent, setSent] = useState<string | null>(null);
  const free = resources.filter((r) => r.active && r.userId === undefined && r.kind === "provider");
  return (
    <>
      <h3>Invitations</h3>
      {open === undefined ? (
        <Loading />
      ) : open.length === 0 ? (
        <Empty title="No open invitations" />
      ) : (
        <ul className="plain-list" aria-label="Open invitations">
          {open.map((i) => (
            <li key={i.inviteId} data-invite={i.email}>
              <strong>{i.email}</strong> as {ROLE_LABELS[i.role]}
              {i.resourceName ? ` (${i.resourceName})` : ""} ·{" "}
              {i.expired ? <Badge tone="bad">expired</Badge> : <span className="muted small">valid until {dateTime(i.expiresAt, tz)}</span>}{" "}
              <span className="button-row">
                <Button
                  variant="secondary"
                  className="btn-small"
                  busy={run.busy}
                  aria-label={`Resend the invitation to ${i.email}`}
                  onClick={() =>
                    void run.run(async () => {
                      await resend({ inviteId: i.inviteId });
                      setSent(`A new invitation link went to ${i.email}; the previous link no longer works.`);
                    })
                  }
                >
                  Resend
                </Button>
                <Button
                  variant="ghost"
                  className="btn-small"
                  busy={run.busy}
                  aria-label={`Revoke the invitation to ${i.email}`}
                  onClick={() => void run.run(() => revoke({ inviteId: i.inviteId }))}
                >
                  Revoke
                </Button>
              </span>
            </li>
          ))}
        </ul>
      )}
      <form
        className="panel"
        aria-label="Invite a staff member"
        onSubmit={(e) => {
          e.preventDefault();
          setSent(null);
          void run.run(async () => {
            await create({ businessId, email, role, ...(resourceId ? { resourceId: resourceId as Id<"resources"> } : {}) });
            setSent(`Invitation sent to ${email.trim()}. The link is valid for 7 days.`);
            setEmail("");
            setResourceId("");
          });
        }}
      >
        <h4>Invite a staff member</h4>
        <div className="form-grid">
          <Field label="Email address">
            <input type="email" value={email} onChange={(e) => setEmail(e.target.value)} required autoComplete="off" />
          </Field>
          <Field label="Role">
            <select value={role} onChange={(e) => setRole(e.target.value as MemberRole)}>
              {grantable(myRole).map((r) => (
                <option key={r} value={r}>
                  {ROLE_LABELS[r]}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Their schedule" hint="A provider resource without a person yet (optional)">
            <select value={resourceId} onChange={(e) => setResourceId(e.target.value)}>
              <option value="">None</option>
              {free.map((r) => (
                <option key={r._id} value={r._id}>
                  {r.name}
                </option>
              ))}
            </select>
          </Field>
        </div>
        <Button type="submit" busy={run.busy}>
          Send invitation
        </Button>
      </form>
      {sent && <Notice kind="success">{sent}</Notice>}
      {run.error !== null && <ErrorBox error={run.error} />}
    </>
  );
}
