/**
 * React glue: the backend for the current settings and Headlamp user, and a small fetch-and-
 * refresh hook that keeps showing the last data while it refreshes (no spinner flash).
 */
import { Utils } from '@kinvolk/headlamp-plugin/lib';
import {
  createContext,
  type DependencyList,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
} from 'react';
import { useStore } from 'react-redux';
import { usePluginConfig } from './config';
import { type Backend, createBackend } from './lib/backend';
import { backendUrlOf } from './lib/settings';
import { type HeadlampTokenState, resolveToken, type TokenSource } from './lib/token';

/** A backend to use instead of the one from the settings (tests, embedding). */
export const BackendContext = createContext<Backend | null>(null);

/** Where the token of the current requests comes from (for the settings page). */
export function useTokenSource(): TokenSource {
  const store = useStore();
  const config = usePluginConfig();
  return resolveToken(store.getState() as HeadlampTokenState, Utils.getCluster(), config?.token)
    .source;
}

/** The backend the pages talk to: the configured URL, with the Headlamp user's token. */
export function useBackend(): Backend {
  const override = useContext(BackendContext);
  const store = useStore();
  const config = usePluginConfig();
  const baseUrl = backendUrlOf(config);
  const configuredToken = config?.token;
  return useMemo(
    () =>
      override ??
      createBackend({
        baseUrl,
        // Read on every request: the user may sign in to another cluster or Headlamp may renew it.
        getToken: () =>
          resolveToken(store.getState() as HeadlampTokenState, Utils.getCluster(), configuredToken)
            .token,
      }),
    [override, baseUrl, configuredToken, store]
  );
}

export interface Resource<T> {
  data: T | undefined;
  error: Error | undefined;
  /** True until the first answer (data or error). */
  loading: boolean;
  refresh: () => void;
}

/** Fetches with `load` when `deps` change, again every `intervalMs` (0: never) and on `refresh`. */
export function useResource<T>(
  load: () => Promise<T>,
  deps: DependencyList,
  intervalMs = 0
): Resource<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; done: boolean }>({ done: false });
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    setState({ done: false });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);

  useEffect(() => {
    let live = true;
    const run = () => {
      loadRef.current().then(
        data => live && setState({ data, done: true }),
        (error: unknown) =>
          live &&
          setState(s => ({
            ...(s.data !== undefined ? { data: s.data } : {}),
            error: error instanceof Error ? error : new Error(String(error)),
            done: true,
          }))
      );
    };
    run();
    const timer = intervalMs > 0 ? setInterval(run, intervalMs) : undefined;
    return () => {
      live = false;
      if (timer) clearInterval(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick, intervalMs]);

  const refresh = useCallback(() => setTick(t => t + 1), []);
  return { data: state.data, error: state.error, loading: !state.done, refresh };
}
