/**
 * The components this app installs (Convex components: each has its own functions, tables
 * and scheduled functions, and is reached only through `components.<name>` from this app).
 *
 * - rateLimiter: the REST API's per-key request limits (api/internalRequests.ts).
 * - webhookWorkpool: the partner-webhook delivery queue, bounded parallelism (webhookDelivery.ts).
 * - invoiceRevenue / invoiceOutstanding: the owner's report totals (reports.ts).
 * - migrations: data migrations for schema changes (migrations.ts, docs/MIGRATIONS.md).
 */
import { defineApp } from "convex/server";
import aggregate from "@convex-dev/aggregate/convex.config";
import migrations from "@convex-dev/migrations/convex.config";
import rateLimiter from "@convex-dev/rate-limiter/convex.config";
import workpool from "@convex-dev/workpool/convex.config";

const app = defineApp();
app.use(rateLimiter);
app.use(workpool, { name: "webhookWorkpool" });
app.use(aggregate, { name: "invoiceRevenue" });
app.use(aggregate, { name: "invoiceOutstanding" });
app.use(migrations);
export default app;
