/**
 * maildev, the local SMTP catcher: a real SMTP server with an inbox web UI and a REST API.
 * `npm start` runs it on fixed loopback ports (scripts/start-plan.ts); the portal tests and the
 * Convex notification tests start one on free ports with `startMaildev`, and read what
 * arrived over SMTP through `inboxClient` (maildev's REST API), never from the database.
 *
 * Text messages without Twilio (TEXT_MESSAGE_INBOX=smtp) arrive here too, addressed to
 * `<digits>@sms.inbox.localhost` / `<digits>@whatsapp.inbox.localhost`.
 *
 * Waits use node:timers/promises, so tests that fake the global timers can still use it.
 */
import { type ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { spawnGroup, stopGroup } from "./proc.js";

/** A port that was free on 127.0.0.1 a moment ago. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") return reject(new Error("no port"));
      server.close(() => resolve(address.port));
    });
  });
}

/** The maildev executable (node_modules/maildev, pinned in package.json). */
export function maildevBin(): string {
  // Its package exports name neither its package.json nor its bin (and `import` only).
  return join(dirname(fileURLToPath(import.meta.url)), "..", "node_modules", "maildev", "dist", "bin", "maildev.js");
}

/** maildev's arguments: SMTP and web UI on loopback only, mail kept in `mailDir`. */
export function maildevArgs(opts: { smtpPort: number; webPort: number; mailDir: string }): string[] {
  return [
    ...["--ip", "127.0.0.1", "--smtp", String(opts.smtpPort)],
    ...["--web-ip", "127.0.0.1", "--web", String(opts.webPort)],
    ...["--mail-directory", opts.mailDir],
  ];
}

export type InboxAttachment = { filename: string; contentType: string; size: number; content: () => Promise<Uint8Array> };
export type InboxMail = {
  id: string;
  subject: string;
  text: string;
  html: string;
  from: string[];
  to: string[];
  headers: Record<string, string>;
  attachments: InboxAttachment[];
};
export type Inbox = {
  webUrl: string;
  /** Every mail received so far, oldest first. */
  list(): Promise<InboxMail[]>;
  /** The first mail to `to` (case-insensitive) whose subject contains `subject`, waiting for it. */
  waitFor(match: { to: string; subject?: string | RegExp; timeoutMs?: number }): Promise<InboxMail>;
  clear(): Promise<void>;
};

type RawMail = {
  id: string;
  subject?: string;
  text?: string;
  html?: string;
  from?: { address: string }[];
  to?: { address: string }[];
  headers?: Record<string, string>;
  attachments?: { filename?: string; generatedFileName: string; contentType: string; size: number }[];
};

/** A client of maildev's REST API at `webUrl`. */
export function inboxClient(webUrl: string): Inbox {
  const base = webUrl.replace(/\/+$/, "");
  const toMail = (raw: RawMail): InboxMail => ({
    id: raw.id,
    subject: raw.subject ?? "",
    text: raw.text ?? "",
    html: raw.html ?? "",
    from: (raw.from ?? []).map((a) => a.address),
    to: (raw.to ?? []).map((a) => a.address),
    headers: raw.headers ?? {},
    attachments: (raw.attachments ?? []).map((a) => ({
      filename: a.filename ?? a.generatedFileName,
      contentType: a.contentType,
      size: a.size,
      content: async () => {
        const response = await fetch(`${base}/api/email/${encodeURIComponent(raw.id)}/attachment/${encodeURIComponent(a.generatedFileName)}`);
        if (!response.ok) throw new Error(`maildev: attachment ${a.generatedFileName} of ${raw.id}: HTTP ${response.status}`);
        return new Uint8Array(await response.arrayBuffer());
      },
    })),
  });
  const list = async () => {
    const response = await fetch(`${base}/api/email`);
    if (!response.ok) throw new Error(`maildev: GET /api/email: HTTP ${response.status}`);
    return ((await response.json()) as RawMail[]).map(toMail);
  };
  return {
    webUrl: base,
    list,
    async waitFor({ to, subject, timeoutMs = 30_000 }) {
      const want = to.toLowerCase();
      const deadline = Date.now() + timeoutMs;
      const matches = (mail: InboxMail) =>
        mail.to.some((a) => a.toLowerCase() === want) &&
        (subject === undefined || (typeof subject === "string" ? mail.subject.includes(subject) : subject.test(mail.subject)));
      for (;;) {
        const found = (await list()).find(matches);
        if (found) return found;
        if (Date.now() > deadline) {
          const seen = (await list()).map((m) => `${m.to.join(",")}: ${m.subject}`);
          throw new Error(`no mail to ${to}${subject ? ` with subject ${String(subject)}` : ""} within ${timeoutMs} ms; inbox has: ${JSON.stringify(seen)}`);
        }
        await sleep(200);
      }
    },
    async clear() {
      const response = await fetch(`${base}/api/email/all`, { method: "DELETE" });
      await response.body?.cancel();
      if (!response.ok) throw new Error(`maildev: DELETE /api/email/all: HTTP ${response.status}`);
    },
  };
}

export type Maildev = { smtpUrl: string; webUrl: string; inbox: Inbox; output(): string; stop(): Promise<void> };

/** Starts maildev on the given loopback ports and waits until its API answers. */
export async function startMaildev(opts: { smtpPort: number; webPort: number; mailDir: string; timeoutMs?: number }): Promise<Maildev> {
  mkdirSync(opts.mailDir, { recursive: true });
  let output = "";
  const child: ChildProcess = spawnGroup(process.execPath, [maildevBin(), ...maildevArgs(opts)], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  child.stdout!.on("data", (c: Buffer) => (output = (output + c.toString()).slice(-10_000)));
  child.stderr!.on("data", (c: Buffer) => (output = (output + c.toString()).slice(-10_000)));
  const webUrl = `http://127.0.0.1:${opts.webPort}`;
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`maildev exited with ${child.exitCode}:\n${output}`);
    try {
      const response = await fetch(`${webUrl}/api/healthz`, { signal: AbortSignal.timeout(2_000) });
      await response.body?.cancel();
      if (response.ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      await stopGroup(child);
      throw new Error(`maildev did not answer at ${webUrl} in time:\n${output}`);
    }
    await sleep(150);
  }
  return {
    smtpUrl: `smtp://127.0.0.1:${opts.smtpPort}`,
    webUrl,
    inbox: inboxClient(webUrl),
    output: () => output,
    stop: () => stopGroup(child),
  };
}
