/**
 * The widget's own bundle: `widget.js`, one IIFE a business's site loads with a script tag
 * (web/widget/embed.ts), no React, no Convex client (public queries go over Convex's HTTP
 * API with fetch). `npx vite build --config web/widget/vite.config.ts` → web/dist-widget/.
 * The iframe variant (frame.html) is part of the portal's build (web/vite.config.ts).
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const widgetRoot = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(widgetRoot, "..", "..");

export default defineConfig({
  root: widgetRoot,
  envDir: repoRoot,
  publicDir: false,
  build: {
    outDir: join(widgetRoot, "..", "dist-widget"),
    emptyOutDir: true,
    target: "es2020",
    lib: { entry: join(widgetRoot, "embed.ts"), formats: ["iife"], name: "BookingWidget", fileName: () => "widget.js" },
  },
});
