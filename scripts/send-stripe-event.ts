/**
 * Signs a Stripe event fixture with Stripe's own SDK and POSTs it to the webhook endpoint,
 * the way Stripe (or `stripe trigger`) would.
 *
 *   tsx scripts/send-stripe-event.ts <fixture.json> [--url http://127.0.0.1:3211/stripe/webhook]
 *       [--secret whsec_…] [--set name=value …] [--keep-id] [--keep-created] [--age seconds] [--times n]
 *
 * - The secret defaults to STRIPE_WEBHOOK_SECRET from the git-ignored `.env.local`.
 * - `{{name}}` placeholders in the fixture are replaced from `--set name=value`
 *   (e.g. `--set paymentId=<id from the portal>`); a placeholder left unfilled is an error.
 * - Each run gets a fresh event id and `created = now` unless `--keep-id` / `--keep-created`
 *   (keep the id to see a duplicate acknowledged without effect).
 * - `--age 400` signs with a timestamp 400 s in the past (a stale signature: expect 400).
 * - `--times 3` sends the same signed event three times.
 * Exits non-zero when the endpoint answers anything but 2xx.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import Stripe from "stripe";
import { readEnvFile } from "./env.js";
import { fetchWithRetry } from "./retry.js";

type Options = {
  fixture: string;
  url: string;
  secret?: string;
  set: Record<string, string>;
  keepId: boolean;
  keepCreated: boolean;
  ageSeconds: number;
  times: number;
};

function usage(message?: string): never {
  if (message) console.error(message);
  console.error(
    "usage: tsx scripts/send-stripe-event.ts <fixture.json> [--url URL] [--secret whsec_…] [--set name=value] [--keep-id] [--keep-created] [--age seconds] [--times n]",
  );
  process.exit(2);
}

function parseArgs(argv: string[]): Options {
  const options: Options = {
    fixture: "",
    url: "http://127.0.0.1:3211/stripe/webhook",
    set: {},
    keepId: false,
    keepCreated: false,
    ageSeconds: 0,
    times: 1,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => argv[++i] ?? usage(`${arg} needs a value`);
    if (arg === "--url") options.url = value();
    else if (arg === "--secret") options.secret = value();
    else if (arg === "--set") {
      const pair = value();
      const eq = pair.indexOf("=");
      if (eq <= 0) usage(`--set expects name=value, got ${pair}`);
      options.set[pair.slice(0, eq)] = pair.slice(eq + 1);
    } else if (arg === "--keep-id") options.keepId = true;
    else if (arg === "--keep-created") options.keepCreated = true;
    else if (arg === "--age") options.ageSeconds = Number(value());
    else if (arg === "--times") options.times = Number(value());
    else if (arg === "--help" || arg === "-h") usage();
    else if (arg.startsWith("--")) usage(`unknown option ${arg}`);
    else if (!options.fixture) options.fixture = arg;
    else usage(`unexpected argument ${arg}`);
  }
  if (!options.fixture) usage("missing fixture file");
  if (!Number.isInteger(options.times) || options.times < 1) usage("--times must be a positive integer");
  if (!Number.isFinite(options.ageSeconds)) usage("--age must be a number of seconds");
  return options;
}

export function fillPlaceholders(text: string, values: Record<string, string>): string {
  const filled = text.replace(/\{\{(\w+)\}\}/g, (match, name: string) => values[name] ?? match);
  const missing = [...filled.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]);
  if (missing.length > 0) {
    throw new Error(`fixture placeholders without a value: ${[...new Set(missing)].join(", ")} (pass --set name=value)`);
  }
  return filled;
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const secret = options.secret ?? readEnvFile().STRIPE_WEBHOOK_SECRET;
  if (!secret) usage("no --secret given and STRIPE_WEBHOOK_SECRET is not in .env.local (run `npm start` once to create it)");

  const event = JSON.parse(fillPlaceholders(readFileSync(resolve(options.fixture), "utf8"), options.set)) as {
    id: string;
    type: string;
    created: number;
    object?: string;
  };
  if (event.object !== "event" || typeof event.type !== "string") throw new Error(`${options.fixture} is not a Stripe event`);
  const now = Math.floor(Date.now() / 1000);
  if (!options.keepId) event.id = `evt_${randomBytes(12).toString("hex")}`;
  if (!options.keepCreated) event.created = now;
  const payload = JSON.stringify(event, null, 2);
  const header = await Stripe.webhooks.generateTestHeaderStringAsync({
    payload,
    secret,
    timestamp: now - options.ageSeconds,
    cryptoProvider: Stripe.createSubtleCryptoProvider(),
  });

  let failed = false;
  for (let n = 1; n <= options.times; n++) {
    const started = performance.now();
    // A restarting backend refuses or answers 503 without processing: send again, as Stripe does.
    const response = await fetchWithRetry(
      options.url,
      { method: "POST", headers: { "content-type": "application/json", "stripe-signature": header }, body: payload },
      { onRetry: (reason, ms) => console.log(`${reason}: the backend is not ready, sending again in ${ms} ms`) },
    );
    const body = await response.text();
    const ms = (performance.now() - started).toFixed(1);
    console.log(`${event.type} ${event.id} → HTTP ${response.status} in ${ms} ms ${body}`);
    if (!response.ok) failed = true;
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
