use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use clap::Args;
use kubeairunway_server::{BuildInfo, Config, HubConfig};

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Port to listen on.
    #[arg(long, env = "PORT", default_value_t = 3001)]
    port: u16,
    /// Address to listen on. Loopback by default: without authentication the API must not be
    /// reachable from other machines.
    #[arg(long, env = "HOST", default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    host: IpAddr,
    /// Namespace KubeAIRunway itself runs in.
    #[arg(long, env = "DEFAULT_NAMESPACE", default_value = "kubeairunway-system")]
    default_namespace: String,
    /// Require a Kubernetes bearer token (checked with TokenReview); every Kubernetes call
    /// then runs as the caller. Accepts true/false/1/0.
    #[arg(long = "auth", env = "AUTH_ENABLED", default_value = "false", value_parser = parse_flag)]
    auth_enabled: bool,
    /// Origins (comma-separated) other sites may call the API from. None by default. `*` (any
    /// origin, e.g. for a Headlamp plugin) is accepted only with --auth: clients then send
    /// bearer tokens, never cookies.
    #[arg(long = "cors-origin", env = "CORS_ORIGIN", value_delimiter = ',')]
    cors_origins: Vec<String>,
    /// Extra host names (comma-separated) the server may be addressed as when auth is off
    /// (loopback names always work), such as its in-cluster Service name
    /// `kubeairunway.kubeairunway-system.svc`; requests for any other Host are refused to stop
    /// DNS rebinding.
    #[arg(long = "allowed-host", env = "ALLOWED_HOSTS", value_delimiter = ',')]
    allowed_hosts: Vec<String>,
    /// Base URL of the HuggingFace Hub (a mirror, or a local server in tests).
    #[arg(long = "hf-endpoint", env = "HF_ENDPOINT", default_value = kubeairunway_server::hf::hub::DEFAULT_ENDPOINT)]
    hf_endpoint: String,
    /// Client id of a HuggingFace OAuth app; enables "Sign in with HuggingFace".
    #[arg(long = "hf-client-id", env = "HF_CLIENT_ID")]
    hf_client_id: Option<String>,
    /// Seconds to wait for each HuggingFace Hub request.
    #[arg(long = "hf-timeout", env = "HF_TIMEOUT", default_value_t = 10)]
    hf_timeout: u64,
    /// Origins (comma-separated) besides this server's that HuggingFace sign-in may redirect to
    /// (for example a Headlamp plugin's).
    #[arg(
        long = "hf-oauth-redirect-origin",
        env = "HF_OAUTH_REDIRECT_ORIGINS",
        value_delimiter = ','
    )]
    hf_oauth_redirect_origins: Vec<String>,
    /// The Helm binary used to install runtimes (a name is looked up on `PATH`).
    #[arg(long = "helm-path", env = "HELM_PATH", default_value = "helm")]
    helm_path: std::path::PathBuf,
    /// How deployment metrics are scraped: `proxy` (the API server's pod proxy, as the caller),
    /// `direct` (pod IPs; needs the cluster network), or `auto` (direct inside a pod).
    #[arg(
        long = "metrics-access",
        env = "METRICS_ACCESS",
        default_value = "auto"
    )]
    metrics_access: kubeairunway_server::MetricsAccess,
    /// Base URL of the Azure Retail Prices API (`/api/costs`).
    #[arg(
        long = "azure-pricing-url",
        env = "AZURE_PRICING_URL",
        default_value = "https://prices.azure.com"
    )]
    azure_pricing_url: String,
    /// Deadline in seconds of one price lookup, retries and pages included.
    #[arg(
        long = "pricing-timeout",
        env = "PRICING_TIMEOUT",
        default_value_t = 15
    )]
    pricing_timeout: u64,
    /// NVIDIA's AI Configurator CLI (`make aiconfigurator` installs it under
    /// ~/.cache/kubeairunway; a name is looked up on `PATH`).
    #[arg(
        long = "aiconfigurator-path",
        env = "AICONFIGURATOR_PATH",
        default_value = "aiconfigurator"
    )]
    aiconfigurator_path: std::path::PathBuf,
    /// Seconds one AI Configurator analysis may run before it is stopped (defaults are answered).
    #[arg(
        long = "aiconfigurator-timeout",
        env = "AICONFIGURATOR_TIMEOUT",
        default_value_t = 180
    )]
    aiconfigurator_timeout: u64,
    /// The `buildctl` binary AIKit image builds run (a name is looked up on `PATH`).
    #[arg(
        long = "buildctl-path",
        env = "BUILDCTL_PATH",
        default_value = "buildctl"
    )]
    buildctl_path: std::path::PathBuf,
    /// buildkitd's address for image builds: `tcp://host:port` or `unix:///path`. The
    /// builder's in-cluster Service by default, which only resolves when `serve` runs in the
    /// cluster; off-cluster, point it at a reachable buildkitd.
    #[arg(long = "buildkit-addr", env = "BUILDKIT_HOST", default_value = kubeairunway_core::aikit::BUILDKIT_ADDR)]
    buildkit_addr: String,
    /// Registry host:port the builder pushes AIKit images to.
    #[arg(long = "aikit-push-registry", env = "AIKIT_PUSH_REGISTRY", default_value = kubeairunway_core::aikit::REGISTRY_PUSH_HOST)]
    aikit_push_registry: String,
    /// Registry host:port the image references of built images name (what kubelets pull).
    #[arg(long = "aikit-pull-registry", env = "AIKIT_PULL_REGISTRY", default_value = kubeairunway_core::aikit::REGISTRY_PULL_HOST)]
    aikit_pull_registry: String,
    /// The AIKit BuildKit frontend image (a mirror's, for air-gapped clusters).
    #[arg(long = "aikit-frontend", env = "AIKIT_FRONTEND", default_value = kubeairunway_core::aikit::AIKIT_FRONTEND)]
    aikit_frontend: String,
    /// The aikitfile builds use (http or https URL).
    #[arg(long = "aikitfile-url", env = "AIKITFILE_URL", default_value = kubeairunway_core::aikit::AIKITFILE_URL)]
    aikitfile_url: String,
    /// Seconds one image build may run.
    #[arg(long = "build-timeout", env = "BUILD_TIMEOUT", default_value_t = 600)]
    build_timeout: u64,
}

