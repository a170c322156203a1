/// <reference types="vitest/config" />
import tailwindcss from "@tailwindcss/vite";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The built UI lands in web/dist; the Rust server embeds it (index.html at the root,
// content-hashed files under /assets/, cached as immutable).
export default defineConfig({
  plugins: [react(), tailwindcss()],
  build: {
    outDir: "dist",
    assetsDir: "assets",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    // The budget that matters is gzip size of the initial JS (scripts/size.mjs, ≤ 200 KB).
    chunkSizeWarningLimit: 450,
  },
  server: {
    port: 5173,
    strictPort: true,
    // `kubeairunway serve` (make demo) listens on 3001. The Host header stays localhost:5173,
    // a loopback name the backend's Host/Origin guard accepts.
    proxy: { "/api": { target: "http://127.0.0.1:3001" } },
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
    setupFiles: ["src/test/setup.ts"],
    restoreMocks: true,
    // Page tests click through whole forms; on a loaded 2-core CI machine one can take several
    // seconds, so the per-test budget is generous (what is asserted is unchanged).
    testTimeout: 20_000,
  },
});
