/**
 * The TCP ports a process tree listens on, read from /proc (no `ss` or `netstat` needed):
 * /proc/net/tcp{,6} lists listening sockets by inode, /proc/<pid>/fd links each process to its
 * sockets. `npm start`, the test dev server and `npm run audit:security` use it to refuse a
 * listener on anything but loopback.
 */
import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";

export interface Listener {
  /** Dotted IPv4 or full-form IPv6 (e.g. "0.0.0.0", "127.0.0.1", "::", "::1"). */
  address: string;
  port: number;
  inode: number;
}

export interface OwnedListener extends Listener {
  pid: number;
  command: string;
}

const TCP_LISTEN = "0A";

/** /proc/net/tcp stores each 32-bit word of an address in host (little-endian) byte order. */
function wordBytes(hex: string): number[] {
  const bytes = [0, 2, 4, 6].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return bytes.reverse();
}

export function decodeProcAddress(hex: string): string {
  if (hex.length === 8) return wordBytes(hex).join(".");
  const bytes: number[] = [];
  for (let i = 0; i < 32; i += 8) bytes.push(...wordBytes(hex.slice(i, i + 8)));
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  const full = groups.join(":");
  if (/^0:0:0:0:0:ffff:/.test(full)) {
    return `::ffff:${bytes.slice(12).join(".")}`;
  }
  // Shortest form for the two addresses that matter most; others stay in full form.
  if (full === "0:0:0:0:0:0:0:0") return "::";
  if (full === "0:0:0:0:0:0:0:1") return "::1";
  return full;
}

/** Listening sockets of one /proc/net/tcp{,6} table's text. */
export function parseProcNetTcp(text: string): Listener[] {
  const listeners: Listener[] = [];
  for (const line of text.split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10 || fields[3] !== TCP_LISTEN) continue;
    const [addressHex, portHex] = fields[1].split(":");
    listeners.push({ address: decodeProcAddress(addressHex), port: parseInt(portHex, 16), inode: Number(fields[9]) });
  }
  return listeners;
}

export function isLoopback(address: string): boolean {
  return address.startsWith("127.") || address === "::1" || address.startsWith("::ffff:127.");
}

/** Every listening TCP socket of this machine's network namespace. */
export function listeningSockets(): Listener[] {
  const tables = ["/proc/net/tcp", "/proc/net/tcp6"].filter((file) => existsSync(file));
  return tables.flatMap((file) => parseProcNetTcp(readFileSync(file, "utf8")));
}

function parentOf(pid: number): number | null {
  try {
    // "pid (comm) state ppid ...": comm may contain spaces and parentheses, so split after the last ")".
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return null;
  }
}

/** `root` and every process descended from it. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const parent = parentOf(pid);
    if (parent === null) continue;
    children.set(parent, [...(children.get(parent) ?? []), pid]);
  }
  const tree: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    tree.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

function socketInodes(pid: number): Set<number> {
  const inodes = new Set<number>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return inodes; // exited meanwhile
  }
  for (const fd of fds) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(Number(match[1]));
    } catch {
      // closed meanwhile
    }
  }
  return inodes;
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "?";
  }
}

/** The listening sockets held by `pids`. */
export function listenersOf(pids: number[]): OwnedListener[] {
  const byInode = new Map(listeningSockets().map((listener) => [listener.inode, listener]));
  const owned: OwnedListener[] = [];
  const seen = new Set<number>();
  for (const pid of pids) {
    for (const inode of socketInodes(pid)) {
      const listener = byInode.get(inode);
      if (listener === undefined || seen.has(inode)) continue;
      seen.add(inode);
      owned.push({ ...listener, pid, command: commandOf(pid) });
    }
  }
  return owned.sort((a, b) => a.port - b.port);
}

/** The listeners of the process tree under `root`. */
export function listenersOfTree(root: number): OwnedListener[] {
  return listenersOf(processTree(root));
}

export function describeListener(listener: OwnedListener): string {
  const host = listener.address.includes(":") ? `[${listener.address}]` : listener.address;
  return `${host}:${listener.port} (${listener.command}, pid ${listener.pid})`;
}

/** An error naming every listener beyond loopback, or null when there is none. */
export function exposedListenersProblem(listeners: OwnedListener[]): string | null {
  const exposed = listeners.filter((listener) => !isLoopback(listener.address));
  if (exposed.length === 0) return null;
  return `listening beyond loopback: ${exposed.map(describeListener).join(", ")}`;
}
