/**
 * Running the portal's own Convex functions as a given person, inside the assistant's
 * transaction. The assistant never reimplements a rule: each tool calls the registered portal
 * function (`bookings.hold`, `reports.revenue`, …) with `ctx.auth` answering as the person,
 * so that function's `functions.ts` builder loads the same viewer, its access checks see the
 * person's role in the business, and its commands write the same history, events and
 * notifications as a click in the portal.
 *
 * Convex attaches the function body to every registered function as `_handler` (convex-test
 * and the local backend call it the same way); the builders of `functions.ts` wrap it, so the
 * viewer and the triggers are applied exactly as for a request from the portal. Argument
 * validators are not run by this path: tools validate their input with zod and resolve ids
 * with `ctx.db.normalizeId` first (see tools.ts).
 *
 * Plain module: no registered functions.
 */
import type { Auth, DefaultFunctionArgs, RegisteredMutation, RegisteredQuery, UserIdentity } from "convex/server";
import type { Doc } from "../_generated/dataModel";

/** The identity the portal's builders resolve back to `user` (by its token identifier). */
export function identityOf(user: Doc<"users">): UserIdentity {
  return { tokenIdentifier: user.tokenIdentifier, subject: user._id, issuer: "assistant" };
}

export function asPerson<C extends { auth: Auth }>(ctx: C, user: Doc<"users">): C {
  const identity = identityOf(user);
  const auth: Auth = { getUserIdentity: async () => identity };
  return { ...ctx, auth };
}

type Handler<A, R> = { _handler: (ctx: unknown, args: A) => Promise<R> };

export async function callQuery<A extends DefaultFunctionArgs, R>(ctx: { auth: Auth }, fn: RegisteredQuery<"public", A, R>, args: A): Promise<Awaited<R>> {
  return (await (fn as unknown as Handler<A, R>)._handler(ctx, args)) as Awaited<R>;
}

export async function callMutation<A extends DefaultFunctionArgs, R>(
  ctx: { auth: Auth },
  fn: RegisteredMutation<"public", A, R>,
  args: A,
): Promise<Awaited<R>> {
  return (await (fn as unknown as Handler<A, R>)._handler(ctx, args)) as Awaited<R>;
}
