use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use clap::Args;
use kubeairunway_server::{BuildInfo, Config};

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
}

impl ServeArgs {
    pub fn default_args() -> Self {
        Self {
            port: 3001,
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            default_namespace: "kubeairunway-system".into(),
        }
    }
}

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let config = Config {
        addr: SocketAddr::new(args.host, args.port),
        default_namespace: args.default_namespace,
        build: BuildInfo {
            version: env!("CARGO_PKG_VERSION").to_string(),
            build_time: option_env!("KAIR_BUILD_TIME").map_or_else(jiff_now, str::to_string),
            git_commit: option_env!("KAIR_GIT_COMMIT")
                .unwrap_or("unknown")
                .to_string(),
        },
    };
    let kube = match kubeairunway_server::kube_access_from_env().await {
        Ok(k) => Some(k),
        Err(e) => {
            tracing::warn!(error = %e, "no Kubernetes configuration; cluster endpoints will report not connected");
            None
        }
    };
    eprintln!("KubeAIRunway is serving on http://{}", config.addr);
    kubeairunway_server::serve(config, kube).await?;
    Ok(())
}

fn jiff_now() -> String {
    k8s_openapi::jiff::Timestamp::now().to_string()
}
