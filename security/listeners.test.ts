/**
 * The listener check that `npm start` and the test dev server run (scripts/listeners.ts), issue
 * 13 finding 1: it sees every socket a process tree listens on and names those beyond loopback.
 */
import { createServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { decodeProcAddress, exposedListenersProblem, isLoopback, listenersOfTree, parseProcNetTcp } from "../scripts/listeners.js";

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

function listen(host: string): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    servers.push(server);
    server.listen(0, host, () => resolve((server.address() as { port: number }).port));
  });
}

describe("listener check", () => {
  it("decodes /proc/net/tcp and tcp6 addresses", () => {
    expect(decodeProcAddress("0100007F")).toBe("127.0.0.1");
    expect(decodeProcAddress("00000000")).toBe("0.0.0.0");
    expect(decodeProcAddress("00000000000000000000000001000000")).toBe("::1");
    expect(decodeProcAddress("00000000000000000000000000000000")).toBe("::");
    expect(decodeProcAddress("0000000000000000FFFF00000100007F")).toBe("::ffff:127.0.0.1");
    const table = [
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
      "   0: 0100007F:0CBA 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0",
      "   1: 0100007F:0CBB 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 4243 1 0",
    ].join("\n");
    expect(parseProcNetTcp(table)).toEqual([{ address: "127.0.0.1", port: 3258, inode: 4242 }]);
    for (const address of ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"]) expect(isLoopback(address)).toBe(true);
    for (const address of ["0.0.0.0", "::", "10.0.0.2", "::ffff:10.0.0.2"]) expect(isLoopback(address)).toBe(false);
  });

  it("finds this process's listeners and names the ones beyond loopback", async () => {
    const loopback = await listen("127.0.0.1");
    expect(exposedListenersProblem(listenersOfTree(process.pid).filter((l) => l.port === loopback))).toBeNull();
    const everywhere = await listen("0.0.0.0");
    const ipv6Everywhere = await listen("::");
    const mine = listenersOfTree(process.pid).filter((l) => [loopback, everywhere, ipv6Everywhere].includes(l.port));
    expect(mine.map((l) => l.port).sort()).toEqual([loopback, everywhere, ipv6Everywhere].sort());
    const problem = exposedListenersProblem(mine);
    expect(problem).toContain(`0.0.0.0:${everywhere}`);
    expect(problem).toContain(`[::]:${ipv6Everywhere}`);
    expect(problem).not.toContain(`:${loopback} `);
  });
});
