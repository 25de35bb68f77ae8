/**
 * One sync WebSocket connection: its query set, its identity and its version, kept exactly
 * in step with what the client believes (every Transition starts where the last one ended).
 */
import type { JSONValue } from "convex/values";
import type { CallOutcome, Engine, Timestamp } from "../engine/types.js";
import { ANONYMOUS, AuthenticationError, type AuthVerifier, type Caller } from "./auth.js";
import { canonicalFunctionPath } from "./paths.js";
import { tooNestedMessage } from "./value_nesting.js";
import {
  encodeTransition,
  parseClientMessage,
  type ActionMessage,
  type AuthenticateMessage,
  type ClientMessage,
  type ModifyQuerySetMessage,
  type MutationMessage,
  type ServerMessage,
  type StateModification,
} from "./protocol.js";
import { encodeModification, type QuerySubscriber, type SharedQuery, type SubscriptionHub } from "./subscriptions.js";
import { encodeTs } from "./timestamps.js";

export interface SyncTransport {
  send(text: string): void;
  /** Closes the connection after what was sent is flushed. */
  close(code: number, reason: string): void;
}

export interface SyncSessionOptions {
  engine: Engine;
  hub: SubscriptionHub;
  auth: AuthVerifier;
  transport: SyncTransport;
  /** Largest JSON encoding of one call's arguments. */
  maxArgsBytes: number;
  pingIntervalMs: number;
  log: (line: string) => void;
}

interface ClientVersion {
  querySet: number;
  ts: Timestamp;
  identity: number;
}

export class SyncSession implements QuerySubscriber {
  private sessionId: string | null = null;
  /** What the client has been sent. */
  private version: ClientVersion = { querySet: 0, ts: 0n, identity: 0 };
  /** Versions as of the messages received so far (checked on receipt, applied in order). */
  private expectedQuerySetVersion = 0;
  private expectedIdentityVersion = 0;
  private caller: Caller = ANONYMOUS;
  /** Resolves to the caller in force after the last Authenticate received; rejects if refused. */
  private callerAfterLastAuth: Promise<Caller> = Promise.resolve(ANONYMOUS);
  private readonly queries = new Map<number, SharedQuery>();
  private controlChain: Promise<void> = Promise.resolve();
  private mutationChain: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly pingTimer: NodeJS.Timeout;

  constructor(private readonly options: SyncSessionOptions) {
    this.pingTimer = setTimeout(() => this.ping(), options.pingIntervalMs);
    this.pingTimer.unref();
  }

  handleFrame(frame: string): void {
    if (this.closed) return;
    let message: ClientMessage;
    try {
      message = parseClientMessage(frame);
    } catch (error) {
      this.fail((error as Error).message);
      return;
    }
    if (this.sessionId === null && message.type !== "Connect") {
      this.fail(`Protocol error: ${message.type} received before Connect`);
      return;
    }
    switch (message.type) {
      case "Connect":
        if (this.sessionId !== null) return this.fail("Protocol error: Connect received twice");
        this.sessionId = message.sessionId;
        return;
      case "ModifyQuerySet":
        return this.receiveModifyQuerySet(message);
      case "Authenticate":
        return this.receiveAuthenticate(message);
      case "Mutation":
        return this.receiveMutation(message);
      case "Action":
        return this.receiveAction(message);
      case "Event":
        return;
    }
  }

  /** The connection is gone: drop its subscriptions and stop sending. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.pingTimer);
    const queries = [...this.queries];
    this.queries.clear();
    void this.options.hub.exclusive(() => {
      for (const [queryId, query] of queries) this.options.hub.unsubscribe(this, queryId, query);
    });
  }

  /** From the hub, inside `exclusive`: results changed by a commit batch. */
  deliver(encodedModifications: string[], ts: Timestamp): void {
    this.sendTransition(encodedModifications, { ts: ts > this.version.ts ? ts : this.version.ts });
  }

  private receiveModifyQuerySet(message: ModifyQuerySetMessage): void {
    if (message.baseVersion !== this.expectedQuerySetVersion || message.newVersion <= message.baseVersion) {
      return this.fail(
        `Protocol error: ModifyQuerySet from version ${message.baseVersion} to ${message.newVersion}, ` +
          `but the query set is at version ${this.expectedQuerySetVersion}`,
      );
    }
    this.expectedQuerySetVersion = message.newVersion;
    this.enqueueControl(() => this.applyModifyQuerySet(message));
  }

