/**
 * Business plans as Stripe subscriptions: events set `businesses.plan` / `planStatus` in
 * order, the offline upgrade page, and the rate tier each plan buys.
 */
import { afterEach, describe, expect, test } from "vitest";
import { api } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import { rateTierForPlan } from "./plans";
import { newTest, type TestConvex } from "./test.setup";
import { aBusiness, aManager } from "./test.builders";
import { aSubscription, anEvent, errorOf, postEvent, routeFetch } from "./stripeWebhook.testkit";

let restore: (() => void) | null = null;
afterEach(() => {
  restore?.();
  restore = null;
});

async function business(t: TestConvex, id: Id<"businesses">) {
  return (await t.run((ctx) => ctx.db.get("businesses", id)))!;
}

test.each([
  ["free", "standard"],
  ["basic", "standard"],
  ["pro", "professional"],
  ["premium", "enterprise"],
] as const)("rateTierForPlan(%s) = %s", (plan, tier) => {
  expect(rateTierForPlan(plan)).toBe(tier);
});

describe("subscription events", () => {
  test("created / updated / deleted set the plan; older events never override newer ones", async () => {
    const t = newTest();
    const biz = await aBusiness(t);
    const t0 = Math.floor(Date.now() / 1000);
    const sub = (status: string, plan: string) => aSubscription({ id: "sub_1", customer: "cus_1", status, plan, businessId: biz.businessId });

    expect((await postEvent(t, anEvent("customer.subscription.created", sub("active", "pro"), t0))).json.status).toBe("applied");
    let b = await business(t, biz.businessId);
    expect([b.plan, b.planStatus, b.stripeSubscriptionId, b.stripeCustomerId]).toEqual(["pro", "active", "sub_1", "cus_1"]);

    expect((await postEvent(t, anEvent("customer.subscription.updated", sub("active", "premium"), t0 + 20))).json.status).toBe("applied");
    // An update older than the one applied arrives late: ignored.
    expect((await postEvent(t, anEvent("customer.subscription.updated", sub("active", "basic"), t0 + 10))).json.status).toBe("ignored");
    b = await business(t, biz.businessId);
    expect(b.plan).toBe("premium");

    expect((await postEvent(t, anEvent("customer.subscription.updated", sub("past_due", "premium"), t0 + 30))).json.status).toBe("applied");
    expect((await business(t, biz.businessId)).planStatus).toBe("past_due");

    expect((await postEvent(t, anEvent("customer.subscription.deleted", sub("canceled", "premium"), t0 + 40))).json.status).toBe("applied");
    b = await business(t, biz.businessId);
    expect([b.plan, b.planStatus, b.stripeSubscriptionId]).toEqual(["free", "canceled", undefined]);
    // The original `created` redelivered under a new event id much later is still stale.
    expect((await postEvent(t, anEvent("customer.subscription.created", sub("active", "pro"), t0))).json.status).toBe("ignored");
    expect((await business(t, biz.businessId)).plan).toBe("free");

    const changes = await t.run(async (ctx) =>
      (await ctx.db.query("events").withIndex("by_businessId_and_type_and_createdAt", (q) => q.eq("businessId", biz.businessId).eq("type", "plan.changed")).collect()).map((e) => [e.data.from, e.data.to]),
    );
    expect(changes).toEqual([["free", "pro"], ["pro", "premium"], ["premium", "premium"], ["premium", "free"]]);
  });

  test("a failed subscription invoice notifies the owner; an unknown plan is a processing failure (5xx)", async () => {
    const t = newTest();
    const biz = await aBusiness(t);
    await postEvent(t, anEvent("customer.subscription.created", aSubscription({ id: "sub_2", customer: "cus_2", status: "active", plan: "basic", businessId: biz.businessId })));
    const failed = anEvent("invoice.payment_failed", {
      id: "in_1", object: "invoice", customer: "cus_2", amount_paid: 0, amount_due: 2_900, currency: "usd", metadata: {},
      parent: { subscription_details: { subscription: "sub_2", metadata: { businessId: biz.businessId } } },
    });
    expect((await postEvent(t, failed)).json.status).toBe("applied");
    const notes = await t.run((ctx) => ctx.db.query("notifications").collect());
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({ userId: biz.owner.userId, templateKey: "payment_failed", status: "queued" });

    const weird = await postEvent(t, anEvent("customer.subscription.updated", aSubscription({ id: "sub_2", customer: "cus_2", status: "active", plan: "platinum", businessId: biz.businessId })));
    expect(weird.status).toBe(500);
    expect((await business(t, biz.businessId)).plan).toBe("basic");
  });
});

describe("offline upgrades", () => {
  test("owner upgrades through the local test page, changes plan in place, and cancels back to free", async () => {
    const t = newTest();
    restore = routeFetch(t).restore;
    const biz = await aBusiness(t);
    const manager = await aManager(t, biz.businessId);
    expect((await errorOf(manager.as.action(api.plans.startUpgrade, { businessId: biz.businessId, plan: "pro" })))?.code).toBe("FORBIDDEN");

    const started = await biz.owner.as.action(api.plans.startUpgrade, { businessId: biz.businessId, plan: "pro" });
    expect(started.kind).toBe("checkout");
    const url = new URL((started as { url: string }).url);
    const page = await t.fetch(url.pathname + url.search);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("Test mode — no real payment");

    const form = Object.fromEntries(url.searchParams);
    const tampered = await t.fetch("/local-checkout/complete", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ ...form, plan: "premium", outcome: "pay" }).toString(),
    });
    expect(tampered.status).toBe(403);

    const paid = await t.fetch("/local-checkout/complete", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ ...form, outcome: "pay" }).toString(),
      redirect: "manual",
    });
    expect(paid.status).toBe(303);
    let b = await business(t, biz.businessId);
    expect([b.plan, b.planStatus]).toEqual(["pro", "active"]);
    expect(b.stripeSubscriptionId).toMatch(/^sub_local/);
    expect(await biz.owner.as.query(api.plans.current, { businessId: biz.businessId })).toMatchObject({ plan: "pro", rateTier: "professional" });

    expect((await biz.owner.as.action(api.plans.startUpgrade, { businessId: biz.businessId, plan: "premium" })).kind).toBe("pending_event");
    b = await business(t, biz.businessId);
    expect(b.plan).toBe("premium");

    await biz.owner.as.action(api.plans.startUpgrade, { businessId: biz.businessId, plan: "free" });
    b = await business(t, biz.businessId);
    expect([b.plan, b.planStatus]).toEqual(["free", "canceled"]);
    expect((await errorOf(biz.owner.as.action(api.plans.startUpgrade, { businessId: biz.businessId, plan: "free" })))?.code).toBe("CONFLICT");
  });
});
