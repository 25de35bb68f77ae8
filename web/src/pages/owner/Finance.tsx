/** Invoices (live, by status) and refunds: the policy amount is shown before refunding. */
import { useMutation, usePaginatedQuery, useQuery } from "convex/react";
import type { FunctionReturnType } from "convex/server";
import { useState } from "react";
import { api } from "../../../../convex/_generated/api";
import type { Id } from "../../../../convex/_generated/dataModel";
import { InvoiceDownloadButton } from "../../components/InvoiceDownload";
import { Badge, Button, Card, Empty, ErrorBoundary, ErrorBox, Field, Loading, MoneyInput, Notice, PageHeader, useRun } from "../../components/ui";
import { date, money } from "../../lib/format";
import { Link } from "../../lib/router";
import { useReadySession } from "../../lib/session";

type Invoice = FunctionReturnType<typeof api.invoices.get>;
const STATUSES = ["open", "paid", "partially_refunded", "refunded", "void"] as const;
type InvoiceStatus = (typeof STATUSES)[number];

const TONE: Record<string, "good" | "warn" | "bad" | "neutral" | "info"> = { paid: "good", open: "warn", void: "neutral", refunded: "info", partially_refunded: "info", draft: "neutral" };

export function OwnerFinance() {
  const session = useReadySession();
  const businessId = session.current!.businessId!;
  const business = useQuery(api.businesses.get, { businessId });
  const [status, setStatus] = useState<InvoiceStatus | "all">("all");
  const [selected, setSelected] = useState<Id<"invoices"> | null>(null);
  const { results, status: pageStatus, loadMore } = usePaginatedQuery(
    api.invoices.listForBusiness,
    { businessId, ...(status === "all" ? {} : { status }) },
    { initialNumItems: 30 },
  );
  const tz = business?.timeZone ?? "UTC";
  return (
    <div>
      <PageHeader title="Invoices and refunds" />
      <div className="chips" role="radiogroup" aria-label="Invoice status">
        {(["all", ...STATUSES] as const).map((s) => (
          <button key={s} type="button" role="radio" aria-checked={status === s} className={`chip${status === s ? " selected" : ""}`} onClick={() => setStatus(s)}>
            {s.replace("_", " ")}
          </button>
        ))}
      </div>
      <div className="grid-2">
        <Card title="Invoices">
          {pageStatus === "LoadingFirstPage" ? (
            <Loading />
          ) : results.length === 0 ? (
            <Empty title="No invoices" />
          ) : (
            <div className="table-wrap">
              <table className="data">
                <thead>
                  <tr>
                    <th>Number</th>
                    <th>Issued</th>
                    <th className="num">Total</th>
                    <th className="num">Paid</th>
                    <th>Status</th>
                  </tr>
                </thead>
                <tbody>
                  {results.map((inv) => (
                    <tr key={inv._id}>
                      <td>
                        <button className="linklike" onClick={() => setSelected(inv._id)}>
                          {inv.number}
                        </button>
                      </td>
                      <td>{date(inv.issuedAt, tz)}</td>
                      <td className="num">{money(inv.totalMinor, inv.currency)}</td>
                      <td className="num">{money(inv.amountPaidMinor, inv.currency)}</td>
                      <td>
                        <Badge tone={TONE[inv.status] ?? "neutral"}>{inv.status.replace("_", " ")}</Badge>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {pageStatus === "CanLoadMore" && (
            <Button variant="secondary" onClick={() => loadMore(30)}>
              Show more
            </Button>
          )}
        </Card>
        {selected && (
          <ErrorBoundary resetKey={selected}>
            <InvoicePanel key={selected} invoiceId={selected} tz={tz} />
          </ErrorBoundary>
        )}
      </div>
    </div>
  );
}

function InvoicePanel({ invoiceId, tz }: { invoiceId: Id<"invoices">; tz: string }) {
  const invoice = useQuery(api.invoices.get, { invoiceId });
  if (invoice === undefined) return <Loading />;
  return (
    <Card
      title={`Invoice ${invoice.number}`}
      actions={
        <>
          {invoice.status !== "void" && <InvoiceDownloadButton invoiceId={invoice._id} />}
          <Link href={`/bookings/${invoice.bookingId}`}>Booking</Link>
        </>
      }
    >
      <table className="lines">
        <tbody>
          {invoice.lines.map((l, i) => (
            <tr key={i}>
              <td>
                {l.description}
                {l.quantity > 1 ? ` × ${l.quantity}` : ""}
              </td>
              <td className="num">{money(l.amountMinor, invoice.currency)}</td>
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr>
            <th>Total</th>
            <td className="num total">{money(invoice.totalMinor, invoice.currency)}</td>
          </tr>
          <tr>
            <th>Paid</th>
            <td className="num">{money(invoice.amountPaidMinor, invoice.currency)}</td>
          </tr>
          <tr>
            <th>Refunded</th>
            <td className="num">{money(invoice.amountRefundedMinor, invoice.currency)}</td>
          </tr>
        </tfoot>
      </table>
      <p className="muted small">
        Issued {date(invoice.issuedAt, tz)}
        {invoice.paidAt ? `, paid ${date(invoice.paidAt, tz)}` : ""}. Deposit {money(invoice.depositMinor, invoice.currency)}.
      </p>
      <Refunds invoice={invoice} tz={tz} />
    </Card>
  );
}

function Refunds({ invoice, tz }: { invoice: Invoice; tz: string }) {
  const refunds = useQuery(api.refunds.listForInvoice, { invoiceId: invoice._id });
  const preview = useQuery(api.refunds.preview, invoice.amountPaidMinor > 0 ? { invoiceId: invoice._id } : "skip");
  const create = useMutation(api.refunds.create);
  const voidInvoice = useMutation(api.invoices.voidInvoice);
  const run = useRun();
  /** null = the policy amount (when `amountValid`). */
  const [amountMinor, setAmountMinor] = useState<number | null>(null);
  const [amountValid, setAmountValid] = useState(true);
  const [formKey, setFormKey] = useState(0);
  const [reason, setReason] = useState("");
  const [done, setDone] = useState<string | null>(null);
  return (
    <>
      <h3>Refunds</h3>
      {refunds === undefined ? (
        <Loading />
      ) : refunds.length === 0 ? (
        <p className="muted small">No refunds.</p>
      ) : (
        <ul className="small">
          {refunds.map((r) => (
            <li key={r._id}>
              {date(r.createdAt, tz)}: {money(r.amountMinor, r.currency)} <Badge tone={r.status === "succeeded" ? "good" : r.status === "failed" ? "bad" : "neutral"}>{r.status}</Badge> {r.reason}
            </li>
          ))}
        </ul>
      )}
      {preview && preview.refundableMinor > 0 && (
        <form
          className="panel"
          onSubmit={(e) => {
            e.preventDefault();
            setDone(null);
            void run.run(async () => {
              const plan = await create({ invoiceId: invoice._id, reason, ...(amountMinor !== null ? { amountMinor } : {}) });
              setDone(`Refund of ${money(plan.totalMinor, invoice.currency)} requested.`);
              setAmountMinor(null);
              setFormKey((k) => k + 1);
              setReason("");
            });
          }}
        >
          <p className="small">
            Refundable: <strong>{money(preview.refundableMinor, preview.currency)}</strong>. By policy: {money(preview.policyRefundMinor, preview.currency)} ({preview.policyReason}).
          </p>
          <div className="form-grid">
            <Field label="Amount" hint="Leave empty for the policy amount">
              <MoneyInput
                key={formKey}
                currency={invoice.currency}
                initialMinor={null}
                optional
                onChange={(minor, valid) => {
                  run.clear();
                  setAmountMinor(minor);
                  setAmountValid(valid);
                }}
              />
            </Field>
            <Field label="Reason">
              <input value={reason} onChange={(e) => setReason(e.target.value)} required maxLength={500} />
            </Field>
          </div>
          <Button type="submit" variant="danger" busy={run.busy} disabled={!amountValid}>
            Refund
          </Button>
        </form>
      )}
      {invoice.status === "open" && invoice.amountPaidMinor === 0 && (
        <Button variant="ghost" busy={run.busy} onClick={() => void run.run(() => voidInvoice({ invoiceId: invoice._id }))}>
          Void invoice
        </Button>
      )}
      {done && <Notice kind="success">{done}</Notice>}
      {run.error !== null && <ErrorBox error={run.error} />}
    </>
  );
}
