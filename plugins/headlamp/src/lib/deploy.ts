/** The deploy form of the plugin: defaults, checks and the request it sends. */
import type {
  CreateDeploymentRequest,
  Engine,
  ModelPlan,
  RuntimeStatus,
} from '@kubeairunway/shared';
import { bestGpuPlan } from './format';

/** Engines each built-in provider runs. A provider not listed: any engine, the controller decides. */
export const ENGINES: Record<string, Engine[]> = {
  kubernetes: ['vllm', 'llamacpp'],
  kaito: ['vllm', 'llamacpp'],
  dynamo: ['vllm', 'sglang', 'trtllm'],
  kuberay: ['vllm'],
};

const ALL_ENGINES: Engine[] = ['vllm', 'sglang', 'trtllm', 'llamacpp'];

/** Engines `provider` offers for a model that runs on `supported` (empty: all). */
export function enginesFor(provider: string, supported: readonly Engine[]): Engine[] {
  const offered = ENGINES[provider] ?? ALL_ENGINES;
  return supported.length === 0 ? offered : offered.filter(e => supported.includes(e));
}

/** What the form holds. */
export interface DeployValues {
  name: string;
  namespace: string;
  modelId: string;
  provider: string;
  engine: Engine;
  replicas: number;
  gpus: number;
  contextLength: string;
  gated: boolean;
}

/**
 * A DNS-1035 name for a model's deployment: the part after the last `/`, lower case, other
 * characters to `-`, starting with a letter, at most 40 characters plus a `-xxxx` suffix so two
 * deployments of one model do not collide.
 */
export function suggestName(modelId: string, random: () => number = Math.random): string {
  const tail = modelId.slice(modelId.lastIndexOf('/') + 1).toLowerCase();
  let base = tail
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+/, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  if (base === '') base = 'model';
  else if (!/^[a-z]/.test(base)) base = `m-${base}`.slice(0, 40).replace(/-+$/, '');
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let suffix = '';
  for (let i = 0; i < 4; i++) suffix += alphabet[Math.floor(random() * alphabet.length)] ?? 'x';
  return `${base}-${suffix}`;
}

/** GPUs per replica to start with: the plan's best GPU type, else the catalog's minimum, else 1. */
export function suggestGpus(plan: ModelPlan | null | undefined, minGpus?: number): number {
  const best = plan ? bestGpuPlan(plan) : undefined;
  if (best?.gpusNeeded && best.gpusNeeded > 0) return best.gpusNeeded;
  if (minGpus !== undefined && minGpus >= 0) return minGpus;
  return 1;
}

/** The provider to start with: the first healthy one that can run the model, else the first. */
export function suggestProvider(
  runtimes: readonly RuntimeStatus[],
  supported: readonly Engine[]
): string {
  const usable = runtimes.filter(r => enginesFor(r.id, supported).length > 0);
  return (usable.find(r => r.healthy) ?? usable[0] ?? runtimes[0])?.id ?? 'kubernetes';
}

const NAME = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;
const NAMESPACE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export type DeployErrors = Partial<
  Record<'name' | 'namespace' | 'replicas' | 'gpus' | 'contextLength', string>
>;

/** What is wrong with the values, by field (empty: nothing). */
export function checkDeploy(v: DeployValues): DeployErrors {
  const errors: DeployErrors = {};
  if (!NAME.test(v.name)) {
    errors.name =
      'Lower-case letters, digits and hyphens, starting with a letter, at most 63 characters.';
  }
  if (!NAMESPACE.test(v.namespace))
    errors.namespace = 'Lower-case letters, digits and hyphens, at most 63 characters.';
  if (!Number.isInteger(v.replicas) || v.replicas < 0 || v.replicas > 100)
    errors.replicas = 'A whole number from 0 to 100.';
  if (!Number.isInteger(v.gpus) || v.gpus < 0 || v.gpus > 64)
    errors.gpus = 'A whole number from 0 to 64.';
  if (v.contextLength.trim() !== '' && !/^[1-9]\d{0,7}$/.test(v.contextLength.trim())) {
    errors.contextLength = 'A whole number of tokens.';
  }
  return errors;
}

/** The `POST /api/deployments` body for the values. */
export function deployRequest(v: DeployValues): CreateDeploymentRequest {
  const body: CreateDeploymentRequest = {
    name: v.name,
    namespace: v.namespace,
    modelId: v.modelId,
    servedModelName: v.modelId,
    provider: v.provider,
    engine: v.engine,
    replicas: v.replicas,
    resources: { gpu: v.gpus },
  };
  if (v.gpus === 0) body.computeType = 'cpu';
  if (v.contextLength.trim() !== '') body.contextLength = Number(v.contextLength.trim());
  if (v.gated) body.hfTokenSecret = 'hf-token-secret';
  return body;
}
