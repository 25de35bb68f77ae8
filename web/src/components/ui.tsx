/** The design system's building blocks: states (loading, empty, error), buttons, fields, badges. */
import { Component, useCallback, useEffect, useRef, useState, type ButtonHTMLAttributes, type ErrorInfo, type KeyboardEvent, type ReactNode, type RefObject } from "react";
import { explainError } from "../lib/errors";
import { useConnection, useWaitedLongerThan } from "../lib/connection";
import { currencySymbol, statusLabel } from "../lib/format";
import { minorToDecimalString, parseMoneyInput } from "../../../domain/money";

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <div className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      <span>{label}</span>
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state state-empty">
      <p className="state-title">{title}</p>
      {children && <div className="muted">{children}</div>}
    </div>
  );
}

export function ErrorBox({ error, onRetry, compact }: { error: unknown; onRetry?: () => void; compact?: boolean }) {
  const e = explainError(error);
  return (
    <div className={`alert alert-error${compact ? " compact" : ""}`} role="alert" data-error-code={e.code ?? undefined}>
      <strong className="alert-title">{e.title}</strong>
      {e.detail && <span className="alert-detail">{e.detail}</span>}
      {e.next && <span className="alert-next">{e.next}</span>}
      {onRetry && (
        <button type="button" className="btn btn-small" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Notice({ kind = "info", children }: { kind?: "info" | "success" | "warning"; children: ReactNode }) {
  return (
    <div className={`alert alert-${kind}`} role={kind === "warning" ? "alert" : "status"}>
      {children}
    </div>
  );
}

export function Button({
  busy,
  variant = "primary",
  children,
  className,
  ...rest
}: ButtonHTMLAttributes<HTMLButtonElement> & { busy?: boolean; variant?: "primary" | "secondary" | "danger" | "ghost" }) {
  return (
    <button
      type="button"
      className={`btn btn-${variant}${className ? ` ${className}` : ""}`}
      disabled={busy || rest.disabled}
      aria-busy={busy || undefined}
      {...rest}
    >
      {busy && <span className="spinner spinner-small" aria-hidden="true" />}
      {children}
    </button>
  );
}

export function Field({ label, hint, children, error }: { label: string; hint?: string; error?: string; children: ReactNode }) {
  return (
    <label className="field">
      <span className="field-label">{label}</span>
      {children}
      {hint && <span className="field-hint">{hint}</span>}
      {error && <span className="field-error">{error}</span>}
    </label>
  );
}

/**
 * An amount typed in the currency's units ("12.50"), never in minor units. Reports the
 * amount in minor units, or null while the text is empty or not an amount (with the reason
 * shown under the field until it is fixed).
 */
export function MoneyInput({
  currency,
  initialMinor,
  onChange,
  optional = false,
  ...rest
}: {
  currency: string;
  initialMinor: number | null;
  /** `valid` is false while the text is not an amount (empty counts as valid when optional). */
  onChange: (minor: number | null, valid: boolean) => void;
  /** Empty is allowed (and reported as null without an error). */
  optional?: boolean;
  "aria-label"?: string;
  id?: string;
  placeholder?: string;
}) {
  const [text, setText] = useState(initialMinor === null ? "" : minorToDecimalString(initialMinor, currency));
  const [error, setError] = useState<string | null>(null);
  return (
    <span className="money-input">
      <span className="money-input-row">
        <span className="money-symbol" aria-hidden="true">
          {currencySymbol(currency)}
        </span>
        <input
          {...rest}
          inputMode="decimal"
          autoComplete="off"
          value={text}
          aria-invalid={error !== null || undefined}
          onChange={(e) => {
            const next = e.target.value;
            setText(next);
            if (optional && next.trim() === "") {
              setError(null);
              onChange(null, true);
              return;
            }
            const parsed = parseMoneyInput(next, currency);
            setError("error" in parsed ? parsed.error : null);
            onChange("minor" in parsed ? parsed.minor : null, "minor" in parsed);
          }}
        />
      </span>
      {error !== null && <span className="field-error">{error}</span>}
    </span>
  );
}

export function StatusBadge({ status }: { status: string }) {
  return (
    <span className={`badge status-${status.toLowerCase()}`} data-status={status}>
      {statusLabel(status)}
    </span>
  );
}

export function Badge({ children, tone = "neutral" }: { children: ReactNode; tone?: "neutral" | "good" | "warn" | "bad" | "info" }) {
  return <span className={`badge tone-${tone}`}>{children}</span>;
}

export function Card({ title, actions, children, className }: { title?: ReactNode; actions?: ReactNode; children: ReactNode; className?: string }) {
  return (
    <section className={`card${className ? ` ${className}` : ""}`}>
      {(title || actions) && (
        <header className="card-header">
          {title && <h2 className="card-title">{title}</h2>}
          {actions && <div className="card-actions">{actions}</div>}
        </header>
      )}
      {children}
    </section>
  );
}

export function PageHeader({ title, subtitle, actions }: { title: string; subtitle?: ReactNode; actions?: ReactNode }) {
  return (
    <div className="page-header">
      <div>
        <h1>{title}</h1>
        {subtitle && <p className="muted">{subtitle}</p>}
      </div>
      {actions && <div className="page-actions">{actions}</div>}
    </div>
  );
}

/** Runs an async action with busy and error state: `const save = useRun(); save.run(() => m(args))`. */
export function useRun() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = useCallback(async <T,>(fn: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setError(null);
    try {
      return await fn();
    } catch (e) {
      setError(e);
      return undefined;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, run, clear: () => setError(null) };
}

/** Catches render errors (a query that threw) and shows them in plain words. */
export class ErrorBoundary extends Component<{ children: ReactNode; resetKey?: string }, { error: unknown }> {
  state = { error: null as unknown };
  static getDerivedStateFromError(error: unknown) {
    return { error };
  }
  componentDidUpdate(prev: { resetKey?: string }) {
    if (prev.resetKey !== this.props.resetKey && this.state.error !== null) this.setState({ error: null });
  }
  componentDidCatch(error: unknown, info: ErrorInfo) {
    console.error("[portal]", error, info.componentStack);
  }
  render() {
    if (this.state.error !== null) {
      return <ErrorBox error={this.state.error} onRetry={() => this.setState({ error: null })} />;
    }
    return this.props.children;
  }
}

/**
 * "Live" only while it is: the room's WebSocket open, the Convex connection up and the
 * browser online. Otherwise it says what is happening.
 */
export function LiveDot({ status, label }: { status: "off" | "connecting" | "open" | "closed"; label?: string }) {
  const connection = useConnection();
  const offline = !connection.online || !connection.convexConnected;
  const shown = offline && status !== "off" ? "closed" : status;
  const text = !connection.online
    ? "Offline"
    : shown === "open"
      ? "Live"
      : shown === "connecting"
        ? "Connecting…"
        : shown === "closed"
          ? "Reconnecting…"
          : "Live updates off";
  return (
    <span className={`live-dot live-${shown}`} title={label ?? text} data-live={shown}>
      <span aria-hidden="true" className="dot" />
      {label && shown === "open" ? label : text}
    </span>
  );
}

/**
 * Says so when the portal is offline or a change is taking long to be confirmed; the Convex
 * client keeps retrying, so nothing the person did is lost.
 */
export function ConnectionBanner() {
  const connection = useConnection();
  const slow = useWaitedLongerThan(connection.pendingSince, 3_000);
  const offline = !connection.online || !connection.convexConnected;
  if (!offline && !(slow && connection.pending > 0)) return null;
  return (
    <div className="connection-banner" role="status" data-testid="connection-banner">
      {offline
        ? connection.pending > 0
          ? "You are offline. Your change is waiting and will be sent as soon as the connection is back."
          : "You are offline. What you see may be out of date; it updates as soon as the connection is back."
        : "Still waiting for the server to confirm your change… it will go through when the server answers."}
    </div>
  );
}

/**
 * A radio group is one Tab stop (WAI-ARIA radio pattern): only the checked radio (or the
 * first, when none is) is in the Tab order; arrows, Home and End move to another radio and
 * choose it.
 */
export function radioTabIndex(checked: boolean, index: number, anyChecked: boolean): 0 | -1 {
  return checked || (!anyChecked && index === 0) ? 0 : -1;
}

const RADIO_STEPS: Record<string, number> = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 };

/** The keyboard of a `role="radiogroup"` element whose children are `role="radio"` buttons. */
export function onRadioGroupKeyDown(event: KeyboardEvent<HTMLElement>): void {
  const step = RADIO_STEPS[event.key];
  if (step === undefined && event.key !== "Home" && event.key !== "End") return;
  const radios = Array.from(event.currentTarget.querySelectorAll<HTMLElement>('[role="radio"]:not(:disabled)'));
  const at = radios.indexOf(document.activeElement as HTMLElement);
  if (at === -1 || radios.length === 0) return;
  event.preventDefault();
  const next = event.key === "Home" ? 0 : event.key === "End" ? radios.length - 1 : (at + step + radios.length) % radios.length;
  radios[next].focus();
  if (radios[next].getAttribute("aria-checked") !== "true") radios[next].click();
}

const TABBABLE = 'button:not(:disabled):not([tabindex="-1"]), input:not(:disabled):not([type="hidden"]), select:not(:disabled), textarea:not(:disabled), a[href], [tabindex="0"]';

/**
 * Keeps the person where they were: when `ready` turns true after having been false (the
 * step they were on was replaced by the next one), focus moves to the first control inside
 * `ref` instead of falling to the page body. Nothing moves on first render.
 */
export function useFocusOnArrival(ref: RefObject<HTMLElement | null>, ready: boolean): void {
  const was = useRef(ready);
  useEffect(() => {
    if (ready && !was.current) ref.current?.querySelector<HTMLElement>(TABBABLE)?.focus();
    was.current = ready;
  }, [ready, ref]);
}
