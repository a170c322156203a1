use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use kubeairunway_controller::{LeaderConfig, Options, Settings, all_providers};
use kubeairunway_core::progress::Thresholds;

#[derive(Args, Debug)]
pub struct ControllerArgs {
    /// Providers to run (comma-separated): kaito, dynamo, kuberay, kubernetes.
    #[arg(long, value_delimiter = ',', default_values_t = all_providers())]
    providers: Vec<String>,
    /// Providers to switch off (comma-separated), e.g. `--disable-providers=dynamo`.
    #[arg(long, value_delimiter = ',')]
    disable_providers: Vec<String>,
    /// Address of `/metrics`, `/healthz` and `/readyz` (`off` to disable).
    #[arg(long, default_value = "127.0.0.1:8081")]
    metrics_bind_address: String,
    /// Take a Lease before acting, so several replicas can run.
    #[arg(long)]
    leader_elect: bool,
    /// Namespace of the leader Lease.
    #[arg(long, env = "POD_NAMESPACE", default_value = "kubeairunway-system")]
    leader_election_namespace: String,
    /// Identity in the Lease (defaults to the host name and process id).
    #[arg(long, env = "POD_NAME")]
    identity: Option<String>,
    /// How often third-party provider objects are re-read, in seconds.
    #[arg(long, default_value_t = 15)]
    resync_seconds: u64,
    /// After this long, a deletion removes its finalizer even if objects are stuck, in seconds.
    #[arg(long, default_value_t = 300)]
    finalizer_timeout_seconds: u64,
    /// How often providers heartbeat their InferenceProviderConfig, in seconds.
    #[arg(long, default_value_t = 60)]
    heartbeat_seconds: u64,
    /// A deployment waiting this long for the scheduler is reported stalled, in seconds.
    #[arg(long, default_value_t = 300)]
    stall_scheduling_seconds: u64,
    /// Pulling images this long is reported stalled, in seconds.
    #[arg(long, default_value_t = 900)]
    stall_image_pull_seconds: u64,
    /// An init container downloading weights this long is reported stalled, in seconds.
    #[arg(long, default_value_t = 3600)]
    stall_download_seconds: u64,
    /// A model server loading this long without being ready is reported stalled, in seconds.
    #[arg(long, default_value_t = 1800)]
    stall_loading_seconds: u64,
}

pub async fn run(args: ControllerArgs) -> anyhow::Result<()> {
    let providers: Vec<String> = args
        .providers
        .into_iter()
        .filter(|p| !args.disable_providers.contains(p))
        .collect();
    let metrics_addr = match args.metrics_bind_address.as_str() {
        "off" | "0" => None,
        addr => Some(
            addr.parse::<SocketAddr>()
                .with_context(|| format!("--metrics-bind-address {addr:?} is not host:port"))?,
        ),
    };
    let identity = args.identity.unwrap_or_else(|| {
        let host = std::fs::read_to_string("/etc/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_else(|_| "local".into());
        format!("{host}-{}", std::process::id())
    });
    let options = Options {
        providers,
        metrics_addr,
        leader: args
            .leader_elect
            .then(|| LeaderConfig::new(args.leader_election_namespace, identity.clone())),
        settings: Settings {
            resync: Duration::from_secs(args.resync_seconds.max(1)),
            finalizer_timeout: Duration::from_secs(args.finalizer_timeout_seconds),
            heartbeat: Duration::from_secs(args.heartbeat_seconds.max(1)),
            progress: Thresholds {
                scheduling: Duration::from_secs(args.stall_scheduling_seconds.max(1)),
                image_pull: Duration::from_secs(args.stall_image_pull_seconds.max(1)),
                download: Duration::from_secs(args.stall_download_seconds.max(1)),
                loading: Duration::from_secs(args.stall_loading_seconds.max(1)),
            },
        },
        instance: identity,
    };
    let client = kube::Client::try_default()
        .await
        .context("connecting to the cluster (KUBECONFIG or in-cluster)")?;
    kubeairunway_controller::run(client, options, shutdown_signal()).await?;
    Ok(())
}

/// Ctrl-C or SIGTERM (what the kubelet sends to stop a pod). In a container the binary is
/// process 1, for which the kernel ignores a signal without a handler, so without this a pod
/// would hang until its grace period ends and be killed without its final heartbeat.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
