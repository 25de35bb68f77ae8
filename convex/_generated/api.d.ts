/* eslint-disable */
/**
 * Generated `api` utility.
 *
 * THIS CODE IS AUTOMATICALLY GENERATED.
 *
 * To regenerate, run `npx convex dev`.
 * @module
 */

import type {
  ApiFromModules,
  FilterApi,
  FunctionReference,
} from "convex/server";
import type * as access from "../access.js";
import type * as accounts from "../accounts.js";
import type * as api_apiKeyFormat from "../api/apiKeyFormat.js";
import type * as api_commands from "../api/commands.js";
import type * as api_gate from "../api/gate.js";
import type * as api_internalBilling from "../api/internalBilling.js";
import type * as api_internalBookings from "../api/internalBookings.js";
import type * as api_internalCatalogue from "../api/internalCatalogue.js";
import type * as api_internalCustomers from "../api/internalCustomers.js";
import type * as api_internalEvents from "../api/internalEvents.js";
import type * as api_internalRequests from "../api/internalRequests.js";
import type * as api_internalResources from "../api/internalResources.js";
import type * as api_internalZones from "../api/internalZones.js";
import type * as api_keys from "../api/keys.js";
import type * as api_tenant from "../api/tenant.js";
import type * as api_v1_billing from "../api/v1/billing.js";
import type * as api_v1_bookings from "../api/v1/bookings.js";
import type * as api_v1_catalogue from "../api/v1/catalogue.js";
import type * as api_v1_customers from "../api/v1/customers.js";
import type * as api_v1_errors from "../api/v1/errors.js";
import type * as api_v1_events from "../api/v1/events.js";
import type * as api_v1_framework from "../api/v1/framework.js";
import type * as api_v1_openapi from "../api/v1/openapi.js";
import type * as api_v1_pagination from "../api/v1/pagination.js";
import type * as api_v1_present from "../api/v1/present.js";
import type * as api_v1_resources from "../api/v1/resources.js";
import type * as api_v1_router from "../api/v1/router.js";
import type * as api_v1_routes from "../api/v1/routes.js";
import type * as api_v1_schemas from "../api/v1/schemas.js";
import type * as api_v1_zones from "../api/v1/zones.js";
import type * as assistant_chat from "../assistant/chat.js";
import type * as assistant_mcp from "../assistant/mcp.js";
import type * as assistant_reply from "../assistant/reply.js";
import type * as assistant_run from "../assistant/run.js";
import type * as assistant_runAs from "../assistant/runAs.js";
import type * as assistant_tools from "../assistant/tools.js";
import type * as auth from "../auth.js";
import type * as authTickets from "../authTickets.js";
import type * as availability from "../availability.js";
import type * as availabilityGrid from "../availabilityGrid.js";
import type * as bookings from "../bookings.js";
import type * as businesses from "../businesses.js";
import type * as catalogue from "../catalogue.js";
import type * as crons from "../crons.js";
import type * as customers from "../customers.js";
import type * as dispatch from "../dispatch.js";
import type * as env from "../env.js";
import type * as errors from "../errors.js";
import type * as functions from "../functions.js";
import type * as http from "../http.js";
import type * as invites from "../invites.js";
import type * as invoiceFiles from "../invoiceFiles.js";
import type * as invoices from "../invoices.js";
import type * as localCheckout from "../localCheckout.js";
import type * as messages from "../messages.js";
import type * as migrations from "../migrations.js";
import type * as model_abuseLimits from "../model/abuseLimits.js";
import type * as model_accountIdentity from "../model/accountIdentity.js";
import type * as model_accounts from "../model/accounts.js";
import type * as model_actor from "../model/actor.js";
import type * as model_authTickets from "../model/authTickets.js";
import type * as model_availabilityGrid from "../model/availabilityGrid.js";
import type * as model_bookingAccess from "../model/bookingAccess.js";
import type * as model_bookingCommands from "../model/bookingCommands.js";
import type * as model_bookingCreate from "../model/bookingCreate.js";
import type * as model_bookingEvents from "../model/bookingEvents.js";
import type * as model_bookingNotify from "../model/bookingNotify.js";
import type * as model_bookingPolicy from "../model/bookingPolicy.js";
import type * as model_bookingPricing from "../model/bookingPricing.js";
import type * as model_bookingSlots from "../model/bookingSlots.js";
import type * as model_bookingTransitions from "../model/bookingTransitions.js";
import type * as model_catalogue from "../model/catalogue.js";
import type * as model_catalogueCommands from "../model/catalogueCommands.js";
import type * as model_clientAddress from "../model/clientAddress.js";
import type * as model_conversations from "../model/conversations.js";
import type * as model_customerCommands from "../model/customerCommands.js";
import type * as model_customers from "../model/customers.js";
import type * as model_dispatchCommands from "../model/dispatchCommands.js";
import type * as model_events from "../model/events.js";
import type * as model_invoiceLines from "../model/invoiceLines.js";
import type * as model_invoicePdf from "../model/invoicePdf.js";
import type * as model_invoiceTotals from "../model/invoiceTotals.js";
import type * as model_jsonNesting from "../model/jsonNesting.js";
import type * as model_messageFormat from "../model/messageFormat.js";
import type * as model_notify from "../model/notify.js";
import type * as model_notifyTransports from "../model/notifyTransports.js";
import type * as model_planBilling from "../model/planBilling.js";
import type * as model_reminders from "../model/reminders.js";
import type * as model_resourceCommands from "../model/resourceCommands.js";
import type * as model_search from "../model/search.js";
import type * as model_seriesCommands from "../model/seriesCommands.js";
import type * as model_stripeApply from "../model/stripeApply.js";
import type * as model_stripeCheckout from "../model/stripeCheckout.js";
import type * as model_stripeEvents from "../model/stripeEvents.js";
import type * as model_stripeLocalEvents from "../model/stripeLocalEvents.js";
import type * as model_stripeLocalPlans from "../model/stripeLocalPlans.js";
import type * as model_stripePaymentEvents from "../model/stripePaymentEvents.js";
import type * as model_stripePlans from "../model/stripePlans.js";
import type * as model_stripeRefunds from "../model/stripeRefunds.js";
import type * as model_stripeSignature from "../model/stripeSignature.js";
import type * as model_teamCommands from "../model/teamCommands.js";
import type * as model_validation from "../model/validation.js";
import type * as model_webhookEndpointCommands from "../model/webhookEndpointCommands.js";
import type * as model_webhookFanout from "../model/webhookFanout.js";
import type * as model_webhookPolicy from "../model/webhookPolicy.js";
import type * as model_webhookQueue from "../model/webhookQueue.js";
import type * as model_webhookSigning from "../model/webhookSigning.js";
import type * as model_zoneCommands from "../model/zoneCommands.js";
import type * as model_zones from "../model/zones.js";
import type * as notifications from "../notifications.js";
import type * as notifySend from "../notifySend.js";
import type * as partyTokens from "../partyTokens.js";
import type * as payments from "../payments.js";
import type * as planBilling from "../planBilling.js";
import type * as plans from "../plans.js";
import type * as realtime from "../realtime.js";
import type * as refunds from "../refunds.js";
import type * as reports from "../reports.js";
import type * as resources from "../resources.js";
import type * as reviews from "../reviews.js";
import type * as search from "../search.js";
import type * as seed from "../seed.js";
import type * as series from "../series.js";
import type * as stripe from "../stripe.js";
import type * as stripeWebhook from "../stripeWebhook.js";
import type * as templates from "../templates.js";
import type * as users from "../users.js";
import type * as webhookDelivery from "../webhookDelivery.js";
import type * as webhooks from "../webhooks.js";
import type * as zones from "../zones.js";

