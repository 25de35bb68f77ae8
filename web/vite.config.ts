/**
 * The portal's Vite config: root `web/`, React, env from the repo root (only VITE_* reach the
 * browser), bound to 127.0.0.1. In dev (and only in dev: `apply: "serve"`) the local sign-in
 * plugin serves /local-auth/* when Clerk is not configured; a build also puts the booking
 * widget's bundle at /widget.js.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { build, defineConfig, type Plugin } from "vite";
import { localAuthPlugin } from "./dev/localAuth";

const webRoot = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(webRoot, "..");

/**
 * A production build of the portal also builds the booking widget's own bundle
 * (web/widget/vite.config.ts, what `npm run build:widget` makes in web/dist-widget/) into the
 * portal's output, so the host that serves the portal serves it as `/widget.js`, the address
 * of the snippet owners paste (`WidgetSnippet.tsx`). In dev the snippet loads the sources.
 */
function widgetBundle(): Plugin {
  let outDir = join(webRoot, "dist");
  let mode = "production";
  return {
    name: "booking-widget-bundle",
    apply: "build",
    configResolved(config) {
      outDir = config.build.outDir;
      mode = config.mode;
    },
    async closeBundle() {
      await build({
        configFile: join(webRoot, "widget", "vite.config.ts"),
        mode,
        build: { outDir, emptyOutDir: false },
        logLevel: "warn",
      });
    },
  };
}

export default defineConfig({
  root: webRoot,
  envDir: repoRoot,
  plugins: [react(), localAuthPlugin({ repoRoot }), widgetBundle()],
  server: {
    host: "127.0.0.1",
    // web/ imports the shared modules in ../party, ../domain and ../convex/_generated.
    fs: { allow: [repoRoot] },
  },
  preview: { host: "127.0.0.1" },
  build: {
    outDir: join(webRoot, "dist"),
    emptyOutDir: true,
    // The portal, and the booking widget's iframe variant (/widget/frame.html).
    rollupOptions: { input: { main: join(webRoot, "index.html"), frame: join(webRoot, "widget", "frame.html") } },
  },
});
