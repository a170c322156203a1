//! Static-token users of the local control plane. Each stands for a kind of person the product
//! must serve correctly under RBAC.

use rand::Rng;
use serde::{Deserialize, Serialize};

/// A test identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum User {
    /// `system:masters`: bypasses RBAC.
    Admin,
    /// Cluster-wide read-only (bound to the `view` ClusterRole).
    Viewer,
    /// May edit only in the namespace [`User::TEAM_NAMESPACE`] (bound to `edit` there).
    TeamA,
    /// The backend's own identity, bound to `system:auth-delegator` (TokenReview and
    /// SubjectAccessReview).
    Backend,
}

impl User {
    /// Every user.
    pub const ALL: [User; 4] = [User::Admin, User::Viewer, User::TeamA, User::Backend];
    /// The namespace [`User::TeamA`] may edit.
    pub const TEAM_NAMESPACE: &'static str = "team-a";

    /// The Kubernetes user name.
    pub fn name(self) -> &'static str {
        match self {
            User::Admin => "admin",
            User::Viewer => "viewer",
            User::TeamA => "alice",
            User::Backend => "kubeairunway-backend",
        }
    }

    /// The groups the API server reports for the user (besides `system:authenticated`).
    pub fn groups(self) -> &'static [&'static str] {
        match self {
            User::Admin => &["system:masters"],
            User::Viewer => &["kubeairunway:viewers"],
            User::TeamA => &["team-a"],
            User::Backend => &["kubeairunway:backends"],
        }
    }

    /// The kubeconfig context name.
    pub fn context(self) -> &'static str {
        match self {
            User::Admin => "admin",
            User::Viewer => "viewer",
            User::TeamA => "team-a",
            User::Backend => "backend",
        }
    }
}

/// The bearer tokens of one cluster (random per cluster).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Users {
    /// Token of [`User::Admin`].
    pub admin: String,
    /// Token of [`User::Viewer`].
    pub viewer: String,
    /// Token of [`User::TeamA`].
    pub team_a: String,
    /// Token of [`User::Backend`].
    pub backend: String,
}

impl Users {
    pub(crate) fn generate() -> Self {
        let token = || {
            let bytes: [u8; 24] = rand::rng().random();
            bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
        };
        Self {
            admin: token(),
            viewer: token(),
            team_a: token(),
            backend: token(),
        }
    }

    /// The token of a user.
    pub fn token(&self, user: User) -> &str {
        match user {
            User::Admin => &self.admin,
            User::Viewer => &self.viewer,
            User::TeamA => &self.team_a,
            User::Backend => &self.backend,
        }
    }

    /// The kube-apiserver `--token-auth-file` content.
    pub(crate) fn token_file(&self) -> String {
        User::ALL
            .iter()
            .map(|&u| {
                format!(
                    "{},{},uid-{},\"{}\"\n",
                    self.token(u),
                    u.name(),
                    u.name(),
                    u.groups().join(",")
                )
            })
            .collect()
    }
}
