/** The plugin's routes (Headlamp mounts them under the cluster prefix `/c/<cluster>`). */
export const ROUTE = {
  deployments: { name: 'kubeairunway-deployments', path: '/kubeairunway/deployments' },
  deployment: {
    name: 'kubeairunway-deployment',
    path: '/kubeairunway/deployments/:namespace/:name',
  },
  models: { name: 'kubeairunway-models', path: '/kubeairunway/models' },
  deploy: { name: 'kubeairunway-deploy', path: '/kubeairunway/deploy' },
  runtimes: { name: 'kubeairunway-runtimes', path: '/kubeairunway/runtimes' },
  settings: { name: 'kubeairunway-settings', path: '/kubeairunway/settings' },
} as const;

/** Sidebar entry names. */
export const SIDEBAR = {
  root: 'kubeairunway',
  deployments: 'kubeairunway-deployments',
  models: 'kubeairunway-models',
  runtimes: 'kubeairunway-runtimes',
  settings: 'kubeairunway-settings',
} as const;

/** The query of the deploy page for a model. */
export function deploySearch(modelId: string, source: 'catalog' | 'huggingface'): string {
  return `?${new URLSearchParams({ modelId, source }).toString()}`;
}
