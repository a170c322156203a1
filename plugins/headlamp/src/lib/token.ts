/**
 * Which bearer token the plugin sends to the backend. Headlamp hands a token to scripts through
 * `getToken(cluster)`, which asks the function a deployment registered with
 * `registerGetTokenFunction` (`state.ui.functionsToOverride.getToken` of Headlamp's store); by
 * default Headlamp keeps tokens in an httpOnly cookie and that function is absent, so the
 * settings may hold a token instead.
 */

/** The part of Headlamp's Redux state the token lookup reads. */
export interface HeadlampTokenState {
  ui?: {
    functionsToOverride?: {
      getToken?: (cluster: string) => string | null | undefined;
    };
  };
}

/** Where a token came from. */
export type TokenSource = 'headlamp' | 'settings' | 'none';

export interface ResolvedToken {
  token?: string;
  source: TokenSource;
}

/**
 * The token for `cluster`: Headlamp's when it has one, else the one in the settings, else none.
 * A throwing Headlamp override counts as "no token".
 */
export function resolveToken(
  state: HeadlampTokenState | null | undefined,
  cluster: string | null,
  configured: string | null | undefined
): ResolvedToken {
  const getToken = state?.ui?.functionsToOverride?.getToken;
  if (cluster && typeof getToken === 'function') {
    let token: string | null | undefined;
    try {
      token = getToken(cluster);
    } catch {
      token = undefined;
    }
    if (typeof token === 'string' && token.trim() !== '')
      return { token: token.trim(), source: 'headlamp' };
  }
  const own = (configured ?? '').trim();
  if (own !== '') return { token: own, source: 'settings' };
  return { source: 'none' };
}
