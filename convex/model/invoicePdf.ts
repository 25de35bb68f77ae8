/**
 * Invoices as PDF, drawn with pdf-lib (pure JavaScript: runs in the Node action that attaches
 * it to the receipt email and in the action the portal downloads it from).
 *
 * `invoiceDocument` gathers what the page shows (in a query or mutation); `renderInvoicePdf`
 * draws it. Labels are localised in English, Spanish and Brazilian Portuguese (others fall back
 * to English); amounts and dates use the recipient's locale and the business's time zone.
 */
import { v, type Infer } from "convex/values";
import { PDFDocument, StandardFonts, rgb, type PDFFont, type PDFPage } from "pdf-lib";
import { formatMoney } from "../../domain";
import type { Doc } from "../_generated/dataModel";
import type { QueryCtx as RawQueryCtx } from "../_generated/server";
import { vInvoiceStatus } from "../schema";

const TOTAL_LABELS = ["subtotal", "discount", "tax", "total", "paid", "refunded", "balanceDue"] as const;

export const vInvoiceDocument = v.object({
  filename: v.string(),
  locale: v.string(),
  number: v.string(),
  status: vInvoiceStatus,
  issued: v.string(),
  paid: v.optional(v.string()),
  business: v.object({ name: v.string() }),
  customer: v.object({ name: v.string(), email: v.optional(v.string()), phone: v.optional(v.string()) }),
  lines: v.array(v.object({ description: v.string(), quantity: v.number(), unitAmount: v.string(), amount: v.string() })),
  totals: v.array(v.object({ label: v.union(...TOTAL_LABELS.map((l) => v.literal(l))), amount: v.string() })),
});
export type InvoiceDocument = Infer<typeof vInvoiceDocument>;

type Labels = {
  invoice: string;
  billTo: string;
  issued: string;
  paidOn: string;
  status: string;
  description: string;
  quantity: string;
  unitPrice: string;
  amount: string;
  subtotal: string;
  discount: string;
  tax: string;
  total: string;
  paid: string;
  refunded: string;
  balanceDue: string;
  thanks: string;
  statuses: Record<Doc<"invoices">["status"], string>;
};

const LABELS: Record<"en" | "es" | "pt", Labels> = {
  en: {
    invoice: "Invoice",
    billTo: "Bill to",
    issued: "Issued",
    paidOn: "Paid on",
    status: "Status",
    description: "Description",
    quantity: "Qty",
    unitPrice: "Unit price",
    amount: "Amount",
    subtotal: "Subtotal",
    discount: "Discount",
    tax: "Tax",
    total: "Total",
    paid: "Paid",
    refunded: "Refunded",
    balanceDue: "Balance due",
    thanks: "Thank you for your business.",
    statuses: { draft: "Draft", open: "Open", paid: "Paid", partially_refunded: "Partially refunded", refunded: "Refunded", void: "Void" },
  },
  es: {
    invoice: "Factura",
    billTo: "Facturar a",
    issued: "Emitida",
    paidOn: "Pagada el",
    status: "Estado",
    description: "Descripción",
    quantity: "Cant.",
    unitPrice: "Precio unitario",
    amount: "Importe",
    subtotal: "Subtotal",
    discount: "Descuento",
    tax: "Impuestos",
    total: "Total",
    paid: "Pagado",
    refunded: "Reembolsado",
    balanceDue: "Saldo pendiente",
    thanks: "Gracias por confiar en nosotros.",
    statuses: { draft: "Borrador", open: "Pendiente", paid: "Pagada", partially_refunded: "Reembolso parcial", refunded: "Reembolsada", void: "Anulada" },
  },
  pt: {
    invoice: "Fatura",
    billTo: "Cobrar de",
    issued: "Emitida em",
    paidOn: "Paga em",
    status: "Situação",
    description: "Descrição",
    quantity: "Qtd.",
    unitPrice: "Preço unitário",
    amount: "Valor",
    subtotal: "Subtotal",
    discount: "Desconto",
    tax: "Impostos",
    total: "Total",
    paid: "Pago",
    refunded: "Reembolsado",
    balanceDue: "Saldo devedor",
    thanks: "Obrigado pela preferência.",
    statuses: { draft: "Rascunho", open: "Em aberto", paid: "Paga", partially_refunded: "Reembolso parcial", refunded: "Reembolsada", void: "Cancelada" },
  },
};

