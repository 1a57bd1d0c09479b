/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The console is served by the gateway on the API's own origin (see gateway/src/gateway/edge/console.py);
// `npm run dev` proxies the API to a running `make up`.
export default defineConfig({
  plugins: [react()],
  build: {
    // No inline script anywhere: the page's Content-Security-Policy allows only the origin's own files.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
  },
  server: {
    proxy: { "/v1": "http://127.0.0.1:8080" },
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
    restoreMocks: true,
  },
});
