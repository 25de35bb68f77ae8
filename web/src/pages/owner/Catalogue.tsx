/** The catalogue: industries → categories → products (price, duration, quantity) and extras. */
import { useMutation, useQuery } from "convex/react";
import type { FunctionReturnType } from "convex/server";
import { useState } from "react";
import { api } from "../../../../convex/_generated/api";
import type { Id } from "../../../../convex/_generated/dataModel";
import { Badge, Button, Card, Empty, ErrorBox, Field, Loading, MoneyInput, PageHeader, useRun } from "../../components/ui";
import { minutes, money } from "../../lib/format";
import { useReadySession } from "../../lib/session";

type Manage = FunctionReturnType<typeof api.catalogue.manage>;
type Product = Manage["products"][number];
type Extra = Manage["extras"][number];

export function OwnerCatalogue() {
  const session = useReadySession();
  const businessId = session.current!.businessId!;
  const data = useQuery(api.catalogue.manage, { businessId });
  const business = useQuery(api.businesses.get, { businessId });
  if (data === undefined || business === undefined) return <Loading />;
  const currency = business?.currency ?? "USD";
  return (
    <div>
      <PageHeader title="Catalogue" subtitle="Prices and durations here drive every new cart and quote at once." />
      {data.industries.length === 0 && <Empty title="No services yet" />}
      {data.industries.map((industry) => (
        <Card key={industry._id} title={<>{industry.name} {!industry.active && <Badge tone="bad">inactive</Badge>}</>}>
          {data.categories
            .filter((c) => c.industryId === industry._id)
            .sort((a, b) => a.sortOrder - b.sortOrder)
            .map((category) => (
              <div key={category._id} className="category">
                <h3>{category.name}</h3>
                <div className="table-wrap">
                  <table className="data">
                    <thead>
                      <tr>
                        <th>Product</th>
                        <th>Price ({currency})</th>
                        <th>Duration (min)</th>
                        <th>Quantity</th>
                        <th>Status</th>
                        <th>
                    <span className="sr-only">Actions</span>
                  </th>
                      </tr>
                    </thead>
                    <tbody>
                      {data.products
                        .filter((p) => p.categoryId === category._id)
                        .sort((a, b) => a.sortOrder - b.sortOrder)
                        .map((p) => (
                          <ProductRow key={p._id} product={p} currency={currency} />
                        ))}
                    </tbody>
                  </table>
                </div>
                <NewProduct categoryId={category._id} currency={currency} />
              </div>
            ))}
          <h3>Extras</h3>
          <div className="table-wrap">
            <table className="data">
              <thead>
                <tr>
                  <th>Extra</th>
                  <th>Price ({currency})</th>
                  <th>Adds (min)</th>
                  <th>Pricing</th>
                  <th>Status</th>
                  <th>
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {data.extras
                  .filter((e) => e.industryId === industry._id)
                  .map((e) => (
                    <ExtraRow key={e._id} extra={e} currency={currency} />
                  ))}
              </tbody>
            </table>
          </div>
        </Card>
      ))}
    </div>
  );
}

function ProductRow({ product, currency }: { product: Product; currency: string }) {
  const update = useMutation(api.catalogue.updateProduct);
  const run = useRun();
  const [priceMinor, setPriceMinor] = useState<number | null>(product.priceMinor);
  const [duration, setDuration] = useState(String(product.durationMinutes));
  const dirty = priceMinor !== null && (priceMinor !== product.priceMinor || Number(duration) !== product.durationMinutes);
  return (
    <tr data-product={product.name}>
      <td>
        <strong>{product.name}</strong>
        <div className="muted small">
          now {money(product.priceMinor, currency)} · {minutes(product.durationMinutes)}
        </div>
        {run.error !== null && <ErrorBox error={run.error} compact />}
      </td>
      <td>
        <MoneyInput
          aria-label={`Price of ${product.name}`}
          currency={currency}
          initialMinor={product.priceMinor}
          onChange={(minor) => {
            run.clear();
            setPriceMinor(minor);
          }}
        />
      </td>
      <td>
        <input
          aria-label={`Duration of ${product.name}`}
          type="number"
          min={1}
          value={duration}
          onChange={(e) => {
            run.clear();
            setDuration(e.target.value);
          }}
          size={5}
        />
      </td>
      <td className="small">
        {product.quantity.min}–{product.quantity.max} {product.quantity.unitLabel ?? ""}
        {product.quantity.extraUnitPriceMinor > 0 ? `, +${money(product.quantity.extraUnitPriceMinor, currency)} each over ${product.quantity.included}` : ""}
      </td>
      <td>{product.active ? <Badge tone="good">on sale</Badge> : <Badge tone="bad">retired</Badge>}</td>
      <td>
        <div className="button-row">
          <Button
            className="btn-small"
            disabled={!dirty}
            busy={run.busy}
            aria-label={`Save ${product.name}`}
            onClick={() => void run.run(() => update({ productId: product._id, priceMinor: priceMinor!, durationMinutes: Number(duration) }))}
          >
            Save
          </Button>
          <Button variant="ghost" className="btn-small" busy={run.busy} onClick={() => void run.run(() => update({ productId: product._id, active: !product.active }))}>
            {product.active ? "Retire" : "Restore"}
          </Button>
        </div>
      </td>
    </tr>
  );
}

