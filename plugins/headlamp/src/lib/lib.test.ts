import type { DeploymentStatus, GpuPlan, ModelPlan } from '@kubeairunway/shared';
import { applyDeploymentEvent } from './backend';
import {
  checkDeploy,
  deployRequest,
  type DeployValues,
  enginesFor,
  suggestGpus,
  suggestName,
  suggestProvider,
} from './deploy';
import {
  age,
  fitOf,
  gigabytes,
  parameters,
  phaseTone,
  portForwardCommand,
  replicasText,
} from './format';
import { backendUrlOf, backendUrlProblem, DEFAULT_BACKEND_URL } from './settings';
import { resolveToken } from './token';

function gpu(over: Partial<GpuPlan>): GpuPlan {
  return {
    fit: 'fits',
    fits: true,
    gpuType: 'L4',
    gpusNeeded: 1,
    gpusPerNode: 1,
    nodes: 1,
    reason: 'fits',
    ...over,
  };
}

function plan(gpus: GpuPlan[]): ModelPlan {
  return {
    basis: 'config',
    concurrency: 1,
    contextLength: 8192,
    gpuMemoryUtilization: 0.9,
    gpus,
    modelId: 'org/model',
    notes: [],
    parameterCount: 1e9,
    runtimeOverheadBytesPerGpu: 0,
    weightBytes: 2e9,
    weightDtype: 'bf16',
  };
}

function deployment(name: string, namespace = 'ns', phase = 'Running'): DeploymentStatus {
  return {
    name,
    namespace,
    phase,
    createdAt: '2026-01-01T00:00:00Z',
    frontendService: name,
    mode: 'aggregated',
    modelId: 'org/model',
    pods: [],
    provider: 'kubernetes',
    replicas: { available: 1, desired: 2, ready: 1 },
  };
}

describe('settings', () => {
  test('the in-cluster Service is the default backend, a configured URL loses its trailing slashes', () => {
    expect(backendUrlOf(undefined)).toBe(DEFAULT_BACKEND_URL);
    expect(backendUrlOf({ backendUrl: '  ' })).toBe(DEFAULT_BACKEND_URL);
    expect(backendUrlOf({ backendUrl: 'https://kair.example.com//' })).toBe(
      'https://kair.example.com'
    );
  });
  test('URLs that cannot be a base URL are refused with the reason', () => {
    expect(backendUrlProblem('')).toBeNull();
    expect(backendUrlProblem('http://localhost:3001')).toBeNull();
    expect(backendUrlProblem('localhost:3001')).toMatch(/http/);
    expect(backendUrlProblem('not a url')).toMatch(/absolute URL/);
    expect(backendUrlProblem('ftp://x')).toMatch(/http/);
    expect(backendUrlProblem('http://x/api')).toMatch(/\/api/);
    expect(backendUrlProblem('http://x/?a=1')).toMatch(/query/);
  });
});

describe('token', () => {
  const state = (getToken?: (c: string) => string | undefined) => ({
    ui: { functionsToOverride: { getToken } },
  });
  test("Headlamp's token for the cluster wins over the configured one", () => {
    expect(
      resolveToken(
        state(c => `tok-${c}`),
        'main',
        'mine'
      )
    ).toEqual({ token: 'tok-main', source: 'headlamp' });
  });
  test('without a Headlamp token (or cluster) the configured token is used, else none', () => {
    expect(
      resolveToken(
        state(() => undefined),
        'main',
        ' mine '
      )
    ).toEqual({ token: 'mine', source: 'settings' });
    expect(
      resolveToken(
        state(() => 'x'),
        null,
        'mine'
      )
    ).toEqual({ token: 'mine', source: 'settings' });
    expect(resolveToken({}, 'main', '')).toEqual({ source: 'none' });
    expect(resolveToken(undefined, 'main', undefined)).toEqual({ source: 'none' });
  });
  test('a throwing Headlamp override counts as no token', () => {
    const throwing = state(() => {
      throw new Error('boom');
    });
    expect(resolveToken(throwing, 'main', undefined)).toEqual({ source: 'none' });
  });
});

describe('format', () => {
  test('phases map to Headlamp status tones', () => {
    expect(phaseTone('Running')).toBe('success');
    expect(phaseTone('Deploying')).toBe('warning');
    expect(phaseTone('Failed')).toBe('error');
    expect(phaseTone('Whatever')).toBe('');
  });
  test('ages, sizes and replicas', () => {
    const now = Date.parse('2026-01-02T03:00:00Z');
    expect(age('2026-01-02T02:59:30Z', now)).toBe('30s');
    expect(age('2026-01-02T02:15:00Z', now)).toBe('45m');
    expect(age('2026-01-02T00:00:00Z', now)).toBe('3h');
    expect(age('2025-12-30T03:00:00Z', now)).toBe('3d');
    expect(age('garbage', now)).toBe('-');
    expect(gigabytes(16e9)).toBe('16.0 GB');
    expect(parameters(7.6e9)).toBe('7.6B');
    expect(parameters(350e6)).toBe('350M');
    expect(parameters(null)).toBe('Unknown size');
    expect(replicasText(deployment('a'))).toBe('1/2');
  });
  test('the fit names the best GPU type: fitting before tight before exceeding, fewer GPUs first', () => {
    const p = plan([
      gpu({ gpuType: 'T4', fit: 'exceeds', fits: false, reason: 'too big' }),
      gpu({ gpuType: 'A100', fit: 'tight', gpusNeeded: 1 }),
      gpu({ gpuType: 'H100', fit: 'fits', gpusNeeded: 2, reason: 'weights 60 GB' }),
      gpu({ gpuType: 'L40S', fit: 'fits', gpusNeeded: 4 }),
    ]);
    expect(fitOf(p)).toMatchObject({
      tone: 'success',
      label: 'Fits 2× H100',
      detail: 'weights 60 GB',
    });
    expect(fitOf(plan([gpu({ gpuType: 'A100', fit: 'tight', gpusNeeded: 1 })])).label).toBe(
      'Tight on 1× A100'
    );
    expect(
      fitOf(plan([gpu({ fit: 'exceeds', fits: false, reason: 'needs 900 GB' })]))
    ).toMatchObject({
      tone: 'error',
      label: 'Does not fit',
      detail: 'needs 900 GB',
    });
    expect(fitOf(plan([])).label).toBe('No GPUs in cluster');
    expect(fitOf(null).label).toBe('Fit unknown');
  });
  test('the port-forward command targets the frontend Service and its port', () => {
    expect(portForwardCommand({ namespace: 'a', frontendService: 'svc', endpointPort: 8080 })).toBe(
      'kubectl port-forward -n a svc/svc 8000:8080'
    );
  });
});

