//! `kubeairunway login`, `logout` and `whoami`: signing the web UI (and the CLI) in to a
//! KubeAIRunway server that runs with `AUTH_ENABLED`, with the user's own Kubernetes identity.
//!
//! `login` takes the bearer token of a kubeconfig context ([`kubeconfig`]), asks the server who
//! it is (`GET /api/auth/whoami`: the server checks it with a TokenReview), stores it per server
//! URL ([`credentials`]) and opens the web UI on a magic link, `<server>/login#token=<token>`:
//! the token travels in the fragment, which browsers never send to the server, and the UI
//! removes it from the address bar and history as soon as it has read it.

pub mod credentials;
mod jwt;
pub mod kubeconfig;

use std::time::Duration;

use clap::Args;
use jiff::Timestamp;
use secrecy::ExposeSecret as _;
use serde::Deserialize;

use credentials::{CredentialsError, Store, StoredCredential};
use kubeconfig::KubeconfigError;

/// The server a local `kubeairunway serve` listens on.
pub const DEFAULT_SERVER: &str = "http://localhost:3001";
/// How long the server may take to answer `whoami`.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// `kubeairunway login`.
#[derive(Args, Debug)]
pub struct LoginArgs {
    /// The KubeAIRunway server (its web UI's address).
    #[arg(short, long, env = "KUBEAIRUNWAY_SERVER", default_value = DEFAULT_SERVER)]
    pub server: String,
    /// The kubeconfig context whose credential to use (default: the current context).
    #[arg(short, long)]
    pub context: Option<String>,
    /// Print the sign-in link instead of opening a browser.
    #[arg(long)]
    pub no_browser: bool,
}

/// `kubeairunway logout` and `kubeairunway whoami`.
#[derive(Args, Debug)]
pub struct ServerArgs {
    /// The KubeAIRunway server.
    #[arg(short, long, env = "KUBEAIRUNWAY_SERVER", default_value = DEFAULT_SERVER)]
    pub server: String,
}

/// Why a command of this module failed.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// No token in the kubeconfig.
    #[error(transparent)]
    Kubeconfig(Box<KubeconfigError>),
    /// The credentials file.
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
    /// `--server` is not an http(s) URL.
    #[error("--server {url:?} is not a server URL: {reason} (e.g. {DEFAULT_SERVER})")]
    InvalidServer {
        /// What was given.
        url: String,
        /// Why.
        reason: String,
    },
    /// Nothing answered.
    #[error(
        "cannot reach a KubeAIRunway server at {url}: {reason}. Is it running (`kubeairunway serve`)? \
         Pass its address with --server URL"
    )]
    Unreachable {
        /// The server.
        url: String,
        /// Why.
        reason: String,
    },
    /// Something answered, but not a KubeAIRunway server.
    #[error(
        "{url} does not look like a KubeAIRunway server: GET /api/auth/whoami answered {answer}. \
         Check --server"
    )]
    NotKubeAirunway {
        /// The server.
        url: String,
        /// What it answered.
        answer: String,
    },
    /// The server has auth off: there is nothing to sign in to.
    #[error(
        "the server at {url} does not require signing in (it runs without AUTH_ENABLED, acting as \
         its own identity): open {url} directly"
    )]
    AuthDisabled {
        /// The server.
        url: String,
    },
    /// The server refused the kubeconfig's token.
    #[error(
        "the server at {url} rejected the token of {token}: {message}. The token has expired or \
         is not valid for the cluster the server uses; {refresh}"
    )]
    Rejected {
        /// The server.
        url: String,
        /// Which token: `kubeconfig context "NAME" (SOURCE)`.
        token: String,
        /// The server's reason.
        message: String,
        /// How to get a fresh token.
        refresh: String,
    },
    /// `whoami` without a stored credential.
    #[error("not logged in to {url}: run `kubeairunway login --server {url}`")]
    NotLoggedIn {
        /// The server.
        url: String,
    },
    /// The stored credential has expired.
    #[error("your sign-in to {url} expired at {at}: run `kubeairunway login --server {url}` again")]
    StoredExpired {
        /// The server.
        url: String,
        /// When.
        at: String,
    },
    /// The server refused the stored credential.
    #[error(
        "the server at {url} no longer accepts your stored token ({message}): it has expired or \
         been revoked; run `kubeairunway login --server {url}` again"
    )]
    StoredRejected {
        /// The server.
        url: String,
        /// The server's reason.
        message: String,
    },
}

