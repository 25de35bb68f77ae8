/**
 * Sign-in. With Clerk: Clerk's widget. Otherwise accounts (Convex Auth, convex/auth.ts):
 * sign in with email and password, create an account (a 6-digit code verifies the email),
 * sign in with an emailed code, reset a forgotten password by code, Google when the
 * deployment offers it. In development only, the demo accounts too (DemoSignIn.tsx, not in a
 * production build).
 */
import { useQuery } from "convex/react";
import { ConvexError } from "convex/values";
import { lazy, Suspense, useState, type FormEvent } from "react";
import { api } from "../../../convex/_generated/api";
import { SignInTicketRefused, useTicketedSignIn } from "../lib/accounts";
import { useAuthBridge } from "../lib/auth";
import { ClerkSignIn } from "../lib/clerk";
import { usesClerk } from "../lib/config";
import { navigate, useQueryParams } from "../lib/router";

const DemoAccounts = import.meta.env.DEV ? lazy(() => import("./DemoSignIn")) : null;

export function SignInPage() {
  if (usesClerk) return <ClerkSignIn />;
  return <AccountsSignIn />;
}

function safeNext(next: string | null): string {
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

function AccountsSignIn() {
  const bridge = useAuthBridge();
  const next = safeNext(useQueryParams().get("next"));
  return (
    <main className="signin">
      <div className="signin-card">
        <h1>Sign in</h1>
        {bridge.kind === "accounts" && <AccountForms next={next} />}
        {DemoAccounts !== null && (
          <Suspense fallback={null}>
            <DemoAccounts next={next} />
          </Suspense>
        )}
      </div>
    </main>
  );
}

type Mode = "signIn" | "signUp" | "emailCode" | "reset";
type Step =
  | { kind: "form" }
  | { kind: "verify"; email: string } // password account: the email-verification code
  | { kind: "code"; email: string } // sign-in by emailed code
  | { kind: "resetCode"; email: string };

/**
 * What to tell the person: the server's own sentence for app errors and for the front door's
 * refusals (too many attempts from this network, with the wait), else `fallback`.
 */
function messageOf(error: unknown, fallback: string): string {
  if (error instanceof SignInTicketRefused) return error.message;
  if (error instanceof ConvexError) {
    const data = error.data as { message?: unknown } | string;
    if (typeof data === "object" && data !== null && typeof data.message === "string") return data.message;
    if (typeof data === "string") return data;
  }
  return fallback;
}

const TITLES: Record<Mode, string> = {
  signIn: "Your email and password",
  signUp: "Create an account",
  emailCode: "A one-time code by email",
  reset: "Reset your password",
};

function AccountForms({ next }: { next: string }) {
  // Every password and email-code call takes a fresh ticket from the front door first.
  const signIn = useTicketedSignIn();
  const methods = useQuery(api.accounts.methods, {});
  // An invitation link sends a signed-out person here first: most of them are new.
  const invited = next.startsWith("/invite/");
  const [mode, setMode] = useState<Mode>(invited ? "signUp" : "signIn");
  const [step, setStep] = useState<Step>({ kind: "form" });
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [info, setInfo] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const normalized = email.trim().toLowerCase();

  async function run(fallback: string, action: () => Promise<void>) {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (e) {
      setError(messageOf(e, fallback));
    } finally {
      setBusy(false);
    }
  }

  function done() {
    navigate(next, { replace: true });
  }

  function switchTo(m: Mode) {
    setMode(m);
    setStep({ kind: "form" });
    setError(null);
    setInfo(null);
    setCode("");
  }

  async function submitForm(e: FormEvent) {
    e.preventDefault();
    if (mode === "signIn") {
      await run("That email and password do not match an account (or too many attempts: wait and try again).", async () => {
        const result = await signIn("password", { flow: "signIn", email: normalized, password });
        if (result.signingIn) return done();
        setInfo(`Your email is not verified yet: we sent a 6-digit code to ${normalized}.`);
        setStep({ kind: "verify", email: normalized });
      });
    } else if (mode === "signUp") {
      await run("Could not create the account: this email may already have one (sign in, or reset the password).", async () => {
        const result = await signIn("password", { flow: "signUp", email: normalized, password, ...(name.trim() ? { name: name.trim() } : {}) });
        if (result.signingIn) return done();
        setInfo(`We sent a 6-digit code to ${normalized}. Enter it to verify your email.`);
        setStep({ kind: "verify", email: normalized });
      });
    } else if (mode === "emailCode") {
      await run("Could not send a code to that address.", async () => {
        await signIn("email-code", { email: normalized });
        setInfo(`We sent a 6-digit code to ${normalized}.`);
        setStep({ kind: "code", email: normalized });
      });
    } else {
      await run("Could not send a reset code: check the address.", async () => {
        await signIn("password", { flow: "reset", email: normalized });
        setInfo(`If ${normalized} has an account, a 6-digit reset code is on its way.`);
        setStep({ kind: "resetCode", email: normalized });
      });
    }
  }

  async function submitCode(e: FormEvent) {
    e.preventDefault();
    if (step.kind === "form") return;
    const wrong = "That code is wrong, used or expired (or too many attempts: wait and ask for a new one).";
    await run(wrong, async () => {
      const params: Record<string, string> =
        step.kind === "verify"
          ? { flow: "email-verification", email: step.email, code: code.trim() }
          : step.kind === "resetCode"
            ? { flow: "reset-verification", email: step.email, code: code.trim(), newPassword: password }
            : { email: step.email, code: code.trim() };
      const result = await signIn(step.kind === "code" ? "email-code" : "password", params);
      if (result.signingIn) return done();
      setError(wrong);
    });
  }

  return (
    <section className="signin-group" aria-labelledby="accounts-heading">
      <h2 id="accounts-heading">{TITLES[mode]}</h2>
      {invited && step.kind === "form" && (
        <p className="alert alert-info" role="status" data-testid="invite-note">
          You were invited to join a team. Create your account (or sign in if you have one) and the invitation opens next.
        </p>
      )}
      {info && (
        <p className="alert alert-info" role="status">
          {info}
        </p>
      )}
      {error && (
        <p className="alert alert-error" role="alert" data-testid="signin-error">
          {error}
        </p>
      )}
      {step.kind === "form" ? (
        <form className="stack-form" onSubmit={(e) => void submitForm(e)}>
          {mode === "signUp" && (
            <label className="field">
              <span className="field-label">Your name</span>
              <input name="name" autoComplete="name" value={name} onChange={(e) => setName(e.target.value)} />
            </label>
          )}
          <label className="field">
            <span className="field-label">Email</span>
            <input name="email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
          </label>
          {(mode === "signIn" || mode === "signUp") && (
            <div>
              <label className="field">
                <span className="field-label">Password</span>
                <input
                  name="password"
                  type="password"
                  autoComplete={mode === "signUp" ? "new-password" : "current-password"}
                  required
                  aria-describedby={mode === "signUp" ? "password-rules" : undefined}
                  value={password}
                  onChange={(e) => setPassword(e.target.value)}
                />
              </label>
              {mode === "signUp" && (
                <span id="password-rules" className="muted small">
                  At least 10 characters, with letters and a digit or symbol.
                </span>
              )}
            </div>
          )}
          <button className="btn btn-primary" type="submit" disabled={busy}>
            {mode === "signIn" ? "Sign in" : mode === "signUp" ? "Create account" : mode === "emailCode" ? "Email me a code" : "Email me a reset code"}
          </button>
        </form>
      ) : (
        <form className="stack-form" onSubmit={(e) => void submitCode(e)}>
          <label className="field">
            <span className="field-label">{step.kind === "resetCode" ? "Reset code" : "Verification code"}</span>
            <input
              name="code"
              inputMode="numeric"
              autoComplete="one-time-code"
              pattern="[0-9]{6}"
              maxLength={6}
              required
              value={code}
              onChange={(e) => setCode(e.target.value)}
            />
          </label>
          {step.kind === "resetCode" && (
            <label className="field">
              <span className="field-label">New password</span>
              <input name="newPassword" type="password" autoComplete="new-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
            </label>
          )}
          <button className="btn btn-primary" type="submit" disabled={busy}>
            {step.kind === "resetCode" ? "Set the new password" : "Verify"}
          </button>
          <button className="btn btn-secondary" type="button" onClick={() => switchTo(mode)}>
            Start again
          </button>
        </form>
      )}
      <nav className="signin-modes" aria-label="Other ways in">
        {mode !== "signIn" && (
          <button className="btn btn-link" type="button" onClick={() => switchTo("signIn")}>
            Sign in with a password
          </button>
        )}
        {mode !== "signUp" && (
          <button className="btn btn-link" type="button" onClick={() => switchTo("signUp")}>
            Create an account
          </button>
        )}
        {mode !== "emailCode" && (
          <button className="btn btn-link" type="button" onClick={() => switchTo("emailCode")}>
            Email me a sign-in code
          </button>
        )}
        {mode !== "reset" && (
          <button className="btn btn-link" type="button" onClick={() => switchTo("reset")}>
            Forgot your password?
          </button>
        )}
      </nav>
      {methods?.google && (
        <button
          className="btn btn-secondary"
          type="button"
          onClick={() =>
            void run("Google sign-in is not available right now.", async () => {
              const result = await signIn("google", { redirectTo: next });
              if (result.redirect) window.location.assign(result.redirect.toString());
            })
          }
        >
          Continue with Google
        </button>
      )}
    </section>
  );
}
