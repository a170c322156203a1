//! The bearer token of a kubeconfig user, found the way kubectl finds it.
//!
//! kube-rs reads and merges the kubeconfig (`KUBECONFIG` or `~/.kube/config`), resolves relative
//! paths and fills in the cluster for exec plugins that ask for it. The credential is then taken,
//! in kubectl's order, from:
//!
//! - an `auth-provider` (`oidc`: the id-token, refreshed with the refresh token when it has
//!   expired; kube-rs' own auth layer does both, so the token is read from the `Authorization`
//!   header that layer sets),
//! - a static `token`, or a `tokenFile`,
//! - an `exec` plugin, run here per the `client.authentication.k8s.io` ExecCredential contract
//!   (v1 and v1beta1) because the expiry it reports is not exposed by kube-rs: the command with
//!   its args and env, never through a shell, `KUBERNETES_EXEC_INFO` set, stdin passed on only
//!   when the plugin may be interactive, stderr always passed on (so kubelogin can talk to the
//!   user).
//!
//! A user with only a client certificate, or basic auth, has no token the server can check: the
//! error says how to get one.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::Stdio;

use jiff::Timestamp;
use kube::config::{ExecConfig, ExecInteractiveMode, KubeConfigOptions, Kubeconfig};
use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Serialize};

use super::jwt;

/// The ExecCredential API versions kubectl still speaks.
const EXEC_V1: &str = "client.authentication.k8s.io/v1";
const EXEC_V1BETA1: &str = "client.authentication.k8s.io/v1beta1";

/// Where a token came from, for messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// `user.token`.
    StaticToken,
    /// `user.tokenFile`.
    TokenFile(PathBuf),
    /// `user.exec` with this command.
    Exec(String),
    /// `user.auth-provider` with this name.
    AuthProvider(String),
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::StaticToken => f.write_str("static token"),
            Source::TokenFile(p) => write!(f, "token file {}", p.display()),
            Source::Exec(cmd) => write!(f, "exec plugin `{cmd}`"),
            Source::AuthProvider(name) => write!(f, "auth-provider {name}"),
        }
    }
}

/// A bearer token taken from a kubeconfig.
pub struct KubeCredential {
    /// The token.
    pub token: SecretString,
    /// When it expires, if the plugin or the token (a JWT) says.
    pub expires_at: Option<Timestamp>,
    /// The kubeconfig context.
    pub context: String,
    /// The kubeconfig user of that context.
    pub user: String,
    /// Where the token came from.
    pub source: Source,
}

