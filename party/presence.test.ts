import { describe, expect, it } from "vitest";
import { PresenceBook } from "./presence";

const ada = { userId: "ada", role: "manager" as const, name: "Ada" };
const bob = { userId: "bob", role: "staff" as const };

describe("dispatch presence", () => {
  it("announces a user's first connection only and lists viewers", () => {
    const book = new PresenceBook();
    expect(book.join("c1", ada, 100)).toEqual({ joined: { ...ada, since: 100 } });
    expect(book.join("c2", ada, 200)).toEqual({});
    expect(book.join("c3", bob, 300)).toEqual({ joined: { ...bob, since: 300 } });
    expect(book.snapshot()).toEqual([
      { ...ada, since: 100 },
      { ...bob, since: 300 },
    ]);
  });

  it("announces leaving when the user's last connection closes", () => {
    const book = new PresenceBook();
    book.join("c1", ada, 0);
    book.join("c2", ada, 0);
    expect(book.leave("c1")).toEqual({});
    expect(book.leave("c2")).toEqual({ left: "ada" });
    expect(book.leave("c2")).toEqual({});
    expect(book.snapshot()).toEqual([]);
  });

  it("sweeps quiet viewers and brings them back on their next heartbeat", () => {
    const book = new PresenceBook();
    book.join("c1", ada, 0);
    book.join("c2", bob, 0);
    book.heartbeat("c2", 50_000);
    expect(book.sweep(60_001, 60_000)).toEqual(["ada"]);
    expect(book.snapshot().map((v) => v.userId)).toEqual(["bob"]);
    expect(book.heartbeat("c1", 70_000)).toEqual({ joined: { ...ada, since: 70_000 } });
    expect(book.leave("c1")).toEqual({ left: "ada" });
  });

  it("keeps a user present while another of their tabs is alive", () => {
    const book = new PresenceBook();
    book.join("c1", ada, 0);
    book.join("c2", ada, 0);
    book.heartbeat("c2", 50_000);
    expect(book.sweep(60_001, 60_000)).toEqual([]);
    expect(book.snapshot()).toHaveLength(1);
  });

  it("ignores heartbeats from unknown connections", () => {
    expect(new PresenceBook().heartbeat("nobody", 1)).toEqual({});
  });
});
