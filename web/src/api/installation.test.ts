import { describe, expect, it } from "vitest";

import { providerStatus } from "../test/jobs";
import { awaitingReady } from "./installation";

const chart = { name: "kaito-workspace", chart: "kaito/workspace", namespace: "kaito-workspace", createNamespace: true };
const deployed = { ...chart, release: { status: "deployed", revision: 1 } };

describe("awaitingReady", () => {
  it("is true when every chart is deployed and the provider has not reported ready yet", () => {
    expect(awaitingReady(providerStatus({ charts: [deployed, { ...deployed, name: "other" }] }))).toBe(true);
  });

  it("is false once the provider is ready", () => {
    expect(awaitingReady(providerStatus({ installed: true, charts: [deployed] }))).toBe(false);
  });

  it("is false while a chart is not installed, pending or failed", () => {
    expect(awaitingReady(providerStatus({ charts: [deployed, chart] }))).toBe(false);
    expect(awaitingReady(providerStatus({ charts: [{ ...chart, release: { status: "pending-install", revision: 1 } }] }))).toBe(false);
    expect(awaitingReady(providerStatus({ charts: [{ ...chart, release: { status: "failed", revision: 2 } }] }))).toBe(false);
  });

  it("is false for a provider installed without charts (nothing to wait for)", () => {
    expect(awaitingReady(providerStatus({ charts: [] }))).toBe(false);
  });
});
