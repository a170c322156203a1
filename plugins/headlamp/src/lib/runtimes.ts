/** A runtime's state in words. */
import type { RuntimeStatus } from '@kubeairunway/shared';
import type { Tone } from './format';

export function runtimeState(r: Pick<RuntimeStatus, 'healthy' | 'installed'>): {
  tone: Tone;
  label: string;
} {
  if (r.healthy) return { tone: 'success', label: 'Healthy' };
  if (r.installed) return { tone: 'warning', label: 'Installed, not healthy' };
  return { tone: '', label: 'Not installed' };
}
