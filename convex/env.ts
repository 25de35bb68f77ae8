/**
 * Every environment variable the Convex functions read, in one place, validated on read.
 *
 * Values are read lazily (when a function needs them), so a deployment that does not use a
 * feature does not need its variables, and a missing or malformed required one fails with a
 * message naming the variable and how to set it. A missing variable is a server
 * configuration problem that no client can act on, so it is a plain `EnvError`, not an
 * `appError`.
 *
 * | variable                   | required | used by                                        |
 * | -------------------------- | -------- | ---------------------------------------------- |
 * | LOCAL_AUTH_ISSUER          | with LOCAL_AUTH_JWKS | auth.config.ts (customJwt issuer)  |
 * | LOCAL_AUTH_JWKS            | no       | auth.config.ts (data: URI with the public JWKS) |
 * | LOCAL_AUTH_APPLICATION_ID  | no       | auth.config.ts (expected `aud`)                |
 * | CLERK_JWT_ISSUER_DOMAIN    | no       | auth.config.ts (Clerk provider)                |
 * | JWT_PRIVATE_KEY            | with JWKS | Convex Auth: signs access tokens (RS256 PKCS#8 PEM, newlines as spaces) |
 * | JWKS                       | no       | Convex Auth: the public key set; set = accounts (auth.ts) on |
 * | SITE_URL                   | with JWKS | Convex Auth: the portal's origin (OAuth redirects) |
 * | AUTH_GOOGLE_ID             | no       | Convex Auth: Google sign-in (with AUTH_GOOGLE_SECRET) |
 * | AUTH_GOOGLE_SECRET         | with AUTH_GOOGLE_ID | Convex Auth: Google OAuth client secret |
 * | AUTH_TICKET_SECRET         | with JWKS | HMAC key of the sign-in tickets of the front door (authTickets.ts) |
 * | CONVEX_SITE_URL            | built in | Convex Auth's issuer (set by Convex and by the local backend) |
 * | PARTYKIT_URL               | yes      | outbox delivery to PartyKit                    |
 * | PARTYKIT_PUSH_SECRET       | yes      | HMAC of pushes to PartyKit                     |
 * | STRIPE_SECRET_KEY          | no       | Stripe API calls (absent = local test payments) |
 * | STRIPE_WEBHOOK_SECRET      | yes      | Stripe webhook signature check                 |
 * | DEMO_API_KEY               | no       | demo seeding of a REST API key                 |
 * | PORTAL_URL                 | yes      | links in notifications                         |
 * | SMTP_URL                   | for email | notification email (smtp://user:pass@host:587, smtps://…:465) |
 * | SMTP_FROM                  | with SMTP_URL | sender of notification email ("Name <addr>") |
 * | TWILIO_ACCOUNT_SID         | for SMS/WhatsApp | Twilio account (AC…)                   |
 * | TWILIO_AUTH_TOKEN          | with TWILIO_ACCOUNT_SID | Twilio auth token               |
 * | TWILIO_SMS_FROM            | for SMS via Twilio | sender number (+E.164) or MG… service |
 * | TWILIO_WHATSAPP_FROM       | for WhatsApp via Twilio | WhatsApp sender (+E.164)        |
 * | TWILIO_API_URL             | no       | Twilio API origin (default https://api.twilio.com) |
 * | TEXT_MESSAGE_INBOX         | no       | "smtp": without Twilio, SMS/WhatsApp are mailed to the local SMTP catcher |
 * | ASSISTANT_BASE_URL         | for the chat | OpenAI-compatible API base (https://api.groq.com/openai/v1, http://127.0.0.1:11434/v1) |
 * | ASSISTANT_MODEL            | with ASSISTANT_BASE_URL | model id at that endpoint            |
 * | ASSISTANT_API_KEY          | no       | bearer key for that endpoint                   |
 */
import type { AuthConfig } from "convex/server";

export const ENV_VARS = [
  "LOCAL_AUTH_ISSUER",
  "LOCAL_AUTH_JWKS",
  "LOCAL_AUTH_APPLICATION_ID",
  "CLERK_JWT_ISSUER_DOMAIN",
  "JWT_PRIVATE_KEY",
  "JWKS",
  "SITE_URL",
  "AUTH_GOOGLE_ID",
  "AUTH_GOOGLE_SECRET",
  "AUTH_TICKET_SECRET",
  "CONVEX_SITE_URL",
  "PARTYKIT_URL",
  "PARTYKIT_PUSH_SECRET",
  "STRIPE_SECRET_KEY",
  "STRIPE_WEBHOOK_SECRET",
  "DEMO_API_KEY",
  "PORTAL_URL",
  "SMTP_URL",
  "SMTP_FROM",
  "TWILIO_ACCOUNT_SID",
  "TWILIO_AUTH_TOKEN",
  "TWILIO_SMS_FROM",
  "TWILIO_WHATSAPP_FROM",
  "TWILIO_API_URL",
  "TEXT_MESSAGE_INBOX",
  "ASSISTANT_BASE_URL",
  "ASSISTANT_MODEL",
  "ASSISTANT_API_KEY",
] as const;
export type EnvVar = (typeof ENV_VARS)[number];

