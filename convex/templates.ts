/**
 * Message templates: stored in the database per business (overrides) and per platform
 * (defaults, `businessId` absent), per template key, channel and locale, with built-in
 * defaults in code as the last fallback so a fresh deployment can always notify.
 *
 * Resolution for (business, key, channel, locale): for each locale of the fallback chain
 * (exact "fr-CA", its language "fr", the business's locale and language, then "en"), the
 * business's active template, else the platform's active template, else the built-in one.
 *
 * Bodies use {{placeholders}}; each key allows a known set (`TEMPLATE_PLACEHOLDERS`), checked
 * when a template is saved. `renderTemplate` is pure.
 */
import { v, type Infer } from "convex/values";
import type { Doc, Id } from "./_generated/dataModel";
import { requireBusinessRole, requireDocRole, requirePlatformAdmin } from "./access";
import { appError } from "./errors";
import type { MutationCtx as RawMutationCtx, QueryCtx as RawQueryCtx } from "./_generated/server";
import { internalMutation, mutation, query } from "./functions";
import { invalid, optionalText, requireLocale, requireText } from "./model/validation";
import { templateKeys, vChannel, vTemplateKey } from "./schema";

export type TemplateKey = Infer<typeof vTemplateKey>;
export type Channel = Infer<typeof vChannel>;

// ---------------------------------------------------------------------------------------
// Placeholders and rendering (pure)
// ---------------------------------------------------------------------------------------

const BOOKING_VARS = ["customerName", "businessName", "serviceName", "bookingDate", "bookingTime", "totalAmount", "manageUrl"] as const;

export const TEMPLATE_PLACEHOLDERS: Record<TemplateKey, readonly string[]> = {
  booking_confirmed: BOOKING_VARS,
  reminder_24h: BOOKING_VARS,
  reminder_2h: BOOKING_VARS,
  booking_rescheduled: [...BOOKING_VARS, "previousDate", "previousTime"],
  booking_cancelled: [...BOOKING_VARS, "cancellationFee"],
  payment_receipt: [...BOOKING_VARS, "amountPaid", "invoiceNumber"],
  refund_receipt: [...BOOKING_VARS, "amountRefunded", "invoiceNumber"],
  payment_failed: [...BOOKING_VARS, "amountDue"],
  review_request: [...BOOKING_VARS, "reviewUrl"],
  provider_en_route: [...BOOKING_VARS, "providerName"],
};

const PLACEHOLDER = /\{\{\s*([A-Za-z][A-Za-z0-9_]*)\s*\}\}/g;

/** The placeholder names a text uses, in order of first use. */
export function placeholdersOf(text: string): string[] {
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1]))];
}

/**
 * Replaces every {{name}} with `vars[name]`. Placeholders without a value render as the
 * empty string and are reported in `missing`, so the caller decides whether to send.
 */
export function renderTemplate(text: string, vars: Record<string, string | undefined>): { text: string; missing: string[] } {
  const missing = new Set<string>();
  const rendered = text.replace(PLACEHOLDER, (_, name: string) => {
    const value = Object.prototype.hasOwnProperty.call(vars, name) ? vars[name] : undefined;
    if (value === undefined) {
      missing.add(name);
      return "";
    }
    return value;
  });
  return { text: rendered, missing: [...missing] };
}

/** Throws INVALID_ARGUMENT naming `param` when the text uses a placeholder the key does not offer. */
export function requireKnownPlaceholders(key: TemplateKey, text: string, param: string) {
  const allowed = TEMPLATE_PLACEHOLDERS[key];
  const unknown = placeholdersOf(text).filter((name) => !allowed.includes(name));
  if (unknown.length > 0) {
    throw invalid(param, `Unknown placeholder ${unknown.map((u) => `{{${u}}}`).join(", ")} for ${key}; allowed: ${allowed.join(", ")}.`);
  }
  const unbalanced = text.replace(PLACEHOLDER, "");
  if (unbalanced.includes("{{") || unbalanced.includes("}}")) throw invalid(param, `${param} has an unclosed {{placeholder}}.`);
}

// ---------------------------------------------------------------------------------------
// Built-in defaults
// ---------------------------------------------------------------------------------------

type BuiltIn = { subject: string; body: string; short: string };

