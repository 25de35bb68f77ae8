/**
 * The page an invitation link opens (`/invite/<token>`): what the invitation is for, and
 * "Accept" to join the business with its role as the person signed in. Links that can no
 * longer be used (expired, used, withdrawn, unknown) say so and what to do.
 */
import { useMutation, useQuery } from "convex/react";
import { api } from "../../../convex/_generated/api";
import { Button, Card, ErrorBoundary, ErrorBox, Loading, Notice, PageHeader, useRun } from "../components/ui";
import { dateTime, viewerTimeZone } from "../lib/format";
import { Link, navigate } from "../lib/router";
import { ROLE_LABELS, useReadySession } from "../lib/session";

export function InvitePage({ token }: { token: string }) {
  return (
    <div className="narrow">
      <PageHeader title="Join the team" />
      <ErrorBoundary resetKey={token}>
        <InviteDetails token={token} />
      </ErrorBoundary>
    </div>
  );
}

function InviteDetails({ token }: { token: string }) {
  const session = useReadySession();
  const invite = useQuery(api.invites.byToken, { token });
  const accept = useMutation(api.invites.accept);
  const run = useRun();
  if (invite === undefined) return <Loading label="Opening the invitation…" />;
  const role = ROLE_LABELS[invite.role];
  return (
    <Card title={invite.businessName}>
      <p data-testid="invite-summary">
        You are invited to join <strong>{invite.businessName}</strong> as <strong>{role}</strong>
        {invite.resourceName ? ` (${invite.resourceName}'s schedule)` : ""}. The invitation went to {invite.email}.
      </p>
      {invite.alreadyMember ? (
        <Notice>
          You are already on the staff of {invite.businessName}. <Link href="/">Go to your start page</Link>.
        </Notice>
      ) : invite.refusal !== null ? (
        <div className="alert alert-error" role="alert" data-error-code={invite.refusal.code}>
          <strong className="alert-title">This invitation cannot be used</strong>
          <span className="alert-detail">{invite.refusal.message}</span>
        </div>
      ) : (
        <>
          <p className="muted small">
            You are signed in as {session.me.user.name}
            {session.me.user.email ? ` (${session.me.user.email})` : ""}: accepting adds this account to the staff. Valid until{" "}
            {dateTime(invite.expiresAt, viewerTimeZone)}.
          </p>
          <Button
            busy={run.busy}
            onClick={() =>
              void run.run(async () => {
                const joined = await accept({ token });
                session.choose(`${joined.role}:${joined.businessId}`);
                // "/" sends each role to its start page (a provider: today's jobs).
                navigate("/", { replace: true });
              })
            }
          >
            Accept and join {invite.businessName}
          </Button>
        </>
      )}
      {run.error !== null && <ErrorBox error={run.error} />}
    </Card>
  );
}
