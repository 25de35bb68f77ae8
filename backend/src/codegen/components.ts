/**
 * The `components` export of `convex/_generated/api`, as `npx convex dev` writes it.
 *
 * The CLI's offline codegen (`convex codegen --system-udfs`) knows nothing of components: the
 * real CLI learns them by pushing convex.config.ts to a deployment and generating from its
 * analysis. This does the same analysis locally (evaluates convex.config.ts with the engine's
 * component loader) and writes what the CLI's templates write for it (component API imports,
 * the CLI's default since convex 1.26): `componentsGeneric()` in api.js and, in api.d.ts, each
 * installed component typed by its own `_generated/component.js` `ComponentApi`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { readComponentTree, type ComponentInstance } from "../engine/components.js";

const JS_IMPORT = `import { anyApi } from "convex/server";`;
const JS_IMPORT_WITH_COMPONENTS = `import { anyApi, componentsGeneric } from "convex/server";`;
const JS_EXPORT = `export const components = componentsGeneric();`;

/** Where api.d.ts imports a child's ComponentApi from (the CLI's rule). */
export function componentImportPath(convexDir: string, instance: ComponentInstance): string {
  if (instance.importSpecifier !== null) return instance.importSpecifier;
  return `../${path.relative(convexDir, instance.directory).replace(/\\/g, "/")}`;
}

export function componentsDeclaration(convexDir: string, instances: ComponentInstance[]): string {
  const lines = ["", "export declare const components: {"];
  for (const instance of instances.filter((candidate) => !candidate.path.includes("/"))) {
    lines.push(
      `  ${JSON.stringify(instance.name)}: import("${componentImportPath(convexDir, instance)}/_generated/component.js").ComponentApi<"${instance.name}">,`,
    );
  }
  lines.push("};", "");
  return lines.join("\n");
}

export function withComponentsJs(source: string): string {
  const base = source.replace(JS_IMPORT_WITH_COMPONENTS, JS_IMPORT).replace(`\n${JS_EXPORT}\n`, "\n");
  if (!base.includes(JS_IMPORT)) throw new Error("convex/_generated/api.js does not look like the CLI's output");
  return `${base.replace(JS_IMPORT, JS_IMPORT_WITH_COMPONENTS).trimEnd()}\n${JS_EXPORT}\n`;
}

export function withComponentsDts(source: string, declaration: string): string {
  const marker = "\nexport declare const components: {";
  const at = source.indexOf(marker);
  const base = at < 0 ? source : source.slice(0, at);
  return `${base.trimEnd()}\n${declaration}`;
}

/** Adds `components` to convex/_generated/api.{js,d.ts}; a no-op without convex.config.ts. */
export async function writeComponentsCodegen(convexDir: string): Promise<string[]> {
  const scratch = mkdtempSync(path.join(os.tmpdir(), "convex-components-codegen-"));
  try {
    const instances = await readComponentTree(convexDir, scratch);
    if (instances.length === 0) return [];
    const generated = path.join(convexDir, "_generated");
    const jsFile = path.join(generated, "api.js");
    const dtsFile = path.join(generated, "api.d.ts");
    writeFileSync(jsFile, withComponentsJs(readFileSync(jsFile, "utf8")));
    writeFileSync(dtsFile, withComponentsDts(readFileSync(dtsFile, "utf8"), componentsDeclaration(convexDir, instances)));
    return instances.filter((instance) => !instance.path.includes("/")).map((instance) => instance.name);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
