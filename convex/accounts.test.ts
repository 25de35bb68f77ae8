/**
 * Accounts with Convex Auth (auth.ts): sign-up with a password and an emailed 6-digit code,
 * sign-in, sign-in by code, password reset, sign out everywhere; and the failure modes: weak
 * password, wrong / expired / reused code, a code for another address, lockout after wrong
 * passwords, too many codes mailed, a reset ending the old sessions.
 *
 * Every call that needs one takes a ticket from the front door first (`POST /auth/ticket`,
 * authTickets.ts), as the portal does; "the front door" tests what happens without one, with
 * a bad one, and the per-client-address limits.
 *
 * The mail goes through the notification transport; its log masks the code, so the codes are
 * read from where delivery takes them (`notificationSecrets`). A token's `sub`
 * (`<userId>|<sessionId>`) is what the person is known by.
 */
import { decodeJwt, exportJWK, exportPKCS8, generateKeyPair } from "jose";
import { afterAll, beforeAll, afterEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import { signInTicketPurpose, SIGN_IN_TICKET_TTL_MS, type SignInTicketPurpose } from "../domain/signInTickets";
import { CODE_TTL_MINUTES, FAILED_ATTEMPTS_PER_HOUR } from "./model/accounts";
import { ACCOUNT_CODE_EMAILS, CODE_EMAILS_PER_CLIENT, SIGN_IN_ATTEMPTS_PER_CLIENT } from "./model/abuseLimits";
import { signTicket } from "./model/authTickets";
import { SECRET_MASK } from "./model/notify";
import { verifyAccessToken } from "../party/auth";
import { readAuthConfig } from "../party/env";
import { aBusiness, aPlatformAdmin, expectAppError } from "./test.builders";
import { newTest, TEST_ENV, type TestConvex } from "./test.setup";

const ACCOUNT_ENV: Record<string, string> = {
  SITE_URL: "http://127.0.0.1:5173",
  AUTH_LOG_LEVEL: "WARN",
  AUTH_TICKET_SECRET: "test-auth-ticket-secret-0123456789abcdef",
};
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
  ACCOUNT_ENV.JWT_PRIVATE_KEY = (await exportPKCS8(privateKey)).trimEnd().replace(/\n/g, " ");
  ACCOUNT_ENV.JWKS = JSON.stringify({ keys: [{ use: "sig", ...(await exportJWK(publicKey)) }] });
  // convex-test's functions read the process env; the local engine gets `env` below.
  for (const [name, value] of Object.entries(ACCOUNT_ENV)) {
    saved[name] = process.env[name];
    process.env[name] = value;
  }
});
afterAll(() => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});
afterEach(() => vi.useRealTimers());
// Password hashing (scrypt) makes each sign-up take seconds on a busy machine.
vi.setConfig({ testTimeout: 30_000 });

const PASSWORD = "correct horse 42";

function accounts() {
  return newTest(ACCOUNT_ENV);
}

type SignInResult = { tokens?: { token: string; refreshToken: string } | null; started?: boolean };

/** The address the tests' calls come from, unless a test says otherwise. */
const CLIENT = "203.0.113.7";

/** POST /auth/ticket as the portal sends it, from `address` (the proxy's last hop). */
async function askTicket(t: TestConvex, purpose: string, headers: Record<string, string> = { "X-Forwarded-For": CLIENT }) {
  return await t.fetch("/auth/ticket", { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body: JSON.stringify({ purpose }) });
}

async function ticketFor(t: TestConvex, purpose: SignInTicketPurpose, address = CLIENT): Promise<string> {
  const response = await askTicket(t, purpose, { "X-Forwarded-For": address });
  expect(response.status).toBe(200);
  return ((await response.json()) as { ticket: string }).ticket;
}

/** `auth:signIn` with a fresh ticket for it, unless `params` brings its own `ticket` (or says `ticket: undefined`). */
async function call(t: TestConvex, provider: string, params: Record<string, unknown>): Promise<unknown> {
  const purpose = signInTicketPurpose(provider, params);
  const withTicket = "ticket" in params || purpose === null ? params : { ...params, ticket: await ticketFor(t, purpose) };
  const sent = Object.fromEntries(Object.entries(withTicket).filter(([, value]) => value !== undefined));
  return await t.action(api.auth.signIn, { provider, params: sent });
}

async function signIn(t: TestConvex, provider: string, params: Record<string, unknown>): Promise<SignInResult> {
  return (await call(t, provider, params)) as SignInResult;
}

