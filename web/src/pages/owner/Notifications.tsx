/**
 * Notifications for owners and dispatchers (manager and up), two screens:
 * - the log (`notifications.log`, live): what was sent to whom, filtered by channel, status,
 *   customer and template, each with its delivery status, attempts, the next retry and the
 *   last error; a failed one can be sent again (`notifications.retry`);
 * - the template editor (`templates.editor` / `preview` / `upsert` / `remove`): pick a
 *   template, channel and language, edit it with a live preview rendered by the server with
 *   sample values, save it as the business's version or go back to the default.
 */
import { useMutation, usePaginatedQuery, useQuery } from "convex/react";
import type { FunctionReturnType } from "convex/server";
import { useEffect, useState } from "react";
import { api } from "../../../../convex/_generated/api";
import type { Id } from "../../../../convex/_generated/dataModel";
import { CustomerSearchBox } from "../../components/CustomerSearch";
import { Badge, Button, Card, Empty, ErrorBoundary, ErrorBox, Field, Loading, Notice, PageHeader, useRun } from "../../components/ui";
import { dateTime, time } from "../../lib/format";
import { Link, navigate, usePath, useQueryParams } from "../../lib/router";
import { useReadySession } from "../../lib/session";

type LogPage = FunctionReturnType<typeof api.notifications.log>;
export type NotificationRow = Omit<LogPage["page"][number], "customerName"> & { customerName?: string };

export const CHANNEL_LABELS = { email: "Email", sms: "SMS", whatsapp: "WhatsApp" } as const;
type Channel = keyof typeof CHANNEL_LABELS;

/** The templates a business can send and edit (sign-in codes belong to no business). */
export const TEMPLATE_LABELS = {
  booking_confirmed: "Booking confirmed",
  reminder_24h: "Reminder, the day before",
  reminder_2h: "Reminder, 2 hours before",
  booking_rescheduled: "Booking moved",
  booking_cancelled: "Booking cancelled",
  payment_receipt: "Payment receipt",
  refund_receipt: "Refund receipt",
  payment_failed: "Payment failed",
  review_request: "Review request",
  provider_en_route: "Provider on the way",
  new_message: "New message",
  plan_visit_upcoming: "Plan visit coming up",
  card_update_needed: "Card needs updating",
  staff_invite: "Team invitation",
} as const;
type TemplateKey = keyof typeof TEMPLATE_LABELS;

const OTHER_TEMPLATE_LABELS: Record<string, string> = {
  account_verify_code: "Verification code",
  account_reset_code: "Password reset code",
  account_sign_in_code: "Sign-in code",
  account_welcome: "Welcome",
};

export function templateLabel(key: string): string {
  return (TEMPLATE_LABELS as Record<string, string>)[key] ?? OTHER_TEMPLATE_LABELS[key] ?? key.replace(/_/g, " ");
}

const STATUS_FILTERS = { queued: "Waiting to send", sending: "Sending", sent: "Sent", failed: "Failed", skipped: "Not sent (opted out)" } as const;
type Status = keyof typeof STATUS_FILTERS;

/** The languages the templates come in (convex/templates.ts BUILT_IN_TEMPLATES). */
export const LOCALE_LABELS = { en: "English", es: "Spanish (Español)", "pt-BR": "Portuguese, Brazil (Português)" } as const;
type Locale = keyof typeof LOCALE_LABELS;

/**
 * A labelled select over a record of value → label; `any` adds a first option with the
 * empty value ("All channels") for a filter.
 */
function SelectField<V extends string>({
  label,
  value,
  onChange,
  labels,
  any,
}: {
  label: string;
  value: V | "";
  onChange: (value: V) => void;
  labels: Record<V, string>;
  any?: string;
}) {
  return (
    <Field label={label}>
      <select value={value} onChange={(e) => onChange(e.target.value as V)}>
        {any !== undefined && <option value="">{any}</option>}
        {(Object.keys(labels) as V[]).map((v) => (
          <option key={v} value={v}>
            {labels[v]}
          </option>
        ))}
      </select>
    </Field>
  );
}

