/**
 * Convex's snapshot ZIP (`npx convex export` / `npx convex import`), as
 * get-convex/convex-backend's crates/exports writes it:
 *
 *   README.md
 *   _tables/documents.jsonl           {"name": <table>, "id": <table number>} per user table
 *   <table>/documents.jsonl           one document per line, "ConvexExportJSON" (lossless)
 *   <table>/generated_schema.jsonl    "uniform"
 *   _storage/documents.jsonl          with --include-file-storage: file metadata ...
 *   _storage/<id>[.ext]               ... and the blobs
 *
 * ConvexExportJSON: an int64 is a JSON integer (`12`), a float always has a dot or exponent
 * (`12.0`), non-finite floats are `{"$float": ...}`, bytes are `{"$bytes": base64}`.
 */
import { convexToJson, jsonToConvex, type JSONValue, type Value } from "convex/values";
import { strToU8, strFromU8, unzipSync, zipSync, type Zippable } from "fflate";
import { HttpError } from "./http_util.js";

export const README = `# Welcome to your Convex snapshot export!

This ZIP file contains a snapshot of the tables in your Convex deployment.

Documents for each table are listed as lines of JSON in
<table_name>/documents.jsonl files.

For details on the format and how to use this snapshot with npx convex import,
check out [the docs](https://docs.convex.dev/database/import-export/export) or
ask us in [Discord](http://convex.dev/community).
`;

// ---- lossless JSON -------------------------------------------------------------------------

/** A Convex value as one line of ConvexExportJSON. */
export function exportJson(value: Value): string {
  if (value === null) return "null";
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return JSON.stringify(convexToJson(value));
    if (Object.is(value, -0)) return "-0.0";
    const text = JSON.stringify(value);
    return /[.eE]/.test(text) ? text : `${text}.0`;
  }
  if (typeof value === "boolean" || typeof value === "string") return JSON.stringify(value);
  if (value instanceof ArrayBuffer) return JSON.stringify(convexToJson(value));
  if (Array.isArray(value)) return `[${value.map(exportJson).join(",")}]`;
  const fields = Object.entries(value as Record<string, Value>)
    .filter(([, field]) => field !== undefined)
    .map(([key, field]) => `${JSON.stringify(key)}:${exportJson(field)}`);
  return `{${fields.join(",")}}`;
}

/** Parses ConvexExportJSON (or plain JSON) into a Convex value: integers become int64. */
export function parseExportJson(text: string): Value {
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`${what} at position ${i}`);
  };
  const skip = () => {
    while (i < text.length && " \t\r\n".includes(text[i])) i++;
  };
  const parse = (): Value => {
    skip();
    const c = text[i];
    if (c === "{") {
      i++;
      const object: Record<string, Value> = {};
      skip();
      if (text[i] === "}") {
        i++;
        return decodeSpecial(object);
      }
      for (;;) {
        skip();
        if (text[i] !== '"') fail("Expected a field name");
        const key = parseString();
        skip();
        if (text[i] !== ":") fail("Expected ':'");
        i++;
        object[key] = parse();
        skip();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return decodeSpecial(object);
        }
        fail("Expected ',' or '}'");
      }
    }
    if (c === "[") {
      i++;
      const array: Value[] = [];
      skip();
      if (text[i] === "]") {
        i++;
        return array;
      }
      for (;;) {
        array.push(parse());
        skip();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return array;
        }
        fail("Expected ',' or ']'");
      }
    }
    if (c === '"') return parseString();
    if (text.startsWith("true", i)) return (i += 4), true;
    if (text.startsWith("false", i)) return (i += 5), false;
    if (text.startsWith("null", i)) return (i += 4), null;
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (match === null) return fail("Unexpected character");
    i += match[0].length;
    if (match[2] === undefined && match[3] === undefined) {
      const integer = BigInt(match[0]);
      if (integer >= -(2n ** 63n) && integer < 2n ** 63n) return integer;
      fail("Integer out of the int64 range");
    }
    return Number(match[0]);
  };
  const parseString = (): string => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
    if (i >= text.length) fail("Unterminated string");
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = parse();
  skip();
  if (i !== text.length) fail("Unexpected trailing characters");
  return value;
}