export class EnvError extends Error {
  constructor(
    readonly variable: EnvVar,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = "EnvError";
  }
}

type Source = Record<string, string | undefined>;

function processEnv(): Source {
  // This module is the one place that reads the environment (conventions: convex-saas's
  // env.ts); the rest of convex/ calls the validated readers below.
  // eslint-disable-next-line @convex-dev/no-process-env
  return typeof process === "undefined" ? {} : process.env;
}

function raw(name: EnvVar, source: Source): string | undefined {
  const value = source[name];
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  return trimmed === "" ? undefined : trimmed;
}

function missing(name: EnvVar): EnvError {
  return new EnvError(
    name,
    `required but not set. Locally it is generated into the git-ignored env file by \`npm start\`; ` +
      `on a Convex deployment run \`npx convex env set ${name} <value>\`.`,
  );
}

/** Validates an absolute http(s) URL; returns it unchanged (issuers must match `iss` exactly). */
function httpUrl(name: EnvVar, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new EnvError(name, `must be an absolute http(s) URL, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new EnvError(name, `must be an http(s) URL, got ${JSON.stringify(value)}`);
  }
  return value;
}

function baseUrl(name: EnvVar, value: string): string {
  return httpUrl(name, value).replace(/\/+$/, "");
}

function secret(name: EnvVar, value: string, minLength = 16): string {
  if (value.length < minLength) throw new EnvError(name, `must be at least ${minLength} characters long`);
  return value;
}

/** Readers, one per variable. Each throws an `EnvError` naming the variable when invalid. */
export const env = {
  localAuthIssuer(source: Source = processEnv()): string | undefined {
    const value = raw("LOCAL_AUTH_ISSUER", source);
    return value === undefined ? undefined : httpUrl("LOCAL_AUTH_ISSUER", value);
  },
  localAuthJwks(source: Source = processEnv()): string | undefined {
    const value = raw("LOCAL_AUTH_JWKS", source);
    if (value === undefined) return undefined;
    if (!value.startsWith("data:")) {
      throw new EnvError("LOCAL_AUTH_JWKS", "must be a data: URI holding the JWKS JSON (data:text/plain;charset=utf-8;base64,...)");
    }
    return value;
  },
  localAuthApplicationId(source: Source = processEnv()): string | undefined {
    return raw("LOCAL_AUTH_APPLICATION_ID", source);
  },
  clerkIssuerDomain(source: Source = processEnv()): string | undefined {
    const value = raw("CLERK_JWT_ISSUER_DOMAIN", source);
    return value === undefined ? undefined : httpUrl("CLERK_JWT_ISSUER_DOMAIN", value);
  },
  /**
   * Convex Auth's public key set (JSON `{"keys":[…]}`), or undefined when accounts are off.
   * Its presence switches Convex Auth on: auth.config.ts trusts the deployment's own tokens.
   */
  convexAuthJwks(source: Source = processEnv()): string | undefined {
    const value = raw("JWKS", source);
    if (value === undefined) return undefined;
    let keys: unknown;
    try {
      keys = (JSON.parse(value) as { keys?: unknown }).keys;
    } catch {
      throw new EnvError("JWKS", 'must be JSON like {"keys":[{…}]} (scripts/env.ts generates it)');
    }
    if (!Array.isArray(keys) || keys.length === 0) throw new EnvError("JWKS", "has no keys");
    if (raw("JWT_PRIVATE_KEY", source) === undefined) throw missing("JWT_PRIVATE_KEY");
    return value;
  },
  /** The deployment's HTTP actions origin: Convex Auth's token issuer. Built in (Convex, local backend). */
  convexSiteUrl(source: Source = processEnv()): string | undefined {
    const value = raw("CONVEX_SITE_URL", source);
    return value === undefined ? undefined : baseUrl("CONVEX_SITE_URL", value);
  },
  /** Google sign-in, when both its client id and secret are set. */
  googleAuth(source: Source = processEnv()): { clientId: string; clientSecret: string } | undefined {
    const clientId = raw("AUTH_GOOGLE_ID", source);
    if (clientId === undefined) return undefined;
    const clientSecret = raw("AUTH_GOOGLE_SECRET", source);
    if (clientSecret === undefined) throw missing("AUTH_GOOGLE_SECRET");
    return { clientId, clientSecret };
  },
  /**
   * The key sign-in tickets are signed with (HMAC-SHA256, authTickets.ts): the accounts' front
   * door issues them and every abusable `auth:signIn` flow requires one. Required once JWKS is
   * set (accounts on); undefined while accounts are off.
   */
  authTicketSecret(source: Source = processEnv()): string | undefined {
    const value = raw("AUTH_TICKET_SECRET", source);
    if (value === undefined) {
      if (raw("JWKS", source) !== undefined) throw missing("AUTH_TICKET_SECRET");
      return undefined;
    }
    return secret("AUTH_TICKET_SECRET", value, 32);
  },
  /** The portal's origin (Convex Auth's SITE_URL): the one origin the front door answers (CORS). */
  siteUrl(source: Source = processEnv()): string | undefined {
    const value = raw("SITE_URL", source);
    return value === undefined ? undefined : baseUrl("SITE_URL", value);
  },
  partykitUrl(source: Source = processEnv()): string {
    const value = raw("PARTYKIT_URL", source);
    if (value === undefined) throw missing("PARTYKIT_URL");
    return baseUrl("PARTYKIT_URL", value);
  },
  partykitPushSecret(source: Source = processEnv()): string {
    const value = raw("PARTYKIT_PUSH_SECRET", source);
    if (value === undefined) throw missing("PARTYKIT_PUSH_SECRET");
    return secret("PARTYKIT_PUSH_SECRET", value);
  },
  /** Absent = no Stripe account configured: payments run through the local test provider. */
  stripeSecretKey(source: Source = processEnv()): string | undefined {
    const value = raw("STRIPE_SECRET_KEY", source);
    if (value === undefined) return undefined;
    if (!/^(sk|rk)_(test|live)_/.test(value)) {
      throw new EnvError("STRIPE_SECRET_KEY", "must be a Stripe secret or restricted key (sk_test_…, sk_live_…, rk_…)");
    }
    return value;
  },
  stripeWebhookSecret(source: Source = processEnv()): string {
    const value = raw("STRIPE_WEBHOOK_SECRET", source);
    if (value === undefined) throw missing("STRIPE_WEBHOOK_SECRET");
    if (!value.startsWith("whsec_")) throw new EnvError("STRIPE_WEBHOOK_SECRET", "must be a Stripe signing secret (whsec_…)");
    return secret("STRIPE_WEBHOOK_SECRET", value, 12);
  },
  demoApiKey(source: Source = processEnv()): string | undefined {
    const value = raw("DEMO_API_KEY", source);
    if (value === undefined) return undefined;
    return secret("DEMO_API_KEY", value, 16);
  },
  portalUrl(source: Source = processEnv()): string {
    const value = raw("PORTAL_URL", source);
    if (value === undefined) throw missing("PORTAL_URL");
    return baseUrl("PORTAL_URL", value);
  },
  /** Absent = email cannot be sent (notifications by email fail saying so). */
  smtpUrl(source: Source = processEnv()): string | undefined {
    const value = raw("SMTP_URL", source);
    if (value === undefined) return undefined;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new EnvError("SMTP_URL", "must be a URL like smtp://user:password@smtp.example.com:587 or smtps://…:465");
    }
    if (url.protocol !== "smtp:" && url.protocol !== "smtps:") {
      throw new EnvError("SMTP_URL", `must start with smtp:// or smtps://, got ${url.protocol}//`);
    }
    if (url.hostname === "") throw new EnvError("SMTP_URL", "names no host");
    return value;
  },
  /** The sender of notification email; required once SMTP_URL is set. */
  smtpFrom(source: Source = processEnv()): string | undefined {
    const value = raw("SMTP_FROM", source);
    if (value === undefined) {
      if (raw("SMTP_URL", source) !== undefined) throw missing("SMTP_FROM");
      return undefined;
    }
    if (!/^[^<>@\s]+@[^<>@\s]+$|<[^<>@\s]+@[^<>@\s]+>$/.test(value)) {
      throw new EnvError("SMTP_FROM", `must be an address or "Name <address>", got ${JSON.stringify(value)}`);
    }
    return value;
  },
  /** Twilio credentials, or undefined when TWILIO_ACCOUNT_SID is not set (then no Twilio). */
  twilio(source: Source = processEnv()):
    | { accountSid: string; authToken: string; smsFrom: string | undefined; whatsappFrom: string | undefined; apiUrl: string }
    | undefined {
    const accountSid = raw("TWILIO_ACCOUNT_SID", source);
    if (accountSid === undefined) return undefined;
    if (!/^AC[0-9a-fA-F]{32}$/.test(accountSid)) throw new EnvError("TWILIO_ACCOUNT_SID", "must be a Twilio account SID (AC followed by 32 hex digits)");
    const authToken = raw("TWILIO_AUTH_TOKEN", source);
    if (authToken === undefined) throw missing("TWILIO_AUTH_TOKEN");
    const smsFrom = raw("TWILIO_SMS_FROM", source);
    if (smsFrom !== undefined && !/^(\+[1-9]\d{6,14}|MG[0-9a-fA-F]{32})$/.test(smsFrom)) {
      throw new EnvError("TWILIO_SMS_FROM", "must be a +E.164 phone number or a messaging service SID (MG…)");
    }
    const whatsappFrom = raw("TWILIO_WHATSAPP_FROM", source);
    if (whatsappFrom !== undefined && !/^\+[1-9]\d{6,14}$/.test(whatsappFrom)) {
      throw new EnvError("TWILIO_WHATSAPP_FROM", "must be a +E.164 phone number (the WhatsApp sender)");
    }
    const apiValue = raw("TWILIO_API_URL", source);
    const apiUrl = apiValue === undefined ? "https://api.twilio.com" : baseUrl("TWILIO_API_URL", apiValue);
    return { accountSid, authToken, smsFrom, whatsappFrom, apiUrl };
  },
  /** "smtp": without Twilio, text messages go to the SMTP catcher (local development only). */
  textMessageInbox(source: Source = processEnv()): "smtp" | undefined {
    const value = raw("TEXT_MESSAGE_INBOX", source);
    if (value === undefined) return undefined;
    if (value !== "smtp") throw new EnvError("TEXT_MESSAGE_INBOX", `must be "smtp" (or unset), got ${JSON.stringify(value)}`);
    return value;
  },
  /** The staff assistant's chat model (any OpenAI-compatible endpoint), or undefined when not configured. */
  assistantModel(source: Source = processEnv()): { baseUrl: string; model: string; apiKey: string | undefined } | undefined {
    const value = raw("ASSISTANT_BASE_URL", source);
    if (value === undefined) return undefined;
    const model = raw("ASSISTANT_MODEL", source);
    if (model === undefined) throw missing("ASSISTANT_MODEL");
    return { baseUrl: baseUrl("ASSISTANT_BASE_URL", value), model, apiKey: raw("ASSISTANT_API_KEY", source) };
  },
};