/**
 * A utility for referencing Convex functions in your app's API.
 *
 * Usage:
 * ```js
 * const myFunctionReference = api.myModule.myFunction;
 * ```
 */
declare const fullApi: ApiFromModules<{
  access: typeof access;
  accounts: typeof accounts;
  "api/apiKeyFormat": typeof api_apiKeyFormat;
  "api/commands": typeof api_commands;
  "api/gate": typeof api_gate;
  "api/internalBilling": typeof api_internalBilling;
  "api/internalBookings": typeof api_internalBookings;
  "api/internalCatalogue": typeof api_internalCatalogue;
  "api/internalCustomers": typeof api_internalCustomers;
  "api/internalEvents": typeof api_internalEvents;
  "api/internalRequests": typeof api_internalRequests;
  "api/internalResources": typeof api_internalResources;
  "api/internalZones": typeof api_internalZones;
  "api/keys": typeof api_keys;
  "api/tenant": typeof api_tenant;
  "api/v1/billing": typeof api_v1_billing;
  "api/v1/bookings": typeof api_v1_bookings;
  "api/v1/catalogue": typeof api_v1_catalogue;
  "api/v1/customers": typeof api_v1_customers;
  "api/v1/errors": typeof api_v1_errors;
  "api/v1/events": typeof api_v1_events;
  "api/v1/framework": typeof api_v1_framework;
  "api/v1/openapi": typeof api_v1_openapi;
  "api/v1/pagination": typeof api_v1_pagination;
  "api/v1/present": typeof api_v1_present;
  "api/v1/resources": typeof api_v1_resources;
  "api/v1/router": typeof api_v1_router;
  "api/v1/routes": typeof api_v1_routes;
  "api/v1/schemas": typeof api_v1_schemas;
  "api/v1/zones": typeof api_v1_zones;
  "assistant/chat": typeof assistant_chat;
  "assistant/mcp": typeof assistant_mcp;
  "assistant/reply": typeof assistant_reply;
  "assistant/run": typeof assistant_run;
  "assistant/runAs": typeof assistant_runAs;
  "assistant/tools": typeof assistant_tools;
  auth: typeof auth;
  authTickets: typeof authTickets;
  availability: typeof availability;
  availabilityGrid: typeof availabilityGrid;
  bookings: typeof bookings;
  businesses: typeof businesses;
  catalogue: typeof catalogue;
  crons: typeof crons;
  customers: typeof customers;
  dispatch: typeof dispatch;
  env: typeof env;
  errors: typeof errors;
  functions: typeof functions;
  http: typeof http;
  invites: typeof invites;
  invoiceFiles: typeof invoiceFiles;
  invoices: typeof invoices;
  localCheckout: typeof localCheckout;
  messages: typeof messages;
  migrations: typeof migrations;
  "model/abuseLimits": typeof model_abuseLimits;
  "model/accountIdentity": typeof model_accountIdentity;
  "model/accounts": typeof model_accounts;
  "model/actor": typeof model_actor;
  "model/authTickets": typeof model_authTickets;
  "model/availabilityGrid": typeof model_availabilityGrid;
  "model/bookingAccess": typeof model_bookingAccess;
  "model/bookingCommands": typeof model_bookingCommands;
  "model/bookingCreate": typeof model_bookingCreate;
  "model/bookingEvents": typeof model_bookingEvents;
  "model/bookingNotify": typeof model_bookingNotify;
  "model/bookingPolicy": typeof model_bookingPolicy;
  "model/bookingPricing": typeof model_bookingPricing;
  "model/bookingSlots": typeof model_bookingSlots;
  "model/bookingTransitions": typeof model_bookingTransitions;
  "model/catalogue": typeof model_catalogue;
  "model/catalogueCommands": typeof model_catalogueCommands;
  "model/clientAddress": typeof model_clientAddress;
  "model/conversations": typeof model_conversations;
  "model/customerCommands": typeof model_customerCommands;
  "model/customers": typeof model_customers;
  "model/dispatchCommands": typeof model_dispatchCommands;
  "model/events": typeof model_events;
  "model/invoiceLines": typeof model_invoiceLines;
  "model/invoicePdf": typeof model_invoicePdf;
  "model/invoiceTotals": typeof model_invoiceTotals;
  "model/jsonNesting": typeof model_jsonNesting;
  "model/messageFormat": typeof model_messageFormat;
  "model/notify": typeof model_notify;
  "model/notifyTransports": typeof model_notifyTransports;
  "model/planBilling": typeof model_planBilling;
  "model/reminders": typeof model_reminders;
  "model/resourceCommands": typeof model_resourceCommands;
  "model/search": typeof model_search;
  "model/seriesCommands": typeof model_seriesCommands;
  "model/stripeApply": typeof model_stripeApply;
  "model/stripeCheckout": typeof model_stripeCheckout;
  "model/stripeEvents": typeof model_stripeEvents;
  "model/stripeLocalEvents": typeof model_stripeLocalEvents;
  "model/stripeLocalPlans": typeof model_stripeLocalPlans;
  "model/stripePaymentEvents": typeof model_stripePaymentEvents;
  "model/stripePlans": typeof model_stripePlans;
  "model/stripeRefunds": typeof model_stripeRefunds;
  "model/stripeSignature": typeof model_stripeSignature;
  "model/teamCommands": typeof model_teamCommands;
  "model/validation": typeof model_validation;
  "model/webhookEndpointCommands": typeof model_webhookEndpointCommands;
  "model/webhookFanout": typeof model_webhookFanout;
  "model/webhookPolicy": typeof model_webhookPolicy;
  "model/webhookQueue": typeof model_webhookQueue;
  "model/webhookSigning": typeof model_webhookSigning;
  "model/zoneCommands": typeof model_zoneCommands;
  "model/zones": typeof model_zones;
  notifications: typeof notifications;
  notifySend: typeof notifySend;
  partyTokens: typeof partyTokens;
  payments: typeof payments;
  planBilling: typeof planBilling;
  plans: typeof plans;
  realtime: typeof realtime;
  refunds: typeof refunds;
  reports: typeof reports;
  resources: typeof resources;
  reviews: typeof reviews;
  search: typeof search;
  seed: typeof seed;
  series: typeof series;
  stripe: typeof stripe;
  stripeWebhook: typeof stripeWebhook;
  templates: typeof templates;
  users: typeof users;
  webhookDelivery: typeof webhookDelivery;
  webhooks: typeof webhooks;
  zones: typeof zones;
}>;
export declare const api: FilterApi<
  typeof fullApi,
  FunctionReference<any, "public">
>;
export declare const internal: FilterApi<
  typeof fullApi,
  FunctionReference<any, "internal">
>;

export declare const components: {
  "rateLimiter": import("@convex-dev/rate-limiter/_generated/component.js").ComponentApi<"rateLimiter">,
  "webhookWorkpool": import("@convex-dev/workpool/_generated/component.js").ComponentApi<"webhookWorkpool">,
  "invoiceRevenue": import("@convex-dev/aggregate/_generated/component.js").ComponentApi<"invoiceRevenue">,
  "invoiceOutstanding": import("@convex-dev/aggregate/_generated/component.js").ComponentApi<"invoiceOutstanding">,
  "migrations": import("@convex-dev/migrations/_generated/component.js").ComponentApi<"migrations">,
};
