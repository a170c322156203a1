//! The private directory Helm runs in: its cache, config and data homes and the jobs'
//! kubeconfigs. It is `0700` so that no other user reads a kubeconfig holding someone's token,
//! and it is removed when the [`PrivateHome`] is dropped; directories left behind by servers
//! that crashed are removed when the next one starts.

use std::path::{Path, PathBuf};

/// Prefix of the private directories under the temporary directory.
const HOME_PREFIX: &str = "kubeairunway-helm-";
/// Subdirectories Helm and the jobs write into.
const SUBDIRS: [&str; 4] = ["cache", "config", "data", "kubeconfigs"];

/// The private directory could not be created.
#[derive(Debug, thiserror::Error)]
#[error("could not create the private Helm directory {}: {source}", path.display())]
pub struct HomeError {
    /// The directory that was being created.
    pub path: PathBuf,
    /// Why it failed.
    #[source]
    pub source: std::io::Error,
}

/// A `0700` directory owned by this process, removed on drop.
#[derive(Debug)]
pub struct PrivateHome {
    path: PathBuf,
}

impl PrivateHome {
    /// Creates a new directory under the temporary directory, after removing those of
    /// processes that are gone (a crash would leave a kubeconfig behind).
    pub fn create() -> Result<Self, HomeError> {
        remove_stale_homes();
        let path = std::env::temp_dir().join(format!(
            "{HOME_PREFIX}{}-{}",
            std::process::id(),
            hex::encode(rand::random::<[u8; 6]>())
        ));
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        let fail = |source| HomeError {
            path: path.clone(),
            source,
        };
        builder.create(&path).map_err(fail)?;
        // From here on the directory exists: the guard removes it even if a subdirectory fails.
        let home = Self { path: path.clone() };
        for sub in SUBDIRS {
            builder.create(path.join(sub)).map_err(fail)?;
        }
        Ok(home)
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for PrivateHome {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Removes `kubeairunway-helm-<pid>-…` directories of processes that are gone (Linux: `/proc`).
fn remove_stale_homes() {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let pid = name
            .strip_prefix(HOME_PREFIX)
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok());
        if let Some(pid) = pid
            && !Path::new(&format!("/proc/{pid}")).exists()
        {
            // Directories of other users are not ours to remove (and cannot be).
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_home_is_private_and_removed_on_drop() {
        let home = PrivateHome::create().expect("home");
        let path = home.path().to_path_buf();
        for sub in SUBDIRS {
            assert!(path.join(sub).is_dir(), "{sub}");
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
        drop(home);
        assert!(!path.exists());
    }
}
