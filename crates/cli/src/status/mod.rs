//! `kubeairunway status NAME [-w]` (also `kubeairunway get md NAME [-w]`): a deployment's
//! progress timeline from the cluster itself, with the kubeconfig's credentials — no server
//! needed, like kubectl. With `--watch` it prints each change as it happens and a progress line,
//! and exits once every phase is done.

mod render;

use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::Args;
use futures::StreamExt;
use k8s_openapi::jiff::Timestamp;
use kube::api::Api;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::{WatchStreamExt, watcher};
use kubeairunway_api::{ModelDeployment, ProgressStatus};

/// `kubeairunway status`.
#[derive(Args, Debug)]
pub struct StatusArgs {
    /// Name of the ModelDeployment.
    name: String,
    /// Its namespace (default: the kubeconfig context's namespace, else `default`).
    #[arg(short, long)]
    namespace: Option<String>,
    /// Kubeconfig context to use (default: the current one).
    #[arg(long)]
    context: Option<String>,
    /// Keep printing changes until every phase is done.
    #[arg(short, long)]
    watch: bool,
    /// With `--watch`: give up after this many seconds (exit status 1).
    #[arg(long, value_name = "SECONDS", requires = "watch")]
    timeout: Option<u64>,
}

/// `kubeairunway get md NAME`: the kubectl-shaped spelling of `status`.
#[derive(Args, Debug)]
pub struct GetArgs {
    /// The kind: `md`, `modeldeployment` or `modeldeployments`.
    kind: String,
    #[command(flatten)]
    status: StatusArgs,
}

/// Runs `get`: only ModelDeployments are known.
pub async fn get(args: GetArgs) -> anyhow::Result<()> {
    match args.kind.to_ascii_lowercase().as_str() {
        "md" | "mds" | "modeldeployment" | "modeldeployments" => run(args.status).await,
        other => bail!(
            "unknown kind {other:?}: `kubeairunway get` shows ModelDeployments (md); use kubectl for other kinds"
        ),
    }
}

/// Runs `status`.
pub async fn run(args: StatusArgs) -> anyhow::Result<()> {
    let (client, default_ns) = connect(args.context.as_deref()).await?;
    let namespace = args.namespace.clone().unwrap_or(default_ns);
    let api: Api<ModelDeployment> = Api::namespaced(client, &namespace);
    let md = api
        .get_opt(&args.name)
        .await
        .with_context(|| format!("reading ModelDeployment {namespace}/{}", args.name))?
        .with_context(|| format!("ModelDeployment {namespace}/{} not found", args.name))?;
    println!("{}", render::table(&md, Timestamp::now()));
    if !args.watch || finished(&md) {
        return Ok(());
    }
    let watch = follow(&api, &args.name, progress_of(&md));
    match args.timeout {
        None => watch.await,
        Some(secs) => match tokio::time::timeout(Duration::from_secs(secs), watch).await {
            Ok(done) => done,
            Err(_) => {
                let now = api.get_opt(&args.name).await.ok().flatten();
                let at = now
                    .as_ref()
                    .and_then(progress_of)
                    .map(|p| {
                        let phase = p.current.map(|c| format!("{c:?}")).unwrap_or_default();
                        match p.stalled_reason {
                            Some(r) => format!("still at {phase} (stalled: {r})"),
                            None => format!("still at {phase}"),
                        }
                    })
                    .unwrap_or_else(|| "no progress reported".into());
                bail!("timed out after {secs}s; {at}")
            }
        },
    }
}

/// Prints each change of the timeline until every phase is done.
async fn follow(
    api: &Api<ModelDeployment>,
    name: &str,
    mut last: Option<ProgressStatus>,
) -> anyhow::Result<()> {
    let config = watcher::Config::default().fields(&format!("metadata.name={name}"));
    let mut stream = watcher(api.clone(), config).default_backoff().boxed();
    while let Some(event) = stream.next().await {
        let md = match event {
            Ok(watcher::Event::Apply(md) | watcher::Event::InitApply(md)) => md,
            Ok(watcher::Event::Delete(_)) => bail!("ModelDeployment {name} was deleted"),
            Ok(_) => continue,
            // The backoff retries; say so once per failure.
            Err(e) => {
                eprintln!("watch interrupted ({e}); retrying");
                continue;
            }
        };
        let Some(progress) = progress_of(&md) else {
            continue;
        };
        let lines = render::changes(last.as_ref(), &progress, Timestamp::now());
        if !lines.is_empty() {
            let clock = Timestamp::now().strftime("%H:%M:%S");
            for line in lines {
                println!("{clock}{line}");
            }
            println!("{}", render::progress_line(&progress));
        }
        last = Some(progress);
        if finished(&md) {
            println!("Ready.");
            return Ok(());
        }
    }
    bail!("the watch of {name} ended")
}

fn progress_of(md: &ModelDeployment) -> Option<ProgressStatus> {
    md.status.as_ref().and_then(|s| s.progress.clone())
}

/// Every phase done (or skipped) and the desired pods ready.
fn finished(md: &ModelDeployment) -> bool {
    progress_of(md).is_some_and(|p| {
        p.current.is_none() && !p.phases.is_empty() && p.pods_ready >= p.pods_desired
    })
}

/// A client from the kubeconfig (the given context, else the current one), or from the pod's
/// service account when there is no kubeconfig; and the namespace to default to.
async fn connect(context: Option<&str>) -> anyhow::Result<(kube::Client, String)> {
    let config = match context {
        Some(ctx) => {
            let kubeconfig = Kubeconfig::read().context("reading the kubeconfig (KUBECONFIG)")?;
            let options = KubeConfigOptions {
                context: Some(ctx.to_string()),
                ..KubeConfigOptions::default()
            };
            kube::Config::from_custom_kubeconfig(kubeconfig, &options)
                .await
                .with_context(|| format!("using kubeconfig context {ctx:?}"))?
        }
        None => kube::Config::infer()
            .await
            .context("finding the cluster (KUBECONFIG, or in-cluster)")?,
    };
    let namespace = config.default_namespace.clone();
    let client = kube::Client::try_from(config).context("connecting to the cluster")?;
    Ok((client, namespace))
}