function ExtraRow({ extra, currency }: { extra: Extra; currency: string }) {
  const update = useMutation(api.catalogue.updateExtra);
  const run = useRun();
  const [priceMinor, setPriceMinor] = useState<number | null>(extra.priceMinor);
  const [duration, setDuration] = useState(String(extra.durationMinutes));
  const dirty = priceMinor !== null && (priceMinor !== extra.priceMinor || Number(duration) !== extra.durationMinutes);
  return (
    <tr>
      <td>
        {extra.name}
        {run.error !== null && <ErrorBox error={run.error} compact />}
      </td>
      <td>
        <MoneyInput
          aria-label={`Price of ${extra.name}`}
          currency={currency}
          initialMinor={extra.priceMinor}
          onChange={(minor) => {
            run.clear();
            setPriceMinor(minor);
          }}
        />
      </td>
      <td>
        <input
          aria-label={`Time added by ${extra.name}`}
          type="number"
          min={0}
          value={duration}
          onChange={(e) => {
            run.clear();
            setDuration(e.target.value);
          }}
          size={5}
        />
      </td>
      <td className="small">{extra.pricing === "flat" ? "once" : `per unit, up to ${extra.maxQuantity}`}</td>
      <td>{extra.active ? <Badge tone="good">offered</Badge> : <Badge tone="bad">off</Badge>}</td>
      <td>
        <div className="button-row">
          <Button className="btn-small" disabled={!dirty} busy={run.busy} onClick={() => void run.run(() => update({ extraId: extra._id, priceMinor: priceMinor!, durationMinutes: Number(duration) }))}>
            Save
          </Button>
          <Button variant="ghost" className="btn-small" busy={run.busy} onClick={() => void run.run(() => update({ extraId: extra._id, active: !extra.active }))}>
            {extra.active ? "Turn off" : "Turn on"}
          </Button>
        </div>
      </td>
    </tr>
  );
}

function NewProduct({ categoryId, currency }: { categoryId: Id<"categories">; currency: string }) {
  const create = useMutation(api.catalogue.createProduct);
  const run = useRun();
  const [open, setOpen] = useState(false);
  const [name, setName] = useState("");
  const [priceMinor, setPriceMinor] = useState<number | null>(null);
  const [duration, setDuration] = useState("60");
  if (!open) {
    return (
      <Button variant="ghost" className="btn-small" onClick={() => setOpen(true)}>
        + Add a product
      </Button>
    );
  }
  return (
    <form
      className="inline-form panel"
      onSubmit={(e) => {
        e.preventDefault();
        void run.run(async () => {
          await create({
            categoryId,
            name,
            priceMinor: priceMinor!,
            durationMinutes: Number(duration),
            quantity: { min: 1, max: 1, step: 1, included: 1, extraUnitPriceMinor: 0, extraUnitDurationMinutes: 0 },
          });
          setOpen(false);
          setName("");
          setPriceMinor(null);
        });
      }}
    >
      <Field label="Name">
        <input value={name} onChange={(e) => setName(e.target.value)} required />
      </Field>
      <Field label="Price">
        <MoneyInput
          currency={currency}
          initialMinor={null}
          onChange={(minor) => {
            run.clear();
            setPriceMinor(minor);
          }}
        />
      </Field>
      <Field label="Minutes">
        <input type="number" min={1} value={duration} onChange={(e) => setDuration(e.target.value)} required size={5} />
      </Field>
      <Button type="submit" busy={run.busy} disabled={priceMinor === null || name.trim() === ""}>
        Add
      </Button>
      <Button variant="ghost" onClick={() => setOpen(false)}>
        Cancel
      </Button>
      {run.error !== null && <ErrorBox error={run.error} />}
    </form>
  );
}
