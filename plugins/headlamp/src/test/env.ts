/**
 * What `crates/cli/tests/headlamp.rs` hands the tests: the real backend's URLs, tokens and the
 * names of what it made. A missing variable fails the test that needs it, naming the harness.
 */
const vars =
  (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env ?? {};

function need(name: string): string {
  const value = vars[name];
  if (!value) {
    throw new Error(
      `${name} is not set: these tests run against the real backend started by ` +
        '`cargo test -p kubeairunway --test headlamp` (crates/cli/tests/headlamp.rs).'
    );
  }
  return value;
}

export const env = {
  /** Backend with authentication off. */
  get url() {
    return need('KAIR_URL');
  },
  /** Backend with authentication on (TokenReview, the caller's own RBAC). */
  get authUrl() {
    return need('KAIR_AUTH_URL');
  },
  get adminToken() {
    return need('KAIR_ADMIN_TOKEN');
  },
  get adminName() {
    return need('KAIR_ADMIN_NAME');
  },
  get viewerToken() {
    return need('KAIR_VIEWER_TOKEN');
  },
  /** The namespace the tests deploy into. */
  get namespace() {
    return need('KAIR_NAMESPACE');
  },
  /** A deployment running there with one pod. */
  get deployment() {
    return need('KAIR_DEPLOYMENT');
  },
  /** Its model, in the curated catalog. */
  get model() {
    return need('KAIR_MODEL');
  },
};
