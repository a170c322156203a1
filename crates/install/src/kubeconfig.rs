//! The private kubeconfig Helm runs with, so that Helm acts as the caller.
//!
//! With authentication on, it holds the API server URL and CA of the backend's configuration
//! and the caller's own bearer token: RBAC decides what Helm may create and the audit log names
//! the person. Without authentication it holds the backend's own credentials. The token never
//! appears on a command line (where `ps` would show it); the file is created `0600` in a `0700`
//! directory and removed when the job ends.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use serde_json::{Value, json};

/// The private kubeconfig could not be written.
#[derive(Debug, thiserror::Error)]
#[error("could not write a private kubeconfig into {}: {source}", dir.display())]
pub struct KubeconfigError {
    /// The directory it was to be written into.
    pub dir: PathBuf,
    /// Why it failed.
    #[source]
    pub source: std::io::Error,
}

/// A kubeconfig file that is deleted when dropped.
#[derive(Debug)]
pub struct PrivateKubeconfig {
    path: PathBuf,
}

impl PrivateKubeconfig {
    /// Writes a kubeconfig for `config`'s cluster into `dir`, authenticating with `token` when
    /// given, else with `config`'s own credentials.
    pub fn write(
        dir: &Path,
        config: &kube::Config,
        token: Option<&str>,
    ) -> Result<Self, KubeconfigError> {
        Self::write_io(dir, config, token).map_err(|source| KubeconfigError {
            dir: dir.to_path_buf(),
            source,
        })
    }

    fn write_io(dir: &Path, config: &kube::Config, token: Option<&str>) -> std::io::Result<Self> {
        let document = render(config, token)?;
        let name = format!("{}.json", hex::encode(rand::random::<[u8; 12]>()));
        let path = dir.join(name);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&path)?;
        // From here on the file exists: the guard removes it even if writing fails.
        let guard = Self { path };
        file.write_all(document.as_bytes())?;
        file.sync_all()?;
        Ok(guard)
    }

    /// Where the file is (the value of `KUBECONFIG`).
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for PrivateKubeconfig {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_file(&self.path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %self.path.display(), error = %e, "could not remove a private kubeconfig");
        }
    }
}

/// The kubeconfig document (JSON, which every kubeconfig reader accepts as YAML).
fn render(config: &kube::Config, token: Option<&str>) -> std::io::Result<String> {
    let mut cluster = serde_json::Map::new();
    cluster.insert("server".into(), json!(config.cluster_url.to_string()));
    if let Some(certs) = config.root_cert.as_ref().filter(|c| !c.is_empty()) {
        let pem: String = certs.iter().map(|der| pem_certificate(der)).collect();
        cluster.insert(
            "certificate-authority-data".into(),
            json!(base64::engine::general_purpose::STANDARD.encode(pem)),
        );
    } else if let Some(file) = &config.root_cert_file {
        cluster.insert(
            "certificate-authority".into(),
            json!(file.display().to_string()),
        );
    }
    if config.accept_invalid_certs {
        cluster.insert("insecure-skip-tls-verify".into(), json!(true));
    }
    if let Some(name) = &config.tls_server_name {
        cluster.insert("tls-server-name".into(), json!(name));
    }
    if let Some(proxy) = &config.proxy_url {
        cluster.insert("proxy-url".into(), json!(proxy.to_string()));
    }
    let user: Value = match token {
        Some(token) => json!({ "token": token }),
        None => serde_json::to_value(&config.auth_info).map_err(std::io::Error::other)?,
    };
    let document = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{ "name": "kubeairunway", "cluster": cluster }],
        "users": [{ "name": "kubeairunway", "user": user }],
        "contexts": [{ "name": "kubeairunway", "context": {
            "cluster": "kubeairunway", "user": "kubeairunway", "namespace": config.default_namespace,
        } }],
        "current-context": "kubeairunway",
    });
    serde_json::to_string(&document).map_err(std::io::Error::other)
}

fn pem_certificate(der: &[u8]) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(der);
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in encoded.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(chunk));
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    pem
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> kube::Config {
        let mut config = kube::Config::new("https://127.0.0.1:6443".parse().expect("uri"));
        config.root_cert = Some(vec![vec![1, 2, 3]]);
        config.auth_info.token = Some("backend-token".to_string().into());
        config
    }

    #[test]
    fn caller_token_replaces_backend_credentials() {
        let text = render(&config(), Some("caller-token")).expect("render");
        let doc: Value = serde_json::from_str(&text).expect("json");
        assert_eq!(doc["users"][0]["user"], json!({ "token": "caller-token" }));
        assert!(!text.contains("backend-token"));
        assert_eq!(
            doc["clusters"][0]["cluster"]["server"],
            "https://127.0.0.1:6443/"
        );
        let ca = doc["clusters"][0]["cluster"]["certificate-authority-data"]
            .as_str()
            .expect("ca");
        let pem = base64::engine::general_purpose::STANDARD
            .decode(ca)
            .expect("base64");
        assert!(String::from_utf8_lossy(&pem).starts_with("-----BEGIN CERTIFICATE-----\nAQID\n"));
    }

    #[test]
    fn backend_credentials_without_auth_and_file_is_private_and_removed() {
        let dir = std::env::temp_dir().join(format!("kair-kc-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let kc = PrivateKubeconfig::write(&dir, &config(), None).expect("write");
        let path = kc.path().to_path_buf();
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.contains("backend-token"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        drop(kc);
        assert!(!path.exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
