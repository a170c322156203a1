/** The plugin's calls against the real backend (see crates/cli/tests/headlamp.rs). */
import { isApiError } from '@kubeairunway/shared';
import { env } from '../test/env';
import { createBackend } from './backend';
import { fitOf } from './format';

const open = () => createBackend({ baseUrl: env.url, getToken: () => undefined });

describe('against the backend', () => {
  test('the running deployment is listed with its pods, logs and a metrics answer', async () => {
    const backend = open();
    const list = await backend.listDeployments(env.namespace);
    const d = list.find(x => x.name === env.deployment);
    expect(d, JSON.stringify(list)).toBeDefined();
    expect(d).toMatchObject({
      namespace: env.namespace,
      modelId: env.model,
      provider: 'kubernetes',
      phase: 'Running',
    });
    const all = await backend.listDeployments();
    expect(all.some(x => x.name === env.deployment && x.namespace === env.namespace)).toBe(true);

    const pods = await backend.pods(env.deployment, env.namespace);
    expect(pods.length).toBeGreaterThan(0);
    const logs = await backend.logs(env.deployment, env.namespace, pods[0]?.name);
    expect(logs.podName).toBe(pods[0]?.name);
    expect(logs.logs).toContain('vLLM API server is serving requests');
    const metrics = await backend.metrics(env.deployment, env.namespace);
    expect(typeof metrics.available).toBe('boolean');
    if (!metrics.available) expect(metrics.reason).toBeTruthy();
  });

  test('the catalog and HuggingFace search carry the model with a GPU fit for this cluster', async () => {
    const backend = open();
    const models = await backend.models();
    expect(models.map(m => m.id)).toContain(env.model);
    expect(fitOf(await backend.plan(env.model)).label).toMatch(/^Fits 1× /);
    const hits = await backend.searchModels('qwen');
    const hit = hits.find(h => h.id === env.model);
    expect(hit, hits.map(h => h.id).join(', ')).toBeDefined();
    expect(fitOf(hit?.plan).label).toMatch(/^Fits 1× /);
  });

  test('the kubernetes runtime is healthy', async () => {
    const runtimes = await open().runtimes();
    expect(runtimes.find(r => r.id === 'kubernetes')).toMatchObject({ healthy: true });
  });

  test('with authentication on, the token decides: none is 401, a viewer may read but not deploy', async () => {
    const anonymous = createBackend({ baseUrl: env.authUrl, getToken: () => undefined });
    const denied = await anonymous.listDeployments(env.namespace).catch((e: unknown) => e);
    expect(isApiError(denied) && denied.status).toBe(401);

    const viewer = createBackend({ baseUrl: env.authUrl, getToken: () => env.viewerToken });
    expect((await viewer.listDeployments(env.namespace)).map(d => d.name)).toContain(
      env.deployment
    );
    const forbidden = await viewer
      .createDeployment({
        name: 'viewer-may-not',
        namespace: env.namespace,
        modelId: env.model,
        provider: 'kubernetes',
      })
      .catch((e: unknown) => e);
    expect(isApiError(forbidden) && forbidden.status).toBe(403);

    const admin = createBackend({ baseUrl: env.authUrl, getToken: () => env.adminToken });
    expect(await admin.whoami()).toMatchObject({
      authEnabled: true,
      authenticated: true,
      username: env.adminName,
    });
  });

  test('an unreachable backend is an ApiError of status 0', async () => {
    const gone = createBackend({ baseUrl: 'http://127.0.0.1:9', getToken: () => undefined });
    const error = await gone.health().catch((e: unknown) => e);
    expect(isApiError(error) && error.status).toBe(0);
  });
});
