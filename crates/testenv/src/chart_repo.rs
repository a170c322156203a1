//! A Helm chart repository served on loopback, for tests of runtime installation that cannot
//! reach real repositories.
//!
//! The test describes its charts ([`ChartSource`]: a name, a version and the files of the chart
//! directory); [`ChartRepo::start`] writes them out, packages each with the real `helm package`,
//! indexes them with `helm repo index --url <this server>` and serves `index.yaml` and the
//! `.tgz` files over HTTP, as any static chart repository does. Nothing is mocked: the server
//! under test runs `helm repo add` and `helm upgrade --install` against it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::loopback::{Bound, Loopback};
use crate::{Binaries, Error, Result};

/// One chart to package: the files of its directory, relative to it.
#[derive(Clone, Debug)]
pub struct ChartSource {
    /// Chart name.
    pub name: String,
    /// Chart version.
    pub version: String,
    /// `(path, contents)`; a `Chart.yaml` is generated unless one is given.
    pub files: Vec<(String, String)>,
}

impl ChartSource {
    /// A chart `name` at `version` without files yet.
    pub fn new(name: &str, version: &str) -> Self {
        Self {
            name: name.to_string(),
            version: version.to_string(),
            files: Vec::new(),
        }
    }

    /// Adds a file (e.g. `templates/configmap.yaml`, `crds/crd.yaml`).
    pub fn file(mut self, path: &str, contents: &str) -> Self {
        self.files.push((path.to_string(), contents.to_string()));
        self
    }
}

/// A chart repository on `127.0.0.1`, served from a thread of its own. Dropping it stops the
/// server and removes its files.
/// Names the fixture in errors and logs.
const WHAT: &str = "the chart repository";

pub struct ChartRepo {
    url: String,
    dir: PathBuf,
    requests: Arc<Mutex<Vec<String>>>,
    server: Option<Loopback>,
}

impl ChartRepo {
    /// Packages `charts` with the built `helm` ([`Binaries::from_env`]) and serves them.
    pub fn start(charts: &[ChartSource]) -> Result<ChartRepo> {
        let helm = Binaries::from_env().tool("helm")?;
        let bound = Bound::new(WHAT)?;
        let url = bound.url().to_string();
        remove_stale_repos();
        let dir = std::env::temp_dir().join(format!(
            "{DIR_PREFIX}{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        let repo = ChartRepo {
            url: url.clone(),
            dir: dir.clone(),
            requests: Arc::new(Mutex::new(Vec::new())),
            server: None,
        };
        // `repo` removes the directory if packaging fails below.
        package_all(&helm, &dir, charts, &url)?;
        repo.serve(bound)
    }

    fn serve(mut self, bound: Bound) -> Result<ChartRepo> {
        let shared = Arc::new(Shared {
            files: self.dir.join("repo"),
            requests: self.requests.clone(),
        });
        let app = Router::new().route("/{file}", get(file)).with_state(shared);
        self.server = Some(bound.serve(WHAT, app)?);
        Ok(self)
    }

    /// `http://127.0.0.1:<port>`: the URL to `helm repo add`.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The paths requested so far (e.g. `/index.yaml`, `/demo-0.1.0.tgz`), oldest first, so a
    /// test can prove that nothing was fetched.
    pub fn requests(&self) -> Vec<String> {
        self.requests
            .lock()
            .map(|r| r.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }
}

impl Drop for ChartRepo {
    fn drop(&mut self) {
        // Stop serving before the files go.
        self.server.take();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Prefix of the repositories' directories under the temporary directory.
const DIR_PREFIX: &str = "kubeairunway-chart-repo-";

/// Removes the directories of repositories whose test process is gone (a static repository is
/// never dropped).
fn remove_stale_repos() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let pid = name
            .strip_prefix(DIR_PREFIX)
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok());
        if let Some(pid) = pid
            && !PathBuf::from(format!("/proc/{pid}")).exists()
        {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Writes, packages and indexes every chart under `dir`.
fn package_all(helm: &Path, dir: &Path, charts: &[ChartSource], url: &str) -> Result<()> {
    let sources = dir.join("src");
    let repo = dir.join("repo");
    for d in [&sources, &repo] {
        std::fs::create_dir_all(d).map_err(Error::io(format!("creating {}", d.display())))?;
    }
    for chart in charts {
        let root = sources.join(&chart.name);
        let mut files = chart.files.clone();
        if !files.iter().any(|(p, _)| p == "Chart.yaml") {
            files.push((
                "Chart.yaml".into(),
                format!(
                    "apiVersion: v2\nname: {}\nversion: {}\ntype: application\n",
                    chart.name, chart.version
                ),
            ));
        }
        for (path, contents) in &files {
            let target = root.join(path);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(Error::io(format!("creating {}", parent.display())))?;
            }
            std::fs::write(&target, contents)
                .map_err(Error::io(format!("writing {}", target.display())))?;
        }
        helm_run(
            helm,
            dir,
            &[
                "package".as_ref(),
                root.as_os_str(),
                "--destination".as_ref(),
                repo.as_os_str(),
            ],
        )?;
    }
    helm_run(
        helm,
        dir,
        &[
            "repo".as_ref(),
            "index".as_ref(),
            repo.as_os_str(),
            "--url".as_ref(),
            url.as_ref(),
        ],
    )
}

/// Runs helm with its homes inside `dir` (the user's Helm configuration is not touched).
fn helm_run(helm: &Path, dir: &Path, args: &[&std::ffi::OsStr]) -> Result<()> {
    let output = Command::new(helm)
        .args(args)
        .env("HELM_CACHE_HOME", dir.join("helm/cache"))
        .env("HELM_CONFIG_HOME", dir.join("helm/config"))
        .env("HELM_DATA_HOME", dir.join("helm/data"))
        .output()
        .map_err(Error::io(format!("running {}", helm.display())))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(Error::State(format!(
            "helm {:?} failed ({}): {}",
            args,
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )))
    }
}

struct Shared {
    files: PathBuf,
    requests: Arc<Mutex<Vec<String>>>,
}

/// `GET /{file}`: `index.yaml` or a packaged chart.
async fn file(State(shared): State<Arc<Shared>>, UrlPath(name): UrlPath<String>) -> Response {
    if let Ok(mut requests) = shared.requests.lock() {
        requests.push(format!("/{name}"));
    }
    let plain = !name.starts_with('.') && !name.contains(['/', '\\']);
    let content_type = if name.ends_with(".yaml") {
        "application/x-yaml"
    } else if name.ends_with(".tgz") {
        "application/gzip"
    } else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if !plain {
        return StatusCode::NOT_FOUND.into_response();
    }
    match tokio::fs::read(shared.files.join(&name)).await {
        Ok(bytes) => ([(header::CONTENT_TYPE, content_type)], bytes).into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}
