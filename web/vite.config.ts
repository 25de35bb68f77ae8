/**
 * The portal's Vite config: root `web/`, React, env from the repo root (only VITE_* reach the
 * browser), bound to 127.0.0.1. In dev (and only in dev: `apply: "serve"`) the local sign-in
 * plugin serves /local-auth/* when Clerk is not configured.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";
import { localAuthPlugin } from "./dev/localAuth";

const webRoot = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(webRoot, "..");

export default defineConfig({
  root: webRoot,
  envDir: repoRoot,
  plugins: [react(), localAuthPlugin({ repoRoot })],
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
