/**
 * Accounts without Clerk: Convex Auth (`@convex-dev/auth`), running in this deployment.
 * On when JWKS and JWT_PRIVATE_KEY are set (scripts/env.ts generates them locally); see
 * docs/ACCOUNTS.md.
 *
 * Providers (the `provider` argument of `auth:signIn`):
 * - "password": email + password. `flow` signUp (then a 6-digit code verifies the email
 *   before the first session), signIn, reset (mails a reset code), reset-verification
 *   (code + newPassword: sets it and ends every other session), email-verification.
 * - "email-code": sign in with a 6-digit code mailed to the address (creates the account
 *   the first time).
 * - "google": when AUTH_GOOGLE_ID and AUTH_GOOGLE_SECRET are set.
 *
 * Codes are 6 digits, expire after 15 minutes, are stored hashed and deleted when used; a new
 * code replaces the previous one. At most 5 codes are mailed to an address per hour, and 5
 * wrong passwords or codes per account per hour lock sign-in for that account until the
 * counter recovers (Convex Auth's `authRateLimits`). Emails go through the platform's
 * notification transport (SMTP; locally the developer inbox).
 *
 * Per client address: every flow that checks a secret or sends a code (all of "password",
 * all of "email-code") requires `params.ticket`, a single-use ticket from the front door
 * (`POST /auth/ticket`, authTickets.ts), which limits tickets per client address. The check
 * (model/authTickets.ts `requireSignInTicket`) is the first thing each provider's `authorize`
 * does, before the flow reads or writes the account. Refreshing a session and Google need none.
 */
import Google from "@auth/core/providers/google";
import { ConvexCredentials } from "@convex-dev/auth/providers/ConvexCredentials";
import { Email } from "@convex-dev/auth/providers/Email";
import { Password } from "@convex-dev/auth/providers/Password";
import { convexAuth, createAccount, signInViaProvider, type EmailConfig } from "@convex-dev/auth/server";
import type { GenericActionCtx } from "convex/server";
import { internal } from "./_generated/api";
import type { DataModel } from "./_generated/dataModel";
import { env } from "./env";
import { appError } from "./errors";
import {
  ACCESS_TOKEN_MINUTES,
  checkPassword,
  CODE_TTL_MINUTES,
  createOrUpdateAccountUser,
  FAILED_ATTEMPTS_PER_HOUR,
  newCode,
  normalizeEmail,
  type CodePurpose,
} from "./model/accounts";
import { requireSignInTicket } from "./model/authTickets";

/** An emailed 6-digit code provider whose mail goes through `accounts:sendCode`. */
function codeProvider(id: string, purpose: CodePurpose): EmailConfig {
  return Email({
    id,
    maxAge: CODE_TTL_MINUTES * 60,
    generateVerificationToken: async () => newCode(),
    // The code must come with the address it was sent to (6 digits alone prove little).
    authorize: async (params, account) => {
      if (typeof params.email !== "string" || normalizeEmail(params.email) !== account.providerAccountId) {
        throw new Error("The code was sent to another address.");
      }
    },
    sendVerificationRequest: async ({ identifier, token }, ctx?: unknown) => {
      const email = normalizeEmail(identifier);
      if (email !== identifier) throw appError("INVALID_ARGUMENT", "Send the email address trimmed and in lower case.", { param: "email" });
      await (ctx as GenericActionCtx<DataModel>).runMutation(internal.accounts.sendCode, { purpose, email, code: token });
    },
  });
}

type Authorize = (params: Record<string, unknown>, ctx: GenericActionCtx<DataModel>) => Promise<unknown>;

/**
 * The Password provider with the front door's ticket checked first. Convex Auth's
 * `ConvexCredentials` keeps the provider's own `authorize` in `options` (merged over the
 * provider when configured: server/provider_utils.js), so that is the one wrapped.
 */
function withTicket<P>(id: string, provider: P): P {
  const credentials = provider as unknown as { options: { authorize: Authorize } };
  const inner = credentials.options.authorize;
  const authorize: Authorize = async (params, ctx) => {
    await requireSignInTicket(ctx, id, params);
    return await inner(params, ctx);
  };
  return { ...credentials, options: { ...credentials.options, authorize } } as P;
}

const password = Password<DataModel>({
  id: "password",
  profile(params) {
    const email = normalizeEmail(params.email);
    // The password rules that need the address (validatePasswordRequirements gets none).
    if (params.flow === "signUp") checkPassword(params.password, email);
    if (params.flow === "reset-verification") checkPassword(params.newPassword, email);
    const name = typeof params.name === "string" && params.name.trim() !== "" ? params.name.trim().slice(0, 80) : undefined;
    // Convex Auth hands this to createOrUpdateUser (below), which writes the platform's
    // fields (tokenIdentifier, isPlatformAdmin, a default name), so the type is loosened.
    return { email, ...(name !== undefined ? { name } : {}) } as never;
  },
  validatePasswordRequirements: (password) => checkPassword(password),
  verify: codeProvider("password-verify", "verify"),
  reset: codeProvider("password-reset", "reset"),
});

/**
 * Sign-in by an emailed code, behind the ticket: a credentials provider ("email-code", what
 * clients name, and the provider of the account) whose `authorize` checks the ticket and
 * then runs the Email provider that mails and checks the codes ("email-code-mail", an extra
 * provider like Password's verify and reset, so a code can only be redeemed through here,
 * never by `signIn` without a provider). `{email}` mails a code (the account is created the
 * first time, joining the verified user with that email if there is one); `{email, code}`
 * signs in.
 */
const emailCodeMail = codeProvider("email-code-mail", "sign_in");
const emailCode = ConvexCredentials<DataModel>({
  id: "email-code",
  authorize: async (params, ctx) => {
    await requireSignInTicket(ctx, "email-code", params);
    const email = normalizeEmail(params.email);
    if (params.code !== undefined) return await signInViaProvider(ctx, emailCodeMail, { params: { ...params, email } });
    const { account } = await createAccount(ctx, { provider: "email-code", account: { id: email }, profile: { email } as never, shouldLinkViaEmail: true });
    await signInViaProvider(ctx, emailCodeMail, { accountId: account._id, params: { ...params, email } });
    return null;
  },
  extraProviders: [emailCodeMail],
});

const providers = [withTicket("password", password), emailCode, ...(env.googleAuth() !== undefined ? [Google] : [])];

export const { auth, signIn, signOut, store, isAuthenticated } = convexAuth({
  providers,
  jwt: { durationMs: ACCESS_TOKEN_MINUTES * 60_000 },
  signIn: { maxFailedAttempsPerHour: FAILED_ATTEMPTS_PER_HOUR },
  callbacks: {
    createOrUpdateUser: async (ctx, args) => await createOrUpdateAccountUser(ctx as never, args as never),
  },
});