/// Why no token could be taken from the kubeconfig.
#[derive(Debug, thiserror::Error)]
pub enum KubeconfigError {
    /// The kubeconfig could not be read or parsed.
    #[error("cannot read your kubeconfig (KUBECONFIG, or ~/.kube/config when it is unset): {0}")]
    Read(#[source] kube::config::KubeconfigError),
    /// No `--context` and no current context.
    #[error("your kubeconfig has no current context; pass --context NAME (contexts: {available})")]
    NoCurrentContext {
        /// The contexts there are.
        available: String,
    },
    /// `--context` names a context the kubeconfig does not have.
    #[error("your kubeconfig has no context \"{name}\" (contexts: {available})")]
    UnknownContext {
        /// The context asked for.
        name: String,
        /// The contexts there are.
        available: String,
    },
    /// The context names no user, or a user that is not there.
    #[error("kubeconfig context \"{context}\" names no user entry that exists (user: {user})")]
    UnknownUser {
        /// The context.
        context: String,
        /// The user it names (empty when none).
        user: String,
    },
    /// kube-rs could not load the context.
    #[error("cannot load kubeconfig context \"{context}\": {source}")]
    Load {
        /// The context.
        context: String,
        /// Why.
        #[source]
        source: kube::config::KubeconfigError,
    },
    /// The user authenticates with a client certificate only.
    #[error(
        "kubeconfig user \"{user}\" (context \"{context}\") signs in with a client certificate{via}, \
         which is not a token: the KubeAIRunway server checks bearer tokens with a TokenReview and \
         a browser cannot present your certificate. Get a token for a service account instead, e.g. \
         `kubectl --context {context} create token NAME -n NAMESPACE --duration 8h`, and sign in with \
         it (paste it on the login page), or use a context whose user has a token, an exec plugin \
         (such as kubelogin for OIDC) or an oidc auth-provider"
    )]
    ClientCertificate {
        /// The context.
        context: String,
        /// The user.
        user: String,
        /// `" (from its exec plugin)"` or empty.
        via: &'static str,
    },
    /// Basic auth (user name and password).
    #[error(
        "kubeconfig user \"{user}\" (context \"{context}\") uses a user name and password, which is \
         not a token; use a context with a token, an exec plugin or an oidc auth-provider, or \
         `kubectl --context {context} create token NAME -n NAMESPACE` for a service account token"
    )]
    BasicAuth {
        /// The context.
        context: String,
        /// The user.
        user: String,
    },
    /// The user entry has no credential at all.
    #[error(
        "kubeconfig user \"{user}\" (context \"{context}\") has no credential (no token, tokenFile, \
         exec plugin or auth-provider)"
    )]
    NoCredential {
        /// The context.
        context: String,
        /// The user.
        user: String,
    },
    /// The token file could not be read.
    #[error("cannot read the token file {path} of kubeconfig user \"{user}\": {source}")]
    TokenFile {
        /// The user.
        user: String,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The exec plugin's command is not there.
    #[error("the exec plugin `{command}` of kubeconfig user \"{user}\" is not installed{hint}")]
    ExecNotFound {
        /// The user.
        user: String,
        /// The command.
        command: String,
        /// The plugin's `installHint`, with a leading separator, or empty.
        hint: String,
    },
    /// The exec plugin could not be run or failed.
    #[error("the exec plugin `{command}` of kubeconfig user \"{user}\" failed: {reason}")]
    Exec {
        /// The user.
        user: String,
        /// The command.
        command: String,
        /// What went wrong (its exit status and stderr, or what its output lacked).
        reason: String,
    },
    /// The auth-provider could not give a token.
    #[error("the {name} auth-provider of kubeconfig user \"{user}\" gave no token: {reason}")]
    AuthProvider {
        /// The user.
        user: String,
        /// The provider.
        name: String,
        /// Why.
        reason: String,
    },
    /// The token has expired (the plugin or the token says so).
    #[error(
        "the token of kubeconfig user \"{user}\" (context \"{context}\", {origin}) expired at \
         {expired_at}; {refresh}"
    )]
    Expired {
        /// The context.
        context: String,
        /// The user.
        user: String,
        /// Where the token came from.
        origin: Source,
        /// When it expired.
        expired_at: Timestamp,
        /// How to get a fresh one.
        refresh: String,
    },
}

/// How to get a fresh token from `source`, as advice.
pub fn refresh_advice(source: &Source, context: &str) -> String {
    match source {
        Source::Exec(_) | Source::AuthProvider(_) => format!(
            "sign in again with your identity provider (run any kubectl command, e.g. \
             `kubectl --context {context} get namespaces`, to let it refresh), then run \
             `kubeairunway login` again"
        ),
        Source::StaticToken | Source::TokenFile(_) => format!(
            "put a fresh token in the kubeconfig (for a service account: `kubectl create token \
             NAME -n NAMESPACE`, then `kubectl config set-credentials {context} --token=…`), then \
             run `kubeairunway login` again"
        ),
    }
}

/// The token of `context` (the current context when `None`) in the user's kubeconfig.
pub async fn resolve(context: Option<&str>) -> Result<KubeCredential, KubeconfigError> {
    let kubeconfig = Kubeconfig::read().map_err(KubeconfigError::Read)?;
    resolve_in(kubeconfig, context).await
}

