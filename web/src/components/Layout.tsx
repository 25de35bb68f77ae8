/** The page frame: brand, role switcher, role-aware navigation, sign-out; a skip link for keyboards. */
import { useAction, useQuery } from "convex/react";
import { useState, type ReactNode } from "react";
import { api } from "../../../convex/_generated/api";
import type { Id } from "../../../convex/_generated/dataModel";
import { useAuthBridge } from "../lib/auth";
import { AssistantPanel } from "./AssistantPanel";
import { ConnectionBanner } from "./ui";
import { Link, navigate } from "../lib/router";
import { ROLE_LABELS, useSession, type Role, type ViewerContext } from "../lib/session";

type NavItem = { href: string; label: string };

export function navFor(context: ViewerContext | null): NavItem[] {
  if (!context) return [{ href: "/welcome", label: "Find a service" }];
  const book = context.businessId ? [{ href: `/book/${context.businessId}`, label: "Book" }] : [];
  switch (context.role) {
    case "customer":
      return [...book, { href: "/bookings", label: "My bookings" }, { href: "/messages", label: "Messages" }];
    case "staff":
      return [{ href: "/today", label: "Today" }, { href: "/inbox", label: "Inbox" }];
    case "manager":
      return [
        { href: "/dispatch", label: "Dispatch" },
        { href: "/inbox", label: "Inbox" },
        { href: "/today", label: "My jobs" },
        { href: "/owner/customers", label: "Customers" },
        { href: "/owner/catalogue", label: "Catalogue" },
        { href: "/owner/zones", label: "Zones" },
        { href: "/owner/staff", label: "Staff" },
        { href: "/owner/finance", label: "Invoices" },
        { href: "/owner/notifications", label: "Notifications" },
      ];
    case "owner":
      return [
        { href: "/dispatch", label: "Dispatch" },
        { href: "/inbox", label: "Inbox" },
        { href: "/owner/reports", label: "Reports" },
        { href: "/owner/customers", label: "Customers" },
        { href: "/owner/catalogue", label: "Catalogue" },
        { href: "/owner/zones", label: "Zones" },
        { href: "/owner/staff", label: "Staff" },
        { href: "/owner/finance", label: "Invoices & refunds" },
        { href: "/owner/notifications", label: "Notifications" },
        { href: "/owner/developers", label: "API & webhooks" },
        { href: "/owner/settings", label: "Settings" },
      ];
    case "platform_admin":
      return [{ href: "/admin/businesses", label: "Businesses" }];
  }
}

function BusinessLabel({ businessId }: { businessId: Id<"businesses"> }) {
  const business = useQuery(api.businesses.get, { businessId });
  return <>{business?.name ?? "…"}</>;
}

function contextLabel(c: ViewerContext): ReactNode {
  return (
    <>
      {ROLE_LABELS[c.role as Role]}
      {c.businessId && (
        <>
          {" · "}
          <BusinessLabel businessId={c.businessId} />
        </>
      )}
    </>
  );
}

export function Layout({ children }: { children: ReactNode }) {
  const session = useSession();
  const bridge = useAuthBridge();
  const signOutEverywhere = useAction(api.accounts.signOutEverywhere);
  const [menuOpen, setMenuOpen] = useState(false);
  const ready = session.status === "ready" ? session : null;
  const items = ready ? navFor(ready.current) : [];

  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link href="/" className="brand">
          <span className="brand-mark" aria-hidden="true">
            ✓
          </span>
          <span>
            {ready?.current?.businessId ? <BusinessLabel businessId={ready.current.businessId} /> : "Booking portal"}
          </span>
        </Link>
        {ready && (
          <button
            type="button"
            className="menu-toggle btn btn-ghost"
            aria-expanded={menuOpen}
            aria-controls="main-nav"
            onClick={() => setMenuOpen((o) => !o)}
          >
            Menu
          </button>
        )}
        <div className="topbar-right">
          {ready && ready.contexts.length > 1 && (
            <label className="context-switch">
              <span className="sr-only">Acting as</span>
              <select
                value={ready.current?.key ?? ""}
                onChange={(e) => {
                  ready.choose(e.target.value);
                  navigate("/");
                }}
                data-testid="context-switch"
              >
                {ready.contexts.map((c) => (
                  <ContextOption key={c.key} context={c} />
                ))}
              </select>
            </label>
          )}
          {ready && ready.contexts.length === 1 && ready.current && (
            <span className="badge tone-info" data-testid="role-badge">
              {ROLE_LABELS[ready.current.role]}
            </span>
          )}
          {ready ? (
            <>
              <span className="user-name" data-testid="user-name">
                {ready.me.user.name}
              </span>
              <button
                type="button"
                className="btn btn-ghost btn-small"
                onClick={() => {
                  bridge.signOut();
                  navigate("/sign-in");
                }}
              >
                Sign out
              </button>
              {bridge.kind === "accounts" && (
                <button
                  type="button"
                  className="btn btn-ghost btn-small"
                  title="Ends your sessions on every device"
                  onClick={() => void signOutEverywhere({}).finally(() => bridge.signOut())}
                >
                  Sign out everywhere
                </button>
              )}
            </>
          ) : session.status === "signed_out" ? (
            <Link className="btn btn-secondary btn-small" href={`/sign-in?next=${encodeURIComponent(window.location.pathname)}`}>
              Sign in
            </Link>
          ) : null}
        </div>
      </header>
      {items.length > 0 && (
        <nav id="main-nav" className={`mainnav${menuOpen ? " open" : ""}`} aria-label="Main" onClick={() => setMenuOpen(false)}>
          {items.map((item) => (
            <Link key={item.href} href={item.href}>
              {item.label}
            </Link>
          ))}
        </nav>
      )}
      <main id="main" className="content">
        <ConnectionBanner />
        {children}
      </main>
      {ready?.current?.businessId && (ready.current.role === "owner" || ready.current.role === "manager" || ready.current.role === "staff") && (
        <AssistantPanel key={ready.current.key} businessId={ready.current.businessId} />
      )}
    </div>
  );
}

function ContextOption({ context }: { context: ViewerContext }) {
  const business = useQuery(api.businesses.get, context.businessId ? { businessId: context.businessId } : "skip");
  return (
    <option value={context.key}>
      {ROLE_LABELS[context.role]}
      {context.businessId ? ` · ${business?.name ?? "…"}` : ""}
    </option>
  );
}

export { contextLabel };
