// A program written against the reference implementation's shared client: it imports only
// `@kubeairunway/shared/api` (the reference's subpath and names) and drives a running backend.
// `crates/server/tests/compat_shared_client.rs` starts the backend on the local cluster and runs
// this with Node's test runner:
//
//   KAIR_BASE_URL=http://127.0.0.1:3001 KAIR_NAMESPACE=ns [KAIR_TOKEN=...] \
//     node --import ./test/node/register.mjs --test test/node/reference-client.node.ts
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  ApiError,
  createApiClient,
  type ApiClient,
  type DeploymentConfig,
  type DeploymentStatus,
  type DeploymentsListResponse,
  type Model,
  type Settings,
} from "@kubeairunway/shared/api";

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: this program runs from crates/server/tests/compat_shared_client.rs`);
  return value;
}

const namespace = env("KAIR_NAMESPACE");
const token = process.env.KAIR_TOKEN ?? null;
let unauthorized = 0;
const client: ApiClient = createApiClient({
  baseUrl: env("KAIR_BASE_URL"),
  getToken: () => token,
  onUnauthorized: () => {
    unauthorized += 1;
  },
});

/** What the reference's deploy form sends for a vLLM model with every default left alone. */
const config: DeploymentConfig = {
  name: "qwen3-0-6b-node",
  namespace,
  modelId: "Qwen/Qwen3-0.6B",
  servedModelName: "Qwen/Qwen3-0.6B",
  engine: "vllm",
  mode: "aggregated",
  provider: "dynamo",
  routerMode: "none",
  replicas: 1,
  hfTokenSecret: "hf-token-secret",
  enforceEager: true,
  enablePrefixCaching: false,
  trustRemoteCode: false,
  prefillReplicas: 1,
  decodeReplicas: 1,
  prefillGpus: 1,
  decodeGpus: 1,
  resources: { gpu: 1 },
  engineArgs: { "max-num-seqs": 8 },
};

async function eventually<T>(what: string, read: () => Promise<T>, ok: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

void test("reads work as for the reference", async () => {
  const health = await client.health.check();
  assert.equal(health.status, "healthy");
  const settings: Settings = await client.settings.get();
  assert.equal(typeof settings.auth.enabled, "boolean");
  const { models } = await client.models.list();
  const qwen: Model | undefined = models.find((m) => m.id === "Qwen/Qwen3-0.6B");
  assert.ok(qwen, "the curated catalog has Qwen3-0.6B");
  assert.equal((await client.models.get("Qwen/Qwen3-0.6B")).id, "Qwen/Qwen3-0.6B");
  const list: DeploymentsListResponse = await client.deployments.list(namespace);
  assert.deepEqual(list.deployments, []);
  assert.equal(list.pagination.total, 0);
});

void test("a deployment is created, read, listed and deleted", async () => {
  const preview = await client.deployments.preview(config);
  assert.equal(preview.resources[0]?.kind, "ModelDeployment");

  const created = await client.deployments.create(config);
  assert.equal(created.message, "Deployment created successfully");
  assert.equal(created.name, config.name);
  assert.equal(created.namespace, namespace);
  assert.ok(
    (created.warnings ?? []).some((w) => w.includes("prefillReplicas (1)")),
    `the fields of the other mode are named: ${JSON.stringify(created.warnings)}`,
  );

  // The backend reads from its watch cache, which sees the new object a moment later.
  const found = await eventually(
    "the deployment",
    async () => {
      try {
        return await client.deployments.get(config.name, namespace);
      } catch (error) {
        if (error instanceof ApiError && error.statusCode === 404) return undefined;
        throw error;
      }
    },
    (d) => d !== undefined,
  );
  assert.ok(found);
  const got: DeploymentStatus = found;
  assert.equal(got.modelId, "Qwen/Qwen3-0.6B");
  assert.equal(got.engine, "vllm");
  assert.equal(got.mode, "aggregated");
  assert.equal(got.provider, "dynamo");
  assert.deepEqual(got.replicas, { desired: 0, ready: 0, available: 0 });

  const listed = await client.deployments.list(namespace, { limit: 10 });
  assert.deepEqual(
    listed.deployments.map((d) => d.name),
    [config.name],
  );
  const manifest = await client.deployments.getManifest(config.name, namespace);
  const spec = (manifest.resources[0]?.manifest as { spec: { engine: { args: Record<string, string> } } }).spec;
  assert.deepEqual(spec.engine.args, { "enforce-eager": "", "max-num-seqs": "8" });
  const { pods } = await client.deployments.getPods(config.name, namespace);
  assert.deepEqual(pods, []);

  const deleted = await client.deployments.delete(config.name, namespace);
  assert.equal(deleted.message, "Deployment deleted successfully");
  await eventually(
    "the deployment to be gone",
    async () => (await client.deployments.list(namespace)).pagination.total,
    (total) => total === 0,
  );
  await assert.rejects(client.deployments.get(config.name, namespace), (error: unknown) => {
    assert.ok(error instanceof ApiError);
    assert.equal(error.statusCode, 404);
    return true;
  });
});

void test("errors are ApiErrors with the backend's message", async () => {
  await assert.rejects(client.deployments.create({ ...config, name: "Not A Name" }), (error: unknown) => {
    assert.ok(error instanceof ApiError);
    assert.equal(error.statusCode, 400);
    assert.match(error.message, /deployment name/i);
    return true;
  });
  // A route of the reference this backend does not implement.
  await assert.rejects(client.metrics.get(config.name, namespace), (error: unknown) => {
    assert.ok(error instanceof ApiError);
    assert.equal(error.statusCode, 404);
    return true;
  });
  assert.equal(unauthorized, 0, "a valid token (or no auth) never gets a 401");
});