/// The token of `context` in `kubeconfig`.
pub async fn resolve_in(
    kubeconfig: Kubeconfig,
    context: Option<&str>,
) -> Result<KubeCredential, KubeconfigError> {
    let available = || {
        let names: Vec<&str> = kubeconfig
            .contexts
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        }
    };
    let context = match context.or(kubeconfig.current_context.as_deref()) {
        Some(c) if !c.is_empty() => c.to_string(),
        _ => {
            return Err(KubeconfigError::NoCurrentContext {
                available: available(),
            });
        }
    };
    let Some(named) = kubeconfig.contexts.iter().find(|c| c.name == context) else {
        return Err(KubeconfigError::UnknownContext {
            name: context,
            available: available(),
        });
    };
    let user = named
        .context
        .as_ref()
        .and_then(|c| c.user.clone())
        .unwrap_or_default();
    if user.is_empty() || !kubeconfig.auth_infos.iter().any(|a| a.name == user) {
        return Err(KubeconfigError::UnknownUser { context, user });
    }
    let options = KubeConfigOptions {
        context: Some(context.clone()),
        ..Default::default()
    };
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(|source| KubeconfigError::Load {
            context: context.clone(),
            source,
        })?;
    let info = &config.auth_info;

    let (token, source, stated_expiry) = if let Some(provider) = &info.auth_provider {
        let name = provider.name.clone();
        let token = token_from_auth_layer(&config).await.map_err(|reason| {
            KubeconfigError::AuthProvider {
                user: user.clone(),
                name: name.clone(),
                reason,
            }
        })?;
        (token, Source::AuthProvider(name), None)
    } else if info.username.is_some() && info.password.is_some() {
        return Err(KubeconfigError::BasicAuth { context, user });
    } else if let Some(token) = &info.token {
        (token.clone(), Source::StaticToken, None)
    } else if let Some(file) = &info.token_file {
        let path = PathBuf::from(file);
        let text = std::fs::read_to_string(&path).map_err(|source| KubeconfigError::TokenFile {
            user: user.clone(),
            path: path.clone(),
            source,
        })?;
        (
            SecretString::from(text.trim().to_string()),
            Source::TokenFile(path),
            None,
        )
    } else if let Some(exec) = &info.exec {
        let command = exec.command.clone().unwrap_or_default();
        match run_exec(exec).await {
            Ok(ExecOutcome::Token { token, expires_at }) => {
                (token, Source::Exec(command), expires_at)
            }
            Ok(ExecOutcome::Certificate) => {
                return Err(KubeconfigError::ClientCertificate {
                    context,
                    user,
                    via: " (from its exec plugin)",
                });
            }
            Err(e) => return Err(e.into_error(&user, &command)),
        }
    } else if info.client_certificate.is_some() || info.client_certificate_data.is_some() {
        return Err(KubeconfigError::ClientCertificate {
            context,
            user,
            via: "",
        });
    } else {
        return Err(KubeconfigError::NoCredential { context, user });
    };

    if token.expose_secret().is_empty() {
        return Err(KubeconfigError::NoCredential { context, user });
    }
    let expires_at =
        stated_expiry.or_else(|| jwt::claims(token.expose_secret()).and_then(|c| c.expires_at()));
    if let Some(at) = expires_at
        && at <= Timestamp::now()
    {
        let refresh = refresh_advice(&source, &context);
        return Err(KubeconfigError::Expired {
            context,
            user,
            origin: source,
            expired_at: at,
            refresh,
        });
    }
    Ok(KubeCredential {
        token,
        expires_at,
        context,
        user,
        source,
    })
}

/// The bearer token kube-rs' own auth layer would send for `config` (it refreshes an expired
/// oidc id-token): the layer is applied to a service that only hands back the header it set.
async fn token_from_auth_layer(config: &kube::Config) -> Result<SecretString, String> {
    use kube::client::ConfigExt as _;
    use tower::{Layer as _, ServiceExt as _};

    let layer = config
        .auth_layer()
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "the provider gave no bearer token".to_string())?;
    // The layer wants an HTTP service: this one answers with the request's Authorization header.
    let capture = tower::service_fn(|req: http::Request<kube::client::Body>| async move {
        let mut response = http::Response::new(kube::client::Body::empty());
        if let Some(value) = req.headers().get(http::header::AUTHORIZATION) {
            response
                .headers_mut()
                .insert(http::header::AUTHORIZATION, value.clone());
        }
        Ok::<_, tower::BoxError>(response)
    });
    let response = layer
        .layer(capture)
        .oneshot(http::Request::new(kube::client::Body::empty()))
        .await
        .map_err(|e| e.to_string())?;
    let header = response
        .headers()
        .get(http::header::AUTHORIZATION)
        .ok_or_else(|| "the provider gave no bearer token".to_string())?;
    let value = header
        .to_str()
        .map_err(|_| "the provider's token is not text".to_string())?;
    value
        .strip_prefix("Bearer ")
        .map(|t| SecretString::from(t.trim().to_string()))
        .ok_or_else(|| "the provider gave a credential that is not a bearer token".to_string())
}

