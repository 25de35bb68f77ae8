/** /v1/customers and /v1/customers/{customerId}/addresses. */
import { internal } from "../../_generated/api";
import { read, route, write, type Route } from "./framework";
import {
  listOf,
  zAddress,
  zAddressCreate,
  zAddressUpdate,
  zCustomer,
  zCustomerCreate,
  zCustomerListQuery,
  zCustomerUpdate,
  zDeleted,
} from "./schemas";

const m = internal.api.internalCustomers;
const tag = "Customers";

export const customerRoutes: Route[] = [
  route({
    method: "GET",
    path: "/v1/customers",
    operationId: "listCustomers",
    summary: "List customers, newest first by default.",
    tag,
    scope: read("customers"),
    query: zCustomerListQuery,
    response: listOf(zCustomer, "CustomerList"),
    handler: ({ ctx, businessId, apiKeyId, query }) => ctx.runQuery(m.list, { businessId, apiKeyId, ...query }),
  }),
  route({
    method: "POST",
    path: "/v1/customers",
    operationId: "createCustomer",
    summary: "Create a customer (optionally with a first address).",
    tag,
    scope: write("customers"),
    body: zCustomerCreate,
    response: zCustomer,
    status: 201,
    errors: ["ALREADY_EXISTS"],
    handler: ({ ctx, businessId, apiKeyId, body }) => ctx.runMutation(m.create, { businessId, apiKeyId, ...body }),
  }),
  route({
    method: "GET",
    path: "/v1/customers/{customerId}",
    operationId: "getCustomer",
    summary: "Retrieve a customer with their addresses.",
    tag,
    scope: read("customers"),
    response: zCustomer,
    handler: ({ ctx, businessId, apiKeyId, params }) => ctx.runQuery(m.get, { businessId, apiKeyId, customerId: params.customerId }),
  }),
  route({
    method: "PATCH",
    path: "/v1/customers/{customerId}",
    operationId: "updateCustomer",
    summary: "Update a customer's fields.",
    tag,
    scope: write("customers"),
    body: zCustomerUpdate,
    response: zCustomer,
    errors: ["ALREADY_EXISTS"],
    handler: ({ ctx, businessId, apiKeyId, params, body }) =>
      ctx.runMutation(m.update, { businessId, apiKeyId, customerId: params.customerId, ...body }),
  }),
  route({
    method: "GET",
    path: "/v1/customers/{customerId}/addresses",
    operationId: "listCustomerAddresses",
    summary: "List a customer's addresses (at most 20).",
    tag,
    scope: read("customers"),
    response: listOf(zAddress, "AddressList"),
    handler: ({ ctx, businessId, apiKeyId, params }) =>
      ctx.runQuery(m.listAddresses, { businessId, apiKeyId, customerId: params.customerId }),
  }),
  route({
    method: "POST",
    path: "/v1/customers/{customerId}/addresses",
    operationId: "addCustomerAddress",
    summary: "Add an address; its service zone is resolved from the postal code or location.",
    tag,
    scope: write("customers"),
    body: zAddressCreate,
    response: zAddress,
    status: 201,
    errors: ["CONFLICT"],
    handler: ({ ctx, businessId, apiKeyId, params, body }) =>
      ctx.runMutation(m.addAddress, { businessId, apiKeyId, customerId: params.customerId, ...body }),
  }),
  route({
    method: "PATCH",
    path: "/v1/customers/{customerId}/addresses/{addressId}",
    operationId: "updateCustomerAddress",
    summary: "Change an address, its label, or make it the default.",
    tag,
    scope: write("customers"),
    body: zAddressUpdate,
    response: zAddress,
    handler: ({ ctx, businessId, apiKeyId, params, body }) =>
      ctx.runMutation(m.updateAddress, { businessId, apiKeyId, customerId: params.customerId, addressId: params.addressId, ...body }),
  }),
  route({
    method: "DELETE",
    path: "/v1/customers/{customerId}/addresses/{addressId}",
    operationId: "deleteCustomerAddress",
    summary: "Remove an address.",
    tag,
    scope: write("customers"),
    response: zDeleted,
    handler: ({ ctx, businessId, apiKeyId, params }) =>
      ctx.runMutation(m.removeAddress, { businessId, apiKeyId, customerId: params.customerId, addressId: params.addressId }),
  }),
];
