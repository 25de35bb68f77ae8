/**
 * Accounts of Convex Auth (auth.ts), the platform's side: the rules for emails, passwords
 * and codes, the code emails, and the `users` row a new account gets. Who a Convex Auth token
 * is: accountIdentity.ts.
 *
 * Plain module: no registered functions.
 */
import type { GenericId } from "convex/values";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import { CONVEX_AUTH_TOKEN_PREFIX } from "./accountIdentity";
import { env } from "../env";
import { appError } from "../errors";
import { queueNotification } from "./notify";

/** One-time codes (verification, reset, sign-in): 6 digits, valid 15 minutes, single use. */
export const CODE_LENGTH = 6;
export const CODE_TTL_MINUTES = 15;
/** Wrong passwords or codes per account per hour before sign-in is refused (Convex Auth's counter). */
export const FAILED_ATTEMPTS_PER_HOUR = 5;
/** Access tokens live this long; the client refreshes them with its refresh token. */
export const ACCESS_TOKEN_MINUTES = 15;

export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 128;

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Trimmed, lower-cased email; INVALID_ARGUMENT naming `email` otherwise. */
export function normalizeEmail(value: unknown): string {
  const email = typeof value === "string" ? value.trim().toLowerCase() : "";
  if (email.length > 254 || !EMAIL.test(email)) throw appError("INVALID_ARGUMENT", "Enter a valid email address.", { param: "email" });
  return email;
}

/**
 * Password strength: 10 to 128 characters, with a letter and a digit or symbol, not all one
 * character, and not the email's name. (No breached-password check: it needs the internet.)
 */
export function checkPassword(password: unknown, email?: string, param = "password"): void {
  const fail = (message: string) => {
    throw appError("INVALID_ARGUMENT", message, { param });
  };
  if (typeof password !== "string" || password.length < PASSWORD_MIN_LENGTH) fail(`Use at least ${PASSWORD_MIN_LENGTH} characters for the password.`);
  const text = password as string;
  if (text.length > PASSWORD_MAX_LENGTH) fail(`Use at most ${PASSWORD_MAX_LENGTH} characters for the password.`);
  if (!/\p{L}/u.test(text) || !/[\p{N}\p{P}\p{S}]/u.test(text)) fail("Use letters and at least one digit or symbol in the password.");
  if (new Set(text).size < 4) fail("The password repeats too few characters: choose a less predictable one.");
  const local = email?.split("@")[0];
  if (local && local.length >= 4 && text.toLowerCase().includes(local)) fail("The password must not contain your email address.");
}

/** A uniformly random 6-digit code (rejection sampling over 32-bit values). */
export function newCode(): string {
  const limit = Math.floor(0x1_0000_0000 / 10 ** CODE_LENGTH) * 10 ** CODE_LENGTH;
  const buffer = new Uint32Array(1);
  for (;;) {
    crypto.getRandomValues(buffer);
    if (buffer[0] < limit) return String(buffer[0] % 10 ** CODE_LENGTH).padStart(CODE_LENGTH, "0");
  }
}

export type CodePurpose = "verify" | "reset" | "sign_in";
const TEMPLATE = { verify: "account_verify_code", reset: "account_reset_code", sign_in: "account_sign_in_code" } as const;

/**
 * Queues the email carrying a code, through the notification transport. The platform's
 * notification log shows it with its delivery status like any message, but the code masked
 * (`secret`: kept apart until sent, and no longer than the code is valid).
 */
export async function queueCodeEmail(ctx: Pick<MutationCtx, "db" | "scheduler">, purpose: CodePurpose, email: string, code: string) {
  await queueNotification(ctx, {
    businessId: null,
    templateKey: TEMPLATE[purpose],
    channel: "email",
    to: email,
    vars: { expiresInMinutes: String(CODE_TTL_MINUTES) },
    secret: { var: "code", value: code, expiresAt: Date.now() + CODE_TTL_MINUTES * 60_000 },
  });
}

type Profile = Record<string, unknown> & { email?: string; name?: string; emailVerified?: boolean; image?: string };

/**
 * Convex Auth's `createOrUpdateUser`: the same linking rule as its default (an unlinked
 * account joins the one user with that verified email, when the provider vouches for the
 * email or asks to link), but writes the platform's fields (`name`, `isPlatformAdmin`,
 * `tokenIdentifier`). Sends the welcome email the first time an email is verified.
 */
export async function createOrUpdateAccountUser(
  ctx: MutationCtx,
  args: {
    existingUserId: GenericId<"users"> | null;
    type: string;
    provider: { type: string; allowDangerousEmailAccountLinking?: boolean };
    profile: Profile;
    shouldLinkViaEmail?: boolean;
  },
): Promise<Id<"users">> {
  const profile = args.profile;
  const email = typeof profile.email === "string" ? profile.email.trim().toLowerCase() : undefined;
  const oauth = args.provider.type === "oauth" || args.provider.type === "oidc";
  const emailVerified = profile.emailVerified ?? (oauth && args.provider.allowDangerousEmailAccountLinking !== false);
  const link = emailVerified || args.shouldLinkViaEmail === true || args.provider.type === "email";
  const name = typeof profile.name === "string" && profile.name.trim() !== "" ? profile.name.trim().slice(0, 80) : undefined;
  const now = Date.now();

  let user: Doc<"users"> | null = args.existingUserId === null ? null : await ctx.db.get("users", args.existingUserId as Id<"users">);
  if (user === null && email !== undefined && link) {
    const sameEmail = await ctx.db
      .query("users")
      .withIndex("email", (q) => q.eq("email", email))
      .take(50);
    const verified = sameEmail.filter((u) => u.emailVerificationTime !== undefined);
    if (verified.length === 1) user = verified[0];
  }
  const verifiedNow = emailVerified && email !== undefined;
  if (user !== null) {
    const firstVerification = verifiedNow && user.emailVerificationTime === undefined;
    await ctx.db.patch("users", user._id, {
      ...(email !== undefined ? { email } : {}),
      ...(name !== undefined ? { name } : {}),
      ...(typeof profile.image === "string" ? { image: profile.image } : {}),
      ...(firstVerification ? { emailVerificationTime: now } : {}),
    });
    if (firstVerification) await queueWelcome(ctx, user.name, email);
    return user._id;
  }
  const userId = await ctx.db.insert("users", {
    tokenIdentifier: `${CONVEX_AUTH_TOKEN_PREFIX}pending`,
    name: name ?? email?.split("@")[0] ?? "New user",
    ...(email !== undefined ? { email } : {}),
    ...(typeof profile.image === "string" ? { image: profile.image } : {}),
    ...(verifiedNow ? { emailVerificationTime: now } : {}),
    isPlatformAdmin: false,
  });
  await ctx.db.patch("users", userId, { tokenIdentifier: `${CONVEX_AUTH_TOKEN_PREFIX}${userId}` });
  if (verifiedNow) await queueWelcome(ctx, name ?? email.split("@")[0], email);
  return userId;
}

async function queueWelcome(ctx: Pick<MutationCtx, "db" | "scheduler">, name: string, email: string) {
  await queueNotification(ctx, {
    businessId: null,
    templateKey: "account_welcome",
    channel: "email",
    to: email,
    vars: { name, signInUrl: `${env.portalUrl()}/sign-in` },
  });
}
