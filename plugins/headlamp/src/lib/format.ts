/** How the plugin words what the backend reports. No Headlamp runtime needed. */
import type { DeploymentStatus, GpuPlan, ModelPlan } from '@kubeairunway/shared';

/** Headlamp's `StatusLabel` tones. */
export type Tone = 'success' | 'warning' | 'error' | '';

/** The tone of a deployment or pod phase. */
export function phaseTone(phase: string): Tone {
  switch (phase) {
    case 'Running':
    case 'Succeeded':
      return 'success';
    case 'Pending':
    case 'Deploying':
    case 'ContainerCreating':
      return 'warning';
    case 'Failed':
    case 'Terminating':
    case 'CrashLoopBackOff':
    case 'Error':
      return 'error';
    default:
      return '';
  }
}

/** `ready/desired` replicas. */
export function replicasText(d: Pick<DeploymentStatus, 'replicas'>): string {
  return `${d.replicas.ready}/${d.replicas.desired}`;
}

/** A compact age (`45s`, `12m`, `5h`, `3d`) of `iso` at `now`; `-` for an unreadable time. */
export function age(iso: string, now: number = Date.now()): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '-';
  const s = Math.max(0, Math.floor((now - t) / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

/** Bytes in GB (decimal, as GPU memory is quoted), one decimal. */
export function gigabytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return '-';
  return `${(bytes / 1e9).toFixed(1)} GB`;
}

/** A count with K/M suffixes (`1.2K`, `3.4M`). */
export function count(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}K`;
  return String(n);
}

/** Parameters in words (`7.6B`, `350M`). */
export function parameters(n: number | null | undefined): string {
  if (!n || n <= 0) return 'Unknown size';
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)}B`;
  return `${Math.round(n / 1e6)}M`;
}

/** A GPU fit in a label's words. */
export interface Fit {
  tone: Tone;
  label: string;
  /** The planner's reason. */
  detail: string;
  /** The GPU type the label is about. */
  gpu?: GpuPlan;
}

const FIT_ORDER = ['fits', 'tight', 'unknown', 'exceeds'];

function fitRank(g: GpuPlan): number {
  const i = FIT_ORDER.indexOf(g.fit);
  return (g.fits ? 0 : 10) + (i === -1 ? FIT_ORDER.length : i);
}

/** The GPU type to show for a plan: one that fits, the tightest-but-fitting next, fewest GPUs. */
export function bestGpuPlan(plan: ModelPlan): GpuPlan | undefined {
  let best: GpuPlan | undefined;
  for (const g of plan.gpus) {
    if (
      best === undefined ||
      fitRank(g) < fitRank(best) ||
      (fitRank(g) === fitRank(best) && (g.gpusNeeded ?? Infinity) < (best.gpusNeeded ?? Infinity))
    ) {
      best = g;
    }
  }
  return best;
}

/** The fit of a model's plan against the cluster's GPUs. */
export function fitOf(plan: ModelPlan | null | undefined): Fit {
  if (!plan)
    return { tone: '', label: 'Fit unknown', detail: 'The backend has no sizing for this model.' };
  const gpu = bestGpuPlan(plan);
  if (!gpu) {
    return {
      tone: '',
      label: 'No GPUs in cluster',
      detail: 'The cluster has no GPU nodes to plan against.',
    };
  }
  const where = gpu.gpusNeeded ? `${gpu.gpusNeeded}× ${gpu.gpuType}` : gpu.gpuType;
  if (gpu.fits && gpu.fit === 'fits')
    return { tone: 'success', label: `Fits ${where}`, detail: gpu.reason, gpu };
  if (gpu.fits && gpu.fit === 'tight')
    return { tone: 'warning', label: `Tight on ${where}`, detail: gpu.reason, gpu };
  if (gpu.fit === 'unknown') return { tone: '', label: 'Fit unknown', detail: gpu.reason, gpu };
  return { tone: 'error', label: 'Does not fit', detail: gpu.reason, gpu };
}

/** Seconds as `ms` below one second, else `s`. */
export function seconds(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '-';
  return value < 1 ? `${(value * 1000).toFixed(0)} ms` : `${value.toFixed(2)} s`;
}

/** A rate per second with a unit. */
export function perSecond(value: number | null | undefined, unit: string): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '-';
  return `${value.toFixed(value < 10 ? 2 : 1)} ${unit}/s`;
}

/** A ratio (0–1) as a percentage. */
export function percent(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '-';
  return `${(value * 100).toFixed(1)}%`;
}

/** The command that reaches a deployment's endpoint from a workstation. */
export function portForwardCommand(
  d: Pick<DeploymentStatus, 'namespace' | 'frontendService' | 'endpointPort'>
): string {
  const port = d.endpointPort ?? 8000;
  return `kubectl port-forward -n ${d.namespace} svc/${d.frontendService} 8000:${port}`;
}
