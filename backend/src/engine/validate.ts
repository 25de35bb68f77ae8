/**
 * Checks Convex values against validator JSON (what `exportArgs()`, `exportReturns()` and
 * `schema.export()` produce). Errors name the path and the expected type.
 */
import { convexToJson, jsonToConvex, type Value } from "convex/values";

export type ValidatorJson =
  | { type: "null" | "number" | "bigint" | "boolean" | "string" | "bytes" | "any" }
  | { type: "literal"; value: unknown }
  | { type: "id"; tableName: string }
  | { type: "array"; value: ValidatorJson }
  | { type: "record"; keys: ValidatorJson; values: { fieldType: ValidatorJson; optional: boolean } }
  | { type: "object"; value: Record<string, { fieldType: ValidatorJson; optional: boolean }> }
  | { type: "union"; value: ValidatorJson[] };

/** Resolves an id string to its table name (null when it is not an id). */
export type IdTableResolver = (id: string) => string | null;

export class ValidationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ValidationError";
  }
}

export function describeValidator(validator: ValidatorJson): string {
  switch (validator.type) {
    case "null":
    case "string":
    case "boolean":
    case "bytes":
    case "any":
      return `v.${validator.type}()`;
    case "number":
      return "v.float64()";
    case "bigint":
      return "v.int64()";
    case "literal":
      return `v.literal(${JSON.stringify(validator.value)})`;
    case "id":
      return `v.id("${validator.tableName}")`;
    case "array":
      return `v.array(${describeValidator(validator.value)})`;
    case "record":
      return `v.record(${describeValidator(validator.keys)}, ${describeValidator(validator.values.fieldType)})`;
    case "object":
      return `v.object({${Object.entries(validator.value)
        .map(([k, f]) => `${k}: ${f.optional ? `v.optional(${describeValidator(f.fieldType)})` : describeValidator(f.fieldType)}`)
        .join(", ")}})`;
    case "union":
      return `v.union(${validator.value.map(describeValidator).join(", ")})`;
  }
}

function printValue(value: Value | undefined): string {
  if (value === undefined) return "undefined";
  try {
    const json = JSON.stringify(convexToJson(value));
    return json.length > 200 ? `${json.slice(0, 200)}...` : json;
  } catch {
    return String(value);
  }
}

function isPlainObject(value: unknown): value is Record<string, Value | undefined> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  if (value instanceof ArrayBuffer) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === null || proto === Object.prototype || proto?.constructor?.name === "Object";
}

function mismatch(path: string, value: Value | undefined, validator: ValidatorJson): string {
  return (
    `Value does not match validator.\nPath: ${path || "(root)"}\nValue: ${printValue(value)}\n` +
    `Validator: ${describeValidator(validator)}`
  );
}

function literalValue(validator: { value: unknown }): Value {
  return jsonToConvex(validator.value as never);
}

function sameLiteral(a: Value, b: Value | undefined): boolean {
  if (typeof a === "number" && typeof b === "number") return Object.is(a, b) || a === b;
  return a === b;
}

/** Returns null when `value` matches, else a message naming the failing path. */
export function checkValue(
  validator: ValidatorJson,
  value: Value | undefined,
  resolveIdTable: IdTableResolver,
  path = "",
): string | null {
  switch (validator.type) {
    case "any":
      return value === undefined ? mismatch(path, value, validator) : null;
    case "null":
      return value === null ? null : mismatch(path, value, validator);
    case "number":
      return typeof value === "number" ? null : mismatch(path, value, validator);
    case "bigint":
      return typeof value === "bigint" ? null : mismatch(path, value, validator);
    case "boolean":
      return typeof value === "boolean" ? null : mismatch(path, value, validator);
    case "string":
      return typeof value === "string" ? null : mismatch(path, value, validator);
    case "bytes":
      return value instanceof ArrayBuffer ? null : mismatch(path, value, validator);
    case "literal":
      return sameLiteral(literalValue(validator), value) ? null : mismatch(path, value, validator);
    case "id": {
      if (typeof value !== "string") return mismatch(path, value, validator);
      const table = resolveIdTable(value);
      if (table !== validator.tableName) {
        return (
          `Value does not match validator.\nPath: ${path || "(root)"}\nValue: ${printValue(value)}\n` +
          `Validator: ${describeValidator(validator)} (${table === null ? "not a valid id" : `an id of table "${table}"`})`
        );
      }
      return null;
    }
    case "array": {
      if (!Array.isArray(value)) return mismatch(path, value, validator);
      for (let i = 0; i < value.length; i++) {
        const error = checkValue(validator.value, value[i], resolveIdTable, `${path}[${i}]`);
        if (error !== null) return error;
      }
      return null;
    }
    case "record": {
      if (!isPlainObject(value)) return mismatch(path, value, validator);
      for (const [key, field] of Object.entries(value)) {
        const keyError = checkValue(validator.keys, key, resolveIdTable, `${path}[key ${JSON.stringify(key)}]`);
        if (keyError !== null) return keyError;
        if (field === undefined) continue;
        const error = checkValue(validator.values.fieldType, field, resolveIdTable, `${path}.${key}`);
        if (error !== null) return error;
      }
      return null;
    }
    case "object": {
      if (!isPlainObject(value)) return mismatch(path, value, validator);
      for (const [key, { fieldType, optional }] of Object.entries(validator.value)) {
        const field = value[key];
        if (field === undefined) {
          if (!optional) {
            return (
              `Object is missing the required field \`${key}\`. Consider wrapping the field validator in ` +
              `\`v.optional(...)\` if this is expected.\nPath: ${path || "(root)"}\nObject: ${printValue(value)}\n` +
              `Validator: ${describeValidator(validator)}`
            );
          }
          continue;
        }
        const error = checkValue(fieldType, field, resolveIdTable, `${path}.${key}`);
        if (error !== null) return error;
      }
      for (const key of Object.keys(value)) {
        if (value[key] !== undefined && !(key in validator.value)) {
          return (
            `Object contains extra field \`${key}\` that is not in the validator.\nPath: ${path || "(root)"}\n` +
            `Object: ${printValue(value)}\nValidator: ${describeValidator(validator)}`
          );
        }
      }
      return null;
    }
    case "union": {
      for (const member of validator.value) {
        if (checkValue(member, value, resolveIdTable, path) === null) return null;
      }
      return mismatch(path, value, validator);
    }
  }
}

