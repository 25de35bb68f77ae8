/** Raw WebSocket helpers for tests and benchmarks (the `ws` package). */
import WebSocket from "ws";

/** Collects messages and hands them out in arrival order; `next` fails instead of hanging forever. */
export class MessageQueue<T = unknown> {
  private readonly buffered: T[] = [];
  private waiters: { accept: (value: T) => boolean; resolve: (value: T) => void }[] = [];

  push(message: T): void {
    const waiter = this.waiters.find((w) => w.accept(message));
    if (waiter) {
      this.waiters = this.waiters.filter((w) => w !== waiter);
      waiter.resolve(message);
      return;
    }
    this.buffered.push(message);
  }

  /** The next message (matching `accept`, skipping and keeping the others buffered). */
  next(accept: (value: T) => boolean = () => true, timeoutMs = 10_000): Promise<T> {
    const index = this.buffered.findIndex(accept);
    if (index >= 0) return Promise.resolve(this.buffered.splice(index, 1)[0]);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.accept !== accept);
        reject(new Error(`no matching message within ${timeoutMs} ms; buffered: ${JSON.stringify(this.buffered)}`));
      }, timeoutMs);
      this.waiters.push({
        accept,
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value);
        },
      });
    });
  }

  /** Everything received and not yet taken. */
  drain(): T[] {
    return this.buffered.splice(0);
  }
}

export type OpenSocket = { ws: WebSocket; messages: MessageQueue<Record<string, unknown>>; close(): Promise<void> };

export function openSocket(url: string): Promise<OpenSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const messages = new MessageQueue<Record<string, unknown>>();
    ws.on("message", (data) => messages.push(JSON.parse(data.toString()) as Record<string, unknown>));
    ws.once("open", () =>
      resolve({
        ws,
        messages,
        close: () =>
          new Promise<void>((done) => {
            if (ws.readyState === WebSocket.CLOSED) return done();
            ws.once("close", () => done());
            ws.close();
          }),
      }),
    );
    ws.once("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString()));
      res.on("end", () => reject(new RefusedConnection(res.statusCode ?? 0, body)));
    });
    ws.once("error", (error) => reject(error));
  });
}

export class RefusedConnection extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`connection refused with ${status}: ${body}`);
  }
}

export async function expectRefused(url: string): Promise<{ status: number; error: { code: string; message: string } }> {
  try {
    const open = await openSocket(url);
    await open.close();
  } catch (error) {
    if (error instanceof RefusedConnection) {
      return { status: error.status, error: (JSON.parse(error.body) as { error: { code: string; message: string } }).error };
    }
    throw error;
  }
  throw new Error(`expected ${url} to be refused, but it connected`);
}
