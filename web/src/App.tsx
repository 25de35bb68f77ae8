/** Routes and role-aware navigation. */
import { useQuery } from "convex/react";
import type { ReactNode } from "react";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { Layout } from "./components/Layout";
import { ErrorBoundary, ErrorBox, Loading } from "./components/ui";
import { matchRoute, Redirect, usePath } from "./lib/router";
import { useSession, type Role } from "./lib/session";
import { AdminBusinesses } from "./pages/admin/Businesses";
import { BookingDetail } from "./pages/customer/BookingDetail";
import { BookPage, BookBySlug } from "./pages/customer/Book";
import { CustomerMessages } from "./pages/customer/Messages";
import { MyBookings } from "./pages/customer/MyBookings";
import { PlanPage } from "./pages/customer/Plan";
import { Welcome } from "./pages/customer/Welcome";
import { DispatchBoard } from "./pages/dispatch/Board";
import { StaffInbox } from "./pages/dispatch/Inbox";
import { OwnerCatalogue } from "./pages/owner/Catalogue";
import { OwnerCustomers } from "./pages/owner/Customers";
import { OwnerDevelopers } from "./pages/owner/Developers";
import { OwnerFinance } from "./pages/owner/Finance";
import { OwnerNotifications, OwnerTemplates } from "./pages/owner/Notifications";
import { OwnerReports } from "./pages/owner/Reports";
import { OwnerSettings } from "./pages/owner/Settings";
import { OwnerStaff } from "./pages/owner/Staff";
import { OwnerZones } from "./pages/owner/Zones";
import { ProviderToday } from "./pages/provider/Today";
import { InvitePage } from "./pages/Invite";
import { SignInPage } from "./pages/SignIn";

export function homeFor(role: Role | undefined): string {
  switch (role) {
    case "customer":
      return "/bookings";
    case "owner":
    case "manager":
      return "/dispatch";
    case "staff":
      return "/today";
    case "platform_admin":
      return "/admin/businesses";
    default:
      return "/welcome";
  }
}

type RouteDef = { pattern: string; roles?: Role[]; render: (p: Record<string, string>) => ReactNode; public?: boolean };

const STAFF: Role[] = ["owner", "manager"];

const ROUTES: RouteDef[] = [
  { pattern: "/book/:businessId", public: true, render: (p) => <BookPage businessId={p.businessId as Id<"businesses">} /> },
  { pattern: "/b/:slug", public: true, render: (p) => <BookBySlug slug={p.slug} /> },
  { pattern: "/welcome", render: () => <Welcome /> },
  { pattern: "/invite/:token", render: (p) => <InvitePage token={p.token} /> },
  { pattern: "/bookings", render: () => <MyBookings /> },
  { pattern: "/bookings/:bookingId", render: (p) => <BookingDetail bookingId={p.bookingId as Id<"bookings">} /> },
  { pattern: "/plans/:seriesId", render: (p) => <PlanPage seriesId={p.seriesId as Id<"recurringSeries">} /> },
  { pattern: "/messages", roles: ["customer"], render: () => <CustomerMessages /> },
  { pattern: "/inbox", roles: ["owner", "manager", "staff"], render: () => <StaffInbox /> },
  { pattern: "/dispatch", roles: STAFF, render: () => <DispatchBoard /> },
  { pattern: "/today", roles: ["staff", "manager", "owner"], render: () => <ProviderToday /> },
  { pattern: "/owner/settings", roles: ["owner", "manager"], render: () => <OwnerSettings /> },
  { pattern: "/owner/zones", roles: ["owner", "manager"], render: () => <OwnerZones /> },
  { pattern: "/owner/catalogue", roles: ["owner", "manager"], render: () => <OwnerCatalogue /> },
  { pattern: "/owner/customers", roles: ["owner", "manager"], render: () => <OwnerCustomers /> },
  { pattern: "/owner/staff", roles: ["owner", "manager"], render: () => <OwnerStaff /> },
  { pattern: "/owner/finance", roles: ["owner", "manager"], render: () => <OwnerFinance /> },
  { pattern: "/owner/notifications", roles: ["owner", "manager"], render: () => <OwnerNotifications /> },
  { pattern: "/owner/notifications/templates", roles: ["owner", "manager"], render: () => <OwnerTemplates /> },
  { pattern: "/owner/developers", roles: ["owner", "manager"], render: () => <OwnerDevelopers /> },
  { pattern: "/owner/reports", roles: ["owner", "manager"], render: () => <OwnerReports /> },
  { pattern: "/admin/businesses", roles: ["platform_admin"], render: () => <AdminBusinesses /> },
];

export function App() {
  const path = usePath();
  const session = useSession();

  if (path === "/sign-in") return <SignInPage />;

  let matched: { route: RouteDef; params: Record<string, string> } | null = null;
  for (const route of ROUTES) {
    const params = matchRoute(route.pattern, path);
    if (params) {
      matched = { route, params };
      break;
    }
  }

  if (session.status === "signed_out") {
    if (matched?.route.public) return <Layout>{render(matched, path)}</Layout>;
    return <Redirect to={`/sign-in?next=${encodeURIComponent(path + window.location.search)}`} />;
  }
  if (session.status === "loading") {
    return (
      <div className="center-page">
        <Loading label="Signing you in…" />
      </div>
    );
  }
  if (session.status === "error") {
    return (
      <div className="center-page narrow">
        <ErrorBox error={session.error} onRetry={session.retry} />
        <a className="btn btn-secondary" href="/sign-in">
          Sign in as someone else
        </a>
      </div>
    );
  }
  if (path === "/") return <Redirect to={homeFor(session.current?.role)} />;
  if (!matched) {
    return (
      <Layout>
        <div className="state state-empty">
          <p className="state-title">There is no page at {path}</p>
          <a href={homeFor(session.current?.role)}>Go to your start page</a>
        </div>
      </Layout>
    );
  }
  const { route } = matched;
  if (route.roles && !(session.current && route.roles.includes(session.current.role))) {
    const other = session.contexts.find((c) => route.roles!.includes(c.role));
    return (
      <Layout>
        <div className="state state-empty">
          <p className="state-title">This page is for {route.roles.join(" or ")} accounts.</p>
          {other ? (
            <button className="btn btn-primary" onClick={() => session.choose(other.key)}>
              Switch to your {other.role} role
            </button>
          ) : (
            <a href={homeFor(session.current?.role)}>Go to your start page</a>
          )}
        </div>
      </Layout>
    );
  }
  return <Layout>{render(matched, path)}</Layout>;
}

function render(matched: { route: RouteDef; params: Record<string, string> }, path: string) {
  return <ErrorBoundary resetKey={path}>{matched.route.render(matched.params)}</ErrorBoundary>;
}

/** The current business's public profile (name, time zone, currency). */
export function useBusiness(businessId: Id<"businesses"> | undefined) {
  return useQuery(api.businesses.get, businessId ? { businessId } : "skip");
}
