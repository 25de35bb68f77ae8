/**
 * `npm start`'s plan (scripts/start-plan.ts), issue 13 finding 5: no secret on any child's
 * command line (any local user reads those with `ps`), secrets only in child environments, and
 * the console shows the demo API key's prefix and where the key is, never the key.
 */
import { describe, expect, it } from "vitest";
import { repoRoot } from "../scripts/env.js";
import { planServices, runningRows } from "../scripts/start-plan.js";

const local = {
  PARTYKIT_PUSH_SECRET: "push-secret-0123456789abcdefghijklmnop",
  PARTYKIT_PUSH_SECRET_PREVIOUS: "previous-push-secret-0123456789abcdef",
  LOCAL_ADMIN_KEY: "local_admin_0123456789abcdefghijklmnopqrstuvwxyz",
  DEMO_API_KEY: "bk_test_AbCdEf0123456789abcdefghijklmnop",
  STRIPE_WEBHOOK_SECRET: "whsec_0123456789abcdefghijklmnop",
  LOCAL_AUTH_PRIVATE_JWK: '{"kty":"EC","d":"private-part-0123456789"}',
  LOCAL_AUTH_JWKS: "data:application/json;base64,e30=",
  LOCAL_AUTH_ISSUER: "http://127.0.0.1:3210/local-auth",
};
const secrets = [local.PARTYKIT_PUSH_SECRET, local.PARTYKIT_PUSH_SECRET_PREVIOUS, local.LOCAL_ADMIN_KEY, local.DEMO_API_KEY, local.STRIPE_WEBHOOK_SECRET, "private-part"];
const envFile = `${repoRoot}/.env.local`;

describe("npm start", () => {
  const plan = planServices({ repoRoot, local, env: { ...local }, envFile });

  it("starts the mail catcher, the backend, PartyKit and the portal with no secret on a command line", () => {
    expect(plan.services.map((s) => s.name)).toEqual(["maildev", "backend", "partykit", "portal"]);
    for (const service of plan.services) {
      const commandLine = [service.command, ...service.args].join(" ");
      for (const secret of secrets) expect(commandLine, service.name).not.toContain(secret);
      expect(service.args, service.name).not.toContain("--var");
      expect(service.args, service.name).not.toContain("--admin-key");
    }
  });

  it("hands the secrets over in the environment instead", () => {
    const backend = plan.services.find((s) => s.name === "backend")!;
    expect(backend.env).toMatchObject({ CONVEX_SELF_HOSTED_ADMIN_KEY: local.LOCAL_ADMIN_KEY });
    // Notifications go to the local catcher (maildev, loopback only) unless SMTP_URL is configured.
    expect(backend.env).toMatchObject({ SMTP_URL: "smtp://127.0.0.1:1025", TEXT_MESSAGE_INBOX: "smtp" });
    const maildev = plan.services.find((s) => s.name === "maildev")!;
    expect(maildev.args.join(" ")).toContain("--ip 127.0.0.1 --smtp 1025 --web-ip 127.0.0.1 --web 1080");
    const withSmtp = planServices({ repoRoot, local, env: { ...local, SMTP_URL: "smtps://u:p@mail.example.com:465" }, envFile });
    expect(withSmtp.services.map((s) => s.name)).not.toContain("maildev");
    expect(withSmtp.services.find((s) => s.name === "backend")!.env).not.toHaveProperty("SMTP_URL");
    const partykit = plan.services.find((s) => s.name === "partykit")!;
    expect(JSON.parse(partykit.env!.PARTYKIT_DEV_VARS)).toMatchObject({
      PARTYKIT_PUSH_SECRET: local.PARTYKIT_PUSH_SECRET,
      PARTYKIT_PUSH_SECRET_PREVIOUS: local.PARTYKIT_PUSH_SECRET_PREVIOUS,
      CONVEX_URL: "http://127.0.0.1:3210",
    });
    // Rooms get what they read, not the backend's admin key or the signing key.
    expect(partykit.env!.PARTYKIT_DEV_VARS).not.toContain(local.LOCAL_ADMIN_KEY);
    expect(partykit.env!.PARTYKIT_DEV_VARS).not.toContain("private-part");
  });

  it("prints the demo API key's prefix and where to find the key, never the key", () => {
    const rows = runningRows(plan, local, envFile);
    const printed = rows.map(([what, where]) => `${what} ${where}`).join("\n");
    for (const secret of secrets) expect(printed).not.toContain(secret);
    expect(printed).toContain("demo API key bk_test_AbCdEf… (the full key is DEMO_API_KEY in");
    expect(printed).toContain(envFile);
  });
});
