/** API keys (the full key is shown once) and partner webhooks with their delivery logs. */
import { useMutation, usePaginatedQuery, useQuery } from "convex/react";
import { useState } from "react";
import { api } from "../../../../convex/_generated/api";
import type { Id } from "../../../../convex/_generated/dataModel";
import { Badge, Button, Card, Empty, ErrorBoundary, ErrorBox, Field, Loading, Notice, PageHeader, useRun } from "../../components/ui";
import { dateTime, viewerTimeZone } from "../../lib/format";
import { useReadySession } from "../../lib/session";

const RESOURCES = ["customers", "zones", "catalogue", "resources", "availability", "bookings", "invoices", "refunds", "webhooks", "events"] as const;
type Scope = { resource: (typeof RESOURCES)[number]; access: "read" | "write" };

export function OwnerDevelopers() {
  const session = useReadySession();
  const businessId = session.current!.businessId!;
  const isOwner = session.current!.role === "owner";
  return (
    <div>
      <PageHeader title="API and webhooks" subtitle="REST API at /v1/ on the HTTP actions address; partner webhooks are HMAC-SHA256 signed." />
      {isOwner ? (
        <ErrorBoundary>
          <ApiKeys businessId={businessId} />
        </ErrorBoundary>
      ) : (
        <Notice>Only the owner manages API keys.</Notice>
      )}
      <ErrorBoundary>
        <Webhooks businessId={businessId} isOwner={isOwner} />
      </ErrorBoundary>
    </div>
  );
}

function ShownOnce({ label, secret, onDismiss }: { label: string; secret: string; onDismiss: () => void }) {
  return (
    <div className="alert alert-warning" role="alert" data-testid="secret-once">
      <strong>{label}: copy it now — it will not be shown again.</strong>
      <code className="secret">{secret}</code>
      <div className="button-row">
        <Button variant="secondary" className="btn-small" onClick={() => void navigator.clipboard?.writeText(secret)}>
          Copy
        </Button>
        <Button variant="ghost" className="btn-small" onClick={onDismiss}>
          I saved it
        </Button>
      </div>
    </div>
  );
}

