#!/usr/bin/env node
// The local backend's command line (`npm run backend -- --help`): runs backend/src/cli.ts from
// its compiled JavaScript (backend/bin/compile.mjs; compiled on the first start after a change
// to backend/src), so a start pays neither tsx nor the TypeScript compiler.
import path from "node:path";
import { pathToFileURL } from "node:url";
import { compiledBackend } from "./compile.mjs";

const { dir } = await compiledBackend();
await import(pathToFileURL(path.join(dir, "cli.js")).href);
