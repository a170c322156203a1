import { defineConfig } from "@playwright/test";

import { env } from "./e2e/env";

// Browser end-to-end tests in Debian's Chromium (never a downloaded browser) against the real
// backend on the local control plane. Run them through the Rust harness, which starts the
// cluster, the controller, the local HuggingFace Hub and two servers and sets the KAIR_* variables:
//   cargo test -p kubeairunway --test browser -- --nocapture
export default defineConfig({
  testDir: "e2e",
  outputDir: `${env.artifacts}/test-results`,
  // One cluster, one namespace, two cores: the specs run one after another.
  workers: 1,
  fullyParallel: false,
  forbidOnly: true,
  retries: 0,
  // A deployment reaches Running within seconds on KWOK; the generous limits absorb a busy machine.
  timeout: 180_000,
  globalTimeout: 15 * 60_000,
  expect: { timeout: 15_000 },
  reporter: [["list"]],
  use: {
    browserName: "chromium",
    headless: true,
    launchOptions: {
      executablePath: env.chromium,
      // The tests run as root, where Chromium's sandbox cannot start.
      args: ["--no-sandbox"],
    },
    viewport: { width: 1280, height: 900 },
    actionTimeout: 15_000,
    navigationTimeout: 30_000,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
  },
  projects: [
    { name: "auth-off", testIgnore: /auth\.spec\.ts$/, use: { baseURL: env.url } },
    { name: "auth-on", testMatch: /auth\.spec\.ts$/, use: { baseURL: env.authUrl } },
  ],
});