// ---- identifiers ---------------------------------------------------------------------------

const MAX_IDENTIFIER_LENGTH = 64;
const IDENTIFIER_REQUIREMENTS = "Identifiers must start with a letter and can only contain letters, digits, and underscores.";

/** Convex's identifier rule (sync_types/src/identifier.rs), without the system `_` prefix. */
export function isUserIdentifier(name: string): boolean {
  return name.length <= MAX_IDENTIFIER_LENGTH && /^[A-Za-z][A-Za-z0-9_]*$/.test(name);
}

const SYSTEM_FIELDS = new Set(["_id", "_creationTime"]);

function topLevelFieldNames(documentType: ValidatorJson): string[] {
  if (documentType.type === "object") return Object.keys(documentType.value);
  if (documentType.type === "union") return documentType.value.flatMap(topLevelFieldNames);
  return [];
}

interface SchemaJsonForIdentifiers {
  tables: {
    tableName: string;
    indexes?: { indexDescriptor: string }[];
    searchIndexes?: { indexDescriptor: string }[];
    vectorIndexes?: { indexDescriptor: string }[];
    documentType: ValidatorJson;
  }[];
}

/**
 * Refuses table, field and index names Convex refuses when a schema is pushed (messages of
 * common/src/bootstrap_model/index/index_validation_error.rs). Returns null when all are valid.
 */
export function schemaIdentifierProblem(schema: SchemaJsonForIdentifiers): string | null {
  for (const table of schema.tables) {
    const name = table.tableName;
    if (name.startsWith("_")) return `${name} is a reserved table name.`;
    if (!isUserIdentifier(name)) return `Invalid table name: "${name}". ${IDENTIFIER_REQUIREMENTS}`;
    for (const field of topLevelFieldNames(table.documentType)) {
      if (SYSTEM_FIELDS.has(field)) continue;
      if (field.startsWith("_")) {
        return `In table "${name}": Invalid field name: "${field}". Field names cannot start with an underscore (reserved for system fields).`;
      }
      if (!isUserIdentifier(field)) return `In table "${name}": Invalid field name: "${field}". ${IDENTIFIER_REQUIREMENTS}`;
    }
    const indexes = [...(table.indexes ?? []), ...(table.searchIndexes ?? []), ...(table.vectorIndexes ?? [])];
    for (const { indexDescriptor } of indexes) {
      if (indexDescriptor.startsWith("_") || indexDescriptor === "by_id" || indexDescriptor === "by_creation_time") {
        return (
          `In table "${name}" cannot name an index "${indexDescriptor}" because the name is reserved. ` +
          `Indexes may not start with an underscore or be named "by_id" or "by_creation_time".`
        );
      }
      if (!isUserIdentifier(indexDescriptor)) {
        return (
          `Invalid index name: "${indexDescriptor}". Identifiers must be 64 characters or less, ` +
          "start with a letter, and only contain letters, digits, underscores."
        );
      }
    }
  }
  return null;
}

/** Throws Convex's error for the first invalid identifier of a `defineSchema(...)` object. */
export function assertSchemaIdentifiers(schema: unknown): void {
  const exported = (schema as { export?: () => string } | null)?.export;
  if (typeof exported !== "function") return;
  const problem = schemaIdentifierProblem(JSON.parse(exported.call(schema)) as SchemaJsonForIdentifiers);
  if (problem !== null) throw new Error(problem);
}