async function mailsTo(t: TestConvex, email: string, template: string) {
  const rows = await t.run((ctx) => ctx.db.query("notifications").collect());
  return rows.filter((r) => r.to === email && r.templateKey === template);
}

/** The newest code mailed to `email` with this template: the log masks it; delivery reads it from notificationSecrets. */
async function codeMailedTo(t: TestConvex, email: string, template = "account_verify_code"): Promise<string> {
  const mail = (await mailsTo(t, email, template)).at(-1);
  if (!mail) throw new Error(`no ${template} mailed to ${email}`);
  expect(mail.body).toContain(SECRET_MASK);
  const secret = await t.run((ctx) => ctx.db.query("notificationSecrets").withIndex("by_notificationId", (q) => q.eq("notificationId", mail._id)).first());
  if (!secret || !/^\d{6}$/.test(secret.value)) throw new Error(`no code kept for the ${template} to ${email}`);
  return secret.value;
}

/** What an account flow could write: compared before and after a refused call. */
async function accountState(t: TestConvex) {
  return await t.run(async (ctx) => ({
    users: await ctx.db.query("users").collect(),
    authAccounts: await ctx.db.query("authAccounts").collect(),
    authSessions: await ctx.db.query("authSessions").collect(),
    authRefreshTokens: await ctx.db.query("authRefreshTokens").collect(),
    authVerificationCodes: await ctx.db.query("authVerificationCodes").collect(),
    authRateLimits: await ctx.db.query("authRateLimits").collect(),
    // Which messages exist (their delivery runs on by itself on the local engine).
    notifications: (await ctx.db.query("notifications").collect()).map((n) => ({ id: n._id, to: n.to, templateKey: n.templateKey, body: n.body })),
    authTicketsUsed: await ctx.db.query("authTicketsUsed").collect(),
  }));
}

/** The person a token speaks for, as Convex sees them after verifying it. */
function as(t: TestConvex, token: string) {
  const claims = decodeJwt(token);
  return t.withIdentity({ issuer: claims.iss, subject: claims.sub, tokenIdentifier: `${claims.iss}|${claims.sub}` });
}

function idsOf(token: string) {
  const [userId, sessionId] = String(decodeJwt(token).sub).split("|");
  return { userId: userId as Id<"users">, sessionId };
}

/** Signs up and verifies: the person's first session. */
async function signedUp(t: TestConvex, email: string, name = "Casey New") {
  const started = await signIn(t, "password", { flow: "signUp", email, password: PASSWORD, name });
  expect(started.tokens ?? null).toBeNull();
  const code = await codeMailedTo(t, email);
  const verified = await signIn(t, "password", { flow: "email-verification", email, code });
  expect(verified.tokens?.token).toBeTruthy();
  return verified.tokens!;
}

async function failure(promise: Promise<unknown>): Promise<string> {
  return await promise.then(
    (value) => {
      throw new Error(`expected a refusal, got ${JSON.stringify(value)}`);
    },
    (error: unknown) => String((error as Error).message ?? error),
  );
}

describe("sign-up with email and password", () => {
  test("a code verifies the email; then the person is a user of the platform with no roles, and gets a welcome email", async () => {
    const t = accounts();
    const tokens = await signedUp(t, "casey@example.com");
    const claims = decodeJwt(tokens.token);
    expect(claims.aud).toBe("convex");
    expect(claims.iss).toBe(TEST_ENV.CONVEX_SITE_URL);
    // Short-lived access token (15 minutes), refreshed with the refresh token.
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(15 * 60);
    expect(tokens.refreshToken).toBeTruthy();

    const person = as(t, tokens.token);
    const userId = await person.mutation(api.users.store, {});
    expect(userId).toBe(idsOf(tokens.token).userId);
    const me = await person.query(api.users.me, {});
    expect(me?.user).toMatchObject({ name: "Casey New", email: "casey@example.com", isPlatformAdmin: false });
    expect(me?.user.emailVerificationTime).toBeTypeOf("number");
    expect(me?.memberships).toEqual([]);
    expect(me?.customers).toEqual([]);
    expect(await mailsTo(t, "casey@example.com", "account_welcome")).toHaveLength(1);

    // The code is stored only hashed, and is gone once used.
    const codes = await t.run((ctx) => ctx.db.query("authVerificationCodes").collect());
    expect(codes).toEqual([]);
  });

  test("weak passwords and bad addresses are refused naming the field, and create nothing", async () => {
    const t = accounts();
    for (const password of ["short1!", "onlyletterspassword", "aaaaaaaaaa1", "casey.long.name1!"]) {
      await expectAppError(call(t, "password", { flow: "signUp", email: "casey.long.name@example.com", password }), "INVALID_ARGUMENT", "password");
    }
    await expectAppError(call(t, "password", { flow: "signUp", email: "not-an-email", password: PASSWORD }), "INVALID_ARGUMENT", "email");
    expect(await t.run((ctx) => ctx.db.query("users").collect())).toEqual([]);
    expect(await t.run((ctx) => ctx.db.query("authAccounts").collect())).toEqual([]);
  });

  test("the same address cannot sign up twice", async () => {
    const t = accounts();
    await signedUp(t, "dup@example.com");
    await failure(signIn(t, "password", { flow: "signUp", email: "dup@example.com", password: "another pass 99" }));
    expect(await t.run((ctx) => ctx.db.query("authAccounts").collect())).toHaveLength(1);
  });

  test("an address is normalised: upper case and spaces sign in to the same account", async () => {
    const t = accounts();
    await signedUp(t, "mixed@example.com");
    const again = await signIn(t, "password", { flow: "signIn", email: "  Mixed@Example.COM ", password: PASSWORD });
    expect(again.tokens?.token).toBeTruthy();
  });
});