function decodeSpecial(object: Record<string, Value>): Value {
  const keys = Object.keys(object);
  if (keys.length === 1 && (keys[0] === "$bytes" || keys[0] === "$float" || keys[0] === "$integer") && typeof object[keys[0]] === "string") {
    return jsonToConvex(object as unknown as JSONValue);
  }
  return object;
}

// ---- export --------------------------------------------------------------------------------

export interface ExportTable {
  name: string;
  number: number;
  documents: Iterable<Record<string, Value>>;
}

export interface ExportFile {
  id: string;
  creationTime: number;
  sha256: string;
  size: number;
  contentType: string | null;
  bytes: Uint8Array;
}

export function buildSnapshotZip(tables: ExportTable[], files: ExportFile[] | null): Uint8Array {
  const entries: Zippable = { "README.md": strToU8(README) };
  const sorted = [...tables].sort((a, b) => a.number - b.number);
  entries["_tables/documents.jsonl"] = strToU8(sorted.map((table) => `${JSON.stringify({ name: table.name, id: table.number })}\n`).join(""));
  for (const table of sorted) {
    let lines = "";
    for (const document of table.documents) lines += `${exportJson(document)}\n`;
    entries[`${table.name}/documents.jsonl`] = strToU8(lines);
    entries[`${table.name}/generated_schema.jsonl`] = strToU8(`${JSON.stringify("uniform")}\n`);
  }
  if (files !== null) {
    entries["_storage/documents.jsonl"] = strToU8(
      files
        .map(
          (file) =>
            `${JSON.stringify({ _id: file.id, _creationTime: file.creationTime, sha256: file.sha256, size: file.size, contentType: file.contentType ?? undefined })}\n`,
        )
        .join(""),
    );
    for (const file of files) entries[`_storage/${file.id}${extensionFor(file.contentType)}`] = file.bytes;
  }
  return zipSync(entries, { level: 6 });
}

function extensionFor(contentType: string | null): string {
  const known: Record<string, string> = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "application/pdf": ".pdf",
    "text/plain": ".txt",
    "application/json": ".json",
  };
  return contentType === null ? "" : (known[contentType.split(";")[0].trim()] ?? "");
}

// ---- import --------------------------------------------------------------------------------

export interface ImportedTable {
  name: string;
  /** Table number in the exporting deployment (from _tables), if known. */
  sourceNumber: number | null;
  documents: Record<string, Value>[];
}

export interface ImportedFile {
  id: string | null;
  creationTime: number | null;
  contentType: string | null;
  bytes: Uint8Array;
}

export interface ParsedImport {
  tables: ImportedTable[];
  files: ImportedFile[];
}

const TABLE_NAME = /^[a-zA-Z][a-zA-Z0-9_]*$/;

function parseLines(text: string, where: string): Value[] {
  const values: Value[] = [];
  text.split("\n").forEach((line, index) => {
    if (line.trim() === "") return;
    try {
      values.push(parseExportJson(line));
    } catch (error) {
      throw new HttpError(400, "InvalidImport", `${where}:${index + 1}: not valid JSON (${(error as Error).message})`);
    }
  });
  return values;
}

function asDocument(value: Value, where: string): Record<string, Value> {
  if (typeof value !== "object" || value === null || Array.isArray(value) || value instanceof ArrayBuffer) {
    throw new HttpError(400, "InvalidImport", `${where}: every line must be a JSON object`);
  }
  return value as Record<string, Value>;
}