export function invoiceLabels(locale: string): Labels {
  const language = locale.split("-")[0].toLowerCase();
  return language === "es" ? LABELS.es : language === "pt" ? LABELS.pt : LABELS.en;
}

function formatDate(instant: number, timeZone: string, locale: string) {
  return new Intl.DateTimeFormat(locale, { timeZone, dateStyle: "long" }).format(instant);
}

/** What the invoice's PDF shows, in `locale` (default: the customer's, else the business's). */
export async function invoiceDocument(ctx: Pick<RawQueryCtx, "db">, invoice: Doc<"invoices">, locale?: string): Promise<InvoiceDocument> {
  const business = await ctx.db.get("businesses", invoice.businessId);
  const customer = await ctx.db.get("customers", invoice.customerId);
  if (business === null || customer === null) throw new Error(`invoice ${invoice._id} has no business or customer`);
  const lang = locale ?? customer.locale ?? business.locale;
  const money = (minor: number) => formatMoney(minor, invoice.currency as Parameters<typeof formatMoney>[1], lang);
  const totals: InvoiceDocument["totals"] = [{ label: "subtotal", amount: money(invoice.subtotalMinor) }];
  if (invoice.discountMinor > 0) totals.push({ label: "discount", amount: money(-invoice.discountMinor) });
  if (invoice.taxMinor > 0) totals.push({ label: "tax", amount: money(invoice.taxMinor) });
  totals.push({ label: "total", amount: money(invoice.totalMinor) });
  totals.push({ label: "paid", amount: money(invoice.amountPaidMinor) });
  if (invoice.amountRefundedMinor > 0) totals.push({ label: "refunded", amount: money(invoice.amountRefundedMinor) });
  if (invoice.status !== "void") {
    totals.push({ label: "balanceDue", amount: money(Math.max(0, invoice.totalMinor - invoice.amountPaidMinor)) });
  }
  return {
    filename: `invoice-${invoice.number.replace(/[^A-Za-z0-9._-]+/g, "-")}.pdf`,
    locale: lang,
    number: invoice.number,
    status: invoice.status,
    issued: formatDate(invoice.issuedAt, business.timeZone, lang),
    paid: invoice.paidAt === undefined ? undefined : formatDate(invoice.paidAt, business.timeZone, lang),
    business: { name: business.name },
    customer: { name: customer.name, email: customer.email, phone: customer.phone },
    lines: invoice.lines.map((line) => ({
      description: line.description,
      quantity: line.quantity,
      unitAmount: money(line.unitAmountMinor),
      amount: money(line.amountMinor),
    })),
    totals,
  };
}

/**
 * The standard fonts encode WinAnsi only: thin and narrow spaces (Intl uses them in some
 * locales) become spaces, anything else the font cannot encode becomes "?".
 */
function encodable(font: PDFFont, text: string): string {
  const spaced = text.replace(/[\u2000-\u200B\u202F\u205F]/g, " ").replace(/[\u2212]/g, "-");
  let out = "";
  for (const ch of spaced) {
    try {
      font.encodeText(ch);
      out += ch;
    } catch {
      out += "?";
    }
  }
  return out;
}

/** Cuts `text` so it fits `width` at `size`, ending with "…"-like "..." when cut. */
function fit(font: PDFFont, text: string, size: number, width: number): string {
  if (font.widthOfTextAtSize(text, size) <= width) return text;
  let cut = text;
  while (cut.length > 1 && font.widthOfTextAtSize(`${cut}...`, size) > width) cut = cut.slice(0, -1);
  return `${cut}...`;
}

