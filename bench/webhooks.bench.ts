/**
 * Stripe webhook ingestion benchmark (figures printed, never asserted).
 *
 * Each delivery goes through the full pipeline: Stripe SDK signature verification over the
 * raw body (SubtleCrypto), normalization, and the `stripeWebhook.processEvent` transaction
 * (dedupe by event id + the effect + platform events). Measured on:
 * - the project's LOCAL BACKEND ENGINE in-process (backend/src/testing/harness.ts, engine
 *   "local": SQLite-backed, durable commits), and
 * - convex-test's mock engine, for comparison (smaller run: its index reads scan every
 *   document, so it slows down as data grows).
 * Workload per payment: checkout.session.completed + payment_intent.succeeded + a failure
 * that arrives late + two cumulative charge.refunded, every event delivered three times in
 * shuffled order (2/3 of deliveries are duplicates). Also: the HTTP route (`t.fetch`) for a
 * sample, and duplicates alone.
 *
 * Run: npx tsx bench/webhooks.bench.ts [payments=100]
 */
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import Stripe from "stripe";
import { convexTest } from "../backend/src/testing/harness.js";
import { internal } from "../convex/_generated/api.js";
import type { Id } from "../convex/_generated/dataModel.js";
import { issueInvoice } from "../convex/model/invoiceLines.js";
import { stripeEvent, type StripeEventJson } from "../convex/model/stripeLocalEvents.js";
import schema from "../convex/schema.js";
import { ingestStripeWebhook } from "../convex/stripeWebhook.js";
import { aBooking, aBusinessScenario } from "../convex/test.builders.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SECRET = "whsec_bench_secret_0123456789";
const env = {
  PORTAL_URL: "http://127.0.0.1:5173",
  PARTYKIT_URL: "http://127.0.0.1:1999",
  PARTYKIT_PUSH_SECRET: "bench-partykit-push-secret",
  STRIPE_WEBHOOK_SECRET: SECRET,
};
Object.assign(process.env, env);
const crypto = Stripe.createSubtleCryptoProvider();
// Functions log (e.g. the notification module's log-only channel); keep the figures readable.
const print = console.log.bind(console);
console.log = () => {};
console.info = () => {};

type T = ReturnType<typeof convexTest>;

async function sign(body: string) {
  return await Stripe.webhooks.generateTestHeaderStringAsync({ payload: body, secret: SECRET, cryptoProvider: crypto });
}

let counter = 0;
function event(type: string, object: Record<string, unknown>, created: number): StripeEventJson {
  counter += 1;
  return { ...stripeEvent(type, object, created), id: `evt_bench_${counter}` };
}

async function setup(t: T, payments: number) {
  const s = await aBusinessScenario(t as never, { policies: { booking: { depositBp: 3_000 } } });
  const { bookingId } = await aBooking(t as never, {
    businessId: s.businessId,
    customerId: s.customer.customerId,
    zoneId: s.zoneId,
    industryId: s.catalogue.industryId,
    status: "PENDING_PAYMENT",
  });
  const invoice = await t.run(async (ctx) =>
    issueInvoice(ctx as never, (await ctx.db.get(bookingId))!, (await ctx.db.get(s.businessId))!, Date.now()),
  );
  const ids: Id<"payments">[] = [];
  for (let b = 0; b < payments; b += 25) {
    ids.push(
      ...(await t.run(async (ctx) => {
        const out: Id<"payments">[] = [];
        const template = (await ctx.db.get(bookingId))!;
        for (let i = b; i < Math.min(payments, b + 25); i++) {
          const { _id, _creationTime, ...booking } = template;
          const newBooking = await ctx.db.insert("bookings", { ...booking, invoiceId: undefined });
          const { _id: _x, _creationTime: _y, ...inv } = invoice;
          const invoiceId = await ctx.db.insert("invoices", { ...inv, bookingId: newBooking, number: `B-${i}` });
          await ctx.db.patch(newBooking, { invoiceId });
          out.push(
            await ctx.db.insert("payments", {
              businessId: s.businessId,
              invoiceId,
              bookingId: newBooking,
              customerId: s.customer.customerId,
              kind: "deposit",
              amountMinor: 3_000,
              currency: "USD",
              status: "requires_payment",
              provider: "stripe",
              createdAt: Date.now(),
              updatedAt: Date.now(),
            }),
          );
        }
        return out;
      })),
    );
  }
  return ids;
}