/**
 * Checks every variable at once and lists every problem (for a start-up check or a
 * diagnostics page); an empty list means the configuration is complete.
 */
export function envProblems(source: Source = processEnv()): string[] {
  const problems: string[] = [];
  for (const read of Object.values(env)) {
    try {
      read(source);
    } catch (error) {
      if (error instanceof EnvError) problems.push(error.message);
      else throw error;
    }
  }
  try {
    authProviders(source);
  } catch (error) {
    if (error instanceof EnvError) problems.push(error.message);
    else throw error;
  }
  return [...new Set(problems)];
}

/**
 * The JWT issuers Convex accepts: the local sign-in (customJwt, ES256, JWKS inlined as a
 * data: URI) when LOCAL_AUTH_JWKS is set, Clerk when CLERK_JWT_ISSUER_DOMAIN is set, and the
 * deployment's own Convex Auth (OIDC at CONVEX_SITE_URL) when JWKS is set.
 */
export function authProviders(source: Source = processEnv()): AuthConfig["providers"] {
  const providers: AuthConfig["providers"] = [];
  const jwks = env.localAuthJwks(source);
  if (jwks !== undefined) {
    const issuer = env.localAuthIssuer(source);
    if (issuer === undefined) throw missing("LOCAL_AUTH_ISSUER");
    const applicationID = env.localAuthApplicationId(source);
    if (applicationID === undefined) {
      throw new EnvError(
        "LOCAL_AUTH_APPLICATION_ID",
        "required when LOCAL_AUTH_JWKS is set: tokens must name this application in their audience",
      );
    }
    providers.push({ type: "customJwt", issuer, jwks, algorithm: "ES256", applicationID });
  }
  const clerkDomain = env.clerkIssuerDomain(source);
  if (clerkDomain !== undefined) providers.push({ domain: clerkDomain, applicationID: "convex" });
  // Convex Auth (auth.ts): the deployment issues its own tokens; Convex finds the keys by OIDC
  // discovery at its own HTTP actions site (auth.addHttpRoutes serves them).
  if (env.convexAuthJwks(source) !== undefined) {
    const site = env.convexSiteUrl(source);
    if (site !== undefined) providers.push({ domain: site, applicationID: "convex" });
  }
  return providers;
}
