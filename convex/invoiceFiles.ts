/**
 * Invoices as PDF files (drawn by pdf-lib, model/invoicePdf.ts), for the people who may read
 * the invoice (`invoices.pdfDocument` checks the caller: the customer it is for, the
 * business's managers and owner, the platform admin; others get NOT_FOUND):
 * - `pdf` (action): the portal's "Download PDF" (bytes + file name);
 * - `GET /invoices/pdf?invoiceId=…` with `Authorization: Bearer <the person's token>`: the
 *   same file over HTTP (application/pdf, as an attachment), errors in the one JSON format.
 */
import type { HttpRouter } from "convex/server";
import { ConvexError, v } from "convex/values";
import { api } from "./_generated/api";
import { httpAction } from "./_generated/server";
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

function errorResponse(error: unknown): Response {
  const data = error instanceof ConvexError ? error.data : undefined;
  if (!isAppErrorData(data)) throw error;
  return new Response(JSON.stringify({ error: { code: data.code, message: data.message, ...(data.param ? { param: data.param } : {}) } }), {
    status: httpStatusForCode(data.code),
    headers: { "Content-Type": "application/json" },
  });
}

const servePdf = httpAction(async (ctx, request) => {
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
      },
    });
  } catch (error) {
    return errorResponse(error);
  }
});

export function registerInvoiceFileRoutes(http: HttpRouter): void {
  http.route({ path: INVOICE_PDF_PATH, method: "GET", handler: servePdf });
}
