/**
 * A tiny OpenAI-compatible chat-completions server on 127.0.0.1 (a free port) that answers
 * from a script: each request takes the next reply (a tool call or a text). Records the
 * requests it got, so tests can see what the model was sent. Two dots: never deployed.
 */
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

export type Scripted = { toolCall: { name: string; arguments: Record<string, unknown> } } | { text: string };

export type FakeModel = { baseUrl: string; script: Scripted[]; requests: { messages: { role: string; content: unknown }[]; tools?: { function: { name: string } }[] }[]; close(): Promise<void> };

async function bodyOf(req: IncomingMessage): Promise<string> {
  let data = "";
  for await (const chunk of req) data += String(chunk);
  return data;
}

export async function startFakeModel(script: Scripted[]): Promise<FakeModel> {
  const requests: FakeModel["requests"] = [];
  let turn = 0;
  const server = createServer((req, res) => {
    void bodyOf(req).then((raw) => {
      if (req.method !== "POST" || !req.url?.endsWith("/chat/completions")) {
        res.writeHead(404).end();
        return;
      }
      requests.push(JSON.parse(raw) as FakeModel["requests"][number]);
      const next = script[Math.min(turn, script.length - 1)];
      turn += 1;
      const message =
        "toolCall" in next
          ? { role: "assistant", content: null, tool_calls: [{ id: `call_${turn}`, type: "function", function: { name: next.toolCall.name, arguments: JSON.stringify(next.toolCall.arguments) } }] }
          : { role: "assistant", content: next.text };
      res.writeHead(200, { "content-type": "application/json" }).end(
        JSON.stringify({
          id: `chatcmpl-${turn}`,
          object: "chat.completion",
          created: Math.floor(Date.now() / 1000),
          model: "fake",
          choices: [{ index: 0, message, finish_reason: "toolCall" in next ? "tool_calls" : "stop" }],
          usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { baseUrl: `http://127.0.0.1:${port}/v1`, script, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