export const BUILT_IN_TEMPLATES: Record<string, Partial<Record<TemplateKey, BuiltIn>>> = {
  en: {
    booking_confirmed: {
      subject: "Your booking with {{businessName}} is confirmed",
      body: "Hi {{customerName}},\n\nYour {{serviceName}} on {{bookingDate}} at {{bookingTime}} is confirmed. Total: {{totalAmount}}.\n\nManage your booking: {{manageUrl}}\n\n{{businessName}}",
      short: "{{businessName}}: your {{serviceName}} on {{bookingDate}} at {{bookingTime}} is confirmed. Manage: {{manageUrl}}",
    },
    reminder_24h: {
      subject: "Reminder: {{serviceName}} tomorrow at {{bookingTime}}",
      body: "Hi {{customerName}},\n\nA reminder that your {{serviceName}} with {{businessName}} is on {{bookingDate}} at {{bookingTime}}.\n\nNeed to change it? {{manageUrl}}",
      short: "Reminder from {{businessName}}: {{serviceName}} on {{bookingDate}} at {{bookingTime}}. Manage: {{manageUrl}}",
    },
    reminder_2h: {
      subject: "See you soon: {{serviceName}} at {{bookingTime}}",
      body: "Hi {{customerName}},\n\nYour {{serviceName}} with {{businessName}} starts at {{bookingTime}} today.\n\n{{manageUrl}}",
      short: "{{businessName}}: your {{serviceName}} starts at {{bookingTime}} today.",
    },
    booking_rescheduled: {
      subject: "Your booking with {{businessName}} was moved",
      body: "Hi {{customerName}},\n\nYour {{serviceName}} is now on {{bookingDate}} at {{bookingTime}}.\n\n{{manageUrl}}",
      short: "{{businessName}}: your {{serviceName}} is now on {{bookingDate}} at {{bookingTime}}.",
    },
    booking_cancelled: {
      subject: "Your booking with {{businessName}} was cancelled",
      body: "Hi {{customerName}},\n\nYour {{serviceName}} on {{bookingDate}} at {{bookingTime}} was cancelled. Cancellation fee: {{cancellationFee}}.\n\n{{businessName}}",
      short: "{{businessName}}: your {{serviceName}} on {{bookingDate}} was cancelled. Fee: {{cancellationFee}}.",
    },
    payment_receipt: {
      subject: "Receipt {{invoiceNumber}} from {{businessName}}",
      body: "Hi {{customerName}},\n\nWe received {{amountPaid}} for your {{serviceName}} on {{bookingDate}} (invoice {{invoiceNumber}}).\n\n{{manageUrl}}",
      short: "{{businessName}}: payment of {{amountPaid}} received (invoice {{invoiceNumber}}).",
    },
    refund_receipt: {
      subject: "Refund on invoice {{invoiceNumber}} from {{businessName}}",
      body: "Hi {{customerName}},\n\nWe refunded {{amountRefunded}} for your {{serviceName}} on {{bookingDate}} (invoice {{invoiceNumber}}). Depending on your bank it can take 5–10 days to appear on your statement.\n\n{{manageUrl}}",
      short: "{{businessName}}: {{amountRefunded}} refunded (invoice {{invoiceNumber}}).",
    },
    payment_failed: {
      subject: "Payment for your booking with {{businessName}} failed",
      body: "Hi {{customerName}},\n\nWe could not collect {{amountDue}} for your {{serviceName}} on {{bookingDate}}. Please update your payment: {{manageUrl}}",
      short: "{{businessName}}: payment of {{amountDue}} failed. Update it: {{manageUrl}}",
    },
    review_request: {
      subject: "How was your {{serviceName}}?",
      body: "Hi {{customerName}},\n\nThank you for choosing {{businessName}}. Tell us how it went: {{reviewUrl}}",
      short: "{{businessName}}: how was your {{serviceName}}? {{reviewUrl}}",
    },
    provider_en_route: {
      subject: "{{providerName}} is on the way",
      body: "Hi {{customerName}},\n\n{{providerName}} from {{businessName}} is on the way for your {{serviceName}}.\n\n{{manageUrl}}",
      short: "{{businessName}}: {{providerName}} is on the way.",
    },
  },
  fr: {
    booking_confirmed: {
      subject: "Votre réservation chez {{businessName}} est confirmée",
      body: "Bonjour {{customerName}},\n\nVotre {{serviceName}} du {{bookingDate}} à {{bookingTime}} est confirmé. Total : {{totalAmount}}.\n\nGérer votre réservation : {{manageUrl}}\n\n{{businessName}}",
      short: "{{businessName}} : votre {{serviceName}} du {{bookingDate}} à {{bookingTime}} est confirmé. {{manageUrl}}",
    },
    reminder_24h: {
      subject: "Rappel : {{serviceName}} demain à {{bookingTime}}",
      body: "Bonjour {{customerName}},\n\nPetit rappel : votre {{serviceName}} avec {{businessName}} a lieu le {{bookingDate}} à {{bookingTime}}.\n\n{{manageUrl}}",
      short: "Rappel {{businessName}} : {{serviceName}} le {{bookingDate}} à {{bookingTime}}. {{manageUrl}}",
    },
    reminder_2h: {
      subject: "À bientôt : {{serviceName}} à {{bookingTime}}",
      body: "Bonjour {{customerName}},\n\nVotre {{serviceName}} avec {{businessName}} commence aujourd'hui à {{bookingTime}}.\n\n{{manageUrl}}",
      short: "{{businessName}} : votre {{serviceName}} commence à {{bookingTime}} aujourd'hui.",
    },
    booking_cancelled: {
      subject: "Votre réservation chez {{businessName}} est annulée",
      body: "Bonjour {{customerName}},\n\nVotre {{serviceName}} du {{bookingDate}} à {{bookingTime}} est annulé. Frais d'annulation : {{cancellationFee}}.\n\n{{businessName}}",
      short: "{{businessName}} : votre {{serviceName}} du {{bookingDate}} est annulé. Frais : {{cancellationFee}}.",
    },
  },
};