describe("codes", () => {
  test("a wrong code is refused; the right one still works after it", async () => {
    const t = accounts();
    await signIn(t, "password", { flow: "signUp", email: "w@example.com", password: PASSWORD });
    const code = await codeMailedTo(t, "w@example.com");
    const wrong = code === "000000" ? "111111" : "000000";
    await failure(signIn(t, "password", { flow: "email-verification", email: "w@example.com", code: wrong }));
    const ok = await signIn(t, "password", { flow: "email-verification", email: "w@example.com", code });
    expect(ok.tokens?.token).toBeTruthy();
  });

  test("a used code cannot be used again", async () => {
    const t = accounts();
    await signIn(t, "password", { flow: "signUp", email: "r@example.com", password: PASSWORD });
    const code = await codeMailedTo(t, "r@example.com");
    expect((await signIn(t, "password", { flow: "email-verification", email: "r@example.com", code })).tokens).toBeTruthy();
    await failure(signIn(t, "password", { flow: "email-verification", email: "r@example.com", code }));
  });

  test(`a code expires after ${CODE_TTL_MINUTES} minutes`, async () => {
    const t = accounts();
    vi.useFakeTimers({ toFake: ["Date"] });
    const start = Date.now();
    await signIn(t, "password", { flow: "signUp", email: "x@example.com", password: PASSWORD });
    const code = await codeMailedTo(t, "x@example.com");
    vi.setSystemTime(start + CODE_TTL_MINUTES * 60_000 + 1_000);
    await failure(signIn(t, "password", { flow: "email-verification", email: "x@example.com", code }));
    // The expired code is deleted, and a new sign-in attempt mails a fresh one.
    expect(await t.run((ctx) => ctx.db.query("authVerificationCodes").collect())).toEqual([]);
    await signIn(t, "password", { flow: "signIn", email: "x@example.com", password: PASSWORD });
    const fresh = await codeMailedTo(t, "x@example.com");
    expect((await signIn(t, "password", { flow: "email-verification", email: "x@example.com", code: fresh })).tokens).toBeTruthy();
  });

  test("a code only works with the address it was sent to", async () => {
    const t = accounts();
    await signIn(t, "password", { flow: "signUp", email: "a@example.com", password: PASSWORD });
    await signIn(t, "password", { flow: "signUp", email: "b@example.com", password: PASSWORD });
    const codeForA = await codeMailedTo(t, "a@example.com");
    await failure(signIn(t, "password", { flow: "email-verification", email: "b@example.com", code: codeForA }));
  });

  test(`at most ${ACCOUNT_CODE_EMAILS.rate} codes are mailed to one address per hour`, async () => {
    const t = accounts();
    await signIn(t, "email-code", { email: "many@example.com" });
    for (let i = 1; i < ACCOUNT_CODE_EMAILS.rate; i++) await signIn(t, "email-code", { email: "many@example.com" });
    await expectAppError(call(t, "email-code", { email: "many@example.com" }), "RATE_LIMITED");
    expect(await mailsTo(t, "many@example.com", "account_sign_in_code")).toHaveLength(ACCOUNT_CODE_EMAILS.rate);
    // Another address is not affected.
    await signIn(t, "email-code", { email: "other@example.com" });
    expect(await mailsTo(t, "other@example.com", "account_sign_in_code")).toHaveLength(1);
  });

  test("unused codes past their expiry are purged", async () => {
    const t = accounts();
    vi.useFakeTimers({ toFake: ["Date"] });
    const start = Date.now();
    await signIn(t, "email-code", { email: "idle@example.com" });
    expect(await t.run((ctx) => ctx.db.query("authVerificationCodes").collect())).toHaveLength(1);
    expect(await t.mutation(internal.accounts.purgeExpiredCodes, {})).toBe(0);
    vi.setSystemTime(start + (CODE_TTL_MINUTES + 1) * 60_000);
    expect(await t.mutation(internal.accounts.purgeExpiredCodes, {})).toBe(1);
    expect(await t.run((ctx) => ctx.db.query("authVerificationCodes").collect())).toEqual([]);
  });
});

