/** /v1/zones. */
import { internal } from "../../_generated/api";
import { read, route, write, type Route } from "./framework";
import { listOf, zZone, zZoneCreate, zZoneListQuery, zZoneResolution, zZoneResolveQuery, zZoneUpdate } from "./schemas";

const m = internal.api.internalZones;
const tag = "Zones";

export const zoneRoutes: Route[] = [
  route({
    method: "GET",
    path: "/v1/zones",
    operationId: "listZones",
    summary: "List service zones.",
    tag,
    scope: read("zones"),
    query: zZoneListQuery,
    response: listOf(zZone, "ZoneList"),
    handler: ({ ctx, businessId, apiKeyId, query }) => ctx.runQuery(m.list, { businessId, apiKeyId, ...query }),
  }),
  route({
    method: "GET",
    path: "/v1/zones/resolve",
    operationId: "resolveZone",
    summary: "Find the active zone serving a postal code (or a lat/lng location).",
    tag,
    scope: read("zones"),
    query: zZoneResolveQuery,
    response: zZoneResolution,
    handler: ({ ctx, businessId, apiKeyId, query }) =>
      ctx.runQuery(m.resolve, {
        businessId,
        apiKeyId,
        postalCode: query.postalCode,
        country: query.country,
        location: query.lat !== undefined && query.lng !== undefined ? { lat: query.lat, lng: query.lng } : undefined,
      }),
  }),
  route({
    method: "POST",
    path: "/v1/zones",
    operationId: "createZone",
    summary: "Create a zone from postal codes (\"10001\", \"SW1A\", \"100*\") and/or boundary polygons.",
    tag,
    scope: write("zones"),
    body: zZoneCreate,
    response: zZone,
    status: 201,
    errors: ["CONFLICT"],
    handler: ({ ctx, businessId, apiKeyId, body }) => ctx.runMutation(m.create, { businessId, apiKeyId, ...body }),
  }),
  route({
    method: "GET",
    path: "/v1/zones/{zoneId}",
    operationId: "getZone",
    summary: "Retrieve a zone with its postal codes.",
    tag,
    scope: read("zones"),
    response: zZone,
    handler: ({ ctx, businessId, apiKeyId, params }) => ctx.runQuery(m.get, { businessId, apiKeyId, zoneId: params.zoneId }),
  }),
  route({
    method: "PATCH",
    path: "/v1/zones/{zoneId}",
    operationId: "updateZone",
    summary: "Update a zone; `postalCodes` replaces the whole set; `active: false` takes it out of service.",
    tag,
    scope: write("zones"),
    body: zZoneUpdate,
    response: zZone,
    errors: ["CONFLICT"],
    handler: ({ ctx, businessId, apiKeyId, params, body }) => ctx.runMutation(m.update, { businessId, apiKeyId, zoneId: params.zoneId, ...body }),
  }),
];