/** The invoice as a one-or-more-page A4 PDF. */
export async function renderInvoicePdf(invoice: InvoiceDocument): Promise<Uint8Array> {
  const labels = invoiceLabels(invoice.locale);
  const pdf = await PDFDocument.create();
  pdf.setTitle(`${labels.invoice} ${invoice.number}`);
  pdf.setAuthor(invoice.business.name);
  pdf.setSubject(`${labels.invoice} ${invoice.number} — ${invoice.customer.name}`);
  pdf.setLanguage(invoice.locale);
  pdf.setCreator("booking-platform");
  const regular = await pdf.embedFont(StandardFonts.Helvetica);
  const bold = await pdf.embedFont(StandardFonts.HelveticaBold);
  const [width, height] = [595.28, 841.89];
  const margin = 50;
  const ink = rgb(0.1, 0.1, 0.12);
  const muted = rgb(0.4, 0.4, 0.45);

  let page: PDFPage = pdf.addPage([width, height]);
  let y = height - margin;
  const text = (value: string, x: number, size: number, font = regular, color = ink) => {
    page.drawText(encodable(font, value), { x, y, size, font, color });
  };
  const right = (value: string, xRight: number, size: number, font = regular, color = ink) => {
    const safe = encodable(font, value);
    page.drawText(safe, { x: xRight - font.widthOfTextAtSize(safe, size), y, size, font, color });
  };

  text(invoice.business.name, margin, 18, bold);
  right(`${labels.invoice} ${invoice.number}`, width - margin, 14, bold);
  y -= 22;
  right(`${labels.issued}: ${invoice.issued}`, width - margin, 10, regular, muted);
  y -= 14;
  right(`${labels.status}: ${labels.statuses[invoice.status]}${invoice.paid ? ` (${labels.paidOn} ${invoice.paid})` : ""}`, width - margin, 10, regular, muted);
  y -= 34;
  text(labels.billTo, margin, 10, bold, muted);
  y -= 15;
  for (const line of [invoice.customer.name, invoice.customer.email, invoice.customer.phone]) {
    if (!line) continue;
    text(line, margin, 11);
    y -= 15;
  }
  y -= 20;

  const cols = { qty: width - margin - 200, unit: width - margin - 90, amount: width - margin };
  const header = () => {
    text(labels.description, margin, 10, bold, muted);
    right(labels.quantity, cols.qty, 10, bold, muted);
    right(labels.unitPrice, cols.unit, 10, bold, muted);
    right(labels.amount, cols.amount, 10, bold, muted);
    y -= 8;
    page.drawLine({ start: { x: margin, y }, end: { x: width - margin, y }, thickness: 0.5, color: muted });
    y -= 16;
  };
  header();
  for (const line of invoice.lines) {
    if (y < margin + 140) {
      page = pdf.addPage([width, height]);
      y = height - margin;
      header();
    }
    text(fit(regular, encodable(regular, line.description), 11, cols.qty - margin - 60), margin, 11);
    right(String(line.quantity), cols.qty, 11);
    right(line.unitAmount, cols.unit, 11);
    right(line.amount, cols.amount, 11);
    y -= 18;
  }
  y -= 4;
  page.drawLine({ start: { x: cols.qty - 60, y: y + 10 }, end: { x: width - margin, y: y + 10 }, thickness: 0.5, color: muted });
  y -= 8;
  for (const total of invoice.totals) {
    const strong = total.label === "total" || total.label === "balanceDue";
    right(labels[total.label], cols.unit, 11, strong ? bold : regular);
    right(total.amount, cols.amount, 11, strong ? bold : regular);
    y -= 17;
  }
  y -= 30;
  text(labels.thanks, margin, 10, regular, muted);
  return await pdf.save();
}