describe("sign-in", () => {
  test("with the password; an unverified account is sent a code first", async () => {
    const t = accounts();
    await signIn(t, "password", { flow: "signUp", email: "u@example.com", password: PASSWORD });
    const first = await signIn(t, "password", { flow: "signIn", email: "u@example.com", password: PASSWORD });
    expect(first.tokens ?? null).toBeNull();
    expect(await mailsTo(t, "u@example.com", "account_verify_code")).toHaveLength(2);
    const code = await codeMailedTo(t, "u@example.com");
    expect((await signIn(t, "password", { flow: "email-verification", email: "u@example.com", code })).tokens).toBeTruthy();
    const later = await signIn(t, "password", { flow: "signIn", email: "u@example.com", password: PASSWORD });
    expect(later.tokens?.token).toBeTruthy();
  });

  test(`${FAILED_ATTEMPTS_PER_HOUR} wrong passwords lock the account's sign-in, even with the right one after`, async () => {
    const t = accounts();
    await signedUp(t, "lock@example.com");
    for (let i = 0; i < FAILED_ATTEMPTS_PER_HOUR; i++) {
      await failure(signIn(t, "password", { flow: "signIn", email: "lock@example.com", password: `wrong password ${i}` }));
    }
    await failure(signIn(t, "password", { flow: "signIn", email: "lock@example.com", password: PASSWORD }));
    // An unknown address is refused too, without telling whether it exists.
    await failure(signIn(t, "password", { flow: "signIn", email: "nobody@example.com", password: PASSWORD }));
  });

  test(`${FAILED_ATTEMPTS_PER_HOUR} wrong codes lock code sign-in for that address`, async () => {
    const t = accounts();
    await signIn(t, "email-code", { email: "guess@example.com" });
    const code = await codeMailedTo(t, "guess@example.com", "account_sign_in_code");
    const wrong = (n: number) => String((Number(code) + n) % 1_000_000).padStart(6, "0");
    for (let i = 1; i <= FAILED_ATTEMPTS_PER_HOUR; i++) {
      await failure(signIn(t, "email-code", { email: "guess@example.com", code: wrong(i) }));
    }
    await failure(signIn(t, "email-code", { email: "guess@example.com", code }));
  });

  test("by an emailed code: the first time creates the account; the same address later is the same person", async () => {
    const t = accounts();
    await signIn(t, "email-code", { email: "otp@example.com" });
    const code = await codeMailedTo(t, "otp@example.com", "account_sign_in_code");
    const first = await signIn(t, "email-code", { email: "otp@example.com", code });
    expect(first.tokens?.token).toBeTruthy();
    const me = await as(t, first.tokens!.token).query(api.users.me, {});
    expect(me?.user).toMatchObject({ email: "otp@example.com", name: "otp" });

    await signIn(t, "email-code", { email: "otp@example.com" });
    const second = await signIn(t, "email-code", { email: "otp@example.com", code: await codeMailedTo(t, "otp@example.com", "account_sign_in_code") });
    expect(idsOf(second.tokens!.token).userId).toBe(idsOf(first.tokens!.token).userId);
  });

  test("a password account with a verified email can also sign in by code, as the same user", async () => {
    const t = accounts();
    const tokens = await signedUp(t, "both@example.com");
    await signIn(t, "email-code", { email: "both@example.com" });
    const byCode = await signIn(t, "email-code", { email: "both@example.com", code: await codeMailedTo(t, "both@example.com", "account_sign_in_code") });
    expect(idsOf(byCode.tokens!.token).userId).toBe(idsOf(tokens.token).userId);
  });

  test("a refresh token gives a new access token for the same session", async () => {
    const t = accounts();
    const tokens = await signedUp(t, "refresh@example.com");
    const refreshed = (await t.action(api.auth.signIn, { refreshToken: tokens.refreshToken })) as SignInResult;
    expect(refreshed.tokens?.token).toBeTruthy();
    expect(idsOf(refreshed.tokens!.token)).toEqual(idsOf(tokens.token));
  });
});

