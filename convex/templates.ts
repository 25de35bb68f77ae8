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
import { ConvexError, v, type Infer } from "convex/values";
import { formatMoney, localeChain, localMinutesToInstant } from "../domain";
import type { Doc, Id } from "./_generated/dataModel";
import { requireBusinessRole, requireDocRole, requirePlatformAdmin } from "./access";
import { appError, isAppErrorData } from "./errors";
import type { MutationCtx as RawMutationCtx, QueryCtx as RawQueryCtx } from "./_generated/server";
import { internalMutation, mutation, query } from "./functions";
import { formatDate, formatTime } from "./model/messageFormat";
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
  new_message: ["recipientName", "senderName", "businessName", "messagePreview", "messageUrl"],
  plan_visit_upcoming: [...BOOKING_VARS, "frequency"],
  card_update_needed: ["customerName", "businessName", "amountDue", "updateUrl"],
  staff_invite: ["businessName", "inviterName", "role", "inviteUrl"],
  account_verify_code: ["code", "expiresInMinutes"],
  account_reset_code: ["code", "expiresInMinutes"],
  account_sign_in_code: ["code", "expiresInMinutes"],
  account_welcome: ["name", "signInUrl"],
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
      body: "Hi {{customerName}},\n\nWe received {{amountPaid}} for your {{serviceName}} on {{bookingDate}} (invoice {{invoiceNumber}}). The invoice is attached as a PDF.\n\n{{manageUrl}}",
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
    new_message: {
      subject: "New message from {{senderName}}",
      body: "Hi {{recipientName}},\n\n{{senderName}} wrote:\n\n{{messagePreview}}\n\nReply: {{messageUrl}}\n\n{{businessName}}",
      short: "{{businessName}}: new message from {{senderName}}: {{messagePreview}} Reply: {{messageUrl}}",
    },
    plan_visit_upcoming: {
      subject: "Your next {{frequency}} visit: {{bookingDate}}",
      body: "Hi {{customerName}},\n\nYour next {{serviceName}} with {{businessName}} ({{frequency}}) is on {{bookingDate}} at {{bookingTime}}. Total: {{totalAmount}}.\n\nSkip or move it: {{manageUrl}}",
      short: "{{businessName}}: next {{serviceName}} on {{bookingDate}} at {{bookingTime}}. Skip or move: {{manageUrl}}",
    },
    card_update_needed: {
      subject: "Please update your card for {{businessName}}",
      body: "Hi {{customerName}},\n\nWe could not charge your saved card for {{amountDue}}. Please update it so your visits stay booked: {{updateUrl}}\n\n{{businessName}}",
      short: "{{businessName}}: we could not charge your card for {{amountDue}}. Update it: {{updateUrl}}",
    },
    staff_invite: {
      subject: "{{inviterName}} invited you to {{businessName}}",
      body: "Hello,\n\n{{inviterName}} invited you to join {{businessName}} as {{role}}.\n\nAccept the invitation: {{inviteUrl}}",
      short: "{{inviterName}} invited you to join {{businessName}} as {{role}}: {{inviteUrl}}",
    },
    account_verify_code: {
      subject: "Your verification code: {{code}}",
      body: "Your verification code is {{code}}.\n\nIt expires in {{expiresInMinutes}} minutes. If you did not ask for it, ignore this message.",
      short: "Your verification code is {{code}} (valid {{expiresInMinutes}} min).",
    },
    account_reset_code: {
      subject: "Your password reset code: {{code}}",
      body: "Your password reset code is {{code}}.\n\nIt expires in {{expiresInMinutes}} minutes. If you did not ask to reset your password, ignore this message: your password stays as it is.",
      short: "Your password reset code is {{code}} (valid {{expiresInMinutes}} min).",
    },
    account_sign_in_code: {
      subject: "Your sign-in code: {{code}}",
      body: "Your sign-in code is {{code}}.\n\nIt expires in {{expiresInMinutes}} minutes. If you did not try to sign in, ignore this message.",
      short: "Your sign-in code is {{code}} (valid {{expiresInMinutes}} min).",
    },
    account_welcome: {
      subject: "Welcome, {{name}}",
      body: "Hi {{name}},\n\nYour account is ready. Sign in any time: {{signInUrl}}",
      short: "Welcome, {{name}}! Sign in: {{signInUrl}}",
    },
  },
  es: {
    booking_confirmed: {
      subject: "Tu reserva con {{businessName}} está confirmada",
      body: "Hola {{customerName}}:\n\nTu {{serviceName}} del {{bookingDate}} a las {{bookingTime}} está confirmado. Total: {{totalAmount}}.\n\nGestiona tu reserva: {{manageUrl}}\n\n{{businessName}}",
      short: "{{businessName}}: tu {{serviceName}} del {{bookingDate}} a las {{bookingTime}} está confirmado. Gestionar: {{manageUrl}}",
    },
    reminder_24h: {
      subject: "Recordatorio: {{serviceName}} mañana a las {{bookingTime}}",
      body: "Hola {{customerName}}:\n\nTe recordamos que tu {{serviceName}} con {{businessName}} es el {{bookingDate}} a las {{bookingTime}}.\n\n¿Necesitas cambiarlo? {{manageUrl}}",
      short: "Recordatorio de {{businessName}}: {{serviceName}} el {{bookingDate}} a las {{bookingTime}}. Gestionar: {{manageUrl}}",
    },
    reminder_2h: {
      subject: "Hasta pronto: {{serviceName}} a las {{bookingTime}}",
      body: "Hola {{customerName}}:\n\nTu {{serviceName}} con {{businessName}} empieza hoy a las {{bookingTime}}.\n\n{{manageUrl}}",
      short: "{{businessName}}: tu {{serviceName}} empieza hoy a las {{bookingTime}}.",
    },
    booking_rescheduled: {
      subject: "Tu reserva con {{businessName}} ha cambiado de fecha",
      body: "Hola {{customerName}}:\n\nTu {{serviceName}} es ahora el {{bookingDate}} a las {{bookingTime}}.\n\n{{manageUrl}}",
      short: "{{businessName}}: tu {{serviceName}} es ahora el {{bookingDate}} a las {{bookingTime}}.",
    },
    booking_cancelled: {
      subject: "Tu reserva con {{businessName}} ha sido cancelada",
      body: "Hola {{customerName}}:\n\nTu {{serviceName}} del {{bookingDate}} a las {{bookingTime}} ha sido cancelado. Cargo por cancelación: {{cancellationFee}}.\n\n{{businessName}}",
      short: "{{businessName}}: tu {{serviceName}} del {{bookingDate}} ha sido cancelado. Cargo: {{cancellationFee}}.",
    },
    payment_receipt: {
      subject: "Recibo {{invoiceNumber}} de {{businessName}}",
      body: "Hola {{customerName}}:\n\nHemos recibido {{amountPaid}} por tu {{serviceName}} del {{bookingDate}} (factura {{invoiceNumber}}). Adjuntamos la factura en PDF.\n\n{{manageUrl}}",
      short: "{{businessName}}: pago de {{amountPaid}} recibido (factura {{invoiceNumber}}).",
    },
    refund_receipt: {
      subject: "Reembolso de la factura {{invoiceNumber}} de {{businessName}}",
      body: "Hola {{customerName}}:\n\nTe hemos reembolsado {{amountRefunded}} por tu {{serviceName}} del {{bookingDate}} (factura {{invoiceNumber}}). Según tu banco, puede tardar de 5 a 10 días en aparecer.\n\n{{manageUrl}}",
      short: "{{businessName}}: {{amountRefunded}} reembolsado (factura {{invoiceNumber}}).",
    },
    payment_failed: {
      subject: "El pago de tu reserva con {{businessName}} ha fallado",
      body: "Hola {{customerName}}:\n\nNo hemos podido cobrar {{amountDue}} por tu {{serviceName}} del {{bookingDate}}. Actualiza tu pago: {{manageUrl}}",
      short: "{{businessName}}: el pago de {{amountDue}} ha fallado. Actualízalo: {{manageUrl}}",
    },
    review_request: {
      subject: "¿Qué tal tu {{serviceName}}?",
      body: "Hola {{customerName}}:\n\nGracias por elegir {{businessName}}. Cuéntanos cómo fue: {{reviewUrl}}",
      short: "{{businessName}}: ¿qué tal tu {{serviceName}}? {{reviewUrl}}",
    },
    provider_en_route: {
      subject: "{{providerName}} está en camino",
      body: "Hola {{customerName}}:\n\n{{providerName}} de {{businessName}} está en camino para tu {{serviceName}}.\n\n{{manageUrl}}",
      short: "{{businessName}}: {{providerName}} está en camino.",
    },
    new_message: {
      subject: "Nuevo mensaje de {{senderName}}",
      body: "Hola {{recipientName}}:\n\n{{senderName}} escribió:\n\n{{messagePreview}}\n\nResponder: {{messageUrl}}\n\n{{businessName}}",
      short: "{{businessName}}: nuevo mensaje de {{senderName}}: {{messagePreview}} Responder: {{messageUrl}}",
    },
    plan_visit_upcoming: {
      subject: "Tu próxima visita ({{frequency}}): {{bookingDate}}",
      body: "Hola {{customerName}}:\n\nTu próximo {{serviceName}} con {{businessName}} ({{frequency}}) es el {{bookingDate}} a las {{bookingTime}}. Total: {{totalAmount}}.\n\nSáltala o muévela: {{manageUrl}}",
      short: "{{businessName}}: próximo {{serviceName}} el {{bookingDate}} a las {{bookingTime}}. Saltar o mover: {{manageUrl}}",
    },
    card_update_needed: {
      subject: "Actualiza tu tarjeta para {{businessName}}",
      body: "Hola {{customerName}}:\n\nNo hemos podido cobrar {{amountDue}} en tu tarjeta guardada. Actualízala para mantener tus visitas: {{updateUrl}}\n\n{{businessName}}",
      short: "{{businessName}}: no pudimos cobrar {{amountDue}} en tu tarjeta. Actualízala: {{updateUrl}}",
    },
    staff_invite: {
      subject: "{{inviterName}} te ha invitado a {{businessName}}",
      body: "Hola:\n\n{{inviterName}} te ha invitado a unirte a {{businessName}} como {{role}}.\n\nAcepta la invitación: {{inviteUrl}}",
      short: "{{inviterName}} te ha invitado a {{businessName}} como {{role}}: {{inviteUrl}}",
    },
    account_verify_code: {
      subject: "Tu código de verificación: {{code}}",
      body: "Tu código de verificación es {{code}}.\n\nCaduca en {{expiresInMinutes}} minutos. Si no lo has pedido, ignora este mensaje.",
      short: "Tu código de verificación es {{code}} (válido {{expiresInMinutes}} min).",
    },
    account_reset_code: {
      subject: "Tu código para restablecer la contraseña: {{code}}",
      body: "Tu código para restablecer la contraseña es {{code}}.\n\nCaduca en {{expiresInMinutes}} minutos. Si no lo has pedido, ignora este mensaje: tu contraseña no cambia.",
      short: "Tu código para restablecer la contraseña es {{code}} (válido {{expiresInMinutes}} min).",
    },
    account_sign_in_code: {
      subject: "Tu código de acceso: {{code}}",
      body: "Tu código de acceso es {{code}}.\n\nCaduca en {{expiresInMinutes}} minutos. Si no has intentado entrar, ignora este mensaje.",
      short: "Tu código de acceso es {{code}} (válido {{expiresInMinutes}} min).",
    },
    account_welcome: {
      subject: "Te damos la bienvenida, {{name}}",
      body: "Hola {{name}}:\n\nTu cuenta está lista. Entra cuando quieras: {{signInUrl}}",
      short: "¡Bienvenida/o, {{name}}! Entra: {{signInUrl}}",
    },
  },
  "pt-BR": {
    booking_confirmed: {
      subject: "Seu agendamento com {{businessName}} está confirmado",
      body: "Olá, {{customerName}}!\n\nSeu {{serviceName}} em {{bookingDate}} às {{bookingTime}} está confirmado. Total: {{totalAmount}}.\n\nGerencie seu agendamento: {{manageUrl}}\n\n{{businessName}}",
      short: "{{businessName}}: seu {{serviceName}} em {{bookingDate}} às {{bookingTime}} está confirmado. Gerenciar: {{manageUrl}}",
    },
    reminder_24h: {
      subject: "Lembrete: {{serviceName}} amanhã às {{bookingTime}}",
      body: "Olá, {{customerName}}!\n\nLembrete: seu {{serviceName}} com {{businessName}} é em {{bookingDate}} às {{bookingTime}}.\n\nPrecisa mudar? {{manageUrl}}",
      short: "Lembrete de {{businessName}}: {{serviceName}} em {{bookingDate}} às {{bookingTime}}. Gerenciar: {{manageUrl}}",
    },
    reminder_2h: {
      subject: "Até já: {{serviceName}} às {{bookingTime}}",
      body: "Olá, {{customerName}}!\n\nSeu {{serviceName}} com {{businessName}} começa hoje às {{bookingTime}}.\n\n{{manageUrl}}",
      short: "{{businessName}}: seu {{serviceName}} começa hoje às {{bookingTime}}.",
    },
    booking_rescheduled: {
      subject: "Seu agendamento com {{businessName}} foi remarcado",
      body: "Olá, {{customerName}}!\n\nSeu {{serviceName}} agora é em {{bookingDate}} às {{bookingTime}}.\n\n{{manageUrl}}",
      short: "{{businessName}}: seu {{serviceName}} agora é em {{bookingDate}} às {{bookingTime}}.",
    },
    booking_cancelled: {
      subject: "Seu agendamento com {{businessName}} foi cancelado",
      body: "Olá, {{customerName}}!\n\nSeu {{serviceName}} em {{bookingDate}} às {{bookingTime}} foi cancelado. Taxa de cancelamento: {{cancellationFee}}.\n\n{{businessName}}",
      short: "{{businessName}}: seu {{serviceName}} em {{bookingDate}} foi cancelado. Taxa: {{cancellationFee}}.",
    },
    payment_receipt: {
      subject: "Recibo {{invoiceNumber}} de {{businessName}}",
      body: "Olá, {{customerName}}!\n\nRecebemos {{amountPaid}} pelo seu {{serviceName}} em {{bookingDate}} (fatura {{invoiceNumber}}). A fatura em PDF está em anexo.\n\n{{manageUrl}}",
      short: "{{businessName}}: pagamento de {{amountPaid}} recebido (fatura {{invoiceNumber}}).",
    },
    refund_receipt: {
      subject: "Reembolso da fatura {{invoiceNumber}} de {{businessName}}",
      body: "Olá, {{customerName}}!\n\nReembolsamos {{amountRefunded}} pelo seu {{serviceName}} em {{bookingDate}} (fatura {{invoiceNumber}}). Dependendo do seu banco, pode levar de 5 a 10 dias para aparecer.\n\n{{manageUrl}}",
      short: "{{businessName}}: {{amountRefunded}} reembolsado (fatura {{invoiceNumber}}).",
    },
    payment_failed: {
      subject: "O pagamento do seu agendamento com {{businessName}} falhou",
      body: "Olá, {{customerName}}!\n\nNão conseguimos cobrar {{amountDue}} pelo seu {{serviceName}} em {{bookingDate}}. Atualize seu pagamento: {{manageUrl}}",
      short: "{{businessName}}: o pagamento de {{amountDue}} falhou. Atualize: {{manageUrl}}",
    },
    review_request: {
      subject: "Como foi seu {{serviceName}}?",
      body: "Olá, {{customerName}}!\n\nObrigado por escolher {{businessName}}. Conte como foi: {{reviewUrl}}",
      short: "{{businessName}}: como foi seu {{serviceName}}? {{reviewUrl}}",
    },
    provider_en_route: {
      subject: "{{providerName}} está a caminho",
      body: "Olá, {{customerName}}!\n\n{{providerName}}, de {{businessName}}, está a caminho para o seu {{serviceName}}.\n\n{{manageUrl}}",
      short: "{{businessName}}: {{providerName}} está a caminho.",
    },
    new_message: {
      subject: "Nova mensagem de {{senderName}}",
      body: "Olá, {{recipientName}}!\n\n{{senderName}} escreveu:\n\n{{messagePreview}}\n\nResponder: {{messageUrl}}\n\n{{businessName}}",
      short: "{{businessName}}: nova mensagem de {{senderName}}: {{messagePreview}} Responder: {{messageUrl}}",
    },
    plan_visit_upcoming: {
      subject: "Sua próxima visita ({{frequency}}): {{bookingDate}}",
      body: "Olá, {{customerName}}!\n\nSeu próximo {{serviceName}} com {{businessName}} ({{frequency}}) é em {{bookingDate}} às {{bookingTime}}. Total: {{totalAmount}}.\n\nPule ou remarque: {{manageUrl}}",
      short: "{{businessName}}: próximo {{serviceName}} em {{bookingDate}} às {{bookingTime}}. Pular ou remarcar: {{manageUrl}}",
    },
    card_update_needed: {
      subject: "Atualize seu cartão para {{businessName}}",
      body: "Olá, {{customerName}}!\n\nNão conseguimos cobrar {{amountDue}} no seu cartão salvo. Atualize-o para manter suas visitas: {{updateUrl}}\n\n{{businessName}}",
      short: "{{businessName}}: não conseguimos cobrar {{amountDue}} no seu cartão. Atualize: {{updateUrl}}",
    },
    staff_invite: {
      subject: "{{inviterName}} convidou você para {{businessName}}",
      body: "Olá!\n\n{{inviterName}} convidou você para fazer parte de {{businessName}} como {{role}}.\n\nAceite o convite: {{inviteUrl}}",
      short: "{{inviterName}} convidou você para {{businessName}} como {{role}}: {{inviteUrl}}",
    },
    account_verify_code: {
      subject: "Seu código de verificação: {{code}}",
      body: "Seu código de verificação é {{code}}.\n\nEle expira em {{expiresInMinutes}} minutos. Se você não pediu, ignore esta mensagem.",
      short: "Seu código de verificação é {{code}} (válido por {{expiresInMinutes}} min).",
    },
    account_reset_code: {
      subject: "Seu código para redefinir a senha: {{code}}",
      body: "Seu código para redefinir a senha é {{code}}.\n\nEle expira em {{expiresInMinutes}} minutos. Se você não pediu, ignore esta mensagem: sua senha continua a mesma.",
      short: "Seu código para redefinir a senha é {{code}} (válido por {{expiresInMinutes}} min).",
    },
    account_sign_in_code: {
      subject: "Seu código de acesso: {{code}}",
      body: "Seu código de acesso é {{code}}.\n\nEle expira em {{expiresInMinutes}} minutos. Se você não tentou entrar, ignore esta mensagem.",
      short: "Seu código de acesso é {{code}} (válido por {{expiresInMinutes}} min).",
    },
    account_welcome: {
      subject: "Boas-vindas, {{name}}",
      body: "Olá, {{name}}!\n\nSua conta está pronta. Entre quando quiser: {{signInUrl}}",
      short: "Boas-vindas, {{name}}! Entre: {{signInUrl}}",
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

export { localeChain };

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
  /** null: a message of no business (account codes): platform and built-in templates only. */
  business: Doc<"businesses"> | null,
  key: TemplateKey,
  channel: Channel,
  locale: string,
  /** false: ignore the business's own templates (what applies without them). */
  ownTemplates = true,
): Promise<ResolvedTemplate | null> {
  for (const l of localeChain(locale, business?.locale ?? "en")) {
    const own = business === null || !ownTemplates ? null : await storedTemplate(ctx, business._id, key, channel, l);
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

function validSubject(args: { key: TemplateKey; channel: Channel; subject?: string }): string | undefined {
  if (args.channel === "email") {
    const subject = requireText(args.subject ?? "", "subject", 200);
    requireKnownPlaceholders(args.key, subject, "subject");
    return subject;
  }
  if (optionalText(args.subject, "subject", 200) !== undefined) throw invalid("subject", `A ${args.channel} message has no subject.`);
  return undefined;
}

function validBody(args: { key: TemplateKey; channel: Channel; body: string }): string {
  const body = requireText(args.body, "body", args.channel === "email" ? 20_000 : 1_600);
  requireKnownPlaceholders(args.key, body, "body");
  return body;
}

function validTemplate(args: { key: TemplateKey; channel: Channel; locale: string; subject?: string; body: string }) {
  const locale = requireLocale(args.locale);
  const body = validBody(args);
  const subject = validSubject(args);
  return { locale, body, subject };
}

export type TemplateProblem = { field: "subject" | "body"; message: string };

/** What `upsert` would refuse in a draft, per field (the same checks, collected instead of thrown). */
export function templateProblems(args: { key: TemplateKey; channel: Channel; subject?: string; body: string }): TemplateProblem[] {
  const problems: TemplateProblem[] = [];
  for (const [field, check] of [
    ["subject", () => validSubject(args)],
    ["body", () => validBody(args)],
  ] as const) {
    try {
      check();
    } catch (error) {
      const data = error instanceof ConvexError ? error.data : undefined;
      if (!isAppErrorData(data)) throw error;
      problems.push({ field, message: data.message });
    }
  }
  return problems;
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
  amountRefunded: "$20.00",
  recipientName: "Alex Sample",
  senderName: "Pat from Your business",
  messagePreview: "Hi! Is 9 AM still fine for tomorrow?",
  messageUrl: "https://example.com/messages",
  frequency: "every 2 weeks",
  updateUrl: "https://example.com/card",
  inviterName: "Sam Owner",
  role: "dispatcher",
  inviteUrl: "https://example.com/invite",
  code: "123456",
  expiresInMinutes: "15",
  name: "Alex Sample",
  signInUrl: "https://example.com/sign-in",
};

/** A sample visit (Tuesday 3 March 2026, 09:00 at the business) for previews. */
const SAMPLE_START = { date: "2026-03-03", minutes: 9 * 60 };

/**
 * The sample values in the recipient's locale: dates, times and amounts formatted as a real
 * message would be (business's zone and currency), names and links as in SAMPLE_VARS.
 */
export function sampleVars(business: Doc<"businesses">, locale: string): Record<string, string> {
  const start = localMinutesToInstant(SAMPLE_START.date, SAMPLE_START.minutes, business.timeZone);
  const previous = start - 19 * 3_600_000;
  const money = (minor: number) => formatMoney(minor, business.currency, locale);
  return {
    ...SAMPLE_VARS,
    businessName: business.name,
    bookingDate: formatDate(start, business.timeZone, locale),
    bookingTime: formatTime(start, business.timeZone, locale),
    previousDate: formatDate(previous, business.timeZone, locale),
    previousTime: formatTime(previous, business.timeZone, locale),
    totalAmount: money(12_000),
    amountPaid: money(12_000),
    amountDue: money(12_000),
    cancellationFee: money(0),
    amountRefunded: money(2_000),
  };
}

const vSource = v.union(v.literal("business"), v.literal("platform"), v.literal("built_in"), v.literal("draft"));

/**
 * What a customer would receive, with sample values in `locale` (manager and up): the
 * template that applies, or the draft `subject`/`body` being edited (then `problems` lists
 * what saving it would refuse: unknown placeholders, a missing subject…). Null when no
 * template applies.
 */
export const preview = query({
  args: {
    businessId: v.id("businesses"),
    key: vTemplateKey,
    channel: vChannel,
    locale: v.string(),
    subject: v.optional(v.string()),
    body: v.optional(v.string()),
  },
  returns: v.union(
    v.object({
      source: vSource,
      locale: v.string(),
      subject: v.optional(v.string()),
      body: v.string(),
      problems: v.array(v.object({ field: v.union(v.literal("subject"), v.literal("body")), message: v.string() })),
    }),
    v.null(),
  ),
  handler: async (ctx, args) => {
    const { business } = await requireBusinessRole(ctx, args.businessId, "manager");
    const locale = requireLocale(args.locale);
    const draft = args.body === undefined ? null : { subject: args.channel === "email" ? (args.subject ?? "") : args.subject, body: args.body };
    const template = draft === null ? await resolveTemplate(ctx, business, args.key, args.channel, locale) : { source: "draft" as const, locale, ...draft };
    if (template === null) return null;
    const vars = sampleVars(business, locale);
    return {
      source: template.source,
      locale: template.locale,
      subject: template.subject === undefined ? undefined : renderTemplate(template.subject, vars).text,
      body: renderTemplate(template.body, vars).text,
      problems: draft === null ? [] : templateProblems({ key: args.key, channel: args.channel, ...draft }),
    };
  },
});

/**
 * What the template editor starts from, for one key, channel and locale (manager and up):
 * the text that applies now (`current`), what applies without the business's own version
 * (`fallback`: the platform's or the built-in default, for "Reset to default"), the
 * business's own row at exactly this locale (`overrideId`), and the placeholders allowed.
 */
export const editor = query({
  args: { businessId: v.id("businesses"), key: vTemplateKey, channel: vChannel, locale: v.string() },
  handler: async (ctx, args) => {
    const { business } = await requireBusinessRole(ctx, args.businessId, "manager");
    const locale = requireLocale(args.locale);
    const current = await resolveTemplate(ctx, business, args.key, args.channel, locale);
    const fallback = await resolveTemplate(ctx, business, args.key, args.channel, locale, false);
    const own = await ctx.db
      .query("messageTemplates")
      .withIndex("by_businessId_and_key_and_channel_and_locale", (q) =>
        q.eq("businessId", business._id).eq("key", args.key).eq("channel", args.channel).eq("locale", locale),
      )
      .first();
    return {
      key: args.key,
      channel: args.channel,
      locale,
      placeholders: [...TEMPLATE_PLACEHOLDERS[args.key]],
      current,
      fallback,
      overrideId: own?._id ?? null,
    };
  },
});
