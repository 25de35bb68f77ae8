/** For someone signed in with no role yet: open a business's booking page by its address. */
import { useMutation, useQuery } from "convex/react";
import { useState } from "react";
import { api } from "../../../../convex/_generated/api";
import { Button, Card, ErrorBox, Field, Loading, Notice, PageHeader, useRun } from "../../components/ui";
import { viewerTimeZone } from "../../lib/format";
import { Link, navigate } from "../../lib/router";
import { useReadySession } from "../../lib/session";

export function Welcome() {
  const session = useReadySession();
  const [slug, setSlug] = useState("");
  const [asked, setAsked] = useState<string | null>(null);
  return (
    <div className="narrow">
      <PageHeader title={`Welcome, ${session.me.user.name}`} subtitle="Book a service from a business you know." />
      {session.contexts.length > 0 && (
        <Notice>
          You already have a role here: <Link href="/">go to your start page</Link>.
        </Notice>
      )}
      <Card title="Find a business">
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            if (slug.trim()) setAsked(slug.trim().toLowerCase());
          }}
        >
          <Field label="Business address (its short name)" hint="The part after /b/ in the link the business gave you">
            <input value={slug} onChange={(e) => setSlug(e.target.value)} placeholder="e.g. sparkle-cleaning" />
          </Field>
          <button className="btn btn-primary" type="submit">
            Open
          </button>
        </form>
        {asked && <SlugResult slug={asked} />}
      </Card>
      {!session.contexts.some((c) => c.role === "owner") && <StartBusiness />}
    </div>
  );
}

const TYPES = ["home_services", "salon", "clinic", "coworking", "hotel", "other"] as const;

/** A new owner registers their business; it starts PENDING until a platform admin verifies it. */
function StartBusiness() {
  const create = useMutation(api.businesses.create);
  const session = useReadySession();
  const run = useRun();
  const [name, setName] = useState("");
  const [type, setType] = useState<(typeof TYPES)[number]>("home_services");
  const [timeZone, setTimeZone] = useState(viewerTimeZone);
  const [currency, setCurrency] = useState("USD");
  return (
    <Card title="Run a service business?">
      <p className="muted">Register it here. A platform admin verifies new businesses before customers can book.</p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void run.run(async () => {
            const businessId = await create({ name, type, timeZone, currency });
            session.choose(`owner:${businessId}`);
            navigate("/owner/settings");
          });
        }}
      >
        <div className="form-grid">
          <Field label="Business name">
            <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={120} />
          </Field>
          <Field label="Type">
            <select value={type} onChange={(e) => setType(e.target.value as (typeof TYPES)[number])}>
              {TYPES.map((t) => (
                <option key={t} value={t}>
                  {t.replace("_", " ")}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Time zone">
            <input value={timeZone} onChange={(e) => setTimeZone(e.target.value)} required />
          </Field>
          <Field label="Currency">
            <input value={currency} maxLength={3} onChange={(e) => setCurrency(e.target.value.toUpperCase())} required />
          </Field>
        </div>
        {run.error !== null && <ErrorBox error={run.error} />}
        <Button type="submit" busy={run.busy}>
          Register my business
        </Button>
      </form>
    </Card>
  );
}

function SlugResult({ slug }: { slug: string }) {
  const business = useQuery(api.businesses.getBySlug, { slug });
  if (business === undefined) return <Loading />;
  if (business === null) return <Notice kind="warning">No business is taking bookings at “{slug}”.</Notice>;
  return (
    <p>
      <button className="btn btn-secondary" onClick={() => navigate(`/book/${business._id}`)}>
        Book with {business.name}
      </button>
    </p>
  );
}