describe("password reset", () => {
  test("a reset code sets a new password and ends every other session", async () => {
    const t = accounts();
    const first = await signedUp(t, "reset@example.com");
    const second = await signIn(t, "password", { flow: "signIn", email: "reset@example.com", password: PASSWORD });
    expect(await as(t, first.token).query(api.users.me, {})).not.toBeNull();

    await signIn(t, "password", { flow: "reset", email: "reset@example.com" });
    const code = await codeMailedTo(t, "reset@example.com", "account_reset_code");
    await expectAppError(call(t, "password", { flow: "reset-verification", email: "reset@example.com", code, newPassword: "short" }), "INVALID_ARGUMENT", "password");
    const after = await signIn(t, "password", { flow: "reset-verification", email: "reset@example.com", code, newPassword: "a brand new pass 7" });
    expect(after.tokens?.token).toBeTruthy();

    // Old sessions are gone: their still-unexpired tokens find no user, and cannot be stored again.
    for (const old of [first.token, second.tokens!.token]) {
      expect(await as(t, old).query(api.users.me, {})).toBeNull();
      await expectAppError(as(t, old).mutation(api.users.store, {}), "UNAUTHENTICATED");
    }
    expect(await as(t, after.tokens!.token).query(api.users.me, {})).not.toBeNull();
    await failure(signIn(t, "password", { flow: "signIn", email: "reset@example.com", password: PASSWORD }));
    expect((await signIn(t, "password", { flow: "signIn", email: "reset@example.com", password: "a brand new pass 7" })).tokens).toBeTruthy();
    // The old refresh token is dead too.
    expect(((await t.action(api.auth.signIn, { refreshToken: first.refreshToken })) as SignInResult).tokens ?? null).toBeNull();
  });

  test("a reset code is single use and does not sign in another account", async () => {
    const t = accounts();
    await signedUp(t, "one@example.com");
    await signedUp(t, "two@example.com");
    await signIn(t, "password", { flow: "reset", email: "one@example.com" });
    const code = await codeMailedTo(t, "one@example.com", "account_reset_code");
    await failure(signIn(t, "password", { flow: "reset-verification", email: "two@example.com", code, newPassword: "hijacked pass 123" }));
    expect((await signIn(t, "password", { flow: "reset-verification", email: "one@example.com", code, newPassword: "new pass for one 1" })).tokens).toBeTruthy();
    await failure(signIn(t, "password", { flow: "reset-verification", email: "one@example.com", code, newPassword: "again pass for one 2" }));
  });
});

describe("sessions", () => {
  test("sign out ends this session; sign out everywhere ends all of them", async () => {
    const t = accounts();
    const a = await signedUp(t, "s@example.com");
    const b = (await signIn(t, "password", { flow: "signIn", email: "s@example.com", password: PASSWORD })).tokens!;
    const c = (await signIn(t, "password", { flow: "signIn", email: "s@example.com", password: PASSWORD })).tokens!;

    await as(t, a.token).action(api.auth.signOut, {});
    expect(await as(t, a.token).query(api.users.me, {})).toBeNull();
    expect(await as(t, b.token).query(api.users.me, {})).not.toBeNull();

    await as(t, b.token).action(api.accounts.signOutEverywhere, {});
    expect(await as(t, b.token).query(api.users.me, {})).toBeNull();
    expect(await as(t, c.token).query(api.users.me, {})).toBeNull();
    expect(await t.run((ctx) => ctx.db.query("authSessions").collect())).toEqual([]);
  });

  test("a token naming another user's id with a session of its own is refused", async () => {
    const t = accounts();
    const mine = await signedUp(t, "mine@example.com");
    const theirs = await signedUp(t, "theirs@example.com");
    const forged = `${idsOf(theirs.token).userId}|${idsOf(mine.token).sessionId}`;
    const person = t.withIdentity({ issuer: TEST_ENV.CONVEX_SITE_URL, subject: forged, tokenIdentifier: `${TEST_ENV.CONVEX_SITE_URL}|${forged}` });
    expect(await person.query(api.users.me, {})).toBeNull();
  });

  test("the sign-in methods say what this deployment offers", async () => {
    const t = accounts();
    expect(await t.query(api.accounts.methods, {})).toEqual({ password: true, emailCode: true, google: false });
  });
});

