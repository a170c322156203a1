/** The environment the Rust harness (`crates/cli/tests/browser.rs`) sets for the specs. */

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `${name} is not set. The browser tests need the cluster, controller and servers the Rust harness starts: ` +
        "run `cargo test -p kubeairunway --test browser -- --nocapture` from the repository root " +
        "(or KAIR_E2E_SERVE=1 with it, then run `npx playwright test` here with the variables it prints).",
    );
  }
  return value;
}

export const env = {
  /** The server with auth off (it acts as the cluster admin). */
  url: required("KAIR_URL"),
  /** The server with auth on (every call acts as the signed-in user). */
  authUrl: required("KAIR_AUTH_URL"),
  /** Token of the cluster admin. */
  adminToken: required("KAIR_ADMIN_TOKEN"),
  /** Token of the cluster-wide read-only user. */
  viewerToken: required("KAIR_VIEWER_TOKEN"),
  /** A read token of the local HuggingFace Hub. */
  hfToken: required("KAIR_HF_TOKEN"),
  /** The namespace the specs deploy into; its pods print a log line every second. */
  namespace: required("KAIR_NAMESPACE"),
  /** The provider whose operator the install flow installs from the UI (`kaito`). */
  installProvider: required("KAIR_INSTALL_PROVIDER"),
  /** The Helm chart repository on loopback that serves that provider's charts. */
  chartRepo: required("KAIR_CHART_REPO"),
  /** A Running deployment whose pod serves vLLM metrics (counters growing every second). */
  metricsDeployment: required("KAIR_METRICS_DEPLOYMENT"),
  /** The deployment `auth.spec.ts` creates through the UI as the admin; the harness then finds
   *  that create in the API server's audit log under the admin's name. */
  auditDeployment: required("KAIR_AUDIT_DEPLOYMENT"),
  /** The Azure price per hour of one node of the local cluster's A100 pool (`7.35`). */
  a100NodePrice: Number(required("KAIR_A100_NODE_PRICE")),
  /** Debian's Chromium. */
  chromium: required("CHROMIUM_PATH"),
  /** Where screenshots and failure traces go (`target/e2e`). */
  artifacts: required("KAIR_ARTIFACTS"),
};
