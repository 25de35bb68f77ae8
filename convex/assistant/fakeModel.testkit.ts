/**
 * A tiny OpenAI-compatible chat-completions server on 127.0.0.1 (a free port) that answers
 * from a script: each request takes the next reply (a tool call or a text). It answers in
 * one JSON body, or as server-sent chunks when the request asks to stream (as `streamText`
 * does): a text goes out word by word, and a reply with `holdAfterFirstChunk` waits after its
 * first word until that promise settles, so a test can look at a half-written reply. Records
 * the requests it got, so tests can see what the model was sent. Two dots: never deployed.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type Scripted = { toolCall: { name: string; arguments: Record<string, unknown> } } | { text: string; holdAfterFirstChunk?: Promise<void> };

type Request = { stream?: boolean; messages: { role: string; content: unknown }[]; tools?: { function: { name: string } }[] };

export type FakeModel = {
  baseUrl: string;
  script: Scripted[];
  requests: Request[];
  /** Resolves when a streamed reply has sent its first chunk (and is holding, if asked to). */
  firstChunkSent: () => Promise<void>;
  close(): Promise<void>;
};

async function bodyOf(req: IncomingMessage): Promise<string> {
  let data = "";
  for await (const chunk of req) data += String(chunk);
  return data;
}

function chunkOf(turn: number, delta: Record<string, unknown>, finish: string | null) {
  return { id: `chatcmpl-${turn}`, object: "chat.completion.chunk", created: Math.floor(Date.now() / 1000), model: "fake", choices: [{ index: 0, delta, finish_reason: finish }] };
}

async function stream(res: ServerResponse, turn: number, next: Scripted, onFirst: () => void) {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  const send = (data: unknown) => res.write(`data: ${JSON.stringify(data)}\n\n`);
  if ("toolCall" in next) {
    const call = { index: 0, id: `call_${turn}`, type: "function", function: { name: next.toolCall.name, arguments: JSON.stringify(next.toolCall.arguments) } };
    send(chunkOf(turn, { role: "assistant", content: null, tool_calls: [call] }, null));
    send(chunkOf(turn, {}, "tool_calls"));
  } else {
    const words = next.text.split(/(?<= )/);
    for (const [i, word] of words.entries()) {
      send(chunkOf(turn, i === 0 ? { role: "assistant", content: word } : { content: word }, null));
      if (i === 0) {
        onFirst();
        if (next.holdAfterFirstChunk) await next.holdAfterFirstChunk;
      }
    }
    send(chunkOf(turn, {}, "stop"));
  }
  res.end("data: [DONE]\n\n");
}

export async function startFakeModel(script: Scripted[]): Promise<FakeModel> {
  const requests: Request[] = [];
  let turn = 0;
  let firstChunk: () => void = () => {};
  const firstChunkPromise = new Promise<void>((resolve) => (firstChunk = resolve));
  const server = createServer((req, res) => {
    void bodyOf(req).then(async (raw) => {
      if (req.method !== "POST" || !req.url?.endsWith("/chat/completions")) {
        res.writeHead(404).end();
        return;
      }
      const request = JSON.parse(raw) as Request;
      requests.push(request);
      const next = script[Math.min(turn, script.length - 1)];
      turn += 1;
      if (request.stream) {
        await stream(res, turn, next, () => firstChunk());
        return;
      }
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
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    script,
    requests,
    firstChunkSent: () => firstChunkPromise,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
