use std::fmt::Write;
use std::path::Path;

use crate::users::{User, Users};

/// A kubeconfig with one context per test user; `admin` is current.
pub(crate) fn render(server: &str, ca_file: &Path, users: &Users) -> String {
    let mut out = String::from("apiVersion: v1\nkind: Config\npreferences: {}\n");
    let _ = write!(
        out,
        "clusters:\n- name: kubeairunway-local\n  cluster:\n    server: {server}\n    certificate-authority: {}\n",
        ca_file.display()
    );
    out.push_str("contexts:\n");
    for u in User::ALL {
        let _ = write!(
            out,
            "- name: {ctx}\n  context:\n    cluster: kubeairunway-local\n    user: {ctx}\n    namespace: default\n",
            ctx = u.context()
        );
    }
    out.push_str("users:\n");
    for u in User::ALL {
        let _ = write!(
            out,
            "- name: {}\n  user:\n    token: {}\n",
            u.context(),
            users.token(u)
        );
    }
    out.push_str("current-context: admin\n");
    out
}
