/// <reference types="vitest/config" />
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// The built UI goes into the Python package, served by the tracking server at "/".
const outDir = fileURLToPath(new URL("../src/mltrail/server/static/", import.meta.url));
// `npm run dev` proxies the API to a running `mltrail server` (MLTRAIL_UI_API, default :5000).
const api = process.env.MLTRAIL_UI_API ?? "http://127.0.0.1:5000";

export default defineConfig({
  base: "/",
  oxc: { jsx: { runtime: "automatic" } },
  build: {
    outDir,
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: false,
    chunkSizeWarningLimit: 800,
    rolldownOptions: {
      output: {
        codeSplitting: {
          groups: [
            { name: "react", test: /node_modules[\\/](react|react-dom|scheduler)[\\/]/ },
            // uPlot's script only: its stylesheet stays with the app, so that the script is
            // loaded with the first chart (components/Chart.tsx), not before the first page.
            { name: "uplot", test: /node_modules[\\/]uplot[\\/].*\.[cm]?js$/ },
          ],
        },
      },
    },
  },
  server: {
    proxy: {
      "/api": api,
      "/ajax-api": api,
      "/get-artifact": api,
    },
  },
  test: {
    include: ["tests/**/*.test.ts"],
    environment: "node",
  },
});
