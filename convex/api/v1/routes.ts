/** Every /v1/ route (the OpenAPI route is added by the router). */
import { billingRoutes } from "./billing";
import { bookingRoutes } from "./bookings";
import { catalogueRoutes } from "./catalogue";
import { customerRoutes } from "./customers";
import { eventRoutes } from "./events";
import type { Route } from "./framework";
import { resourceRoutes } from "./resources";
import { zoneRoutes } from "./zones";

export const apiRoutes: Route[] = [
  ...customerRoutes,
  ...zoneRoutes,
  ...catalogueRoutes,
  ...resourceRoutes,
  ...bookingRoutes,
  ...billingRoutes,
  ...eventRoutes,
];
