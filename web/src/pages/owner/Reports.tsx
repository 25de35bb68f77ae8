/**
 * Revenue (collected on invoices, by local day, and outstanding; from the server's invoice
 * aggregates) and utilisation (booked time / working time per
 * provider over the week, from the dispatch board) as inline SVG charts. Live.
 */
import { useQueries, useQuery } from "convex/react";
import type { FunctionReturnType } from "convex/server";
import { useMemo } from "react";
import { api } from "../../../../convex/_generated/api";
import type { Id } from "../../../../convex/_generated/dataModel";
import { localToInstant } from "../../../../domain/time";
import { Card, Empty, Loading, PageHeader } from "../../components/ui";
import { addDays, localDateLabel, money, todayIn } from "../../lib/format";
import { useReadySession } from "../../lib/session";
import { RecurringReport } from "./Recurring";

type Board = FunctionReturnType<typeof api.dispatch.board>;
const DAYS = 14;

export function OwnerReports() {
  const session = useReadySession();
  const businessId = session.current!.businessId!;
  const business = useQuery(api.businesses.get, { businessId });
  const reviews = useQuery(api.reviews.summary, { businessId });
  if (business === undefined) return <Loading />;
  if (business === null) return <Empty title="Business not found" />;
  return (
    <div>
      <PageHeader title="Reports" subtitle={`${business.name} · ${business.timeZone}`} />
      <div className="kpis">
        <div className="kpi">
          <div className="muted small">Average rating</div>
          <div className="kpi-value">{reviews?.averageRating != null ? `${reviews.averageRating.toFixed(2)} ★` : "—"}</div>
          <div className="muted small">{reviews?.count ?? 0} reviews</div>
        </div>
      </div>
      <div className="grid-2">
        <Revenue businessId={businessId} tz={business.timeZone} currency={business.currency} />
        <Utilisation businessId={businessId} tz={business.timeZone} />
      </div>
      <RecurringReport businessId={businessId} tz={business.timeZone} currency={business.currency} />
    </div>
  );
}

function Revenue({ businessId, tz, currency }: { businessId: Id<"businesses">; tz: string; currency: string }) {
  const today = todayIn(Date.now(), tz);
  // Totals come from the server's invoice aggregates: no invoice is loaded here.
  const report = useQuery(api.reports.revenue, { businessId, lastDay: today, days: DAYS });
  if (report === undefined) return <Card title="Revenue">{<Loading />}</Card>;
  const values = report.days.map((d) => d.collectedMinor);
  const total = values.reduce((a, b) => a + b, 0);
  return (
    <Card title="Revenue, last 14 days">
      <p>
        <strong className="kpi-value">{money(total, currency)}</strong>{" "}
        <span className="muted">collected · {money(report.outstandingMinor, currency)} outstanding</span>
      </p>
      <BarChart labels={report.days.map((d) => localDateLabel(d.date))} values={values} format={(v) => money(v, currency)} color="#0f4c81" />
    </Card>
  );
}

function Utilisation({ businessId, tz }: { businessId: Id<"businesses">; tz: string }) {
  const today = todayIn(Date.now(), tz);
  const days = useMemo(() => Array.from({ length: 7 }, (_, i) => addDays(today, i)), [today]);
  // useQueries wants a stable object: a new one on every render would resubscribe forever.
  const queries = useMemo(() => Object.fromEntries(days.map((d) => [d, { query: api.dispatch.board, args: { businessId, date: d } }])), [days, businessId]);
  const boards = useQueries(queries) as Record<string, Board | undefined | Error>;
  const loaded = days.map((d) => boards[d]).filter((b): b is Board => b !== undefined && !(b instanceof Error));
  if (loaded.length < days.length) return <Card title="Utilisation">{<Loading />}</Card>;
  const byProvider = new Map<string, { name: string; busy: number; open: number; color?: string }>();
  for (const board of loaded) {
    for (const p of board.providers) {
      const entry = byProvider.get(p.resourceId) ?? { name: p.name, busy: 0, open: 0, color: p.color };
      for (const h of p.hours) {
        const start = localToInstant(board.date, h.start, tz);
        let end = localToInstant(board.date, h.end, tz);
        if (end <= start) end = localToInstant(addDays(board.date, 1), h.end, tz);
        entry.open += end - start;
      }
      for (const j of p.jobs) entry.busy += (j.busyEnd ?? j.end) - (j.busyStart ?? j.start);
      byProvider.set(p.resourceId, entry);
    }
  }
  const rows = [...byProvider.values()];
  if (rows.length === 0) return <Card title="Utilisation">{<Empty title="No providers" />}</Card>;
  return (
    <Card title="Utilisation, next 7 days">
      <HBarChart rows={rows.map((r) => ({ label: r.name, value: r.open > 0 ? Math.min(1, r.busy / r.open) : 0, color: r.color }))} />
      <p className="muted small">Booked time (with buffers) over working hours.</p>
    </Card>
  );
}

export function BarChart({ labels, values, format, color }: { labels: string[]; values: number[]; format: (v: number) => string; color: string }) {
  const W = 560;
  const H = 220;
  const pad = { l: 8, r: 8, t: 16, b: 38 };
  const max = Math.max(1, ...values);
  const bw = (W - pad.l - pad.r) / values.length;
  return (
    <svg className="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`Bar chart: ${labels.map((l, i) => `${l} ${format(values[i])}`).join("; ")}`}>
      <line x1={pad.l} x2={W - pad.r} y1={H - pad.b} y2={H - pad.b} stroke="#98a4b3" />
      {values.map((v, i) => {
        const h = ((H - pad.t - pad.b) * v) / max;
        const x = pad.l + i * bw + bw * 0.15;
        return (
          <g key={i}>
            <rect x={x} y={H - pad.b - h} width={bw * 0.7} height={h} fill={color} rx={2}>
              <title>
                {labels[i]}: {format(v)}
              </title>
            </rect>
            {i % 2 === 0 && (
              <text x={x + bw * 0.35} y={H - pad.b + 14} textAnchor="middle">
                {labels[i].split(" ").slice(1).join(" ")}
              </text>
            )}
          </g>
        );
      })}
      <text x={pad.l} y={pad.t - 4}>
        max {format(max)}
      </text>
    </svg>
  );
}

export function HBarChart({ rows }: { rows: { label: string; value: number; color?: string }[] }) {
  const W = 560;
  const rowH = 26;
  const labelW = 130;
  const H = rows.length * rowH + 10;
  return (
    <svg className="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={rows.map((r) => `${r.label} ${Math.round(r.value * 100)}%`).join("; ")}>
      {rows.map((r, i) => {
        const y = 5 + i * rowH;
        const w = (W - labelW - 50) * r.value;
        return (
          <g key={r.label}>
            <text x={0} y={y + 16}>
              {r.label}
            </text>
            <rect x={labelW} y={y + 4} width={W - labelW - 50} height={rowH - 10} fill="#eef2f7" rx={3} />
            <rect x={labelW} y={y + 4} width={w} height={rowH - 10} fill={r.color ?? "#0f4c81"} rx={3} />
            <text x={labelW + (W - labelW - 50) + 6} y={y + 16}>
              {Math.round(r.value * 100)}%
            </text>
          </g>
        );
      })}
    </svg>
  );
}