export function parseSnapshotZip(bytes: Uint8Array): ParsedImport {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes);
  } catch (error) {
    throw new HttpError(400, "InvalidImport", `The uploaded file is not a ZIP archive: ${(error as Error).message}`);
  }
  const numbers = new Map<string, number>();
  if (entries["_tables/documents.jsonl"] !== undefined) {
    for (const line of parseLines(strFromU8(entries["_tables/documents.jsonl"]), "_tables/documents.jsonl")) {
      const { name, id } = asDocument(line, "_tables/documents.jsonl");
      if (typeof name === "string") numbers.set(name, Number(id));
    }
  }
  const tables: ImportedTable[] = [];
  for (const [entry, content] of Object.entries(entries)) {
    const match = /^([^/]+)\/documents\.jsonl$/.exec(entry);
    if (match === null) {
      if (entry.startsWith("_components/")) {
        throw new HttpError(400, "InvalidImport", "Snapshots with component tables (_components/...) cannot be imported here");
      }
      continue;
    }
    const name = match[1];
    if (name === "_tables" || name === "_storage") continue;
    if (!TABLE_NAME.test(name)) throw new HttpError(400, "InvalidImport", `Invalid table name ${JSON.stringify(name)} in the snapshot`);
    tables.push({
      name,
      sourceNumber: numbers.get(name) ?? null,
      documents: parseLines(strFromU8(content), entry).map((line) => asDocument(line, entry)),
    });
  }
  const files: ImportedFile[] = [];
  if (entries["_storage/documents.jsonl"] !== undefined) {
    const blobs = new Map<string, Uint8Array>();
    for (const [entry, content] of Object.entries(entries)) {
      const blob = /^_storage\/([^/.]+)(\.[^/]*)?$/.exec(entry);
      if (blob !== null && entry !== "_storage/documents.jsonl") blobs.set(blob[1], content);
    }
    for (const line of parseLines(strFromU8(entries["_storage/documents.jsonl"]), "_storage/documents.jsonl")) {
      const metadata = asDocument(line, "_storage/documents.jsonl");
      const id = typeof metadata._id === "string" ? metadata._id : null;
      const blob = id === null ? undefined : blobs.get(id);
      if (blob === undefined) throw new HttpError(400, "InvalidImport", `The snapshot lists file ${String(id)} in _storage but holds no such file`);
      files.push({
        id,
        creationTime: typeof metadata._creationTime === "number" ? metadata._creationTime : null,
        contentType: typeof metadata.contentType === "string" ? metadata.contentType : null,
        bytes: blob,
      });
    }
  }
  return { tables: tables.sort((a, b) => (a.sourceNumber ?? Infinity) - (b.sourceNumber ?? Infinity) || a.name.localeCompare(b.name)), files };
}

/** A single-table import (`--table`): JSON lines or one JSON array of objects. */
export function parseTableFile(bytes: Uint8Array, format: string, tableName: string): ParsedImport {
  if (!TABLE_NAME.test(tableName)) throw new HttpError(400, "InvalidImport", `Invalid table name ${JSON.stringify(tableName)}`);
  // Plain JSON, as Convex reads it for these formats: numbers are float64.
  const text = strFromU8(bytes);
  const parseClean = (json: string, where: string): Value => {
    try {
      return JSON.parse(json) as Value;
    } catch (error) {
      throw new HttpError(400, "InvalidImport", `${where}: not valid JSON (${(error as Error).message})`);
    }
  };
  let values: Value[];
  if (format === "jsonLines") {
    values = text
      .split("\n")
      .map((line, index) => ({ line, index }))
      .filter(({ line }) => line.trim() !== "")
      .map(({ line, index }) => parseClean(line, `${tableName}:${index + 1}`));
  } else if (format === "jsonArray") {
    const parsed = parseClean(text, tableName);
    if (!Array.isArray(parsed)) throw new HttpError(400, "InvalidImport", "A jsonArray import must hold one JSON array of objects");
    values = parsed;
  } else {
    throw new HttpError(400, "UnsupportedImportFormat", `Import format ${JSON.stringify(format)} is not supported by the local backend; use zip, jsonLines or jsonArray`);
  }
  return { tables: [{ name: tableName, sourceNumber: null, documents: values.map((value) => asDocument(value, tableName)) }], files: [] };
}