export const BUILT_IN_LOCALES = Object.keys(BUILT_IN_TEMPLATES);

function builtIn(key: TemplateKey, channel: Channel, locale: string) {
  const entry = BUILT_IN_TEMPLATES[locale]?.[key];
  if (entry === undefined) return null;
  return channel === "email" ? { subject: entry.subject, body: entry.body } : { subject: undefined, body: entry.short };
}

// ---------------------------------------------------------------------------------------
// Resolution
// ---------------------------------------------------------------------------------------

/** "fr-CA", business "de-DE" → ["fr-CA", "fr", "de-DE", "de", "en"]. */
export function localeChain(locale: string, businessLocale: string): string[] {
  const chain: string[] = [];
  for (const l of [locale, businessLocale, "en"]) {
    for (const candidate of [l, l.split("-")[0]]) if (candidate && !chain.includes(candidate)) chain.push(candidate);
  }
  return chain;
}

export type ResolvedTemplate = {
  source: "business" | "platform" | "built_in";
  locale: string;
  subject: string | undefined;
  body: string;
  templateId?: Id<"messageTemplates">;
};

async function storedTemplate(ctx: Pick<RawQueryCtx, "db">, businessId: Id<"businesses"> | undefined, key: TemplateKey, channel: Channel, locale: string) {
  const row = await ctx.db
    .query("messageTemplates")
    .withIndex("by_businessId_and_key_and_channel_and_locale", (q) =>
      q.eq("businessId", businessId).eq("key", key).eq("channel", channel).eq("locale", locale),
    )
    .first();
  return row !== null && row.active ? row : null;
}

/** The template to use; null only when no locale of the chain has one anywhere. */
export async function resolveTemplate(
  ctx: Pick<RawQueryCtx, "db">,
  business: Doc<"businesses">,
  key: TemplateKey,
  channel: Channel,
  locale: string,
): Promise<ResolvedTemplate | null> {
  for (const l of localeChain(locale, business.locale)) {
    const own = await storedTemplate(ctx, business._id, key, channel, l);
    if (own) return { source: "business", locale: l, subject: own.subject, body: own.body, templateId: own._id };
    const platform = await storedTemplate(ctx, undefined, key, channel, l);
    if (platform) return { source: "platform", locale: l, subject: platform.subject, body: platform.body, templateId: platform._id };
    const fallback = builtIn(key, channel, l);
    if (fallback) return { source: "built_in", locale: l, ...fallback };
  }
  return null;
}

// ---------------------------------------------------------------------------------------
// Writes
// ---------------------------------------------------------------------------------------

const templateArgs = {
  key: vTemplateKey,
  channel: vChannel,
  locale: v.string(),
  subject: v.optional(v.string()),
  body: v.string(),
  active: v.optional(v.boolean()),
};

function validTemplate(args: { key: TemplateKey; channel: Channel; locale: string; subject?: string; body: string }) {
  const locale = requireLocale(args.locale);
  const body = requireText(args.body, "body", args.channel === "email" ? 20_000 : 1_600);
  requireKnownPlaceholders(args.key, body, "body");
  let subject: string | undefined;
  if (args.channel === "email") {
    subject = requireText(args.subject ?? "", "subject", 200);
    requireKnownPlaceholders(args.key, subject, "subject");
  } else if (optionalText(args.subject, "subject", 200) !== undefined) {
    throw invalid("subject", `A ${args.channel} message has no subject.`);
  }
  return { locale, body, subject };
}

async function upsertRow(
  ctx: Pick<RawMutationCtx, "db">,
  businessId: Id<"businesses"> | undefined,
  args: { key: TemplateKey; channel: Channel; locale: string; subject?: string; body: string; active?: boolean },
) {
  const { locale, body, subject } = validTemplate(args);
  const existing = await ctx.db
    .query("messageTemplates")
    .withIndex("by_businessId_and_key_and_channel_and_locale", (q) =>
      q.eq("businessId", businessId).eq("key", args.key).eq("channel", args.channel).eq("locale", locale),
    )
    .first();
  const fields = { key: args.key, channel: args.channel, locale, subject, body, active: args.active ?? true };
  if (existing !== null) {
    await ctx.db.patch("messageTemplates", existing._id, fields);
    return existing._id;
  }
  return await ctx.db.insert("messageTemplates", businessId === undefined ? fields : { businessId, ...fields });
}

