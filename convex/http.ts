/**
 * The HTTP router (Convex HTTP actions, http://127.0.0.1:3211 locally). Each module owns its
 * routes and exposes a `register…Routes(http)` function; this file only composes them, so a
 * new family of routes is one import and one line (the REST API: `registerApiRoutes(http)`
 * for `/v1/`).
 */
import { httpRouter } from "convex/server";
import { registerApiRoutes } from "./api/v1/router";
import { auth } from "./auth";
import { registerAuthTicketRoutes } from "./authTickets";
import { registerMcpRoutes } from "./assistant/mcp";
import { registerInvoiceFileRoutes } from "./invoiceFiles";
import { registerLocalCheckoutRoutes } from "./localCheckout";
import { registerStripeRoutes } from "./stripeWebhook";

const http = httpRouter();

registerStripeRoutes(http); //        POST /stripe/webhook
registerLocalCheckoutRoutes(http); // GET /local-checkout, POST /local-checkout/complete (offline test payments)
registerApiRoutes(http); //          /v1/ (REST API, convex/api/v1/router.ts)
registerMcpRoutes(http); //          /mcp (staff assistant over MCP, convex/assistant/mcp.ts)
registerAuthTicketRoutes(http); //  POST /auth/ticket (the accounts' front door: sign-in tickets limited per client address)
auth.addHttpRoutes(http); //         /.well-known/openid-configuration, /.well-known/jwks.json, /api/auth/* (Convex Auth)
registerInvoiceFileRoutes(http); //  GET /invoices/pdf (an invoice as PDF, for its readers, convex/invoiceFiles.ts)

export default http;
