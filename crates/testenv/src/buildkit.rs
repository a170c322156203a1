//! A real BuildKit on loopback, for tests of image builds: `buildkitd` with its OCI worker
//! (runc, the native snapshotter) listening on a unix socket, distribution's `registry` on a
//! loopback port, and a static file server for build inputs (a test's aikitfile and "model"
//! file) — all built by `scripts/build-testbin.sh` from the Go module proxy. Nothing is mocked:
//! the server under test runs the real `buildctl` against this `buildkitd`, which pushes to this
//! registry.
//!
//! buildkitd's OCI worker needs root (or a rootless setup with user namespaces) and `runc` on
//! `PATH`; where it cannot run, [`LocalBuildkit::start`] fails with buildkitd's own log.
//!
//! No public registry is reachable here, so the BuildKit frontend a gateway build runs is
//! BuildKit's own Dockerfile frontend, built from the same module and pushed to the local
//! registry as an image ([`LocalBuildkit::push_dockerfile_frontend`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::loopback::{Bound, Loopback};
use crate::process::{Component, LogMode, free_ports, log_tail, terminate_pid};
use crate::{Binaries, Error, Lifetime, Result};

/// How long buildkitd and the registry may take to answer.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// Prefix of the state directories under the temporary directory.
const DIR_PREFIX: &str = "kubeairunway-buildkit-";

type Files = Arc<Mutex<BTreeMap<String, Vec<u8>>>>;

/// buildkitd, a registry and a file server on loopback. Dropping it stops them and removes
/// their state.
pub struct LocalBuildkit {
    dir: PathBuf,
    buildkitd: Option<Component>,
    registry: Option<Component>,
    files: Option<Loopback>,
    served: Files,
    registry_host: String,
    files_url: String,
    buildctl: PathBuf,
}