/** A business's own version of a template (manager and up), replacing one of the same key/channel/locale. */
export const upsert = mutation({
  args: { businessId: v.id("businesses"), ...templateArgs },
  returns: v.id("messageTemplates"),
  handler: async (ctx, { businessId, ...args }) => {
    await requireBusinessRole(ctx, businessId, "manager");
    return await upsertRow(ctx, businessId, args);
  },
});

/** Removes a business override (the platform default applies again). */
export const remove = mutation({
  args: { templateId: v.id("messageTemplates") },
  returns: v.null(),
  handler: async (ctx, args) => {
    const row = await ctx.db.get("messageTemplates", args.templateId);
    if (row === null || row.businessId === undefined) throw appError("NOT_FOUND", "Template not found.", { param: "templateId" });
    await requireDocRole(ctx, { ...row, businessId: row.businessId }, "manager", "templateId", "Template not found.");
    await ctx.db.delete("messageTemplates", row._id);
    return null;
  },
});

/** Platform admin: the platform-wide default for a key/channel/locale. */
export const upsertPlatformDefault = mutation({
  args: templateArgs,
  returns: v.id("messageTemplates"),
  handler: async (ctx, args) => {
    requirePlatformAdmin(ctx);
    return await upsertRow(ctx, undefined, args);
  },
});

/** Writes the built-in defaults as platform templates where none exists (demo seeding). */
export const seedPlatformDefaults = internalMutation({
  args: {},
  returns: v.number(),
  handler: async (ctx) => {
    let inserted = 0;
    for (const locale of BUILT_IN_LOCALES) {
      for (const key of templateKeys) {
        for (const channel of ["email", "sms", "whatsapp"] as const) {
          const template = builtIn(key, channel, locale);
          if (template === null) continue;
          const existing = await ctx.db
            .query("messageTemplates")
            .withIndex("by_businessId_and_key_and_channel_and_locale", (q) =>
              q.eq("businessId", undefined).eq("key", key).eq("channel", channel).eq("locale", locale),
            )
            .first();
          if (existing !== null) continue;
          await ctx.db.insert("messageTemplates", { key, channel, locale, subject: template.subject, body: template.body, active: true });
          inserted++;
        }
      }
    }
    return inserted;
  },
});

// ---------------------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------------------

/** The business's own templates (manager and up). */
export const list = query({
  args: { businessId: v.id("businesses") },
  handler: async (ctx, args) => {
    await requireBusinessRole(ctx, args.businessId, "manager");
    const rows = [];
    for (const key of templateKeys) {
      rows.push(
        ...(await ctx.db
          .query("messageTemplates")
          .withIndex("by_businessId_and_key_and_channel_and_locale", (q) => q.eq("businessId", args.businessId).eq("key", key))
          .take(100)),
      );
    }
    return rows;
  },
});

export const SAMPLE_VARS: Record<string, string> = {
  customerName: "Alex Sample",
  businessName: "Your business",
  serviceName: "Standard clean",
  bookingDate: "Tuesday, March 3, 2026",
  bookingTime: "9:00 AM",
  totalAmount: "$120.00",
  manageUrl: "https://example.com/manage",
  previousDate: "Monday, March 2, 2026",
  previousTime: "2:00 PM",
  cancellationFee: "$0.00",
  amountPaid: "$120.00",
  amountDue: "$120.00",
  invoiceNumber: "INV-0001",
  reviewUrl: "https://example.com/review",
  providerName: "Pat",
};

/** What a customer would receive, with sample values (manager and up). */
export const preview = query({
  args: { businessId: v.id("businesses"), key: vTemplateKey, channel: vChannel, locale: v.string() },
  returns: v.union(
    v.object({
      source: v.union(v.literal("business"), v.literal("platform"), v.literal("built_in")),
      locale: v.string(),
      subject: v.optional(v.string()),
      body: v.string(),
    }),
    v.null(),
  ),
  handler: async (ctx, args) => {
    const { business } = await requireBusinessRole(ctx, args.businessId, "manager");
    const locale = requireLocale(args.locale);
    const template = await resolveTemplate(ctx, business, args.key, args.channel, locale);
    if (template === null) return null;
    const vars = { ...SAMPLE_VARS, businessName: business.name };
    return {
      source: template.source,
      locale: template.locale,
      subject: template.subject === undefined ? undefined : renderTemplate(template.subject, vars).text,
      body: renderTemplate(template.body, vars).text,
    };
  },
});