impl From<KubeconfigError> for LoginError {
    fn from(e: KubeconfigError) -> Self {
        LoginError::Kubeconfig(Box::new(e))
    }
}

impl LoginError {
    /// The error for `main`: its message alone, which already names the causes.
    pub fn into_report(self) -> anyhow::Error {
        anyhow::anyhow!(self.to_string())
    }
}

/// `GET /api/auth/whoami`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WhoAmI {
    auth_enabled: bool,
    authenticated: bool,
    username: Option<String>,
    #[serde(default)]
    groups: Vec<String>,
}

/// What the server said of a token.
enum Verdict {
    Accepted(WhoAmI),
    AuthOff,
    Rejected(String),
}

/// The server URL without a trailing slash, checked to be http(s).
fn normalize_server(raw: &str) -> Result<String, LoginError> {
    let invalid = |reason: String| LoginError::InvalidServer {
        url: raw.to_string(),
        reason,
    };
    let url = url::Url::parse(raw.trim()).map_err(|e| invalid(e.to_string()))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(invalid(format!(
            "the scheme is {}, not http or https",
            url.scheme()
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("it has no host".into()));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("it has a query or fragment".into()));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// The magic link that signs the web UI in.
pub fn magic_link(server: &str, token: &str) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(token.as_bytes()).collect();
    format!("{server}/login#token={encoded}")
}

/// Asks `server` who `token` (or nobody) is.
async fn ask_server(server: &str, token: Option<&str>) -> Result<Verdict, LoginError> {
    let http = reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .user_agent(concat!("kubeairunway-cli/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| LoginError::Unreachable {
            url: server.to_string(),
            reason: e.to_string(),
        })?;
    let mut request = http.get(format!("{server}/api/auth/whoami"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.map_err(|e| LoginError::Unreachable {
        url: server.to_string(),
        reason: error_chain(&e),
    })?;
    let status = response.status();
    let body = response.text().await.map_err(|e| LoginError::Unreachable {
        url: server.to_string(),
        reason: error_chain(&e),
    })?;
    let not_ours = |answer: String| LoginError::NotKubeAirunway {
        url: server.to_string(),
        answer,
    };
    if status == reqwest::StatusCode::UNAUTHORIZED {
        // The server's error envelope: {"error":{"message":…,"statusCode":401}}.
        let message = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
            .ok_or_else(|| not_ours(format!("{status} without KubeAIRunway's error body")))?;
        return Ok(Verdict::Rejected(message));
    }
    if !status.is_success() {
        let detail = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["error"]["message"].as_str().map(str::to_string));
        return Err(not_ours(match detail {
            Some(m) => format!("{status}: {m}"),
            None => status.to_string(),
        }));
    }
    let who: WhoAmI = serde_json::from_str(&body)
        .map_err(|_| not_ours(format!("{status} with a body that is not its whoami JSON")))?;
    if !who.auth_enabled {
        return Ok(Verdict::AuthOff);
    }
    if !who.authenticated {
        return Ok(Verdict::Rejected("the token was not authenticated".into()));
    }
    Ok(Verdict::Accepted(who))
}

/// An error and its causes on one line (reqwest's own message hides "connection refused").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

fn groups_text(groups: &[String]) -> String {
    if groups.is_empty() {
        "none".into()
    } else {
        groups.join(", ")
    }
}

/// `kubeairunway login`.
pub async fn login(args: LoginArgs) -> Result<(), LoginError> {
    let server = normalize_server(&args.server)?;
    let store = Store::for_user()?;
    let credential = kubeconfig::resolve(args.context.as_deref()).await?;
    let token = credential.token.expose_secret().to_string();
    let who = match ask_server(&server, Some(&token)).await? {
        Verdict::Accepted(who) => who,
        Verdict::AuthOff => return Err(LoginError::AuthDisabled { url: server }),
        Verdict::Rejected(message) => {
            let refresh = kubeconfig::refresh_advice(&credential.source, &credential.context);
            return Err(LoginError::Rejected {
                url: server,
                token: format!(
                    "kubeconfig context \"{}\" ({})",
                    credential.context, credential.source
                ),
                message,
                refresh,
            });
        }
    };
    let username = who.username.clone().unwrap_or_else(|| "unknown".into());
    store.put(
        &server,
        StoredCredential {
            token: token.clone(),
            username: who.username.clone(),
            groups: who.groups.clone(),
            expires_at: credential.expires_at.map(|t| t.to_string()),
            context: Some(credential.context.clone()),
            saved_at: Timestamp::now().to_string(),
        },
    )?;
    println!(
        "Logged in to {server} as {username} (groups: {}).",
        groups_text(&who.groups)
    );
    println!(
        "Token of kubeconfig user \"{}\" (context \"{}\", {}), {}.",
        credential.user,
        credential.context,
        credential.source,
        match credential.expires_at {
            Some(at) => format!("expires at {at}"),
            None => "no expiry stated".into(),
        }
    );
    println!("Saved to {}.", store.path().display());
    let link = magic_link(&server, &token);
    if args.no_browser {
        println!(
            "Open this link to sign in to the web UI (it carries your token: do not share it):"
        );
        println!("{link}");
        return Ok(());
    }
    match open_browser(&link) {
        Ok(()) => println!("Opened the web UI in your browser, signed in."),
        Err(reason) => {
            println!(
                "Could not open a browser ({reason}); open this link to sign in to the web UI (it \
                 carries your token: do not share it):"
            );
            println!("{link}");
        }
    }
    Ok(())
}

/// Opens `link` in the user's browser (`BROWSER` is honoured). Without any display on Linux, no
/// terminal browser is started in the middle of the login: the link is printed instead.
fn open_browser(link: &str) -> Result<(), String> {
    if cfg!(target_os = "linux")
        && std::env::var_os("BROWSER").is_none()
        && std::env::var_os("DISPLAY").is_none()
        && std::env::var_os("WAYLAND_DISPLAY").is_none()
    {
        return Err("no display, and BROWSER is not set".into());
    }
    webbrowser::open(link).map_err(|e| e.to_string())
}

/// `kubeairunway logout`.
pub async fn logout(args: ServerArgs) -> Result<(), LoginError> {
    let server = normalize_server(&args.server)?;
    let store = Store::for_user()?;
    if store.remove(&server)? {
        println!(
            "Logged out of {server}: its token is removed from {}.",
            store.path().display()
        );
        println!(
            "A browser that signed in with it stays signed in until you sign out there (user menu → Sign out)."
        );
    } else {
        println!("Not logged in to {server}; nothing to remove.");
    }
    Ok(())
}

/// `kubeairunway whoami`.
pub async fn whoami(args: ServerArgs) -> Result<(), LoginError> {
    let server = normalize_server(&args.server)?;
    let store = Store::for_user()?;
    let stored = store.get(&server)?;
    if let Some(at) = stored.as_ref().and_then(|c| c.expires_at.clone())
        && at.parse::<Timestamp>().is_ok_and(|t| t <= Timestamp::now())
    {
        return Err(LoginError::StoredExpired { url: server, at });
    }
    match ask_server(&server, stored.as_ref().map(|c| c.token.as_str())).await? {
        Verdict::AuthOff => {
            println!(
                "{server} does not require signing in: it acts as its own Kubernetes identity for everyone."
            );
            Ok(())
        }
        Verdict::Rejected(message) => match stored {
            None => Err(LoginError::NotLoggedIn { url: server }),
            Some(_) => Err(LoginError::StoredRejected {
                url: server,
                message,
            }),
        },
        Verdict::Accepted(who) => {
            println!("Username: {}", who.username.as_deref().unwrap_or("unknown"));
            println!("Groups: {}", groups_text(&who.groups));
            println!("Server: {server}");
            if let Some(at) = stored.and_then(|c| c.expires_at) {
                println!("Expires: {at}");
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_are_normalized_and_checked() {
        assert_eq!(
            normalize_server("http://localhost:3001/").expect("ok"),
            "http://localhost:3001"
        );
        assert_eq!(
            normalize_server("https://kair.example.com/ui/").expect("ok"),
            "https://kair.example.com/ui"
        );
        assert!(normalize_server("localhost:3001").is_err());
        assert!(normalize_server("ftp://host").is_err());
        assert!(normalize_server("http://host/?a=b").is_err());
    }

    #[test]
    fn the_magic_link_carries_the_token_in_the_fragment_encoded() {
        assert_eq!(
            magic_link("http://localhost:3001", "a+b/c=d e"),
            "http://localhost:3001/login#token=a%2Bb%2Fc%3Dd+e"
        );
    }
}
