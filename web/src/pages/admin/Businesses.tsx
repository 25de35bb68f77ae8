/** Platform admin: businesses by status; verify pending ones, suspend and reactivate (with a reason). */
import { useMutation, usePaginatedQuery } from "convex/react";
import { useState } from "react";
import { api } from "../../../../convex/_generated/api";
import type { Id } from "../../../../convex/_generated/dataModel";
import { Badge, Button, Card, Empty, ErrorBox, Field, Loading, Notice, PageHeader, useRun } from "../../components/ui";
import { date, viewerTimeZone } from "../../lib/format";

const STATUSES = ["PENDING", "ACTIVE", "SUSPENDED", "INACTIVE"] as const;
type Status = (typeof STATUSES)[number];

export function AdminBusinesses() {
  const [status, setStatus] = useState<Status>("PENDING");
  const { results, status: page, loadMore } = usePaginatedQuery(api.businesses.listForAdmin, { status }, { initialNumItems: 25 });
  return (
    <div>
      <PageHeader title="Businesses" subtitle="Verify new businesses; suspend or reactivate existing ones." />
      <div className="chips" role="radiogroup" aria-label="Status">
        {STATUSES.map((s) => (
          <button key={s} type="button" role="radio" aria-checked={status === s} className={`chip${status === s ? " selected" : ""}`} onClick={() => setStatus(s)}>
            {s.toLowerCase()}
          </button>
        ))}
      </div>
      <Card>
        {page === "LoadingFirstPage" ? (
          <Loading />
        ) : results.length === 0 ? (
          <Empty title={`No ${status.toLowerCase()} businesses`} />
        ) : (
          <div className="table-wrap">
            <table className="data">
              <thead>
                <tr>
                  <th>Business</th>
                  <th>Type</th>
                  <th>Since</th>
                  <th>Status</th>
                  <th>Action</th>
                </tr>
              </thead>
              <tbody>
                {results.map((b) => (
                  <Row key={b._id} business={b} />
                ))}
              </tbody>
            </table>
          </div>
        )}
        {page === "CanLoadMore" && (
          <Button variant="secondary" onClick={() => loadMore(25)}>
            Show more
          </Button>
        )}
      </Card>
    </div>
  );
}

type Business = { _id: Id<"businesses">; _creationTime: number; name: string; slug: string; type: string; status: string; statusReason?: string; timeZone: string; verification?: { verifiedAt: number; note?: string } };

function Row({ business }: { business: Business }) {
  const verify = useMutation(api.businesses.verify);
  const setStatus = useMutation(api.businesses.setStatus);
  const run = useRun();
  const [reason, setReason] = useState("");
  const [done, setDone] = useState<string | null>(null);
  const act = (fn: () => Promise<unknown>, message: string) =>
    void run.run(async () => {
      await fn();
      setDone(message);
    });
  return (
    <tr data-business={business.slug}>
      <td>
        <strong>{business.name}</strong>
        <div className="muted small">
          /{business.slug} · {business.timeZone}
        </div>
      </td>
      <td>{business.type.replace("_", " ")}</td>
      <td>{date(business._creationTime, viewerTimeZone)}</td>
      <td>
        <Badge tone={business.status === "ACTIVE" ? "good" : business.status === "PENDING" ? "warn" : "bad"}>{business.status}</Badge>
        {business.statusReason && <div className="muted small">{business.statusReason}</div>}
        {business.verification && <div className="muted small">verified {date(business.verification.verifiedAt, viewerTimeZone)}</div>}
      </td>
      <td>
        <Field label="Reason / note">
          <input value={reason} onChange={(e) => setReason(e.target.value)} maxLength={1000} />
        </Field>
        <div className="button-row">
          {business.status === "PENDING" && (
            <Button className="btn-small" busy={run.busy} onClick={() => act(() => verify({ businessId: business._id, ...(reason ? { note: reason } : {}) }), "Verified: the business is live.")}>
              Verify
            </Button>
          )}
          {(business.status === "ACTIVE" || business.status === "PENDING") && (
            <Button variant="danger" className="btn-small" busy={run.busy} disabled={!reason.trim()} title={reason.trim() ? undefined : "Give a reason first"} onClick={() => act(() => setStatus({ businessId: business._id, status: "SUSPENDED", reason }), "Suspended.")}>
              Suspend
            </Button>
          )}
          {(business.status === "SUSPENDED" || business.status === "INACTIVE") && (
            <Button variant="secondary" className="btn-small" busy={run.busy} disabled={!reason.trim()} onClick={() => act(() => setStatus({ businessId: business._id, status: "ACTIVE", reason }), "Reactivated.")}>
              Reactivate
            </Button>
          )}
        </div>
        {done && <Notice kind="success">{done}</Notice>}
        {run.error !== null && <ErrorBox error={run.error} compact />}
      </td>
    </tr>
  );
}
