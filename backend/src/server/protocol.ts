/**
 * The Convex sync protocol's messages (convex@1.48 `browser/sync/protocol.ts`), with a strict
 * parser for what clients send. Timestamps stay base64-encoded strings on the wire.
 */
import { z } from "zod";
import type { JSONValue } from "convex/values";

// Frames come from JSON.parse, so every value in them is already JSON. Checking it again would
// recurse over hostile arguments nested thousands of levels deep and overflow the stack before
// the session can refuse them with Convex's nesting message (sync_session.ts refuseCall).
const jsonValue = z.custom<JSONValue>((value) => value !== undefined);

const nonNegativeInt = z.number().int().nonnegative();
const functionArgs = z.array(jsonValue);

const connect = z.object({
  type: z.literal("Connect"),
  sessionId: z.string().min(1),
  connectionCount: nonNegativeInt,
  lastCloseReason: z.string().nullable(),
  maxObservedTimestamp: z.string().optional(),
  clientTs: z.number().optional(),
});

const addQuery = z.object({
  type: z.literal("Add"),
  queryId: nonNegativeInt,
  udfPath: z.string(),
  args: functionArgs,
  journal: z.string().nullable().optional(),
  componentPath: z.string().optional(),
});

const removeQuery = z.object({ type: z.literal("Remove"), queryId: nonNegativeInt });

const modifyQuerySet = z.object({
  type: z.literal("ModifyQuerySet"),
  baseVersion: nonNegativeInt,
  newVersion: nonNegativeInt,
  modifications: z.array(z.discriminatedUnion("type", [addQuery, removeQuery])),
});

const functionRequest = {
  requestId: nonNegativeInt,
  udfPath: z.string(),
  args: functionArgs,
  componentPath: z.string().optional(),
};
const mutation = z.object({ type: z.literal("Mutation"), ...functionRequest });
const action = z.object({ type: z.literal("Action"), ...functionRequest });

const authenticate = z.discriminatedUnion("tokenType", [
  z.object({
    type: z.literal("Authenticate"),
    baseVersion: nonNegativeInt,
    tokenType: z.literal("User"),
    value: z.string(),
  }),
  z.object({
    type: z.literal("Authenticate"),
    baseVersion: nonNegativeInt,
    tokenType: z.literal("Admin"),
    value: z.string(),
    impersonating: z.record(z.string(), jsonValue).optional(),
  }),
  z.object({
    type: z.literal("Authenticate"),
    baseVersion: nonNegativeInt,
    tokenType: z.literal("None"),
  }),
]);

const event = z.object({ type: z.literal("Event"), eventType: z.string(), event: jsonValue });

export type ClientMessage =
  | z.infer<typeof connect>
  | z.infer<typeof modifyQuerySet>
  | z.infer<typeof mutation>
  | z.infer<typeof action>
  | z.infer<typeof authenticate>
  | z.infer<typeof event>;
export type ConnectMessage = z.infer<typeof connect>;
export type ModifyQuerySetMessage = z.infer<typeof modifyQuerySet>;
export type MutationMessage = z.infer<typeof mutation>;
export type ActionMessage = z.infer<typeof action>;
export type AuthenticateMessage = z.infer<typeof authenticate>;
export type QuerySetModification = ModifyQuerySetMessage["modifications"][number];

const KNOWN_TYPES = ["Connect", "ModifyQuerySet", "Mutation", "Action", "Authenticate", "Event"];

/** Parses one text frame; throws an Error whose message says what was wrong. */
export function parseClientMessage(frame: string): ClientMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(frame);
  } catch {
    throw new Error(`Malformed message: not JSON (${truncate(frame)})`);
  }
  const type = typeof raw === "object" && raw !== null ? (raw as { type?: unknown }).type : undefined;
  if (typeof type !== "string" || !KNOWN_TYPES.includes(type)) {
    throw new Error(`Malformed message: unknown message type ${JSON.stringify(type ?? null)}`);
  }
  const schema = {
    Connect: connect,
    ModifyQuerySet: modifyQuerySet,
    Mutation: mutation,
    Action: action,
    Authenticate: authenticate,
    Event: event,
  }[type as ClientMessage["type"]];
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.length > 0 ? issue.path.join(".") : "message";
    throw new Error(`Malformed ${type} message: ${where}: ${issue.message}`);
  }
  return parsed.data as ClientMessage;
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

/** A client's view of its state: Transitions move it from one version to the next. */
export interface StateVersion {
  querySet: number;
  /** Encoded u64 timestamp. */
  ts: string;
  identity: number;
}

export type StateModification =
  | { type: "QueryUpdated"; queryId: number; value: JSONValue; logLines: string[]; journal: null }
  | {
      type: "QueryFailed";
      queryId: number;
      errorMessage: string;
      logLines: string[];
      errorData?: JSONValue;
      journal: null;
    }
  | { type: "QueryRemoved"; queryId: number };

export type ServerMessage =
  | {
      type: "Transition";
      startVersion: StateVersion;
      endVersion: StateVersion;
      modifications: StateModification[];
    }
  | {
      type: "MutationResponse";
      requestId: number;
      success: true;
      result: JSONValue;
      ts: string;
      logLines: string[];
    }
  | {
      type: "MutationResponse";
      requestId: number;
      success: false;
      result: string;
      logLines: string[];
      errorData?: JSONValue;
    }
  | { type: "ActionResponse"; requestId: number; success: true; result: JSONValue; logLines: string[] }
  | {
      type: "ActionResponse";
      requestId: number;
      success: false;
      result: string;
      logLines: string[];
      errorData?: JSONValue;
    }
  | { type: "AuthError"; error: string; baseVersion: number; authUpdateAttempted: boolean }
  | { type: "FatalError"; error: string }
  | { type: "Ping" };

/**
 * A Transition as wire text, from modifications already encoded as JSON text. A result shared by
 * many connections is encoded once and only the version numbers differ per connection, so the
 * per-connection work is string concatenation, not JSON encoding of the values.
 */
export function encodeTransition(start: StateVersion, end: StateVersion, encodedModifications: string[]): string {
  return (
    `{"type":"Transition","startVersion":${encodeVersion(start)},"endVersion":${encodeVersion(end)},` +
    `"modifications":[${encodedModifications.join(",")}]}`
  );
}

function encodeVersion(version: StateVersion): string {
  return `{"querySet":${version.querySet},"ts":${JSON.stringify(version.ts)},"identity":${version.identity}}`;
}
