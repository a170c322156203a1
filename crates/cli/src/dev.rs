//! `kubeairunway dev`: a local control plane with simulated GPU nodes, for trying the product
//! without a cluster.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use kubeairunway_testenv::{
    Binaries, ClusterInfo, ControlPlane, Lifetime, NodePools, Options, User, stop_detached,
};

#[derive(Args, Debug)]
pub struct DevArgs {
    #[command(subcommand)]
    command: DevCommand,
    /// Where the cluster keeps its state (certificates, etcd data, logs, kubeconfig).
    #[arg(long, env = "KAIR_DEV_STATE_DIR", global = true)]
    state_dir: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum DevCommand {
    /// Build the control-plane binaries if needed, start the cluster in the background, install
    /// the CRDs, and write a kubeconfig.
    Up {
        /// Node pool file (defaults to the shipped pools: H100, A100, T4 and CPU nodes).
        #[arg(long)]
        nodes: Option<PathBuf>,
    },
    /// Print shell exports for the cluster: `eval "$(kubeairunway dev env)"`.
    Env,
    /// Say whether the cluster runs, and where.
    Status,
    /// Stop the cluster and remove its state.
    Down,
}

pub async fn run(args: DevArgs) -> anyhow::Result<()> {
    let state_dir = args.state_dir.unwrap_or_else(default_state_dir);
    match args.command {
        DevCommand::Up { nodes } => up(&state_dir, nodes.as_deref()).await,
        DevCommand::Env => {
            let info = running(&state_dir)?;
            println!("export KUBECONFIG={}", shell_quote(&info.kubeconfig_path()));
            println!("export PATH={}:\"$PATH\"", shell_quote(&info.bin_dir));
            Ok(())
        }
        DevCommand::Status => {
            let info = running(&state_dir)?;
            println!(
                "running: {} (kubeconfig {})",
                info.server,
                info.kubeconfig_path().display()
            );
            for (name, pid) in &info.pids {
                println!("  {name:<24} pid {pid}");
            }
            Ok(())
        }
        DevCommand::Down => {
            if stop_detached(&state_dir)? {
                eprintln!("local cluster stopped; removed {}", state_dir.display());
            } else {
                eprintln!("no local cluster at {}", state_dir.display());
            }
            Ok(())
        }
    }
}

async fn up(state_dir: &Path, nodes: Option<&Path>) -> anyhow::Result<()> {
    if let Ok(info) = ClusterInfo::load(state_dir)
        && info.is_running()
    {
        eprintln!("local cluster already running at {}", info.server);
        print_next_steps(&info);
        return Ok(());
    }
    if state_dir.exists() {
        eprintln!(
            "removing the state of a cluster that is no longer running ({})",
            state_dir.display()
        );
        stop_detached(state_dir)?;
    }
    let nodes = match nodes {
        Some(path) => NodePools::from_yaml(
            &std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?,
        )?,
        None => NodePools::default_pools(),
    };
    let mut binaries = Binaries::from_env();
    if !binaries.complete() {
        eprintln!(
            "building the control-plane binaries (once; cached in {}) ...",
            binaries.dir().display()
        );
        binaries = Binaries::build_missing()?;
    }
    eprintln!(
        "starting etcd, kube-apiserver, kube-controller-manager, kube-scheduler and KWOK ..."
    );
    let options = Options {
        state_dir: state_dir.to_path_buf(),
        binaries,
        nodes,
        lifetime: Lifetime::Detached,
    };
    let cp = ControlPlane::start(options).await?;
    let client = cp.client(User::Admin).await?;
    if let Err(e) = kubeairunway_api::crds::install(&client, Duration::from_secs(60)).await {
        cp.stop();
        bail!("installing the CRDs failed: {e}");
    }
    eprintln!(
        "local cluster up at {} in {:.1}s; CRDs installed",
        cp.info().server,
        cp.startup.as_secs_f64()
    );
    print_next_steps(cp.info());
    Ok(())
}

fn print_next_steps(info: &ClusterInfo) {
    eprintln!(
        "  kubeconfig: {} (contexts: admin, viewer, team-a, backend)",
        info.kubeconfig_path().display()
    );
    eprintln!("  use it:     eval \"$(kubeairunway dev env)\" && kubectl get nodes");
    eprintln!("  stop it:    kubeairunway dev down");
}

fn running(state_dir: &Path) -> anyhow::Result<ClusterInfo> {
    let info = ClusterInfo::load(state_dir)?;
    if !info.is_running() {
        bail!(
            "the local cluster at {} is not running; start it with `kubeairunway dev up`",
            state_dir.display()
        );
    }
    Ok(info)
}

fn default_state_dir() -> PathBuf {
    dirs::state_dir()
        .or_else(|| dirs::home_dir().map(|h| h.join(".local/state")))
        .unwrap_or_else(std::env::temp_dir)
        .join("kubeairunway/dev")
}

fn shell_quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}