impl LocalBuildkit {
    /// Starts the three (the file server empty: [`LocalBuildkit::put_file`]).
    pub fn start() -> Result<Self> {
        let bins = Binaries::from_env();
        let buildkitd = bins.tool("buildkitd")?;
        let registry = bins.tool("registry")?;
        let buildctl = bins.tool("buildctl")?;
        let dir = std::env::temp_dir().join(format!(
            "{DIR_PREFIX}{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(dir.join("registry"))
            .map_err(Error::io(format!("creating {}", dir.display())))?;
        let port = free_ports(1)?[0];
        let registry_host = format!("127.0.0.1:{port}");
        let mut me = LocalBuildkit {
            dir: dir.clone(),
            buildkitd: None,
            registry: None,
            files: None,
            served: Files::default(),
            registry_host: registry_host.clone(),
            files_url: String::new(),
            buildctl,
        };
        let write = |name: &str, text: String| {
            std::fs::write(dir.join(name), text).map_err(Error::io(format!("writing {name}")))
        };
        write(
            "registry.yml",
            format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {registry_host}\n",
                dir.join("registry").display()
            ),
        )?;
        // The local registry speaks plain HTTP: pulls of the frontend image need this, pushes
        // say `registry.insecure=true` themselves.
        write(
            "buildkitd.toml",
            format!("[registry.\"{registry_host}\"]\n  http = true\n  insecure = true\n"),
        )?;
        let path = |p: &str| dir.join(p).display().to_string();
        me.registry = Some(Component::spawn_from_keeper(
            "registry",
            &registry,
            &["serve".to_string(), path("registry.yml")],
            &dir,
            Lifetime::TiedToProcess,
            LogMode::Truncate,
        )?);
        me.buildkitd = Some(Component::spawn_from_keeper(
            "buildkitd",
            &buildkitd,
            &[
                format!("--root={}", path("state")),
                format!("--addr={}", me.addr()),
                format!("--config={}", path("buildkitd.toml")),
                "--oci-worker=true".to_string(),
                "--oci-worker-snapshotter=native".to_string(),
                "--containerd-worker=false".to_string(),
            ],
            &dir,
            Lifetime::TiedToProcess,
            LogMode::Truncate,
        )?);
        me.serve_files()?;
        me.wait_ready()?;
        Ok(me)
    }

    fn serve_files(&mut self) -> Result<()> {
        const WHAT: &str = "the build input server";
        let bound = Bound::new(WHAT)?;
        self.files_url = bound.url().to_string();
        let app = Router::new()
            .route("/{name}", get(file))
            .with_state(self.served.clone());
        self.files = Some(bound.serve(WHAT, app)?);
        Ok(())
    }

    fn wait_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            for c in [&mut self.registry, &mut self.buildkitd]
                .into_iter()
                .flatten()
            {
                c.check_alive()?;
            }
            let registry_up = std::net::TcpStream::connect(&self.registry_host).is_ok();
            let workers = Command::new(&self.buildctl)
                .arg(format!("--addr={}", self.addr()))
                .args(["debug", "workers"])
                .output()
                .is_ok_and(|o| o.status.success());
            if registry_up && workers {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(Error::Timeout {
                    what: "buildkitd and the registry answering".into(),
                    timeout: START_TIMEOUT,
                    detail: format!(
                        "; buildkitd log:\n{}",
                        log_tail(&self.dir.join("buildkitd.log"), 25)
                    ),
                });
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Serves `body` at `<files_url>/<name>` from now on.
    pub fn put_file(&self, name: &str, body: impl Into<Vec<u8>>) {
        self.served
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(name.to_string(), body.into());
    }

    /// buildkitd's address (`unix:///…/buildkitd.sock`).
    pub fn addr(&self) -> String {
        format!("unix://{}", self.dir.join("buildkitd.sock").display())
    }

    /// `127.0.0.1:<port>` of the registry.
    pub fn registry_host(&self) -> &str {
        &self.registry_host
    }

    /// `http://127.0.0.1:<port>` of the file server.
    pub fn files_url(&self) -> &str {
        &self.files_url
    }

    /// The `buildctl` binary.
    pub fn buildctl(&self) -> &Path {
        &self.buildctl
    }

    /// Builds an image holding BuildKit's Dockerfile frontend (`FROM scratch`, the binary,
    /// its entrypoint) with `buildctl` and pushes it to the local registry as `name`; returns
    /// its reference, usable as a gateway frontend (`--opt source=…`).
    pub fn push_dockerfile_frontend(&self, name: &str) -> Result<String> {
        let frontend = Binaries::from_env().tool("dockerfile-frontend")?;
        let context = self.dir.join("frontend-context");
        std::fs::create_dir_all(&context)
            .map_err(Error::io("creating the frontend's build context"))?;
        std::fs::copy(&frontend, context.join("dockerfile-frontend"))
            .map_err(Error::io("copying the dockerfile frontend"))?;
        std::fs::write(
            context.join("Dockerfile"),
            "FROM scratch\nCOPY dockerfile-frontend /bin/dockerfile-frontend\nENTRYPOINT [\"/bin/dockerfile-frontend\"]\n",
        )
        .map_err(Error::io("writing the frontend's Dockerfile"))?;
        let image = format!("{}/{name}", self.registry_host);
        let out = Command::new(&self.buildctl)
            .arg(format!("--addr={}", self.addr()))
            .args(["build", "--progress=plain", "--frontend=dockerfile.v0"])
            .arg(format!("--local=context={}", context.display()))
            .arg(format!("--local=dockerfile={}", context.display()))
            .arg(format!(
                "--output=type=image,name={image},push=true,registry.insecure=true"
            ))
            .output()
            .map_err(Error::io("running buildctl"))?;
        if !out.status.success() {
            return Err(Error::State(format!(
                "building the frontend image failed: {}",
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        Ok(image)
    }
}

async fn file(State(files): State<Files>, UrlPath(name): UrlPath<String>) -> Response {
    let body = files
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(&name)
        .cloned();
    match body {
        Some(body) => body.into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

impl Drop for LocalBuildkit {
    fn drop(&mut self) {
        self.files.take();
        for component in [self.buildkitd.take(), self.registry.take()]
            .into_iter()
            .flatten()
        {
            terminate_pid(component.pid(), component.name, Duration::from_secs(5));
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
