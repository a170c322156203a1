import { describe, expect, it } from "vitest";

import { ApiError, createApiClient, createRequestFn, type DeploymentConfig } from "../src/api";

interface Seen {
  url: string;
  method: string;
  headers: Headers;
  body: string;
}

function fakeFetch(status: number, body: unknown): { fetchImpl: typeof fetch; seen: Seen[] } {
  const seen: Seen[] = [];
  const fetchImpl = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(input, init);
    seen.push({
      url: request.url,
      method: request.method,
      headers: request.headers,
      body: await request.text(),
    });
    return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
  }) as typeof fetch;
  return { fetchImpl, seen };
}

const config: DeploymentConfig = {
  name: "qwen",
  namespace: "ns",
  modelId: "Qwen/Qwen3-0.6B",
  engine: "vllm",
  mode: "aggregated",
  routerMode: "default",
  replicas: 1,
  enforceEager: true,
  enablePrefixCaching: false,
  trustRemoteCode: false,
};

describe("@kubeairunway/shared/api", () => {
  it("sends the reference's requests through the generated client, with the bearer token", async () => {
    const { fetchImpl, seen } = fakeFetch(201, { message: "Deployment created successfully", name: "qwen", namespace: "ns" });
    const client = createApiClient({ baseUrl: "http://backend", getToken: () => "t0k", fetchImpl });
    const created = await client.deployments.create(config);
    expect(created.name).toBe("qwen");
    expect(seen[0]?.url).toBe("http://backend/api/deployments");
    expect(seen[0]?.method).toBe("POST");
    expect(seen[0]?.headers.get("Authorization")).toBe("Bearer t0k");
    // The later reference's `default` router mode is this backend's `none`.
    expect(JSON.parse(seen[0]?.body ?? "{}")).toMatchObject({ routerMode: "none", enforceEager: true });
  });

  it("puts HuggingFace tokens in X-HF-Token, never in Authorization", async () => {
    const { fetchImpl, seen } = fakeFetch(200, { files: ["a.gguf"], sizes: {} });
    const client = createApiClient({ baseUrl: "http://backend", getToken: () => "cluster", fetchImpl });
    await client.huggingFace.getGgufFiles("org/model-GGUF", "hf_secret");
    expect(seen[0]?.url).toBe("http://backend/api/models/org%2Fmodel-GGUF/gguf-files");
    expect(seen[0]?.headers.get("X-HF-Token")).toBe("hf_secret");
    expect(seen[0]?.headers.get("Authorization")).toBe("Bearer cluster");
  });

  it("rejects with ApiError(statusCode, message) and calls onUnauthorized on 401", async () => {
    const { fetchImpl } = fakeFetch(401, { error: { message: "Authentication required", statusCode: 401 } });
    let called = 0;
    const client = createApiClient({
      baseUrl: "http://backend",
      getToken: () => null,
      onUnauthorized: () => (called += 1),
      fetchImpl,
    });
    const error: unknown = await client.deployments.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).statusCode).toBe(401);
    expect((error as ApiError).message).toBe("Authentication required");
    expect(called).toBe(1);
    const missing: unknown = await client.metrics.get("qwen").catch((e: unknown) => e);
    expect((missing as ApiError).statusCode).toBe(401);
    expect(called).toBe(2);
  });

  it("createRequestFn calls <baseUrl>/api<endpoint>", async () => {
    const { fetchImpl, seen } = fakeFetch(200, { ok: true });
    const request = createRequestFn({ baseUrl: "http://backend", getToken: () => null, fetchImpl });
    await expect(request<{ ok: boolean }>("/autoscaler/detection")).resolves.toEqual({ ok: true });
    expect(seen[0]?.url).toBe("http://backend/api/autoscaler/detection");
    expect(seen[0]?.headers.get("Authorization")).toBeNull();
  });
});