  private async applyModifyQuerySet(message: ModifyQuerySetMessage): Promise<void> {
    const { hub } = this.options;
    await hub.exclusive(async () => {
      if (this.closed) return;
      const modifications: string[] = [];
      for (const change of message.modifications) {
        if (change.type === "Add") {
          if (this.queries.has(change.queryId)) {
            return this.fail(`Protocol error: query ${change.queryId} added twice`);
          }
          modifications.push(await this.addQuery(change.queryId, change.udfPath, change.args));
        } else {
          const query = this.queries.get(change.queryId);
          if (query === undefined) return this.fail(`Protocol error: removing unknown query ${change.queryId}`);
          this.queries.delete(change.queryId);
          hub.unsubscribe(this, change.queryId, query);
          modifications.push(JSON.stringify({ type: "QueryRemoved", queryId: change.queryId } satisfies StateModification));
        }
      }
      if (this.closed) return;
      this.sendTransition(modifications, { querySet: message.newVersion, ts: this.atLeastHubTs() });
    });
  }

  /** Subscribes and returns the query's first result as an encoded StateModification. */
  private async addQuery(queryId: number, udfPath: string, args: JSONValue[]): Promise<string> {
    const refusal = this.refuseCall(udfPath, args);
    if (refusal !== null) {
      return JSON.stringify({ type: "QueryFailed", queryId, errorMessage: refusal, logLines: [], journal: null } satisfies StateModification);
    }
    const query = await this.options.hub.subscribe(this, queryId, canonicalFunctionPath(udfPath), args, this.caller);
    if (this.closed) {
      this.options.hub.unsubscribe(this, queryId, query);
    } else {
      this.queries.set(queryId, query);
    }
    return encodeModification(queryId, query.result);
  }

  private receiveAuthenticate(message: AuthenticateMessage): void {
    if (message.baseVersion !== this.expectedIdentityVersion) {
      return this.fail(
        `Protocol error: Authenticate from identity version ${message.baseVersion}, ` +
          `but the identity is at version ${this.expectedIdentityVersion}`,
      );
    }
    this.expectedIdentityVersion = message.baseVersion + 1;
    const verified = this.verify(message);
    // Calls received after this message run as whoever this message names.
    this.callerAfterLastAuth = verified;
    verified.catch(() => undefined);
    this.enqueueControl(async () => {
      let caller: Caller;
      try {
        caller = await verified;
      } catch (error) {
        this.send({
          type: "AuthError",
          error: (error as Error).message,
          baseVersion: message.baseVersion,
          authUpdateAttempted: true,
        });
        this.closeConnection(1000, "AuthError");
        return;
      }
      await this.changeCaller(caller, message.baseVersion + 1);
    });
  }

  private async verify(message: AuthenticateMessage): Promise<Caller> {
    switch (message.tokenType) {
      case "None":
        return ANONYMOUS;
      case "User":
        return { identity: await this.options.auth.verifyUserToken(message.value), admin: false };
      case "Admin":
        return this.options.auth.verifyAdminKey(message.value, message.impersonating);
    }
  }

  /** Re-runs every query of this connection as the new caller, in one Transition. */
  private async changeCaller(caller: Caller, identityVersion: number): Promise<void> {
    const { hub } = this.options;
    await hub.exclusive(async () => {
      if (this.closed) return;
      this.caller = caller;
      const modifications: string[] = [];
      for (const [queryId, query] of [...this.queries]) {
        hub.unsubscribe(this, queryId, query);
        const next = await hub.subscribe(this, queryId, query.path, query.args, caller);
        this.queries.set(queryId, next);
        modifications.push(encodeModification(queryId, next.result));
      }
      if (this.closed) return;
      this.sendTransition(modifications, { identity: identityVersion, ts: this.atLeastHubTs() });
    });
  }

  private receiveMutation(message: MutationMessage): void {
    const callerPromise = this.callerAfterLastAuth;
    const idempotencyKey = `${this.sessionId}:${message.requestId}`;
    this.mutationChain = this.mutationChain.then(async () => {
      let caller: Caller;
      try {
        caller = await callerPromise;
      } catch {
        return; // the connection is closing over a refused token; the client replays it later
      }
      if (this.closed) return;
      const refusal = this.refuseCall(message.udfPath, message.args);
      if (refusal !== null) return this.respondMutationFailure(message.requestId, refusal, [], undefined);
      let outcome: CallOutcome & { ts?: Timestamp };
      try {
        outcome = await this.options.engine.runMutation(canonicalFunctionPath(message.udfPath), message.args, {
          identity: caller.identity,
          allowInternal: caller.admin,
          idempotencyKey,
        });
      } catch (error) {
        return this.respondMutationFailure(message.requestId, `Server error: ${(error as Error).message}`, [], undefined);
      }
      if (!outcome.success) {
        return this.respondMutationFailure(message.requestId, outcome.errorMessage, outcome.logLines, outcome.errorData);
      }
      const ts = outcome.ts as Timestamp;
      this.send({
        type: "MutationResponse",
        requestId: message.requestId,
        success: true,
        result: outcome.value ?? null,
        ts: encodeTs(ts),
        logLines: outcome.logLines,
      });
      await this.reflectTimestamp(ts);
    });
  }