function workload(paymentIds: Id<"payments">[]) {
  const t0 = Math.floor(Date.now() / 1000) - 100;
  const events = paymentIds.flatMap((paymentId, i) => {
    const pi = `pi_bench_${i}_${counter}`;
    const intent = (status: string, failure?: string) => ({
      id: pi, object: "payment_intent", amount: 3_000, amount_received: status === "succeeded" ? 3_000 : 0, currency: "usd",
      customer: null, status, metadata: { paymentId }, last_payment_error: failure ? { message: failure } : null,
    });
    const charge = (refunded: number, refunds: { id: string; amount: number }[]) => ({
      id: `ch_bench_${i}`, object: "charge", amount: 3_000, amount_captured: 3_000, amount_refunded: refunded, currency: "usd",
      payment_intent: pi, metadata: { paymentId },
      refunds: { object: "list", data: refunds.map((r) => ({ ...r, object: "refund", status: "succeeded", metadata: {} })) },
    });
    return [
      event("payment_intent.payment_failed", intent("requires_payment_method", "declined"), t0),
      event("checkout.session.completed", { id: `cs_bench_${i}`, object: "checkout.session", mode: "payment", payment_status: "paid", payment_intent: pi, customer: null, subscription: null, amount_total: 3_000, currency: "usd", metadata: { paymentId } }, t0 + 10),
      event("payment_intent.succeeded", intent("succeeded"), t0 + 10),
      event("charge.refunded", charge(500, [{ id: `re_bench_${i}_a`, amount: 500 }]), t0 + 20),
      event("charge.refunded", charge(1_200, [{ id: `re_bench_${i}_b`, amount: 700 }, { id: `re_bench_${i}_a`, amount: 500 }]), t0 + 30),
    ];
  });
  const deliveries = [...events, ...events, ...events];
  for (let i = deliveries.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [deliveries[i], deliveries[j]] = [deliveries[j], deliveries[i]];
  }
  return { events, deliveries };
}

function percentile(sorted: number[], p: number) {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

async function measure(label: string, t: T, deliveries: StripeEventJson[], via: "pipeline" | "http") {
  const times: number[] = [];
  const outcomes = new Map<string, number>();
  const started = performance.now();
  for (const e of deliveries) {
    const body = JSON.stringify(e);
    const header = await sign(body);
    const t1 = performance.now();
    let status: number;
    let outcome: string;
    if (via === "pipeline") {
      const res = await ingestStripeWebhook((args) => t.mutation(internal.stripeWebhook.processEvent, args), body, header, SECRET);
      status = res.status;
      outcome = String(res.body.status);
    } else {
      const res = await t.fetch("/stripe/webhook", { method: "POST", headers: { "stripe-signature": header, "content-type": "application/json" }, body });
      status = res.status;
      outcome = String(((await res.json()) as { status?: string }).status);
    }
    times.push(performance.now() - t1);
    if (status !== 200) throw new Error(`${label}: ${e.type} answered ${status}`);
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  }
  const seconds = (performance.now() - started) / 1000;
  const sorted = times.sort((a, b) => a - b);
  print(
    `${label.padEnd(58)} ${String(deliveries.length).padStart(5)} deliveries  ${(deliveries.length / seconds).toFixed(0).padStart(5)}/s  ` +
      `p50 ${percentile(sorted, 50).toFixed(2)} ms  p95 ${percentile(sorted, 95).toFixed(2)} ms  ` +
      [...outcomes].map(([k, v]) => `${k}=${v}`).join(" "),
  );
}

/** convex-test needs the modules as a glob-like map (vite's import.meta.glob is not available under tsx). */
function convexModules(): Record<string, () => Promise<unknown>> {
  const modules: Record<string, () => Promise<unknown>> = {};
  const dir = path.join(root, "convex");
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const full = path.join(d, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (/\.(ts|js)$/.test(name) && !name.endsWith(".d.ts") && !name.includes(".test.")) {
        modules["./convex/" + path.relative(dir, full).replace(/\\/g, "/")] = () => import(pathToFileURL(full).href);
      }
    }
  };
  walk(dir);
  return modules;
}

async function run(engine: "local" | "mock", payments: number) {
  const t = convexTest(schema, engine === "mock" ? convexModules() : undefined, { engine, convexDir: path.join(root, "convex"), env }) as T;
  const paymentIds = await setup(t, payments);
  const { events, deliveries } = workload(paymentIds);
  await measure(`[${engine}] mixed: ${events.length} events ×3, shuffled`, t, deliveries, "pipeline");
  await measure(`[${engine}] duplicates only (all already processed)`, t, events.slice(0, 300), "pipeline");
  const sample = workload(await setup(t, Math.min(20, payments)));
  await measure(`[${engine}] through the HTTP route (t.fetch), mixed`, t, sample.deliveries, "http");
}

async function main() {
  const payments = Number(process.argv[2] ?? 100);
  print(`Stripe webhook ingestion: ${payments} payments × 5 events × 3 deliveries\n`);
  await run("local", payments);
  await run("mock", Math.min(payments, 40));
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
