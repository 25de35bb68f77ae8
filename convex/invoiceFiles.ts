/**
 * Invoices as PDF files (drawn by pdf-lib, model/invoicePdf.ts), for the people who may read
 * the invoice (`invoices.pdfDocument` checks the caller: the customer it is for, the
 * business's managers and owner, the platform admin; others get NOT_FOUND):
 * - `pdf` (action): the portal's "Download PDF" (bytes + file name);
 * - `GET /invoices/pdf?invoiceId=…` with `Authorization: Bearer <the person's token>`: the
 *   same file over HTTP (application/pdf, as an attachment), errors in the one JSON format.
 *   The portal (PORTAL_URL's origin) may call it from the browser: CORS answers its
 *   preflight and exposes Content-Disposition (the file name); other origins get no CORS
 *   headers, so a browser keeps the answer from their pages.
 */
import type { HttpRouter } from "convex/server";
import { ConvexError, v } from "convex/values";
import { api } from "./_generated/api";
import { httpAction } from "./_generated/server";
import { env } from "./env";
import { appError, httpStatusForCode, isAppErrorData } from "./errors";
import { action } from "./functions";
import { renderInvoicePdf, type InvoiceDocument } from "./model/invoicePdf";

export const INVOICE_PDF_PATH = "/invoices/pdf";

export const pdf = action({
  args: { invoiceId: v.id("invoices"), locale: v.optional(v.string()) },
  returns: v.object({ filename: v.string(), pdf: v.bytes() }),
  handler: async (ctx, args): Promise<{ filename: string; pdf: ArrayBuffer }> => {
    const document: InvoiceDocument = await ctx.runQuery(api.invoices.pdfDocument, args);
    return { filename: document.filename, pdf: toArrayBuffer(await renderInvoicePdf(document)) };
  },
});

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** CORS headers for the portal's origin (PORTAL_URL); none for any other origin. */
function corsHeaders(request: Request): Record<string, string> {
  const origin = request.headers.get("Origin");
  if (origin === null) return {};
  let portalOrigin: string;
  try {
    portalOrigin = new URL(env.portalUrl()).origin;
  } catch {
    return {};
  }
  if (origin !== portalOrigin) return {};
  return {
    "Access-Control-Allow-Origin": portalOrigin,
    "Access-Control-Allow-Methods": "GET, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization",
    "Access-Control-Expose-Headers": "Content-Disposition",
    "Access-Control-Max-Age": "600",
    Vary: "Origin",
  };
}

function errorResponse(error: unknown, cors: Record<string, string>): Response {
  const data = error instanceof ConvexError ? error.data : undefined;
  if (!isAppErrorData(data)) throw error;
  return new Response(JSON.stringify({ error: { code: data.code, message: data.message, ...(data.param ? { param: data.param } : {}) } }), {
    status: httpStatusForCode(data.code),
    headers: { "Content-Type": "application/json", ...cors },
  });
}

const preflight = httpAction(async (_ctx, request) => new Response(null, { status: 204, headers: corsHeaders(request) }));

const servePdf = httpAction(async (ctx, request) => {
  const cors = corsHeaders(request);
  try {
    const url = new URL(request.url);
    const invoiceId = url.searchParams.get("invoiceId");
    if (!invoiceId) throw appError("INVALID_ARGUMENT", "invoiceId is required (?invoiceId=…).", { param: "invoiceId" });
    const locale = url.searchParams.get("locale") ?? undefined;
    const document: InvoiceDocument = await ctx.runQuery(api.invoices.pdfDocument, { invoiceId, locale });
    return new Response(toArrayBuffer(await renderInvoicePdf(document)), {
      status: 200,
      headers: {
        "Content-Type": "application/pdf",
        "Content-Disposition": `attachment; filename="${document.filename}"`,
        "Cache-Control": "private, no-store",
        ...cors,
      },
    });
  } catch (error) {
    return errorResponse(error, cors);
  }
});

export function registerInvoiceFileRoutes(http: HttpRouter): void {
  http.route({ path: INVOICE_PDF_PATH, method: "GET", handler: servePdf });
  http.route({ path: INVOICE_PDF_PATH, method: "OPTIONS", handler: preflight });
}