/** The delivery status in words: a queued row that already failed once is being retried. */
export function deliveryStatus(row: Pick<NotificationRow, "status" | "attempts">): { label: string; tone: "good" | "warn" | "bad" | "neutral" | "info" } {
  switch (row.status) {
    case "sent":
      return { label: "Sent", tone: "good" };
    case "failed":
      return { label: "Failed", tone: "bad" };
    case "sending":
      return { label: "Sending", tone: "info" };
    case "skipped":
      return { label: "Not sent", tone: "neutral" };
    case "queued":
      return (row.attempts ?? 0) > 0 ? { label: "Retrying", tone: "warn" } : { label: "Waiting to send", tone: "neutral" };
  }
}

/** "1 attempt", "2 attempts, next try at 10:05", "not tried yet". */
export function attemptsText(row: Pick<NotificationRow, "status" | "attempts" | "nextAttemptAt">, timeZone: string): string {
  const attempts = row.attempts ?? 0;
  if (row.status === "skipped") return "none (opted out)";
  const tried = attempts === 0 ? "not tried yet" : attempts === 1 ? "1 attempt" : `${attempts} attempts`;
  if (row.status === "queued" && row.nextAttemptAt !== undefined) return `${tried}, next try at ${time(row.nextAttemptAt, timeZone)}`;
  return tried;
}

/** Sub-navigation between the log and the templates. */
function NotificationTabs() {
  const path = usePath();
  const tabs = [
    { href: "/owner/notifications", label: "Log" },
    { href: "/owner/notifications/templates", label: "Templates" },
  ];
  return (
    <nav className="chips subnav" aria-label="Notifications">
      {tabs.map((tab) => (
        <Link key={tab.href} className={`chip${path === tab.href ? " selected" : ""}`} href={tab.href} aria-current={path === tab.href ? "page" : undefined}>
          {tab.label}
        </Link>
      ))}
    </nav>
  );
}

// ---------------------------------------------------------------------------------------
// The log
// ---------------------------------------------------------------------------------------

export function OwnerNotifications() {
  const session = useReadySession();
  const businessId = session.current!.businessId!;
  const business = useQuery(api.businesses.get, { businessId });
  const counts = useQuery(api.notifications.logCounts, { businessId });
  const params = useQueryParams();
  const customerParam = params.get("customer") as Id<"customers"> | null;
  const [channel, setChannel] = useState<Channel | "">("");
  const [status, setStatus] = useState<Status | "">("");
  const [templateKey, setTemplateKey] = useState<TemplateKey | "">("");
  const [customerId, setCustomerId] = useState<Id<"customers"> | null>(customerParam);
  useEffect(() => setCustomerId(customerParam), [customerParam]);
  const customer = useQuery(api.customers.get, customerId ? { customerId } : "skip");
  const tz = business?.timeZone ?? "UTC";
  const filtered = channel !== "" || status !== "" || templateKey !== "" || customerId !== null;

  const pickCustomer = (id: Id<"customers"> | null) => {
    setCustomerId(id);
    navigate(id === null ? "/owner/notifications" : `/owner/notifications?customer=${id}`, { replace: true });
  };

  return (
    <div>
      <PageHeader title="Notifications" subtitle="What the business sent to customers, and whether it arrived." />
      <NotificationTabs />
      {counts && (counts.failed > 0 || counts.retrying > 0) && (
        <Notice kind="warning">
          <span data-testid="log-counts">
            {counts.failed} failed{counts.failed >= 100 ? " or more" : ""} · {counts.retrying} being retried
          </span>
        </Notice>
      )}
      <Card title="Filters">
        <div className="form-grid log-filters">
          <SelectField label="Channel" value={channel} onChange={setChannel} labels={CHANNEL_LABELS} any="All channels" />
          <SelectField label="Status" value={status} onChange={setStatus} labels={STATUS_FILTERS} any="Any status" />
          <SelectField label="Template" value={templateKey} onChange={setTemplateKey} labels={TEMPLATE_LABELS} any="All templates" />
        </div>
        {customerId === null ? (
          <CustomerSearchBox businessId={businessId} onPick={(c) => pickCustomer(c._id)} />
        ) : (
          <p data-testid="customer-filter">
            Customer: <strong>{customer?.customer.name ?? "…"}</strong>{" "}
            <Button variant="ghost" className="btn-small" onClick={() => pickCustomer(null)}>
              Any customer
            </Button>
          </p>
        )}
      </Card>
      <ErrorBoundary resetKey={`${channel}|${status}|${templateKey}|${customerId ?? ""}`}>
        <LogTable
          businessId={businessId}
          tz={tz}
          filtered={filtered}
          filters={{
            ...(channel === "" ? {} : { channel }),
            ...(status === "" ? {} : { status }),
            ...(templateKey === "" ? {} : { templateKey }),
            ...(customerId === null ? {} : { customerId }),
          }}
        />
      </ErrorBoundary>
    </div>
  );
}

