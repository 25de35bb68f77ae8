/**
 * Sign-in. With Clerk: Clerk's widget. Offline: the demo accounts from the local sign-in
 * (customer, provider, dispatcher, owner, platform admin), or a brand-new customer.
 */
import { useEffect, useState } from "react";
import { useLocalAuth } from "../lib/auth";
import { ClerkSignIn } from "../lib/clerk";
import { usesClerk } from "../lib/config";
import { navigate, useQueryParams } from "../lib/router";
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

export function SignInPage() {
  if (usesClerk) return <ClerkSignIn />;
  return <LocalSignIn />;
}

function LocalSignIn() {
  const auth = useLocalAuth();
  const params = useQueryParams();
  const next = params.get("next");
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

  function signIn(subject: string, name?: string) {
    auth.signIn(subject, name);
    navigate(next && next.startsWith("/") && !next.startsWith("//") ? next : "/", { replace: true });
  }

  const grouped = ORDER.map((role) => ({ role, list: (accounts ?? []).filter((a) => a.role === role) })).filter((g) => g.list.length > 0);
  const others = (accounts ?? []).filter((a) => !ORDER.includes(a.role));

  return (
    <main className="signin">
      <div className="signin-card">
        <h1>Sign in</h1>
        <p className="muted">
          Local sign-in for this machine: pick a demo account. Tokens are signed by the dev server with the local key; no
          password needed.
        </p>
        {auth.session && (
          <p className="alert alert-info">
            Signed in as <strong>{auth.session.subject}</strong>.{" "}
            <button className="btn btn-small btn-secondary" onClick={() => navigate("/")}>
              Continue
            </button>
          </p>
        )}
        {error !== null && <ErrorBox error={error} onRetry={() => setAttempt((n) => n + 1)} />}
        {accounts === null && error === null && <Loading label="Loading demo accounts…" />}
        {grouped.map((group) => (
          <section key={group.role} className="signin-group">
            <h2>{ROLE_LABELS[group.role as Role] ?? group.role}</h2>
            <p className="muted small">{ROLE_HELP[group.role]}</p>
            <div className="signin-accounts">
              {group.list.map((account) => (
                <button
                  key={account.subject}
                  className="account-button"
                  data-subject={account.subject}
                  onClick={() => signIn(account.subject)}
                >
                  <strong>{account.name}</strong>
                  <span className="muted small">{account.email ?? account.subject}</span>
                </button>
              ))}
            </div>
          </section>
        ))}
        {others.length > 0 && (
          <section className="signin-group">
            <h2>Other</h2>
            <div className="signin-accounts">
              {others.map((account) => (
                <button key={account.subject} className="account-button" data-subject={account.subject} onClick={() => signIn(account.subject)}>
                  <strong>{account.name}</strong>
                  <span className="muted small">{account.role}</span>
                </button>
              ))}
            </div>
          </section>
        )}
        <section className="signin-group">
          <h2>New customer</h2>
          <form
            className="inline-form"
            onSubmit={(e) => {
              e.preventDefault();
              const slug = guestName.trim().toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 40) || "guest";
              signIn(`guest-${slug}-${Math.random().toString(36).slice(2, 8)}`, guestName.trim() || undefined);
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
      </div>
    </main>
  );
}
