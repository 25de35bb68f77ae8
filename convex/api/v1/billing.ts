/** /v1/invoices and /v1/refunds. */
import { internal } from "../../_generated/api";
import { read, route, write, type Route } from "./framework";
import { listOf, zInvoice, zInvoiceListQuery, zRefund, zRefundCreate, zRefundRequest } from "./schemas";

const m = internal.api.internalBilling;

export const billingRoutes: Route[] = [
  route({
    method: "GET",
    path: "/v1/invoices",
    operationId: "listInvoices",
    summary: "List invoices, newest first by default.",
    tag: "Invoices",
    scope: read("invoices"),
    query: zInvoiceListQuery,
    response: listOf(zInvoice, "InvoiceList"),
    handler: ({ ctx, businessId, apiKeyId, query }) => ctx.runQuery(m.listInvoices, { businessId, apiKeyId, ...query }),
  }),
  route({
    method: "GET",
    path: "/v1/invoices/{invoiceId}",
    operationId: "getInvoice",
    summary: "Retrieve an invoice.",
    tag: "Invoices",
    scope: read("invoices"),
    response: zInvoice,
    handler: ({ ctx, businessId, apiKeyId, params }) => ctx.runQuery(m.getInvoice, { businessId, apiKeyId, invoiceId: params.invoiceId }),
  }),
  route({
    method: "GET",
    path: "/v1/invoices/{invoiceId}/refunds",
    operationId: "listInvoiceRefunds",
    summary: "List an invoice's refunds, newest first.",
    tag: "Refunds",
    scope: read("refunds"),
    response: listOf(zRefund, "RefundList"),
    handler: ({ ctx, businessId, apiKeyId, params }) => ctx.runQuery(m.listRefunds, { businessId, apiKeyId, invoiceId: params.invoiceId }),
  }),
  route({
    method: "POST",
    path: "/v1/refunds",
    operationId: "createRefund",
    summary: "Refund an invoice's payments: the given amount, or what the cancellation policy allows.",
    tag: "Refunds",
    scope: write("refunds"),
    body: zRefundCreate,
    response: zRefundRequest,
    status: 201,
    errors: ["POLICY_VIOLATION"],
    handler: ({ ctx, businessId, apiKeyId, body }) => ctx.runMutation(m.createRefund, { businessId, apiKeyId, ...body }),
  }),
  route({
    method: "GET",
    path: "/v1/refunds/{refundId}",
    operationId: "getRefund",
    summary: "Retrieve a refund (pending until the payment provider confirms it).",
    tag: "Refunds",
    scope: read("refunds"),
    response: zRefund,
    handler: ({ ctx, businessId, apiKeyId, params }) => ctx.runQuery(m.getRefund, { businessId, apiKeyId, refundId: params.refundId }),
  }),
];
