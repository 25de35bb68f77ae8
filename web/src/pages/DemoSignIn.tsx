/**
 * The demo accounts: DEVELOPMENT ONLY. Loaded by the sign-in page only when
 * `import.meta.env.DEV` (the Vite dev server of `npm start`), so a production `vite build`
 * contains none of this. Tokens come from the dev server's /local-auth plugin
 * (web/dev/localAuth.ts). Picking an account stores it and reloads the page, which then runs
 * on the demo sign-in instead of accounts (main.tsx).
 */
import { useEffect, useState } from "react";
import { clearDemoSession, hasDemoSession, saveDemoSession } from "../lib/auth";
import { ROLE_LABELS, type Role } from "../lib/session";
import { ErrorBox, Loading } from "../components/ui";

type Account = { subject: string; role: string; name: string; email?: string; description?: string };

const ROLE_HELP: Record<string, string> = {
  customer: "Find a service, book a live slot, pay, reschedule or cancel.",
  staff: "Today's jobs: one tap for en route, start and finish.",
  manager: "The live dispatch board: assign and reassign jobs.",
  owner: "Zones, pricing, catalogue, staff, invoices, API keys, reports.",
  platform_admin: "Verify, suspend and reactivate businesses.",
};

const ORDER = ["customer", "staff", "manager", "owner", "platform_admin"];

function go(next: string) {
  window.location.assign(next);
}

export default function DemoAccounts({ next }: { next: string }) {
  const [accounts, setAccounts] = useState<Account[] | null>(null);
  const [source, setSource] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [guestName, setGuestName] = useState("");
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let cancelled = false;
    setError(null);
    fetch("/local-auth/accounts")
      .then(async (response) => {
        const body = (await response.json().catch(() => null)) as { accounts?: Account[]; source?: string; message?: string } | null;
        if (!response.ok || !body?.accounts) throw new Error(body?.message ?? `The local sign-in answered HTTP ${response.status}.`);
        if (!cancelled) {
          setAccounts(body.accounts);
          setSource(body.source ?? "");
        }
      })
      .catch((e: unknown) => !cancelled && setError(e));
    return () => {
      cancelled = true;
    };
  }, [attempt]);

  function pick(subject: string, name?: string) {
    saveDemoSession(subject, name);
    go(next);
  }

  const grouped = ORDER.map((role) => ({ role, list: (accounts ?? []).filter((a) => a.role === role) })).filter((g) => g.list.length > 0);
  const others = (accounts ?? []).filter((a) => !ORDER.includes(a.role));

  return (
    <section className="signin-demo" aria-labelledby="demo-heading" data-testid="demo-accounts">
      <h2 id="demo-heading">Demo accounts (development only)</h2>
      <p className="alert alert-warning" role="note">
        This machine runs the development server: pick a demo account to try a role. No password needed; tokens are
        signed by the dev server with the local key. A production build has no demo accounts.
      </p>
      {hasDemoSession() && (
        <p>
          <button
            className="btn btn-small btn-secondary"
            onClick={() => {
              clearDemoSession();
              go("/sign-in");
            }}
          >
            Leave the demo account and use a real one
          </button>
        </p>
      )}
      {error !== null && <ErrorBox error={error} onRetry={() => setAttempt((n) => n + 1)} />}
      {accounts === null && error === null && <Loading label="Loading demo accounts…" />}
      {grouped.map((group) => (
        <section key={group.role} className="signin-group">
          <h3>{ROLE_LABELS[group.role as Role] ?? group.role}</h3>
          <p className="muted small">{ROLE_HELP[group.role]}</p>
          <div className="signin-accounts">
            {group.list.map((account) => (
              <button key={account.subject} className="account-button" data-subject={account.subject} onClick={() => pick(account.subject)}>
                <strong>{account.name}</strong>
                <span className="muted small">{account.email ?? account.subject}</span>
              </button>
            ))}
          </div>
        </section>
      ))}
      {others.length > 0 && (
        <section className="signin-group">
          <h3>Other</h3>
          <div className="signin-accounts">
            {others.map((account) => (
              <button key={account.subject} className="account-button" data-subject={account.subject} onClick={() => pick(account.subject)}>
                <strong>{account.name}</strong>
                <span className="muted small">{account.role}</span>
              </button>
            ))}
          </div>
        </section>
      )}
      <section className="signin-group">
        <h3>New demo customer</h3>
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            const slug = guestName.trim().toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 40) || "guest";
            pick(`guest-${slug}-${Math.random().toString(36).slice(2, 8)}`, guestName.trim() || undefined);
          }}
        >
          <label className="field grow">
            <span className="field-label">Your name (optional)</span>
            <input value={guestName} onChange={(e) => setGuestName(e.target.value)} placeholder="Alex Example" />
          </label>
          <button className="btn btn-secondary" type="submit">
            Continue as a new customer
          </button>
        </form>
      </section>
      {source && <p className="muted small">Accounts from {source}.</p>}
    </section>
  );
}