describe("room tokens for PartyKit", () => {
  test("carry the role of the chosen business from the platform's tables, and PartyKit accepts them", async () => {
    const t = accounts();
    const tokens = await signedUp(t, "dispatch@example.com");
    const { userId } = idsOf(tokens.token);
    const { businessId } = await aBusiness(t, { name: "Sparkle" });
    await t.run((ctx) => ctx.db.insert("memberships", { businessId, userId, role: "manager" }));

    const person = as(t, tokens.token);
    const { token } = await person.action(api.partyTokens.issue, { businessId });
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ sub: userId, aud: "partykit", iss: TEST_ENV.CONVEX_SITE_URL, role: "manager", businessId });
    const party = readAuthConfig({ CONVEX_AUTH_ISSUER: TEST_ENV.CONVEX_SITE_URL, JWKS: ACCOUNT_ENV.JWKS });
    expect(await verifyAccessToken(token, party)).toMatchObject({ ok: true, identity: { userId, role: "manager", businessId } });
    // The access token itself opens no room.
    expect((await verifyAccessToken(tokens.token, party)).ok).toBe(false);

    // Once the session ends, no more room tokens.
    await person.action(api.auth.signOut, {});
    await expectAppError(person.action(api.partyTokens.issue, { businessId }), "UNAUTHENTICATED");
  });

  test("are refused to the signed out and to other sign-ins", async () => {
    const t = accounts();
    await expectAppError(t.action(api.partyTokens.issue, {}), "UNAUTHENTICATED");
    const clerkLike = t.withIdentity({ issuer: "https://clerk.example", subject: "user_1", tokenIdentifier: "https://clerk.example|user_1" });
    await expectAppError(clerkLike.action(api.partyTokens.issue, {}), "UNAUTHENTICATED");
  });
});

describe("onboarding with an account", () => {
  test("a new owner signs up, creates their one business, sets it up while it is PENDING, and the platform admin verifies it", async () => {
    const t = accounts();
    const owner = as(t, (await signedUp(t, "owner@example.com", "Olive Owner")).token);
    await owner.mutation(api.users.store, {});
    const businessId = await owner.mutation(api.businesses.create, { name: "Olive's Cleaning", type: "home_services", timeZone: "America/New_York", currency: "USD" });
    expect((await owner.query(api.businesses.settings, { businessId })).status).toBe("PENDING");
    // The owner's screens work meanwhile (settings here), and there is only one business per owner.
    await owner.mutation(api.businesses.updateSettings, { businessId, name: "Olive's Home Cleaning" });
    await expectAppError(owner.mutation(api.businesses.create, { name: "Second", type: "salon", timeZone: "UTC", currency: "USD" }), "ALREADY_EXISTS");
    const me = await owner.query(api.users.me, {});
    expect(me?.memberships).toEqual([{ businessId, role: "owner", resourceId: undefined }]);

    const admin = await aPlatformAdmin(t);
    await admin.as.mutation(api.businesses.verify, { businessId });
    expect((await owner.query(api.businesses.settings, { businessId })).status).toBe("ACTIVE");
  });

  test("an invited person creates their account and accepts the invitation with it", async () => {
    const t = accounts();
    const { businessId, owner } = await aBusiness(t, { name: "Sparkle" });
    await owner.as.mutation(api.invites.create, { businessId, email: "nia@example.com", role: "staff" });
    const mail = (await mailsTo(t, "nia@example.com", "staff_invite")).at(-1);
    const token = /\/invite\/([A-Za-z0-9_-]+)/.exec(mail?.body ?? "")?.[1];
    expect(token).toBeTruthy();

    const nia = as(t, (await signedUp(t, "nia@example.com", "Nia Staff")).token);
    await nia.mutation(api.users.store, {});
    expect(await nia.mutation(api.invites.accept, { token: token! })).toEqual({ businessId, role: "staff" });
    expect((await nia.query(api.users.me, {}))?.memberships).toMatchObject([{ businessId, role: "staff" }]);
  });
});

