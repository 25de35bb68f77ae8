/**
 * Service zones: postal codes, a boundary drawn as an SVG polygon (click to add points, drag a
 * point to move it, right-click or the list to remove), pricing rules (trip charge, multiplier,
 * minimum) and tax. Managers and owners.
 */
import { useMutation, useQuery } from "convex/react";
import type { FunctionReturnType } from "convex/server";
import { useMemo, useRef, useState, type MouseEvent, type PointerEvent } from "react";
import { api } from "../../../../convex/_generated/api";
import type { Id } from "../../../../convex/_generated/dataModel";
import { Badge, Button, Card, Empty, ErrorBoundary, ErrorBox, Field, Loading, MoneyInput, Notice, PageHeader, useRun } from "../../components/ui";
import { latitudeText, latLngText, longitudeText, money } from "../../lib/format";
import { useReadySession } from "../../lib/session";
import { ZoneFrequencyDiscounts } from "./Recurring";

type Zone = FunctionReturnType<typeof api.zones.list>[number];
type LatLng = { lat: number; lng: number };
type Box = { minLat: number; maxLat: number; minLng: number; maxLng: number };

export function OwnerZones() {
  const session = useReadySession();
  const businessId = session.current!.businessId!;
  const zones = useQuery(api.zones.list, { businessId });
  const business = useQuery(api.businesses.get, { businessId });
  const [selected, setSelected] = useState<Id<"zones"> | "new" | null>(null);
  if (zones === undefined || business === undefined) return <Loading />;
  const currency = business?.currency ?? "USD";
  const all = zones.flatMap((z) => z.boundaries.flatMap((b) => b.outer));
  return (
    <div>
      <PageHeader title="Service zones" subtitle="Where you work, what you charge there, and which tax applies." actions={<Button onClick={() => setSelected("new")}>New zone</Button>} />
      <div className="grid-2">
        <Card title="Zones">
          {zones.length === 0 ? (
            <Empty title="No zones yet">Customers can only book in a zone.</Empty>
          ) : (
            <div className="table-wrap">
              <table className="data">
                <thead>
                  <tr>
                    <th>Name</th>
                    <th>Trip charge</th>
                    <th>Price ×</th>
                    <th>Minimum</th>
                    <th>Tax</th>
                    <th>
                    <span className="sr-only">Actions</span>
                  </th>
                  </tr>
                </thead>
                <tbody>
                  {zones.map((z) => (
                    <tr key={z._id} aria-selected={selected === z._id}>
                      <td>
                        <strong>{z.name}</strong> {!z.active && <Badge tone="bad">inactive</Badge>}
                        <div className="muted small">{z.boundaries.length ? `${z.boundaries[0].outer.length}-point boundary` : "postal codes only"}</div>
                      </td>
                      <td>{money(z.pricing.tripChargeMinor, currency)}</td>
                      <td>{(z.pricing.priceMultiplierBp / 10_000).toFixed(2)}</td>
                      <td>{money(z.pricing.minimumMinor, currency)}</td>
                      <td>
                        {(z.taxRateBp / 100).toFixed(2)}%{z.taxInclusive ? " incl." : ""}
                      </td>
                      <td>
                        <Button variant="secondary" className="btn-small" onClick={() => setSelected(z._id)}>
                          Edit
                        </Button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </Card>
        {selected === "new" && <ZoneForm key="new" businessId={businessId} currency={currency} allPoints={all} onDone={() => setSelected(null)} />}
        {selected !== null && selected !== "new" && (
          <ErrorBoundary resetKey={selected}>
            <ZoneEditor key={selected} zoneId={selected} currency={currency} allPoints={all} onDone={() => setSelected(null)} />
          </ErrorBoundary>
        )}
      </div>
    </div>
  );
}

function ZoneEditor({ zoneId, currency, allPoints, onDone }: { zoneId: Id<"zones">; currency: string; allPoints: LatLng[]; onDone: () => void }) {
  const data = useQuery(api.zones.get, { zoneId });
  if (data === undefined) return <Loading />;
  return (
    <div>
      <ZoneForm businessId={data.zone.businessId} zone={data.zone} postalCodes={data.postalCodes} currency={currency} allPoints={allPoints} onDone={onDone} />
      <Card>
        <ZoneFrequencyDiscounts key={JSON.stringify(data.zone.frequencyDiscounts ?? null)} zoneId={data.zone._id} current={data.zone.frequencyDiscounts} />
      </Card>
    </div>
  );
}

function ZoneForm({
  businessId,
  zone,
  postalCodes,
  currency,
  allPoints,
  onDone,
}: {
  businessId: Id<"businesses">;
  zone?: Zone;
  postalCodes?: string[];
  currency: string;
  allPoints: LatLng[];
  onDone: () => void;
}) {
  const create = useMutation(api.zones.create);
  const update = useMutation(api.zones.update);
  const setActive = useMutation(api.zones.setActive);
  const run = useRun();
  const [saved, setSaved] = useState(false);
  const [name, setName] = useState(zone?.name ?? "");
  const [codes, setCodes] = useState((postalCodes ?? []).join(", "));
  const [points, setPoints] = useState<LatLng[]>(zone?.boundaries[0]?.outer ?? []);
  const [trip, setTrip] = useState<number | null>(zone?.pricing.tripChargeMinor ?? 0);
  const [mult, setMult] = useState((zone?.pricing.priceMultiplierBp ?? 10_000) / 10_000);
  const [minimum, setMinimum] = useState<number | null>(zone?.pricing.minimumMinor ?? 0);
  const [tax, setTax] = useState((zone?.taxRateBp ?? 0) / 100);
  const [taxInclusive, setTaxInclusive] = useState(zone?.taxInclusive ?? false);

  function save() {
    setSaved(false);
    const postal = codes.split(/[\s,;]+/).map((c) => c.trim()).filter(Boolean);
    const boundaries = points.length >= 3 ? [{ outer: points, ...(zone?.boundaries[0]?.holes ? { holes: zone.boundaries[0].holes } : {}) }] : [];
    if (trip === null || minimum === null) return;
    const pricing = { tripChargeMinor: trip, priceMultiplierBp: Math.round(mult * 10_000), minimumMinor: minimum };
    void run.run(async () => {
      if (zone) {
        await update({ zoneId: zone._id, name, postalCodes: postal, boundaries: [...boundaries, ...(zone.boundaries.slice(1))], pricing, taxRateBp: Math.round(tax * 100), taxInclusive });
        setSaved(true);
      } else {
        await create({ businessId, name, postalCodes: postal, boundaries, pricing, taxRateBp: Math.round(tax * 100), taxInclusive });
        onDone();
      }
    });
  }

  return (
    <Card title={zone ? `Edit ${zone.name}` : "New zone"} actions={<Button variant="ghost" className="btn-small" onClick={onDone}>Close</Button>}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          save();
        }}
      >
        <Field label="Name">
          <input value={name} onChange={(e) => setName(e.target.value)} required />
        </Field>
        <Field label="Postal codes" hint='Full codes, area codes ("SW1A") or prefixes ("100*"), separated by commas'>
          <textarea rows={3} value={codes} onChange={(e) => setCodes(e.target.value)} />
        </Field>
        <PolygonEditor points={points} onChange={setPoints} context={allPoints} />
        <h3>Pricing in this zone</h3>
        <div className="form-grid">
          <Field label="Trip charge">
            <MoneyInput currency={currency} initialMinor={trip} onChange={(minor) => (run.clear(), setTrip(minor))} />
          </Field>
          <Field label="Price multiplier" hint="1.00 = catalogue prices">
            <input type="number" min={0.01} step={0.01} value={mult} onChange={(e) => setMult(Number(e.target.value))} />
          </Field>
          <Field label="Minimum order">
            <MoneyInput currency={currency} initialMinor={minimum} onChange={(minor) => (run.clear(), setMinimum(minor))} />
          </Field>
          <Field label="Tax rate (%)">
            <input type="number" min={0} max={100} step={0.01} value={tax} onChange={(e) => setTax(Number(e.target.value))} />
          </Field>
        </div>
        <label className="checkbox">
          <input type="checkbox" checked={taxInclusive} onChange={(e) => setTaxInclusive(e.target.checked)} /> Prices include tax
        </label>
        {run.error !== null && <ErrorBox error={run.error} />}
        {saved && <Notice kind="success">Zone saved.</Notice>}
        <div className="button-row" style={{ marginTop: "0.75rem" }}>
          <Button type="submit" busy={run.busy} disabled={trip === null || minimum === null}>
            {zone ? "Save zone" : "Create zone"}
          </Button>
          {zone && (
            <Button variant={zone.active ? "danger" : "secondary"} busy={run.busy} onClick={() => void run.run(() => setActive({ zoneId: zone._id, active: !zone.active }))}>
              {zone.active ? "Take out of service" : "Put back in service"}
            </Button>
          )}
        </div>
      </form>
    </Card>
  );
}

const SIZE = 400;

function boxOf(points: LatLng[]): Box {
  if (points.length === 0) return { minLat: 40.55, maxLat: 40.9, minLng: -74.1, maxLng: -73.75 };
  let box = { minLat: Infinity, maxLat: -Infinity, minLng: Infinity, maxLng: -Infinity };
  for (const p of points) box = { minLat: Math.min(box.minLat, p.lat), maxLat: Math.max(box.maxLat, p.lat), minLng: Math.min(box.minLng, p.lng), maxLng: Math.max(box.maxLng, p.lng) };
  const span = Math.max(box.maxLat - box.minLat, box.maxLng - box.minLng, 0.02) * 0.65;
  const cLat = (box.minLat + box.maxLat) / 2;
  const cLng = (box.minLng + box.maxLng) / 2;
  return { minLat: cLat - span, maxLat: cLat + span, minLng: cLng - span, maxLng: cLng + span };
}

/** Click to add a point, drag to move one, right-click a point (or use the list) to remove it. */
export function PolygonEditor({ points, onChange, context }: { points: LatLng[]; onChange: (p: LatLng[]) => void; context: LatLng[] }) {
  const box = useMemo(() => boxOf(points.length >= 2 ? points : context), [points.length >= 2 ? "own" : "ctx"]);
  const svg = useRef<SVGSVGElement>(null);
  const [drag, setDrag] = useState<number | null>(null);
  const toXY = (p: LatLng) => ({ x: ((p.lng - box.minLng) / (box.maxLng - box.minLng)) * SIZE, y: ((box.maxLat - p.lat) / (box.maxLat - box.minLat)) * SIZE });
  const fromEvent = (e: { clientX: number; clientY: number }): LatLng => {
    const rect = svg.current!.getBoundingClientRect();
    const x = ((e.clientX - rect.left) / rect.width) * SIZE;
    const y = ((e.clientY - rect.top) / rect.height) * SIZE;
    const round = (n: number) => Math.round(n * 1e5) / 1e5;
    return { lng: round(box.minLng + (x / SIZE) * (box.maxLng - box.minLng)), lat: round(box.maxLat - (y / SIZE) * (box.maxLat - box.minLat)) };
  };
  const xy = points.map(toXY);
  return (
    <div className="field">
      <span className="field-label">Boundary</span>
      <svg
        ref={svg}
        className="polygon-editor"
        viewBox={`0 0 ${SIZE} ${SIZE}`}
        role="img"
        aria-label={`Zone boundary with ${points.length} points. Click to add a point.`}
        data-testid="polygon-editor"
        onClick={(e: MouseEvent<SVGSVGElement>) => {
          if (drag !== null) return;
          onChange([...points, fromEvent(e)]);
        }}
        onPointerMove={(e: PointerEvent<SVGSVGElement>) => {
          if (drag === null) return;
          const next = [...points];
          next[drag] = fromEvent(e);
          onChange(next);
        }}
        onPointerUp={() => setTimeout(() => setDrag(null), 0)}
      >
        {Array.from({ length: 9 }, (_, i) => (
          <g key={i} stroke="#c9d8c5" strokeWidth={1}>
            <line x1={(i * SIZE) / 8} y1={0} x2={(i * SIZE) / 8} y2={SIZE} />
            <line x1={0} y1={(i * SIZE) / 8} x2={SIZE} y2={(i * SIZE) / 8} />
          </g>
        ))}
        {context.length > 0 &&
          context.map((p, i) => {
            const c = toXY(p);
            return <circle key={`c${i}`} cx={c.x} cy={c.y} r={2} fill="#98a4b3" />;
          })}
        {xy.length >= 2 && <polygon points={xy.map((p) => `${p.x},${p.y}`).join(" ")} fill="rgba(15,76,129,0.22)" stroke="#0f4c81" strokeWidth={2} />}
        {xy.map((p, i) => (
          <circle
            key={i}
            cx={p.x}
            cy={p.y}
            r={7}
            fill="#fff"
            stroke="#0f4c81"
            strokeWidth={3}
            style={{ cursor: "move" }}
            onPointerDown={(e) => {
              e.stopPropagation();
              (e.target as Element).setPointerCapture?.(e.pointerId);
              setDrag(i);
            }}
            onClick={(e) => e.stopPropagation()}
            onContextMenu={(e) => {
              e.preventDefault();
              onChange(points.filter((_, j) => j !== i));
            }}
          >
            <title>
              Point {i + 1}: {latLngText(points[i].lat, points[i].lng, 5)}
            </title>
          </circle>
        ))}
      </svg>
      <span className="field-hint">
        {points.length} point{points.length === 1 ? "" : "s"}
        {points.length > 0 && points.length < 3 ? " — a boundary needs at least 3" : ""}. Area {latitudeText(box.minLat)} to {latitudeText(box.maxLat)}, {longitudeText(box.minLng)} to {longitudeText(box.maxLng)}.
      </span>
      {points.length > 0 && (
        <div className="button-row">
          <Button variant="ghost" className="btn-small" onClick={() => onChange(points.slice(0, -1))}>
            Remove last point
          </Button>
          <Button variant="ghost" className="btn-small" onClick={() => onChange([])}>
            Clear boundary
          </Button>
        </div>
      )}
    </div>
  );
}
