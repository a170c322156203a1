//! `~/.kubeairunway/credentials.json`: the token `kubeairunway login` verified, one per server
//! URL, with who it belongs to and when it expires.
//!
//! The directory is created with mode 0700 and the file is only ever written whole: a new file
//! created with mode 0600 next to it (never made private after the fact), synced, then renamed
//! over the old one, so a crash leaves the old file or the new one and the token is never
//! readable by others, not even for a moment.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The file name under `~/.kubeairunway`.
pub const FILE_NAME: &str = "credentials.json";

/// A stored credential of one server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredCredential {
    /// The bearer token.
    pub token: String,
    /// The Kubernetes user the server saw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Its groups.
    #[serde(default)]
    pub groups: Vec<String>,
    /// When the token expires (RFC 3339), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// The kubeconfig context it came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// When it was stored (RFC 3339).
    pub saved_at: String,
}

/// The whole file.
#[derive(Debug, Default, Serialize, Deserialize)]
struct File {
    /// By server URL (normalized: no trailing slash).
    #[serde(default)]
    servers: BTreeMap<String, StoredCredential>,
}

/// Why the credentials file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    /// No home directory to keep it in.
    #[error("cannot find your home directory (set HOME) to keep ~/.kubeairunway/credentials.json")]
    NoHome,
    /// Reading failed.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not what this CLI writes.
    #[error(
        "{path} is not a credentials file of kubeairunway ({source}); delete it and log in again"
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// Writing failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// The credentials file of one user.
pub struct Store {
    path: PathBuf,
}

impl Store {
    /// `~/.kubeairunway/credentials.json` of the user running the CLI.
    pub fn for_user() -> Result<Self, CredentialsError> {
        let home = dirs::home_dir().ok_or(CredentialsError::NoHome)?;
        Ok(Self::at(home.join(".kubeairunway").join(FILE_NAME)))
    }

    /// A file at `path`.
    pub fn at(path: PathBuf) -> Self {
        Self { path }
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The credential stored for `server`, if any.
    pub fn get(&self, server: &str) -> Result<Option<StoredCredential>, CredentialsError> {
        Ok(self.load()?.servers.remove(server))
    }

    /// Stores `credential` for `server`, replacing any earlier one.
    pub fn put(&self, server: &str, credential: StoredCredential) -> Result<(), CredentialsError> {
        let mut file = self.load()?;
        file.servers.insert(server.to_string(), credential);
        self.save(&file)
    }

    /// Removes the credential of `server`; returns whether there was one. The file goes when it
    /// holds no credential any more.
    pub fn remove(&self, server: &str) -> Result<bool, CredentialsError> {
        let mut file = self.load()?;
        let had = file.servers.remove(server).is_some();
        if !had {
            return Ok(false);
        }
        if file.servers.is_empty() {
            match std::fs::remove_file(&self.path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(CredentialsError::Write {
                        path: self.path.clone(),
                        source,
                    });
                }
            }
        } else {
            self.save(&file)?;
        }
        Ok(true)
    }

    fn load(&self) -> Result<File, CredentialsError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(File::default()),
            Err(source) => {
                return Err(CredentialsError::Read {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        serde_json::from_str(&text).map_err(|source| CredentialsError::Corrupt {
            path: self.path.clone(),
            source,
        })
    }

    fn save(&self, file: &File) -> Result<(), CredentialsError> {
        let write_err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| CredentialsError::Write { path, source }
        };
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(write_err(dir))?;
        let mut json = serde_json::to_vec_pretty(file).map_err(|e| CredentialsError::Write {
            path: self.path.clone(),
            source: std::io::Error::other(e),
        })?;
        json.push(b'\n');
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| FILE_NAME.to_string());
        let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let _ = std::fs::remove_file(&temp);
        let written = (|| {
            let mut out = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&temp)?;
            out.write_all(&json)?;
            out.sync_all()?;
            std::fs::rename(&temp, &self.path)?;
            // The rename itself survives a crash once the directory is synced.
            std::fs::File::open(dir)?.sync_all()
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&temp);
        }
        written.map_err(write_err(&self.path))
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    fn credential(token: &str) -> StoredCredential {
        StoredCredential {
            token: token.into(),
            username: Some("admin".into()),
            groups: vec!["system:masters".into()],
            expires_at: None,
            context: Some("admin".into()),
            saved_at: "2026-01-01T00:00:00Z".into(),
        }
    }

    #[test]
    fn stores_per_server_privately_and_forgets() {
        let home = tempfile::tempdir().expect("temp dir");
        let store = Store::at(home.path().join(".kubeairunway").join(FILE_NAME));
        assert_eq!(store.get("http://a").expect("read"), None);
        store.put("http://a", credential("t1")).expect("put");
        store.put("http://b", credential("t2")).expect("put");
        let mode = |p: &Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
        assert_eq!(mode(store.path()), 0o600);
        assert_eq!(mode(&home.path().join(".kubeairunway")), 0o700);
        assert_eq!(
            store.get("http://a").expect("read").map(|c| c.token),
            Some("t1".into())
        );
        assert!(store.remove("http://a").expect("remove"));
        assert!(!store.remove("http://a").expect("remove again"));
        assert_eq!(
            store.get("http://b").expect("read").map(|c| c.token),
            Some("t2".into())
        );
        assert!(store.remove("http://b").expect("remove"));
        assert!(!store.path().exists(), "the empty file goes");
        // No temporary file is left behind.
        let left: Vec<_> = std::fs::read_dir(home.path().join(".kubeairunway"))
            .expect("dir")
            .collect();
        assert!(left.is_empty());
    }

    #[test]
    fn a_corrupt_file_is_named() {
        let home = tempfile::tempdir().expect("temp dir");
        let path = home.path().join(FILE_NAME);
        std::fs::write(&path, "not json").expect("write");
        let err = Store::at(path).get("http://a").expect_err("refused");
        assert!(
            err.to_string().contains("delete it and log in again"),
            "{err}"
        );
    }
}
