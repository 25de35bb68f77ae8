/** A loopback TCP proxy whose connections can all be cut at once: a network blip on demand. */
import { createServer, connect, type Socket } from "node:net";

export type TcpProxy = {
  port: number;
  host: string;
  /** Cuts every open connection; returns how many there were. */
  dropAll(): number;
  /** While blocked, new connections are cut as soon as they arrive. */
  setBlocked(blocked: boolean): void;
  close(): Promise<void>;
};

export function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>();
  let blocked = false;
  const server = createServer((client) => {
    if (blocked) {
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, "127.0.0.1");
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const teardown = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", teardown).on("close", teardown);
    upstream.on("error", teardown).on("close", teardown);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") return reject(new Error("proxy has no port"));
      resolve({
        port: address.port,
        host: `127.0.0.1:${address.port}`,
        dropAll() {
          const count = pairs.size;
          for (const [client, upstream] of [...pairs]) {
            client.destroy();
            upstream.destroy();
          }
          return count;
        },
        setBlocked(value) {
          blocked = value;
        },
        close: () =>
          new Promise<void>((done) => {
            for (const [client, upstream] of pairs) {
              client.destroy();
              upstream.destroy();
            }
            server.close(() => done());
          }),
      });
    });
  });
}