fn parse_flag(value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" | "" => Ok(false),
        other => Err(format!("expected true or false, got {other:?}")),
    }
}

impl ServeArgs {
    /// The arguments of a bare `kubeairunway` (no subcommand): defaults and environment only.
    pub fn default_args() -> Self {
        #[derive(clap::Parser)]
        struct Bare {
            #[command(flatten)]
            args: ServeArgs,
        }
        <Bare as clap::Parser>::parse_from(["kubeairunway"]).args
    }
}

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let config = Config {
        addr: SocketAddr::new(args.host, args.port),
        default_namespace: args.default_namespace,
        build: BuildInfo {
            version: env!("CARGO_PKG_VERSION").to_string(),
            // Set by the image build (Dockerfile build arguments); empty counts as unset.
            build_time: option_env!("KAIR_BUILD_TIME")
                .filter(|t| !t.is_empty())
                .map_or_else(jiff_now, str::to_string),
            git_commit: option_env!("KAIR_GIT_COMMIT")
                .filter(|c| !c.is_empty())
                .unwrap_or("unknown")
                .to_string(),
        },
        auth_enabled: args.auth_enabled,
        cors_origins: args
            .cors_origins
            .into_iter()
            .map(|o| o.trim().to_string())
            .filter(|o| !o.is_empty())
            .collect(),
        allowed_hosts: args
            .allowed_hosts
            .into_iter()
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .collect(),
        huggingface: HubConfig {
            endpoint: args.hf_endpoint,
            client_id: args.hf_client_id.filter(|c| !c.is_empty()),
            timeout: Duration::from_secs(args.hf_timeout.clamp(1, 300)),
            oauth_redirect_origins: args
                .hf_oauth_redirect_origins
                .into_iter()
                .filter(|o| !o.is_empty())
                .collect(),
            ..HubConfig::default()
        },
        helm_path: args.helm_path,
        metrics_access: args.metrics_access,
        pricing: kubeairunway_server::PricingConfig {
            azure_base_url: args.azure_pricing_url,
            timeout: Duration::from_secs(args.pricing_timeout.clamp(1, 120)),
        },
        aiconfigurator: kubeairunway_server::AiConfiguratorConfig {
            path: args.aiconfigurator_path,
            timeout: Duration::from_secs(args.aiconfigurator_timeout.clamp(1, 3600)),
            work_dir: None,
        },
        aikit: kubeairunway_server::AikitConfig {
            buildctl_path: args.buildctl_path,
            buildkit_addr: args.buildkit_addr,
            target: kubeairunway_core::aikit::BuildTarget {
                push_host: args.aikit_push_registry,
                pull_host: args.aikit_pull_registry,
                frontend: args.aikit_frontend,
                aikitfile: args.aikitfile_url,
            },
            build_timeout: Duration::from_secs(args.build_timeout.clamp(1, 7200)),
            ..kubeairunway_server::AikitConfig::default()
        },
    };
    // Refuse an unsafe combination (CORS_ORIGIN=* without auth) with the reason, before anything.
    config.validate().map_err(|e| anyhow::anyhow!(e))?;
    // Refuse a bad HF_ENDPOINT at start rather than on the first search.
    kubeairunway_server::hf::Hub::new(config.huggingface.clone())
        .map_err(|e| anyhow::anyhow!(e))?;
    check_exposure(args.host, args.auth_enabled, &config.allowed_hosts)?;
    let kube = match kubeairunway_server::kube_access_from_env().await {
        Ok(k) => Some(k),
        Err(e) => {
            tracing::warn!(error = %e, "no Kubernetes configuration; cluster endpoints will report not connected");
            None
        }
    };
    eprintln!("KubeAIRunway is serving on http://{}", config.addr);
    if config.auth_enabled {
        let host = if config.addr.ip().is_loopback() || config.addr.ip().is_unspecified() {
            "localhost".to_string()
        } else if config.addr.is_ipv6() {
            format!("[{}]", config.addr.ip())
        } else {
            config.addr.ip().to_string()
        };
        eprintln!(
            "Authentication is on: sign in with `kubeairunway login --server http://{host}:{}`",
            config.addr.port()
        );
    }
    kubeairunway_server::serve(config, kube).await?;
    Ok(())
}

