/**
 * The plugin's settings, kept in Headlamp's ConfigStore (see `../settings.tsx`). Plain functions
 * here so they are tested without Headlamp's runtime.
 */

/** The plugin's package name: the key of its settings in Headlamp. */
export const PLUGIN_NAME = 'kubeairunway-headlamp-plugin';

/**
 * The backend inside the cluster: the Helm chart's Service `kubeairunway-server` in
 * `kubeairunway-system`, port 80 (→ 3001). Reachable from the browser only when it can resolve
 * cluster DNS; otherwise set the URL the backend is exposed at (Ingress, port-forward).
 */
export const DEFAULT_BACKEND_URL = 'http://kubeairunway-server.kubeairunway-system.svc';

/** What the settings page stores. */
export interface PluginConfig {
  /** Base URL of the KubeAIRunway backend (without `/api`); empty: {@link DEFAULT_BACKEND_URL}. */
  backendUrl?: string;
  /**
   * A Kubernetes bearer token to send when Headlamp has none to hand over (its own tokens live in
   * an httpOnly cookie that scripts cannot read). Empty: send Headlamp's token, if any.
   */
  token?: string;
}

/** The base URL requests go to: the configured one without trailing slashes, else the default. */
export function backendUrlOf(config: PluginConfig | null | undefined): string {
  const url = (config?.backendUrl ?? '').trim().replace(/\/+$/, '');
  return url === '' ? DEFAULT_BACKEND_URL : url;
}

/** Why `url` cannot be a backend URL, or `null` when it can (empty means the default). */
export function backendUrlProblem(url: string): string | null {
  const value = url.trim();
  if (value === '') return null;
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    return 'Enter an absolute URL, such as https://kubeairunway.example.com.';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return 'Use an http:// or https:// URL.';
  }
  if (parsed.search !== '' || parsed.hash !== '') {
    return 'Leave out the query and fragment: the plugin adds the /api paths itself.';
  }
  if (/\/api\/?$/.test(parsed.pathname)) {
    return 'Leave out /api: give the base URL the backend is served at.';
  }
  return null;
}
