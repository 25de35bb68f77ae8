/** /v1/resources. */
import { internal } from "../../_generated/api";
import { read, route, write, type Route } from "./framework";
import { listOf, zResource, zResourceCreate, zResourceListQuery, zResourceUpdate } from "./schemas";

const m = internal.api.internalResources;
const tag = "Resources";

export const resourceRoutes: Route[] = [
  route({
    method: "GET",
    path: "/v1/resources",
    operationId: "listResources",
    summary: "List bookable resources (providers, rooms, chairs, desks).",
    tag,
    scope: read("resources"),
    query: zResourceListQuery,
    response: listOf(zResource, "ResourceList"),
    handler: ({ ctx, businessId, apiKeyId, query }) => ctx.runQuery(m.list, { businessId, apiKeyId, ...query }),
  }),
  route({
    method: "POST",
    path: "/v1/resources",
    operationId: "createResource",
    summary: "Create a resource with weekly hours (local time of the business).",
    tag,
    scope: write("resources"),
    body: zResourceCreate,
    response: zResource,
    status: 201,
    handler: ({ ctx, businessId, apiKeyId, body }) => ctx.runMutation(m.create, { businessId, apiKeyId, ...body }),
  }),
  route({
    method: "GET",
    path: "/v1/resources/{resourceId}",
    operationId: "getResource",
    summary: "Retrieve a resource.",
    tag,
    scope: read("resources"),
    response: zResource,
    handler: ({ ctx, businessId, apiKeyId, params }) => ctx.runQuery(m.get, { businessId, apiKeyId, resourceId: params.resourceId }),
  }),
  route({
    method: "PATCH",
    path: "/v1/resources/{resourceId}",
    operationId: "updateResource",
    summary: "Update a resource; `active: false` stops new bookings on it.",
    tag,
    scope: write("resources"),
    body: zResourceUpdate,
    response: zResource,
    handler: ({ ctx, businessId, apiKeyId, params, body }) =>
      ctx.runMutation(m.update, { businessId, apiKeyId, resourceId: params.resourceId, ...body }),
  }),
];