/// Why `serve` refuses to listen on `host`: beyond loopback, a server without authentication
/// acts with its own Kubernetes identity for anyone who reaches it. That is allowed only when
/// the operator named the host names clients use (`--allowed-host`), which keeps the Host and
/// Origin checks meaningful; in a cluster, turn authentication on instead.
#[derive(Debug, thiserror::Error)]
#[error(
    "refusing to listen on {host} with authentication off: anyone who can reach it would act with \
     this server's own Kubernetes identity. Turn authentication on (AUTH_ENABLED=true, the \
     default of the Helm chart), or name the host names clients use with --allowed-host / \
     ALLOWED_HOSTS, or listen on loopback (--host 127.0.0.1)"
)]
pub struct ExposedWithoutAuth {
    host: IpAddr,
}

/// Ok when listening on `host` is safe: loopback, or authentication on, or allowed host names.
fn check_exposure(
    host: IpAddr,
    auth_enabled: bool,
    allowed_hosts: &[String],
) -> Result<(), ExposedWithoutAuth> {
    let named_hosts = allowed_hosts.iter().any(|h| !h.trim().is_empty());
    if host.is_loopback() || auth_enabled || named_hosts {
        return Ok(());
    }
    Err(ExposedWithoutAuth { host })
}

fn jiff_now() -> String {
    k8s_openapi::jiff::Timestamp::now().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listening_beyond_loopback_needs_auth_or_named_hosts() {
        let any: IpAddr = "0.0.0.0".parse().expect("ip");
        let lo: IpAddr = "127.0.0.1".parse().expect("ip");
        let v6lo: IpAddr = "::1".parse().expect("ip");
        assert!(check_exposure(lo, false, &[]).is_ok());
        assert!(check_exposure(v6lo, false, &[]).is_ok());
        assert!(check_exposure(any, true, &[]).is_ok());
        assert!(check_exposure(any, false, &["dash.example".into()]).is_ok());
        let refused = check_exposure(any, false, &[]).expect_err("refused");
        assert!(
            refused.to_string().contains("AUTH_ENABLED=true"),
            "{refused}"
        );
        assert!(
            check_exposure(any, false, &[String::new()]).is_err(),
            "an empty ALLOWED_HOSTS names no host"
        );
    }
}
