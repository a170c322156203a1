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
        /// Also run `kubeairunway controller` in the background (logs in the state directory).
        #[arg(long)]
        controller: bool,
    },
    /// Run the simulated upstream operators (KAITO, Dynamo, KubeRay stand-ins) in the
    /// foreground; `dev up` starts this in the background.
    #[command(hide = true)]
    Operators,
    /// Serve the API server's egress proxy (its way to the simulated kubelets and pods) in the
    /// foreground; `dev up` starts this in the background.
    #[command(hide = true)]
    Egress,
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
        DevCommand::Up { nodes, controller } => up(&state_dir, nodes.as_deref(), controller).await,
        DevCommand::Operators => {
            let info = running(&state_dir)?;
            let client = info.client(User::Admin).await?;
            kubeairunway_testenv::simulators::run(client).await?;
            Ok(())
        }
        DevCommand::Egress => {
            // Not `running()`: `dev up` starts this before it records the cluster's processes.
            let info = ClusterInfo::load(&state_dir)?;
            kubeairunway_testenv::egress::serve(&info.egress_socket_path()).await?;
            Ok(())
        }
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

async fn up(state_dir: &Path, nodes: Option<&Path>, with_controller: bool) -> anyhow::Result<()> {
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
    let installed = async {
        kubeairunway_api::crds::install(&client, Duration::from_secs(60)).await?;
        kubeairunway_testenv::simulators::install_upstream_crds(&client).await?;
        anyhow::Ok(())
    };
    if let Err(e) = installed.await {
        cp.stop();
        bail!("installing the CRDs failed: {e}");
    }
    let mut info = cp.info().clone();
    let logs = info.state_dir.join("logs");
    let state = info.state_dir.display().to_string();
    // The API server outlives this command, so its egress proxy (pod logs, the pod proxy) runs
    // in a process of its own.
    let mut extra = vec![
        (
            "egress",
            vec![
                "dev".to_string(),
                "egress".into(),
                "--state-dir".into(),
                state.clone(),
            ],
        ),
        (
            "operators",
            vec![
                "dev".to_string(),
                "operators".into(),
                "--state-dir".into(),
                state,
            ],
        ),
    ];
    if with_controller {
        extra.push((
            "controller",
            vec![
                "controller".into(),
                "--metrics-bind-address".into(),
                "127.0.0.1:8081".into(),
            ],
        ));
    }
    for (name, args) in extra {
        match spawn_self(
            &args,
            &logs.join(format!("{name}.log")),
            &info.kubeconfig_path(),
        ) {
            Ok(pid) => info.pids.push(("kubeairunway".into(), pid)),
            Err(e) => {
                cp.stop();
                bail!("starting the {name}: {e}");
            }
        }
    }
    info.save()?;
    eprintln!(
        "local cluster up at {} in {:.1}s; CRDs installed; simulated KAITO, Dynamo and KubeRay operators running{}",
        info.server,
        cp.startup.as_secs_f64(),
        if with_controller {
            "; controller running"
        } else {
            ""
        }
    );
    print_next_steps(&info);
    Ok(())
}

/// Starts this binary again, detached, with `args`; returns its pid.
fn spawn_self(args: &[String], log: &Path, kubeconfig: &Path) -> anyhow::Result<u32> {
    use std::os::unix::process::CommandExt;
    let exe = std::env::current_exe().context("locating the kubeairunway binary")?;
    let out = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
    let err = out.try_clone()?;
    let child = std::process::Command::new(exe)
        .args(args)
        .env("KUBECONFIG", kubeconfig)
        .stdin(std::process::Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0)
        .spawn()?;
    Ok(child.id())
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