  /**
   * The client resolves a mutation once a Transition reaches its timestamp; make sure one
   * does, after the hub has pushed that commit's effects to every subscriber.
   */
  private async reflectTimestamp(ts: Timestamp): Promise<void> {
    const { hub } = this.options;
    if (this.version.ts >= ts) {
      this.sendTransition([], {});
      return;
    }
    await hub.waitProcessed(ts);
    await hub.exclusive(() => {
      if (this.version.ts < ts) this.sendTransition([], { ts: this.atLeastHubTs() > ts ? this.atLeastHubTs() : ts });
    });
  }

  private respondMutationFailure(requestId: number, errorMessage: string, logLines: string[], errorData: JSONValue | undefined): void {
    this.send({
      type: "MutationResponse",
      requestId,
      success: false,
      result: errorMessage,
      logLines,
      ...(errorData !== undefined ? { errorData } : {}),
    });
  }

  private receiveAction(message: ActionMessage): void {
    const callerPromise = this.callerAfterLastAuth;
    void (async () => {
      let caller: Caller;
      try {
        caller = await callerPromise;
      } catch {
        return;
      }
      const refusal = this.refuseCall(message.udfPath, message.args);
      let outcome: CallOutcome;
      if (refusal !== null) {
        outcome = { success: false, errorMessage: refusal, logLines: [] };
      } else {
        try {
          outcome = await this.options.engine.runAction(canonicalFunctionPath(message.udfPath), message.args, {
            identity: caller.identity,
            allowInternal: caller.admin,
          });
        } catch (error) {
          outcome = { success: false, errorMessage: `Server error: ${(error as Error).message}`, logLines: [] };
        }
      }
      if (outcome.success) {
        this.send({ type: "ActionResponse", requestId: message.requestId, success: true, result: outcome.value ?? null, logLines: outcome.logLines });
      } else {
        this.send({
          type: "ActionResponse",
          requestId: message.requestId,
          success: false,
          result: outcome.errorMessage,
          logLines: outcome.logLines,
          ...(outcome.errorData !== undefined ? { errorData: outcome.errorData } : {}),
        });
      }
    })();
  }

  /** Why a call cannot even be attempted (bad path, oversized arguments), or null. */
  private refuseCall(udfPath: string, args: JSONValue[]): string | null {
    try {
      canonicalFunctionPath(udfPath);
    } catch (error) {
      return (error as Error).message;
    }
    // Before JSON.stringify, which recurses: a frame nested thousands of levels deep would overflow it.
    const tooNested = tooNestedMessage(args);
    if (tooNested !== null) return tooNested;
    const size = Buffer.byteLength(JSON.stringify(args));
    if (size > this.options.maxArgsBytes) {
      return `Arguments for ${udfPath} are too large: ${size} bytes, the limit is ${this.options.maxArgsBytes} bytes`;
    }
    return null;
  }

  private atLeastHubTs(): Timestamp {
    const hubTs = this.options.hub.currentTs;
    return hubTs > this.version.ts ? hubTs : this.version.ts;
  }

  private sendTransition(encodedModifications: string[], end: Partial<ClientVersion>): void {
    if (this.closed) return;
    const start = this.version;
    const next: ClientVersion = { ...start, ...end };
    this.version = next;
    this.sendText(
      encodeTransition(
        { querySet: start.querySet, ts: encodeTs(start.ts), identity: start.identity },
        { querySet: next.querySet, ts: encodeTs(next.ts), identity: next.identity },
        encodedModifications,
      ),
    );
  }

  private enqueueControl(step: () => Promise<void>): void {
    this.controlChain = this.controlChain.then(step).catch((error: unknown) => {
      this.fail(`Server error: ${(error as Error).message}`);
    });
  }

  private send(message: ServerMessage): void {
    this.sendText(JSON.stringify(message));
  }

  private sendText(text: string): void {
    if (this.closed) return;
    this.options.transport.send(text);
    this.pingTimer.refresh();
  }

  private ping(): void {
    if (this.closed) return;
    this.send({ type: "Ping" });
  }

  /** A protocol violation: tell the client why, then hang up. */
  private fail(reason: string): void {
    if (this.closed) return;
    this.options.log(`sync: closing connection: ${reason}`);
    this.send({ type: "FatalError", error: reason });
    this.closeConnection(1011, "FatalError");
  }

  private closeConnection(code: number, reason: string): void {
    this.options.transport.close(code, reason);
    this.close();
  }
}

export { AuthenticationError };