function ApiKeys({ businessId }: { businessId: Id<"businesses"> }) {
  const keys = useQuery(api.api.keys.list, { businessId });
  const create = useMutation(api.api.keys.create);
  const revoke = useMutation(api.api.keys.revoke);
  const rotate = useMutation(api.api.keys.rotate);
  const run = useRun();
  const [name, setName] = useState("");
  const [mode, setMode] = useState<"test" | "live">("test");
  const [scopes, setScopes] = useState<Scope[]>(RESOURCES.map((resource) => ({ resource, access: "read" })));
  const [shown, setShown] = useState<string | null>(null);
  const toggle = (resource: Scope["resource"], access: Scope["access"], on: boolean) => {
    const rest = scopes.filter((s) => !(s.resource === resource && s.access === access));
    setScopes(on ? [...rest, { resource, access }] : rest);
  };
  return (
    <Card title="API keys">
      {shown && <ShownOnce label="Your new API key" secret={shown} onDismiss={() => setShown(null)} />}
      {keys === undefined ? (
        <Loading />
      ) : keys.length === 0 ? (
        <Empty title="No API keys" />
      ) : (
        <div className="table-wrap">
          <table className="data">
            <thead>
              <tr>
                <th>Name</th>
                <th>Key</th>
                <th>Scopes</th>
                <th>Last used</th>
                <th>Status</th>
                <th>
                    <span className="sr-only">Actions</span>
                  </th>
              </tr>
            </thead>
            <tbody>
              {keys.map((k) => (
                <tr key={k.apiKeyId}>
                  <td>{k.name}</td>
                  <td>
                    <code>{k.prefix}…</code> <Badge>{k.mode}</Badge>
                  </td>
                  <td className="small">{k.scopes.map((s) => `${s.resource}:${s.access}`).join(", ")}</td>
                  <td className="small">{k.lastUsedAt ? dateTime(k.lastUsedAt, viewerTimeZone) : "never"}</td>
                  <td>
                    <Badge tone={k.status === "active" ? "good" : "bad"}>{k.status}</Badge>
                    {k.expiresAt && k.status === "active" && <div className="muted small">until {dateTime(k.expiresAt, viewerTimeZone)}</div>}
                  </td>
                  <td>
                    {k.status === "active" && (
                      <div className="button-row">
                        <Button variant="secondary" className="btn-small" busy={run.busy} onClick={() => void run.run(async () => setShown((await rotate({ apiKeyId: k.apiKeyId })).key))}>
                          Rotate
                        </Button>
                        <Button variant="danger" className="btn-small" busy={run.busy} onClick={() => void run.run(() => revoke({ apiKeyId: k.apiKeyId }))}>
                          Revoke
                        </Button>
                      </div>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <form
        className="panel"
        onSubmit={(e) => {
          e.preventDefault();
          void run.run(async () => {
            const created = await create({ businessId, name, mode, scopes });
            setShown(created.key);
            setName("");
          });
        }}
      >
        <h3>New key</h3>
        <div className="form-grid">
          <Field label="Name">
            <input value={name} onChange={(e) => setName(e.target.value)} required placeholder="e.g. Website integration" />
          </Field>
          <Field label="Mode">
            <select value={mode} onChange={(e) => setMode(e.target.value as "test" | "live")}>
              <option value="test">test</option>
              <option value="live">live</option>
            </select>
          </Field>
        </div>
        <fieldset className="plain">
          <legend className="field-label">Scopes</legend>
          <table className="data small">
            <tbody>
              {RESOURCES.map((r) => (
                <tr key={r}>
                  <td>{r}</td>
                  {(["read", "write"] as const).map((a) => (
                    <td key={a}>
                      <label className="checkbox">
                        <input type="checkbox" checked={scopes.some((s) => s.resource === r && s.access === a)} onChange={(e) => toggle(r, a, e.target.checked)} />
                        {a}
                      </label>
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </fieldset>
        <Button type="submit" busy={run.busy}>
          Create key
        </Button>
      </form>
      {run.error !== null && <ErrorBox error={run.error} />}
    </Card>
  );
}

function Webhooks({ businessId, isOwner }: { businessId: Id<"businesses">; isOwner: boolean }) {
  const endpoints = useQuery(api.webhooks.listEndpoints, { businessId });
  const create = useMutation(api.webhooks.createEndpoint);
  const rotateSecret = useMutation(api.webhooks.rotateSecret);
  const update = useMutation(api.webhooks.updateEndpoint);
  const remove = useMutation(api.webhooks.deleteEndpoint);
  const run = useRun();
  const [confirmDelete, setConfirmDelete] = useState<Id<"webhookEndpoints"> | null>(null);
  const [url, setUrl] = useState("");
  const [types, setTypes] = useState("");
  const [shown, setShown] = useState<string | null>(null);
  const [open, setOpen] = useState<Id<"webhookEndpoints"> | null>(null);
  return (
    <Card title="Partner webhooks">
      {shown && <ShownOnce label="The endpoint's signing secret" secret={shown} onDismiss={() => setShown(null)} />}
      {endpoints === undefined ? (
        <Loading />
      ) : endpoints.length === 0 ? (
        <Empty title="No webhook endpoints" />
      ) : (
        endpoints.map((e) => (
          <div key={e.endpointId} className="panel" style={{ marginBottom: "0.75rem" }}>
            <div className="button-row">
              <code>{e.url}</code>
              <Badge tone={e.status === "enabled" ? "good" : "bad"}>{e.status === "enabled" ? "active" : "paused"}</Badge>
              {e.failingSince && <Badge tone="warn">failing since {dateTime(e.failingSince, viewerTimeZone)}</Badge>}
            </div>
            <p className="small muted">
              {e.description ? `${e.description} · ` : ""}events: {e.eventTypes.length ? e.eventTypes.join(", ") : "all"} · secrets {e.secrets.map((s) => s.hint).join(", ")}
            </p>
            <div className="button-row">
              <Button variant="secondary" className="btn-small" onClick={() => setOpen(open === e.endpointId ? null : e.endpointId)}>
                {open === e.endpointId ? "Hide deliveries" : "Delivery log"}
              </Button>
              {isOwner && (
                <Button variant="ghost" className="btn-small" busy={run.busy} onClick={() => void run.run(async () => {
                  const result = (await rotateSecret({ endpointId: e.endpointId })) as unknown;
                  const secret = typeof result === "string" ? result : (result as { secret?: string } | null)?.secret;
                  if (secret) setShown(secret);
                })}>
                  Rotate secret
                </Button>
              )}
              {isOwner && (
                <Button
                  variant="secondary"
                  className="btn-small"
                  busy={run.busy}
                  aria-label={`${e.status === "enabled" ? "Pause" : "Resume"} deliveries to ${e.url}`}
                  onClick={() => void run.run(() => update({ endpointId: e.endpointId, status: e.status === "enabled" ? "disabled" : "enabled" }))}
                >
                  {e.status === "enabled" ? "Pause" : "Resume"}
                </Button>
              )}
              {isOwner &&
                (confirmDelete === e.endpointId ? (
                  <span className="button-row" role="group" aria-label={`Delete ${e.url}?`}>
                    <Button
                      variant="danger"
                      className="btn-small"
                      busy={run.busy}
                      onClick={() =>
                        void run.run(async () => {
                          await remove({ endpointId: e.endpointId });
                          setConfirmDelete(null);
                        })
                      }
                    >
                      Delete for good
                    </Button>
                    <Button variant="ghost" className="btn-small" onClick={() => setConfirmDelete(null)}>
                      Keep it
                    </Button>
                  </span>
                ) : (
                  <Button variant="ghost" className="btn-small" aria-label={`Delete the endpoint ${e.url}`} onClick={() => setConfirmDelete(e.endpointId)}>
                    Delete
                  </Button>
                ))}
            </div>
            {e.status === "disabled" && e.disabledReason && <p className="small muted">{e.disabledReason}: no events are sent until it is resumed.</p>}
            {open === e.endpointId && (
              <ErrorBoundary>
                <Deliveries endpointId={e.endpointId} />
              </ErrorBoundary>
            )}
          </div>
        ))
      )}
      {isOwner && (
        <form
          className="panel"
          onSubmit={(ev) => {
            ev.preventDefault();
            void run.run(async () => {
              const created = await create({ businessId, url, eventTypes: types.split(/[\s,]+/).filter(Boolean) });
              setShown(created.secret);
              setUrl("");
              setTypes("");
            });
          }}
        >
          <h3>New endpoint</h3>
          <div className="form-grid">
            <Field label="URL">
              <input type="url" value={url} onChange={(e) => setUrl(e.target.value)} required placeholder="https://partner.example/webhooks" />
            </Field>
            <Field label="Event types" hint='Empty = all; "booking.*" for a family'>
              <input value={types} onChange={(e) => setTypes(e.target.value)} />
            </Field>
          </div>
          <Button type="submit" busy={run.busy}>
            Add endpoint
          </Button>
        </form>
      )}
      {run.error !== null && <ErrorBox error={run.error} />}
    </Card>
  );
}

function Deliveries({ endpointId }: { endpointId: Id<"webhookEndpoints"> }) {
  const { results, status, loadMore } = usePaginatedQuery(api.webhooks.listDeliveries, { endpointId }, { initialNumItems: 20 });
  const replay = useMutation(api.webhooks.replay);
  const run = useRun();
  const [attemptsOf, setAttemptsOf] = useState<Id<"webhookDeliveries"> | null>(null);
  if (status === "LoadingFirstPage") return <Loading />;
  if (results.length === 0) return <p className="muted small">No deliveries yet.</p>;
  return (
    <div className="table-wrap">
      <table className="data small">
        <thead>
          <tr>
            <th>When</th>
            <th>Event</th>
            <th>Status</th>
            <th>Attempts</th>
            <th>
                    <span className="sr-only">Actions</span>
                  </th>
          </tr>
        </thead>
        <tbody>
          {results.map(({ delivery, eventType }) => (
            <tr key={delivery._id}>
              <td>{dateTime(delivery.createdAt, viewerTimeZone)}</td>
              <td>{eventType ?? "?"}</td>
              <td>
                <Badge tone={delivery.status === "succeeded" ? "good" : delivery.status === "pending" ? "neutral" : "bad"}>{delivery.status}</Badge>
              </td>
              <td>
                <button className="linklike" onClick={() => setAttemptsOf(attemptsOf === delivery._id ? null : delivery._id)}>
                  {delivery.attempts}
                </button>
                {attemptsOf === delivery._id && <Attempts deliveryId={delivery._id} />}
              </td>
              <td>
                <Button variant="ghost" className="btn-small" busy={run.busy} onClick={() => void run.run(() => replay({ eventId: delivery.eventId, endpointId }))}>
                  Replay
                </Button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {status === "CanLoadMore" && (
        <Button variant="secondary" className="btn-small" onClick={() => loadMore(20)}>
          More
        </Button>
      )}
      {run.error !== null && <ErrorBox error={run.error} />}
    </div>
  );
}

function Attempts({ deliveryId }: { deliveryId: Id<"webhookDeliveries"> }) {
  const attempts = useQuery(api.webhooks.listAttempts, { deliveryId });
  if (attempts === undefined) return <Loading />;
  return (
    <ul>
      {attempts.map((a) => (
        <li key={a._id}>
          {dateTime(a.at, viewerTimeZone)}: {a.statusCode ?? "no answer"} in {a.latencyMs} ms {a.error ? `— ${a.error}` : ""}
        </li>
      ))}
    </ul>
  );
}
