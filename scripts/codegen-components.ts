/** `npm run codegen`, second step: the `components` export (see backend/src/codegen/components.ts). */
import path from "node:path";
import { writeComponentsCodegen } from "../backend/src/codegen/components.js";

const convexDir = path.resolve(process.argv[2] ?? "convex");
const names = await writeComponentsCodegen(convexDir);
if (names.length > 0) console.log(`components in convex/_generated/api: ${names.join(", ")}`);
