/**
 * Snapshot export and import as the Convex CLI drives them, with their state in the system
 * tables `_exports` and `_snapshot_imports` (which the CLI subscribes to through
 * `_system/cli/exports:getLatest` and `_system/cli/queryImport`).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { convexToJson, jsonToConvex, type JSONValue, type Value } from "convex/values";
import { createHash, randomUUID } from "node:crypto";
import type { LocalEngine } from "../engine/engine.js";
import type { TableInfo } from "../engine/store.js";
import { checkValue, type ValidatorJson } from "../engine/validate.js";
import { HttpError } from "./http_util.js";
import { buildSnapshotZip, parseSnapshotZip, parseTableFile, type ExportFile, type ParsedImport } from "./snapshot_zip.js";
import { EXPORTS_TABLE, IMPORTS_TABLE } from "./system_functions.js";

type ImportMode = "requireEmpty" | "append" | "replace" | "replaceAll";
const MODES: ImportMode[] = ["requireEmpty", "append", "replace", "replaceAll"];
const MAX_UPLOAD_BYTES = 512 * 1024 * 1024;

interface PendingImport {
  parsed: ParsedImport;
  mode: ImportMode;
}

function documentOf(json: string): Record<string, Value> {
  return jsonToConvex(JSON.parse(json) as JSONValue) as Record<string, Value>;
}

export class SnapshotService {
  private readonly uploads = new Map<string, { parts: Map<number, Buffer>; size: number }>();
  private readonly pending = new Map<string, PendingImport>();

  constructor(private readonly engine: LocalEngine) {}

  private exportsDir(): string {
    return path.join(this.engine.options.dataDir, "exports");
  }

  /** Creates the state tables up front, so subscriptions to them see their first write. */
  async init(): Promise<void> {
    await this.engine.enqueueWrite(() => {
      this.engine.store.ensureTable(EXPORTS_TABLE);
      this.engine.store.ensureTable(IMPORTS_TABLE);
    });
  }

  // ---- export ----------------------------------------------------------------------------

  async requestExport(includeStorage: boolean): Promise<void> {
    const exportId = await this.engine.enqueueWrite(() => {
      for (const json of this.engine.store.allDocuments(EXPORTS_TABLE)) {
        const state = documentOf(json).state;
        if (state === "requested" || state === "in_progress") {
          throw new HttpError(409, "ExportInProgress", "A snapshot export is already requested or in progress");
        }
      }
      return this.engine.insertDocument(
        EXPORTS_TABLE,
        {
          requestor: "snapshotExport",
          state: "in_progress",
          format: { format: "zip", include_storage: includeStorage },
          start_ts: this.engine.latestTs(),
          expiration_ts: BigInt(Date.now() + 14 * 24 * 3600 * 1000) * 1_000_000n,
        },
        true,
      );
    });
    let patch: Record<string, JSONValue>;
    try {
      const { ts, zip } = await this.engine.readOutside(() => ({ ts: this.engine.latestTs(), zip: this.snapshotZip(includeStorage) }));
      mkdirSync(this.exportsDir(), { recursive: true });
      const file = path.join(this.exportsDir(), `${ts}.zip`);
      writeFileSync(`${file}.tmp`, zip, { flush: true });
      renameSync(`${file}.tmp`, file);
      patch = { state: "completed", start_ts: { $integer: int64Base64(ts) }, complete_ts: { $integer: int64Base64(BigInt(Date.now()) * 1_000_000n) } };
    } catch (error) {
      patch = { state: "failed", failure_reason: (error as Error).message };
    }
    await this.engine.enqueueWrite(() => this.engine.patchDocument(EXPORTS_TABLE, exportId, patch, true));
  }

  private snapshotZip(includeStorage: boolean): Uint8Array {
    const store = this.engine.store;
    const tables = store
      .tableNames()
      .filter((name) => !name.startsWith("_"))
      .map((name) => ({ name, number: store.table(name)!.number, documents: [...store.allDocuments(name)].map(documentOf) }));
    let files: ExportFile[] | null = null;
    if (includeStorage) {
      files = [...store.allDocuments("_storage")].map(documentOf).map((document) => ({
        id: document._id as string,
        creationTime: document._creationTime as number,
        sha256: document.sha256 as string,
        size: Number(document.size),
        contentType: (document.contentType as string | undefined) ?? null,
        bytes: readFileSync(this.engine.blobPath(document._id as string)),
      }));
    }
    return buildSnapshotZip(tables, files);
  }

  /** The ZIP of the export whose snapshot is at `ts`, or null. */
  exportFile(ts: string): string | null {
    if (!/^\d+$/.test(ts)) return null;
    const file = path.join(this.exportsDir(), `${ts}.zip`);
    return existsSync(file) ? file : null;
  }

  // ---- import ----------------------------------------------------------------------------

  startUpload(): { uploadToken: string } {
    const uploadToken = randomUUID();
    this.uploads.set(uploadToken, { parts: new Map(), size: 0 });
    return { uploadToken };
  }

  uploadPart(uploadToken: string | null, partNumber: string | null, bytes: Buffer): string {
    const upload = uploadToken === null ? undefined : this.uploads.get(uploadToken);
    if (upload === undefined) throw new HttpError(400, "InvalidUploadToken", "Unknown upload token; start the upload again");
    const part = Number(partNumber);
    if (!Number.isInteger(part) || part < 1) throw new HttpError(400, "InvalidPartNumber", "partNumber must be a positive integer");
    upload.size += bytes.length;
    if (upload.size > MAX_UPLOAD_BYTES) throw new HttpError(413, "ImportTooLarge", `Imports are limited to ${MAX_UPLOAD_BYTES} bytes here`);
    upload.parts.set(part, bytes);
    return `${uploadToken}:${part}`;
  }

  async finishUpload(body: unknown): Promise<{ importId: string }> {
    const { import: args, uploadToken } = (body ?? {}) as { import?: Record<string, unknown>; uploadToken?: string };
    const upload = typeof uploadToken === "string" ? this.uploads.get(uploadToken) : undefined;
    if (upload === undefined) throw new HttpError(400, "InvalidUploadToken", "Unknown upload token; start the upload again");
    this.uploads.delete(uploadToken as string);
    const mode = (args?.mode ?? "requireEmpty") as ImportMode;
    if (!MODES.includes(mode)) throw new HttpError(400, "InvalidImportMode", `Unknown import mode ${JSON.stringify(mode)}`);
    if (typeof args?.componentPath === "string" && args.componentPath !== "") {
      throw new HttpError(400, "InvalidImport", "Imports into components are not supported by the local backend");
    }
    const bytes = Buffer.concat([...upload.parts.entries()].sort(([a], [b]) => a - b).map(([, part]) => part));
    const format = typeof args?.format === "string" ? args.format : "zip";
    const parsed =
      format === "zip"
        ? parseSnapshotZip(bytes)
        : parseTableFile(bytes, format, typeof args?.tableName === "string" ? args.tableName : "");
    const { message, deletes, problem } = await this.engine.readOutside(() => this.summary(parsed, mode));
    const state =
      problem !== null
        ? { state: "failed", error_message: problem }
        : { state: "waiting_for_confirmation", message_to_confirm: message, require_manual_confirmation: deletes };
    const importId = await this.engine.enqueueWrite(() =>
      this.engine.insertDocument(
        IMPORTS_TABLE,
        { state, format: { format }, mode, component_path: "", requestor: { type: "snapshotImport" }, checkpoints: null },
        true,
      ),
    );
    if (problem === null) this.pending.set(importId, { parsed, mode });
    return { importId };
  }

  private summary(parsed: ParsedImport, mode: ImportMode): { message: string; deletes: boolean; problem: string | null } {
    const store = this.engine.store;
    const rows: string[] = [];
    let deletes = false;
    const replaced = new Set(mode === "replaceAll" ? store.tableNames().filter((n) => !n.startsWith("_")) : []);
    for (const table of parsed.tables) {
      const existing = store.table(table.name) === undefined ? 0 : store.countDocuments(table.name);
      if (mode === "requireEmpty" && existing > 0) {
        return {
          message: "",
          deletes: false,
          problem: `Table "${table.name}" already has ${existing} documents; import with --replace, --replace-all or --append`,
        };
      }
      if (mode === "replace") replaced.add(table.name);
      const deleted = replaced.has(table.name) ? existing : 0;
      if (deleted > 0) deletes = true;
      rows.push(`${table.name} | ${table.documents.length} | ${deleted} of ${existing}`);
      replaced.delete(table.name);
    }
    for (const name of replaced) {
      const existing = store.countDocuments(name);
      if (existing > 0) deletes = true;
      rows.push(`${name} | 0 | ${existing} of ${existing}`);
    }
    if (parsed.files.length > 0) rows.push(`_storage | ${parsed.files.length} | 0 of ${store.countDocuments("_storage")}`);
    return { message: `Import change summary:\ntable | create | delete\n${rows.join("\n")}`, deletes, problem: null };
  }

  async performImport(importId: unknown): Promise<void> {
    const pending = typeof importId === "string" ? this.pending.get(importId) : undefined;
    if (pending === undefined) throw new HttpError(400, "ImportNotFound", "No import waiting for confirmation with this id");
    this.pending.delete(importId as string);
    const id = importId as string;
    await this.engine.enqueueWrite(() => this.engine.patchDocument(IMPORTS_TABLE, id, { state: { state: "in_progress", progress_message: "Importing", checkpoint_messages: [] } }, true));
    let state: Record<string, JSONValue>;
    try {
      const written = await this.engine.enqueueWrite(() => this.apply(pending));
      state = { state: "completed", num_rows_written: { $integer: int64Base64(BigInt(written)) } };
    } catch (error) {
      state = { state: "failed", error_message: (error as Error).message };
    }
    await this.engine.enqueueWrite(() => this.engine.patchDocument(IMPORTS_TABLE, id, { state }, true));
  }

  /** Writes the import in one transaction; a bad document rolls all of it back. */
  private apply({ parsed, mode }: PendingImport): number {
    const store = this.engine.store;
    const schema = this.schemaTables();
    const clear = (name: string) => {
      const info = store.table(name);
      if (info === undefined) return;
      for (const json of [...store.allDocuments(name)]) store.delete(info, documentOf(json));
    };
    if (mode === "replaceAll") for (const name of store.tableNames().filter((n) => !n.startsWith("_"))) clear(name);
    if (mode === "replace") for (const table of parsed.tables) clear(table.name);
    let written = 0;
    for (const file of parsed.files) {
      const info = store.ensureTable("_storage");
      const bytes = Buffer.from(file.bytes);
      const document: Record<string, Value> = {
        _id: this.idFor(info, file.id),
        _creationTime: file.creationTime ?? store.nextCreationTime(Date.now()),
        sha256: createHash("sha256").update(bytes).digest("base64"),
        size: bytes.length,
        ...(file.contentType !== null ? { contentType: file.contentType } : {}),
      };
      writeFileSync(this.engine.blobPath(document._id as string), bytes, { flush: true });
      store.insert(info, document, convexJson(document));
      written++;
    }
    for (const table of parsed.tables) {
      const info = store.ensureTable(table.name);
      const documentType = schema?.get(table.name);
      if (schema !== null && documentType === undefined) {
        throw new Error(`Table "${table.name}" is not in the schema; add it to schema.ts before importing`);
      }
      table.documents.forEach((source, index) => {
        const { _id, _creationTime, ...fields } = source;
        if (documentType !== undefined) {
          const problem = checkValue(documentType, fields as Value, (id) => store.tableOfId(id)?.name ?? null);
          if (problem !== null) throw new Error(`Document ${index + 1} of table "${table.name}" does not match the schema: ${problem}`);
        }
        const document: Record<string, Value> = {
          _id: this.idFor(info, typeof _id === "string" ? _id : null),
          _creationTime: typeof _creationTime === "number" ? _creationTime : store.nextCreationTime(Date.now()),
          ...fields,
        };
        store.insert(info, document, convexJson(document));
        written++;
      });
    }
    return written;
  }

  /** Keeps an exported id when it belongs to this table here and is free; else a new one. */
  private idFor(info: TableInfo, sourceId: string | null): string {
    const store = this.engine.store;
    if (sourceId !== null && store.tableOfId(sourceId)?.number === info.number && store.getDocument(sourceId) === null) return sourceId;
    return store.newId(info);
  }

  /** Declared document types when the schema validates documents, else null. */
  private schemaTables(): Map<string, ValidatorJson> | null {
    const schema = this.engine.loadedModules().schema as { export?: () => string } | null;
    if (schema === null || typeof schema?.export !== "function") return null;
    const json = JSON.parse(schema.export()) as { tables: { tableName: string; documentType: ValidatorJson }[]; schemaValidation: boolean };
    if (!json.schemaValidation) return null;
    return new Map(json.tables.map((table) => [table.tableName, table.documentType]));
  }
}

function convexJson(document: Record<string, Value>): JSONValue {
  return convexToJson(document as Value);
}

function int64Base64(value: bigint): string {
  const bytes = Buffer.alloc(8);
  bytes.writeBigInt64LE(value);
  return bytes.toString("base64");
}
