/**
 * Who may sign people in: the offline local sign-in (a `customJwt` issuer whose public keys
 * are inlined as a data: URI) and/or Clerk, each present when its environment variables
 * are set (see env.ts).
 */
import type { AuthConfig } from "convex/server";
import { authProviders } from "./env";

export default { providers: authProviders() } satisfies AuthConfig;