function LogTable({
  businessId,
  tz,
  filters,
  filtered,
}: {
  businessId: Id<"businesses">;
  tz: string;
  filters: { channel?: Channel; status?: Status; templateKey?: TemplateKey; customerId?: Id<"customers"> };
  filtered: boolean;
}) {
  const { results, status, loadMore } = usePaginatedQuery(api.notifications.log, { businessId, ...filters }, { initialNumItems: 25 });
  return (
    <Card title="Sent and queued">
      {status === "LoadingFirstPage" ? (
        <Loading label="Loading the notification log…" />
      ) : results.length === 0 && status !== "CanLoadMore" ? (
        filtered ? (
          <Empty title="No notifications match these filters">Change or clear a filter to see more.</Empty>
        ) : (
          <Empty title="Nothing sent yet">Confirmations, reminders and receipts appear here as they go out.</Empty>
        )
      ) : (
        <NotificationTable rows={results} tz={tz} showCustomer />
      )}
      {status === "CanLoadMore" && (
        <Button variant="secondary" onClick={() => loadMore(25)}>
          Show more
        </Button>
      )}
      {status === "LoadingMore" && <Loading label="Loading more…" />}
    </Card>
  );
}

/** The rows of a log: when, to whom, what, on which channel, delivery status, attempts and error. */
export function NotificationTable({ rows, tz, showCustomer }: { rows: NotificationRow[]; tz: string; showCustomer?: boolean }) {
  return (
    <div className="table-wrap">
      <table className="data notification-log">
        <thead>
          <tr>
            <th scope="col">When</th>
            {showCustomer && <th scope="col">Customer</th>}
            <th scope="col">Message</th>
            <th scope="col">Channel</th>
            <th scope="col">Status</th>
            <th scope="col">Attempts</th>
            <th scope="col">Error</th>
            <th scope="col">
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <NotificationLine key={row._id} row={row} tz={tz} showCustomer={showCustomer} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function NotificationLine({ row, tz, showCustomer }: { row: NotificationRow; tz: string; showCustomer?: boolean }) {
  const retry = useMutation(api.notifications.retry);
  const run = useRun();
  const delivery = deliveryStatus(row);
  return (
    <tr
      data-testid="notification-row"
      data-template={row.templateKey}
      data-channel={row.channel}
      data-status={row.status}
      data-booking={row.bookingId ?? undefined}
    >
      <td>{dateTime(row.createdAt, tz)}</td>
      {showCustomer && (
        <td>
          {row.customerName ?? <span className="muted">no customer</span>}
          <div className="muted small">{row.to}</div>
        </td>
      )}
      <td>
        <strong>{templateLabel(row.templateKey)}</strong>
        {row.subject && <div className="muted small">{row.subject}</div>}
        {row.bookingId && (
          <div className="small">
            <Link href={`/bookings/${row.bookingId}`}>Booking</Link>
          </div>
        )}
      </td>
      <td>{CHANNEL_LABELS[row.channel]}</td>
      <td data-testid="delivery-status">
        <Badge tone={delivery.tone}>{delivery.label}</Badge>
        {row.sentAt !== undefined && <div className="muted small">at {time(row.sentAt, tz)}</div>}
      </td>
      <td data-testid="attempts">{attemptsText(row, tz)}</td>
      <td className="small">{row.error ?? <span className="muted">none</span>}</td>
      <td>
        {row.status === "failed" && (
          <Button variant="secondary" className="btn-small" busy={run.busy} onClick={() => void run.run(() => retry({ notificationId: row._id }))}>
            Send again
          </Button>
        )}
        {run.error !== null && <ErrorBox error={run.error} compact />}
      </td>
    </tr>
  );
}

/** A customer's latest notifications (the owner's customer view), with a link to the whole log. */
export function CustomerNotifications({ customerId, tz }: { customerId: Id<"customers">; tz: string }) {
  const { results, status, loadMore } = usePaginatedQuery(api.notifications.forCustomer, { customerId }, { initialNumItems: 5 });
  return (
    <Card title="Notifications" actions={<Link href={`/owner/notifications?customer=${customerId}`}>All in the log</Link>} className="customer-notifications">
      {status === "LoadingFirstPage" ? (
        <Loading />
      ) : results.length === 0 ? (
        <Empty title="Nothing sent to this customer yet" />
      ) : (
        <NotificationTable rows={results} tz={tz} />
      )}
      {status === "CanLoadMore" && (
        <Button variant="secondary" className="btn-small" onClick={() => loadMore(10)}>
          Show more
        </Button>
      )}
    </Card>
  );
}

// ---------------------------------------------------------------------------------------
// The template editor
// ---------------------------------------------------------------------------------------

const SOURCE_LABELS = { business: "Your version", platform: "Platform default", built_in: "Standard text" } as const;

export function OwnerTemplates() {
  const session = useReadySession();
  const businessId = session.current!.businessId!;
  const [key, setKey] = useState<TemplateKey>("booking_confirmed");
  const [channel, setChannel] = useState<Channel>("email");
  const [locale, setLocale] = useState<Locale>("en");
  return (
    <div>
      <PageHeader title="Notification templates" subtitle="The words customers receive. Changes apply to messages sent from now on." />
      <NotificationTabs />
      <Card>
        <div className="form-grid">
          <SelectField label="Template" value={key} onChange={setKey} labels={TEMPLATE_LABELS} />
          <SelectField label="Channel" value={channel} onChange={setChannel} labels={CHANNEL_LABELS} />
          <SelectField label="Language" value={locale} onChange={setLocale} labels={LOCALE_LABELS} />
        </div>
      </Card>
      <ErrorBoundary resetKey={`${key}|${channel}|${locale}`}>
        <TemplateEditor key={`${key}|${channel}|${locale}`} businessId={businessId} templateKey={key} channel={channel} locale={locale} />
      </ErrorBoundary>
    </div>
  );
}

type Editor = FunctionReturnType<typeof api.templates.editor>;

function TemplateEditor({ businessId, templateKey, channel, locale }: { businessId: Id<"businesses">; templateKey: TemplateKey; channel: Channel; locale: string }) {
  const editor = useQuery(api.templates.editor, { businessId, key: templateKey, channel, locale });
  if (editor === undefined) return <Loading label="Loading the template…" />;
  return <TemplateForm businessId={businessId} editor={editor} />;
}

function TemplateForm({ businessId, editor }: { businessId: Id<"businesses">; editor: Editor }) {
  const { key, channel, locale, current, fallback, overrideId, placeholders } = editor;
  const upsert = useMutation(api.templates.upsert);
  const remove = useMutation(api.templates.remove);
  const save = useRun();
  const [subject, setSubject] = useState(current?.subject ?? "");
  const [body, setBody] = useState(current?.body ?? "");
  const [done, setDone] = useState<string | null>(null);
  const email = channel === "email";
  const preview = useLatest(useQuery(api.templates.preview, { businessId, key, channel, locale, body, ...(email ? { subject } : {}) }));
  const problems = preview?.problems ?? [];
  const problemOf = (field: "subject" | "body") => problems.filter((p) => p.field === field).map((p) => p.message).join(" ") || undefined;
  const changed = body !== (current?.body ?? "") || (email && subject !== (current?.subject ?? ""));
  const ownHere = overrideId !== null;
  const fromOtherLanguage = current !== null && current.locale !== locale;

  return (
    <div className="grid-2 template-editor">
      <Card title={`${templateLabel(key)} · ${CHANNEL_LABELS[channel]}`}>
        <p className="small" data-testid="template-source">
          {current === null ? (
            "No text yet for this template."
          ) : (
            <>
              Now in use: <Badge tone={current.source === "business" ? "info" : "neutral"}>{SOURCE_LABELS[current.source]}</Badge>
              {fromOtherLanguage && <span className="muted"> (no text in this language yet: the {current.locale} text is used)</span>}
            </>
          )}
        </p>
        <form
          className="stack-form"
          onSubmit={(e) => {
            e.preventDefault();
            setDone(null);
            void save.run(async () => {
              await upsert({ businessId, key, channel, locale, ...(email ? { subject } : {}), body });
              setDone("Saved. New messages use this text.");
            });
          }}
        >
          {email && (
            <Field label="Subject" error={problemOf("subject")}>
              <input
                name="subject"
                value={subject}
                maxLength={200}
                aria-invalid={problemOf("subject") !== undefined || undefined}
                onChange={(e) => {
                  setSubject(e.target.value);
                  setDone(null);
                  save.clear();
                }}
              />
            </Field>
          )}
          <Field label={email ? "Message" : "Text message"} error={problemOf("body")} hint={email ? undefined : "Keep it short: one text message is 160 characters."}>
            <textarea
              name="body"
              rows={email ? 10 : 4}
              value={body}
              aria-invalid={problemOf("body") !== undefined || undefined}
              onChange={(e) => {
                setBody(e.target.value);
                setDone(null);
                save.clear();
              }}
            />
          </Field>
          <p className="small">
            You can use:{" "}
            {placeholders.map((p, i) => (
              <span key={p}>
                {i > 0 ? " " : ""}
                <code>{`{{${p}}}`}</code>
              </span>
            ))}
          </p>
          {save.error !== null && <ErrorBox error={save.error} />}
          {done && <Notice kind="success">{done}</Notice>}
          <div className="button-row">
            <Button type="submit" busy={save.busy} disabled={!changed || problems.length > 0}>
              Save
            </Button>
            {changed && (
              <Button
                variant="ghost"
                onClick={() => {
                  setSubject(current?.subject ?? "");
                  setBody(current?.body ?? "");
                  save.clear();
                }}
              >
                Undo changes
              </Button>
            )}
            {ownHere && (
              <Button
                variant="secondary"
                busy={save.busy}
                onClick={() => {
                  setDone(null);
                  void save.run(async () => {
                    await remove({ templateId: overrideId });
                    setSubject(fallback?.subject ?? "");
                    setBody(fallback?.body ?? "");
                    setDone("Back to the default text.");
                  });
                }}
              >
                Reset to default
              </Button>
            )}
          </div>
        </form>
      </Card>
      <Card title="Preview" className="template-preview">
        <p className="muted small">With sample values, as a customer would receive it.</p>
        {preview === undefined ? (
          <Loading label="Rendering the preview…" />
        ) : preview === null ? (
          <Empty title="Nothing to preview" />
        ) : (
          <div className="preview-message" data-testid="template-preview" aria-live="polite">
            {preview.subject !== undefined && (
              <p className="preview-subject" data-testid="preview-subject">
                <strong>{preview.subject}</strong>
              </p>
            )}
            <div className="preview-body" data-testid="preview-body">
              {preview.body}
            </div>
          </div>
        )}
      </Card>
    </div>
  );
}

/** The latest defined value, so the preview stays on screen while the next one renders. */
function useLatest<T>(value: T | undefined): T | undefined {
  const [last, setLast] = useState<T | undefined>(value);
  useEffect(() => {
    if (value !== undefined) setLast(value);
  }, [value]);
  return value ?? last;
}