describe('deploy', () => {
  const values: DeployValues = {
    name: 'qwen3-0-6b-abcd',
    namespace: 'default',
    modelId: 'Qwen/Qwen3-0.6B',
    provider: 'kubernetes',
    engine: 'vllm',
    replicas: 1,
    gpus: 1,
    contextLength: '',
    gated: false,
  };
  test('suggested names are DNS-1035 labels with a random suffix', () => {
    expect(suggestName('Qwen/Qwen3-0.6B', () => 0)).toBe('qwen3-0-6b-aaaa');
    expect(suggestName('org/7B_model', () => 0)).toBe('m-7b-model-aaaa');
    expect(suggestName('org/' + 'x'.repeat(80), () => 0)).toHaveLength(45);
    expect(suggestName('///', () => 0)).toBe('model-aaaa');
    expect(
      checkDeploy({ ...values, name: suggestName('Meta-Llama/Llama-3.1-8B-Instruct') })
    ).toEqual({});
  });
  test('engines, GPUs and provider follow the model, its plan and the healthy runtimes', () => {
    expect(enginesFor('kuberay', ['vllm', 'sglang'])).toEqual(['vllm']);
    expect(enginesFor('dynamo', [])).toEqual(['vllm', 'sglang', 'trtllm']);
    expect(enginesFor('someone-else', ['llamacpp'])).toEqual(['llamacpp']);
    expect(suggestGpus(plan([gpu({ gpusNeeded: 2 })]), 1)).toBe(2);
    expect(suggestGpus(null, 0)).toBe(0);
    expect(suggestGpus(undefined)).toBe(1);
    const rt = (id: string, healthy: boolean) => ({
      id,
      healthy,
      installed: healthy,
      message: '',
      name: id,
    });
    expect(suggestProvider([rt('kuberay', false), rt('kaito', true)], ['vllm'])).toBe('kaito');
    expect(suggestProvider([rt('kuberay', true), rt('kaito', true)], ['llamacpp'])).toBe('kaito');
    expect(suggestProvider([], ['vllm'])).toBe('kubernetes');
  });
  test('invalid values are named by field', () => {
    expect(checkDeploy(values)).toEqual({});
    const errors = checkDeploy({
      ...values,
      name: 'Bad_Name',
      namespace: '-x',
      replicas: 1.5,
      gpus: -1,
      contextLength: '12k',
    });
    expect(Object.keys(errors).sort()).toEqual([
      'contextLength',
      'gpus',
      'name',
      'namespace',
      'replicas',
    ]);
  });
  test('the request carries the form, CPU serving for 0 GPUs and the HF secret for gated models', () => {
    expect(deployRequest(values)).toEqual({
      name: 'qwen3-0-6b-abcd',
      namespace: 'default',
      modelId: 'Qwen/Qwen3-0.6B',
      servedModelName: 'Qwen/Qwen3-0.6B',
      provider: 'kubernetes',
      engine: 'vllm',
      replicas: 1,
      resources: { gpu: 1 },
    });
    const cpu = deployRequest({ ...values, gpus: 0, contextLength: '4096', gated: true });
    expect(cpu).toMatchObject({
      computeType: 'cpu',
      contextLength: 4096,
      hfTokenSecret: 'hf-token-secret',
    });
  });
});

describe('live deployment events', () => {
  test('snapshots replace, upserts replace or append, deletes remove', () => {
    const a = deployment('a');
    const b = deployment('b');
    let list = applyDeploymentEvent([], { type: 'snapshot', deployments: [a] });
    expect(list.map(d => d.name)).toEqual(['a']);
    list = applyDeploymentEvent(list, { type: 'upsert', deployment: b });
    list = applyDeploymentEvent(list, { type: 'upsert', deployment: { ...a, phase: 'Failed' } });
    expect(list.map(d => `${d.name}:${d.phase}`)).toEqual(['a:Failed', 'b:Running']);
    list = applyDeploymentEvent(list, { type: 'delete', namespace: 'other', name: 'a' });
    expect(list).toHaveLength(2);
    list = applyDeploymentEvent(list, { type: 'delete', namespace: 'ns', name: 'a' });
    expect(list.map(d => d.name)).toEqual(['b']);
  });
});
