use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use kubeairunway_api::crds;

#[derive(Args, Debug)]
pub struct CrdsArgs {
    /// Apply the CRDs (and their aggregated RBAC roles) to the current cluster and wait until
    /// they are Established.
    #[arg(long)]
    install: bool,
    /// Write one file per CRD into this directory instead of printing.
    #[arg(long, value_name = "DIR", conflicts_with = "install")]
    output_dir: Option<PathBuf>,
}

pub async fn run(args: CrdsArgs) -> anyhow::Result<()> {
    if args.install {
        let client = kube::Client::try_default()
            .await
            .context("connecting to the cluster (KUBECONFIG)")?;
        crds::install(&client, Duration::from_secs(60)).await?;
        eprintln!("CRDs installed and Established.");
        return Ok(());
    }
    if let Some(dir) = args.output_dir {
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        for crd in crds::all() {
            let path = dir.join(crds::file_name(&crd));
            std::fs::write(&path, crds::to_yaml(&crd)?)
                .with_context(|| format!("writing {}", path.display()))?;
            eprintln!("wrote {}", path.display());
        }
        let path = dir.join("aggregated-roles.yaml");
        std::fs::write(&path, crds::roles_yaml()?)
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote {}", path.display());
        return Ok(());
    }
    print!("{}", crds::all_yaml()?);
    Ok(())
}
