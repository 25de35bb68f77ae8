/**
 * Business plans: what they cost and which REST API rate tier they buy. Pure module.
 *
 * Prices are monthly, in integer minor units of `PLAN_CURRENCY`; checkout builds the Stripe
 * price inline (`price_data`), with `lookup_key`-style metadata `plan` on the subscription, so
 * no Stripe dashboard setup is needed.
 */
import { plans, type Plan } from "../schema";

export const PLAN_CURRENCY = "USD";

export const PLAN_CATALOGUE: Record<Plan, { name: string; monthlyMinor: number }> = {
  free: { name: "Free", monthlyMinor: 0 },
  basic: { name: "Basic", monthlyMinor: 2_900 },
  pro: { name: "Pro", monthlyMinor: 7_900 },
  premium: { name: "Premium", monthlyMinor: 19_900 },
};

export type RateTier = "standard" | "professional" | "enterprise";

/** REST API rate-limit tier of a plan: free/basic → standard, pro → professional, premium → enterprise. */
export function rateTierForPlan(plan: Plan): RateTier {
  switch (plan) {
    case "free":
    case "basic":
      return "standard";
    case "pro":
      return "professional";
    case "premium":
      return "enterprise";
  }
}

export function isPlan(value: string): value is Plan {
  return (plans as readonly string[]).includes(value);
}

export function planRank(plan: Plan): number {
  return plans.indexOf(plan);
}