/// What an exec plugin gave.
enum ExecOutcome {
    Token {
        token: SecretString,
        expires_at: Option<Timestamp>,
    },
    Certificate,
}

/// Why an exec plugin gave nothing usable.
enum ExecFailure {
    NotFound { hint: Option<String> },
    Other(String),
}

impl ExecFailure {
    fn into_error(self, user: &str, command: &str) -> KubeconfigError {
        match self {
            ExecFailure::NotFound { hint } => KubeconfigError::ExecNotFound {
                user: user.to_string(),
                command: command.to_string(),
                hint: hint
                    .map(|h| format!(": {}", h.trim()))
                    .unwrap_or_else(|| " (or not on PATH)".to_string()),
            },
            ExecFailure::Other(reason) => KubeconfigError::Exec {
                user: user.to_string(),
                command: command.to_string(),
                reason,
            },
        }
    }
}

/// `KUBERNETES_EXEC_INFO` and the plugin's stdout.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExecCredential {
    api_version: Option<String>,
    kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    spec: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<ExecStatus>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExecStatus {
    expiration_timestamp: Option<String>,
    token: Option<String>,
    client_certificate_data: Option<String>,
    client_key_data: Option<String>,
}

/// Runs an exec plugin per the ExecCredential contract.
async fn run_exec(exec: &ExecConfig) -> Result<ExecOutcome, ExecFailure> {
    let Some(command) = exec.command.as_deref().filter(|c| !c.is_empty()) else {
        return Err(ExecFailure::Other("the exec entry names no command".into()));
    };
    let api_version = exec.api_version.clone().unwrap_or_default();
    if api_version != EXEC_V1 && api_version != EXEC_V1BETA1 {
        return Err(ExecFailure::Other(format!(
            "apiVersion \"{api_version}\" is not supported (use {EXEC_V1} or {EXEC_V1BETA1})"
        )));
    }
    let mode = match (&exec.interactive_mode, api_version.as_str()) {
        (Some(m), _) => m.clone(),
        (None, EXEC_V1) => {
            return Err(ExecFailure::Other(
                "interactiveMode must be set for client.authentication.k8s.io/v1".into(),
            ));
        }
        // v1beta1 defaults to IfAvailable.
        (None, _) => ExecInteractiveMode::IfAvailable,
    };
    let terminal = std::io::stdin().is_terminal();
    let interactive = match mode {
        ExecInteractiveMode::Never => false,
        ExecInteractiveMode::IfAvailable => terminal,
        ExecInteractiveMode::Always => {
            if !terminal {
                return Err(ExecFailure::Other(
                    "it needs a terminal (interactiveMode: Always) and standard input is not one"
                        .into(),
                ));
            }
            true
        }
    };
    let mut spec = serde_json::json!({ "interactive": interactive });
    if exec.provide_cluster_info {
        let cluster = exec.cluster.as_ref().ok_or_else(|| {
            ExecFailure::Other("provideClusterInfo is set but the context has no cluster".into())
        })?;
        spec["cluster"] = serde_json::to_value(cluster)
            .map_err(|e| ExecFailure::Other(format!("cannot describe the cluster: {e}")))?;
    }
    let info = serde_json::to_string(&ExecCredential {
        api_version: Some(api_version.clone()),
        kind: Some("ExecCredential".into()),
        spec: Some(spec),
        status: None,
    })
    .map_err(|e| ExecFailure::Other(format!("cannot write KUBERNETES_EXEC_INFO: {e}")))?;

    let mut cmd = tokio::process::Command::new(command);
    cmd.args(exec.args.iter().flatten());
    for pair in exec.env.iter().flatten() {
        if let (Some(name), Some(value)) = (pair.get("name"), pair.get("value")) {
            cmd.env(name, value);
        }
    }
    for name in exec.drop_env.iter().flatten() {
        cmd.env_remove(name);
    }
    cmd.env("KUBERNETES_EXEC_INFO", info)
        .stdin(if interactive {
            Stdio::inherit()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    let output = match cmd.output().await {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ExecFailure::NotFound {
                hint: exec.install_hint.clone(),
            });
        }
        Err(e) => return Err(ExecFailure::Other(format!("cannot start it: {e}"))),
    };
    if !output.status.success() {
        return Err(ExecFailure::Other(format!(
            "it exited with {} (its messages, if any, are above)",
            output.status
        )));
    }
    let credential: ExecCredential = serde_json::from_slice(&output.stdout).map_err(|e| {
        ExecFailure::Other(format!("its output is not an ExecCredential JSON: {e}"))
    })?;
    if credential.kind.as_deref() != Some("ExecCredential") {
        return Err(ExecFailure::Other(format!(
            "its output has kind {:?}, not ExecCredential",
            credential.kind.unwrap_or_default()
        )));
    }
    if credential.api_version.as_deref() != Some(api_version.as_str()) {
        return Err(ExecFailure::Other(format!(
            "it answered with apiVersion {:?}, not the {api_version} it was asked for",
            credential.api_version.unwrap_or_default()
        )));
    }
    let Some(status) = credential.status else {
        return Err(ExecFailure::Other(
            "its ExecCredential has no status".into(),
        ));
    };
    let expires_at = status
        .expiration_timestamp
        .as_deref()
        .map(|s| {
            s.parse::<Timestamp>().map_err(|e| {
                ExecFailure::Other(format!(
                    "its expirationTimestamp {s:?} is not an RFC 3339 time: {e}"
                ))
            })
        })
        .transpose()?;
    match status.token.filter(|t| !t.is_empty()) {
        Some(token) => Ok(ExecOutcome::Token {
            token: SecretString::from(token),
            expires_at,
        }),
        None if status.client_certificate_data.is_some() || status.client_key_data.is_some() => {
            Ok(ExecOutcome::Certificate)
        }
        None => Err(ExecFailure::Other(
            "its ExecCredential has neither a token nor a client certificate".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kubeconfig(user: &str) -> Kubeconfig {
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:6443\n\
             contexts:\n- name: ctx\n  context:\n    cluster: c\n    user: u\ncurrent-context: ctx\n\
             users:\n- name: u\n  user:\n{user}"
        );
        Kubeconfig::from_yaml(&text).expect("kubeconfig parses")
    }

    #[tokio::test]
    async fn a_static_token() {
        let c = resolve_in(kubeconfig("    token: abc123\n"), None)
            .await
            .expect("token");
        assert_eq!(c.token.expose_secret(), "abc123");
        assert_eq!(c.source, Source::StaticToken);
        assert_eq!(c.context, "ctx");
        assert_eq!(c.user, "u");
        assert!(c.expires_at.is_none());
    }

    #[tokio::test]
    async fn a_client_certificate_is_not_a_token() {
        let err = resolve_in(
            kubeconfig("    client-certificate-data: eA==\n    client-key-data: eA==\n"),
            None,
        )
        .await
        .err()
        .expect("refused");
        assert!(matches!(err, KubeconfigError::ClientCertificate { .. }));
        assert!(
            err.to_string()
                .contains("kubectl --context ctx create token")
        );
    }

    #[tokio::test]
    async fn unknown_context_lists_the_known_ones() {
        let err = resolve_in(kubeconfig("    token: abc\n"), Some("nope"))
            .await
            .err()
            .expect("refused");
        assert_eq!(
            err.to_string(),
            "your kubeconfig has no context \"nope\" (contexts: ctx)"
        );
    }

    #[tokio::test]
    async fn an_oidc_id_token_that_has_not_expired() {
        use base64::Engine as _;
        let enc = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let exp = Timestamp::now().as_second() + 3600;
        let id = format!(
            "{}.{}.c2ln",
            enc(r#"{"alg":"RS256"}"#),
            enc(&format!(r#"{{"exp":{exp},"email":"a@example.com"}}"#))
        );
        let user = format!(
            "    auth-provider:\n      name: oidc\n      config:\n        client-id: kubectl\n        \
             idp-issuer-url: https://issuer.invalid\n        id-token: {id}\n"
        );
        let c = resolve_in(kubeconfig(&user), None).await.expect("id-token");
        assert_eq!(c.token.expose_secret(), id);
        assert_eq!(c.source, Source::AuthProvider("oidc".into()));
        assert_eq!(c.expires_at.map(|t| t.as_second()), Some(exp));
    }
}
