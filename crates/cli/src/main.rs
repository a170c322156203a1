//! `kubeairunway`: the one binary of KubeAIRunway.

mod controller;
mod crds;
#[cfg(feature = "dev")]
mod dev;
mod login;
mod serve;
mod status;

use clap::{Parser, Subcommand};

/// Deploy and run large language models on Kubernetes.
#[derive(Parser, Debug)]
#[command(name = "kubeairunway", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the REST API (and the web UI) on port 3001 (the default command).
    Serve(Box<serve::ServeArgs>),
    /// Run the controller: engine and provider selection and the providers.
    Controller(controller::ControllerArgs),
    /// Print the CRD manifests, or install them into the current cluster.
    Crds(crds::CrdsArgs),
    /// A local demo cluster with simulated GPU nodes (real control plane, KWOK kubelets).
    #[cfg(feature = "dev")]
    Dev(dev::DevArgs),
    /// Without the `dev` feature there is no demo cluster; say how to get one.
    #[cfg(not(feature = "dev"))]
    #[command(hide = true)]
    Dev {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        rest: Vec<String>,
    },
    /// Sign the web UI in with your kubeconfig credential (token, exec plugin or oidc) and keep
    /// it for `whoami`.
    Login(login::LoginArgs),
    /// Forget the credential stored for a server.
    Logout(login::ServerArgs),
    /// Print the user and groups a server sees for the stored credential.
    Whoami(login::ServerArgs),
    /// Show a ModelDeployment's progress to serving (`-w` to follow it until ready), read from
    /// the cluster with your kubeconfig.
    Status(status::StatusArgs),
    /// `get md NAME [-w]`: the same as `status NAME`, spelt like kubectl.
    Get(status::GetArgs),
    /// Print the version.
    Version,
}

fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    init_logging();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        match cli
            .command
            .unwrap_or_else(|| Command::Serve(Box::new(serve::ServeArgs::default_args())))
        {
            Command::Serve(args) => serve::run(*args).await,
            Command::Controller(args) => controller::run(args).await,
            Command::Crds(args) => crds::run(args).await,
            // Their messages already name the causes: print them once, without "Caused by".
            Command::Login(args) => login::login(args)
                .await
                .map_err(login::LoginError::into_report),
            Command::Logout(args) => login::logout(args)
                .await
                .map_err(login::LoginError::into_report),
            Command::Status(args) => status::run(args).await,
            Command::Get(args) => status::get(args).await,
            Command::Whoami(args) => login::whoami(args)
                .await
                .map_err(login::LoginError::into_report),
            #[cfg(feature = "dev")]
            Command::Dev(args) => dev::run(args).await,
            #[cfg(not(feature = "dev"))]
            Command::Dev { .. } => anyhow::bail!(
                "this kubeairunway is a release build without the local demo cluster; \
                 build one with `cargo build -p kubeairunway --features dev` (`make demo` does)"
            ),
            Command::Version => {
                println!("kubeairunway {}", env!("CARGO_PKG_VERSION"));
                Ok(())
            }
        }
    })
}

/// Logs go to stderr, filtered by `LOG_LEVEL` (default `info`): JSON lines when `LOG_FORMAT=json`
/// or when stderr is not a terminal (a pod, a service manager), readable text otherwise.
fn init_logging() {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_env("LOG_LEVEL")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let json = match std::env::var("LOG_FORMAT").ok().as_deref() {
        Some("json") => true,
        Some("text") => false,
        _ => !std::io::stderr().is_terminal(),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().flatten_event(true).init();
    } else {
        builder.init();
    }
}