describe("the front door: sign-in tickets per client address", () => {
  /** Every flow that needs a ticket, for an account that exists and has codes out. */
  async function flows(t: TestConvex) {
    await signedUp(t, "held@example.com");
    await signIn(t, "password", { flow: "reset", email: "held@example.com" });
    await signIn(t, "email-code", { email: "held@example.com" });
    const resetCode = await codeMailedTo(t, "held@example.com", "account_reset_code");
    const signInCode = await codeMailedTo(t, "held@example.com", "account_sign_in_code");
    return [
      ["password", { flow: "signUp", email: "fresh@example.com", password: PASSWORD }],
      ["password", { flow: "signIn", email: "held@example.com", password: PASSWORD }],
      ["password", { flow: "signIn", email: "held@example.com", password: "a wrong password 1" }],
      ["password", { flow: "reset", email: "held@example.com" }],
      ["password", { flow: "reset-verification", email: "held@example.com", code: resetCode, newPassword: "a new password 77" }],
      ["password", { flow: "email-verification", email: "held@example.com", code: "123456" }],
      ["email-code", { email: "held@example.com" }],
      ["email-code", { email: "held@example.com", code: signInCode }],
      ["email-code", { email: "fresh@example.com" }],
    ] as const;
  }

  test("every sign-in, sign-up, reset, code email and code needs a ticket; without one nothing is written", async () => {
    const t = accounts();
    const all = await flows(t);
    for (const [provider, params] of all) {
      const before = await accountState(t);
      const refused = await expectAppError(call(t, provider, { ...params, ticket: undefined }), "INVALID_ARGUMENT", "ticket");
      expect(refused.message).toMatch(/sign-in ticket is required/);
      expect(await accountState(t)).toEqual(before);
    }
    // With tickets the same calls go through (the right password signs in, the codes work).
    const [, rightPassword] = all;
    expect((await signIn(t, ...rightPassword)).tokens?.token).toBeTruthy();
  });

  test("a forged, expired, reused or other-purpose ticket is refused and nothing is written", async () => {
    const t = accounts();
    await signedUp(t, "tix@example.com");
    const attempt = { flow: "signIn", email: "tix@example.com", password: PASSWORD };

    const refusedWith = async (ticket: unknown, code: string, pattern: RegExp) => {
      const before = await accountState(t);
      const data = await expectAppError(call(t, "password", { ...attempt, ticket }), code, "ticket");
      expect(data.message).toMatch(pattern);
      expect(await accountState(t)).toEqual(before);
    };

    const good = await ticketFor(t, "sign-in");
    const [payload, signature] = good.split(".");
    // Another deployment's key; a payload changed under the signature; garbage.
    await refusedWith((await signTicket("sign-in", Date.now(), "another-deployment-secret-0123456789")).ticket, "INVALID_ARGUMENT", /not valid/);
    const altered = btoa(JSON.stringify({ id: "x".repeat(22), p: "sign-in", exp: Date.now() + 3_600_000 })).replace(/=+$/, "");
    await refusedWith(`${altered}.${signature}`, "INVALID_ARGUMENT", /not valid/);
    await refusedWith(`${payload}.${signature}x`, "INVALID_ARGUMENT", /not valid/);
    await refusedWith("not-a-ticket", "INVALID_ARGUMENT", /not valid/);
    await refusedWith(42, "INVALID_ARGUMENT", /not valid/);
    // A code-email ticket does not sign in.
    await refusedWith(await ticketFor(t, "send-code"), "INVALID_ARGUMENT", /for sending a code/);

    // Used once (the sign-in succeeds), then refused.
    expect((await signIn(t, "password", { ...attempt, ticket: good })).tokens?.token).toBeTruthy();
    await refusedWith(good, "CONFLICT", /already used/);

    // Expired: two minutes after it was issued.
    vi.useFakeTimers({ toFake: ["Date"] });
    const late = await ticketFor(t, "sign-in");
    vi.setSystemTime(Date.now() + SIGN_IN_TICKET_TTL_MS + 1_000);
    await refusedWith(late, "EXPIRED", /expired/);
  });

  test(`${SIGN_IN_ATTEMPTS_PER_CLIENT.rate} sign-in tickets per client address per 10 minutes: the next is 429 with the wait; another address still gets one`, async () => {
    const t = accounts();
    for (let i = 0; i < SIGN_IN_ATTEMPTS_PER_CLIENT.rate; i++) await ticketFor(t, "sign-in", "198.51.100.1");
    const refused = await askTicket(t, "sign-in", { "X-Forwarded-For": "198.51.100.1" });
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get("Retry-After"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(10 * 60);
    const body = (await refused.json()) as { error: { code: string; message: string; retryAfterMs: number } };
    expect(body.error.code).toBe("RATE_LIMITED");
    expect(body.error.message).toMatch(/^Too many sign-in attempts from your network: at most 20 in 10 minutes\. Try again in \d+ (minutes|seconds)\.$/);
    expect(Math.ceil(body.error.retryAfterMs / 1000)).toBe(retryAfter);

    // Another address is not affected, and neither are code emails from the first one.
    const other = await ticketFor(t, "sign-in", "198.51.100.2");
    await ticketFor(t, "send-code", "198.51.100.1");
    // The other address's ticket signs in as usual.
    await signedUp(t, "door@example.com");
    expect((await signIn(t, "password", { flow: "signIn", email: "door@example.com", password: PASSWORD, ticket: other })).tokens?.token).toBeTruthy();

    // When the window is over, the first address gets tickets again.
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + SIGN_IN_ATTEMPTS_PER_CLIENT.periodMs + 1_000);
    await ticketFor(t, "sign-in", "198.51.100.1");
  });

  test(`sign-ups and code emails are stricter: ${CODE_EMAILS_PER_CLIENT.rate} per client address per hour`, async () => {
    const t = accounts();
    for (let i = 0; i < CODE_EMAILS_PER_CLIENT.rate; i++) await ticketFor(t, "send-code", "192.0.2.50");
    const refused = await askTicket(t, "send-code", { "X-Forwarded-For": "192.0.2.50" });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/^Too many sign-ups and code emails from your network: at most 10 an hour\. Try again in /);
    await ticketFor(t, "sign-in", "192.0.2.50");
    await ticketFor(t, "send-code", "192.0.2.51");
  });

  test("the client address is the last hop of X-Forwarded-For: what the client puts before it does not matter", async () => {
    const t = accounts();
    // The proxy appends the peer (198.51.100.9); the client varies what comes before it.
    for (let i = 0; i < SIGN_IN_ATTEMPTS_PER_CLIENT.rate; i++) {
      expect((await askTicket(t, "sign-in", { "X-Forwarded-For": `10.0.0.${i}, 198.51.100.9` })).status).toBe(200);
    }
    expect((await askTicket(t, "sign-in", { "X-Forwarded-For": "10.9.9.9,198.51.100.9" })).status).toBe(429);
    expect((await askTicket(t, "sign-in", { "X-Forwarded-For": "198.51.100.9" })).status).toBe(429);
    // Claiming to be 198.51.100.9 from another peer is another address.
    expect((await askTicket(t, "sign-in", { "X-Forwarded-For": "198.51.100.9, 203.0.113.99" })).status).toBe(200);
    // X-Real-IP when there is no X-Forwarded-For.
    expect((await askTicket(t, "sign-in", { "X-Real-IP": "198.51.100.9" })).status).toBe(429);
  });

  test("a bad request names the purpose; the portal's origin gets CORS, others do not", async () => {
    const t = accounts();
    for (const body of ["{}", '{"purpose":"everything"}', "not json"]) {
      const response = await t.fetch("/auth/ticket", { method: "POST", headers: { "Content-Type": "application/json" }, body });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { param: string } }).error.param).toBe("purpose");
    }
    const portal = await askTicket(t, "sign-in", { Origin: ACCOUNT_ENV.SITE_URL });
    expect(portal.headers.get("Access-Control-Allow-Origin")).toBe(ACCOUNT_ENV.SITE_URL);
    const preflight = await t.fetch("/auth/ticket", { method: "OPTIONS", headers: { Origin: ACCOUNT_ENV.SITE_URL, "Access-Control-Request-Method": "POST" } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("Access-Control-Allow-Methods")).toBe("POST");
    const elsewhere = await askTicket(t, "sign-in", { Origin: "https://evil.example" });
    expect(elsewhere.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });

  test("a code cannot be redeemed around the front door (signIn without a provider)", async () => {
    const t = accounts();
    await signIn(t, "email-code", { email: "around@example.com" });
    const code = await codeMailedTo(t, "around@example.com", "account_sign_in_code");
    const around = (await t.action(api.auth.signIn, { params: { code } })) as SignInResult;
    expect(around.tokens ?? null).toBeNull();
    // The code still works through the door.
    expect((await signIn(t, "email-code", { email: "around@example.com", code })).tokens?.token).toBeTruthy();
  });

  test("code emails are in the log with their delivery status, the code masked", async () => {
    const t = accounts();
    await signIn(t, "password", { flow: "signUp", email: "masked@example.com", password: PASSWORD });
    const [mail] = await mailsTo(t, "masked@example.com", "account_verify_code");
    const code = await codeMailedTo(t, "masked@example.com");
    expect(mail.subject).toBe(`Your verification code: ${SECRET_MASK}`);
    expect(mail.body).not.toContain(code);
    expect(mail.subject).not.toContain(code);
    expect(mail.hidesSecret).toBe(true);
    expect(["queued", "sending", "failed"]).toContain(mail.status);
  });
});
