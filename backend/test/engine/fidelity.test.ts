/// <reference types="vite/client" />
/**
 * Error texts and behaviours checked against Convex itself (get-convex/convex-backend), where
 * convex-test's mock words or behaves differently: only the local engine runs these.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { ConvexError } from "convex/values";
import { convexTest } from "../../src/testing/harness.js";
import schema from "../fixtures/app/schema.js";
import { api } from "../fixtures/app/_generated/api.js";

const modules = import.meta.glob("../fixtures/app/**/*.*s");
const make = () => convexTest(schema, modules, { engine: "local" });

describe("ids of the wrong table (crates/isolate helpers check_table_name)", () => {
  it("names the method, the expected and the actual table as Convex does", async () => {
    const t = make();
    const id = await t.run(async (ctx) => await ctx.db.insert("messages", { channel: "w", author: "a", body: "b" }));
    const wrong = (method: string) =>
      `Invalid argument \`id\` for \`db.${method}\`: expected to be an Id<"counters">, got Id<"messages"> instead.`;
    await expect(t.run(async (ctx) => await ctx.db.get("counters", id as never))).rejects.toThrow(wrong("get"));
    await expect(t.run(async (ctx) => await ctx.db.patch("counters", id as never, { value: 1 }))).rejects.toThrow(wrong("patch"));
    await expect(
      t.run(async (ctx) => await ctx.db.replace("counters", id as never, { name: "x", value: 1 })),
    ).rejects.toThrow(wrong("replace"));
    await expect(t.run(async (ctx) => await ctx.db.delete("counters", id as never))).rejects.toThrow(wrong("delete"));
  });
});

describe("system fields in a patch (crates/common document.rs)", () => {
  it("accepts the document's own _id and refuses another with Convex's message", async () => {
    const t = make();
    const id = await t.run(async (ctx) => await ctx.db.insert("messages", { channel: "p", author: "a", body: "b" }));
    await t.run(async (ctx) => await ctx.db.patch(id, { _id: id }));
    await expect(t.run(async (ctx) => await ctx.db.patch(id, { _id: "nonsense" as never }))).rejects.toThrow(
      `Provided document ID "${id}" doesn't match '_id' field "nonsense"`,
    );
  });
});

describe("index ranges (crates/common query.rs)", () => {
  it("refuses a second lower bound with Convex's message", async () => {
    const t = make();
    await expect(
      t.run(
        async (ctx) =>
          await ctx.db
            .query("messages")
            .withIndex("by_channel", (q) => (q.gt("channel", "a").lt("channel", "z") as any).gt("channel", "aaa"))
            .collect(),
      ),
    ).rejects.toThrow(`Already defined lower bound in index range. Can't add "channel" > "aaa".`);
  });
});

describe("ConvexError from nested calls", () => {
  it("is an instance of the caller's ConvexError class in inline actions and mutations", async () => {
    const t = make();
    let caught: unknown;
    await t.action(async (ctx) => {
      try {
        await ctx.runMutation(api.messages.sendThenConvexError, { channel: "ce" });
      } catch (error) {
        caught = error;
      }
    });
    expect(caught).toBeInstanceOf(ConvexError);
    expect((caught as ConvexError<{ code: string }>).data.code).toBe("SLOT_TAKEN");
    const fromRun = await t.run(async (ctx) => {
      try {
        await ctx.runMutation(api.messages.sendThenConvexError, { channel: "ce" });
      } catch (error) {
        return error instanceof ConvexError;
      }
      return null;
    });
    expect(fromRun).toBe(true);
  });
});

describe("fetch stubbed by a test", () => {
  it("reaches an action on a worker thread even when the stub answers a partial Response", async () => {
    const t = make();
    const original = globalThis.fetch;
    globalThis.fetch = (async () => ({ text: async () => "stubbed answer" }) as unknown as Response) as typeof fetch;
    try {
      expect(await t.action(api.actions.fetchText, { url: "https://example.invalid/" })).toBe("stubbed answer");
    } finally {
      globalThis.fetch = original;
    }
  });
});

describe("fetch response bodies in actions (Convex's runtime streams them)", () => {
  it("reach an action on a worker thread as they arrive, not when the response ends", async () => {
    let release: () => void = () => {};
    const released = new Promise<string>((resolve) => {
      release = () => resolve("released");
      setTimeout(() => resolve("timed out"), 10_000).unref();
    });
    const server = createServer((req, res) => {
      if (req.url === "/release") {
        release();
        res.end("ok");
        return;
      }
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("first");
      void released.then((how) => res.end(how === "released" ? "second" : "the action saw nothing before the end"));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const chunks = await make().action(api.actions.readStream, { url: `${base}/stream`, release: `${base}/release` });
      expect(chunks).toEqual(["first", "second"]);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
