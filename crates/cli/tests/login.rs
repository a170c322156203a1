//! `kubeairunway login`, `whoami` and `logout` against the real local control plane and real
//! servers with auth on (acting as the backend's identity, checking tokens with TokenReview) and
//! off. The real binary runs with HOME and KUBECONFIG in a temporary directory, never touching
//! the user's own files.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::ServiceAccount;
use kube::api::{Api, DeleteParams, PostParams};
use kubeairunway_server::{BuildInfo, Config, KubeAccess};
use kubeairunway_testenv::{User, shared};

/// Starts `serve` in-process on an ephemeral loopback port; with `auth` it checks tokens and
/// acts as [`User::Backend`], without it acts as [`User::Admin`].
async fn start_server(auth: bool) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let addr = listener.local_addr().expect("local address");
    let build = BuildInfo {
        version: env!("CARGO_PKG_VERSION").into(),
        build_time: "test".into(),
        git_commit: "test".into(),
    };
    let mut config = Config::local(addr, build);
    config.auth_enabled = auth;
    let identity = if auth { User::Backend } else { User::Admin };
    let kube = KubeAccess::new(
        shared().config(identity).await.expect("kube config"),
        identity.context(),
    )
    .expect("kube access");
    tokio::spawn(async move {
        if let Err(e) =
            kubeairunway_server::serve_on(listener, config, Some(kube), std::future::pending())
                .await
        {
            eprintln!("the server on {addr} stopped with an error: {e}");
        }
    });
    format!("http://{addr}")
}

/// A HOME and a kubeconfig of one test.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn credentials(&self) -> PathBuf {
        self.path().join(".kubeairunway/credentials.json")
    }

    /// Writes the kubeconfig: one context `ctx` on the local cluster whose user is `user_yaml`
    /// (indented under `user:`).
    fn kubeconfig(&self, user_yaml: &str) {
        let info = shared().info();
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: local\n  cluster:\n    server: {}\n    \
             certificate-authority: {}\ncontexts:\n- name: ctx\n  context:\n    cluster: local\n    \
             user: someone\ncurrent-context: ctx\nusers:\n- name: someone\n  user:\n{user_yaml}",
            info.server,
            info.ca_path().display()
        );
        std::fs::write(self.path().join("kubeconfig"), text).expect("write kubeconfig");
    }

    /// An executable script in HOME.
    fn script(&self, name: &str, body: &str) -> PathBuf {
        let path = self.path().join(name);
        std::fs::write(&path, format!("#!/bin/sh\nset -eu\n{body}")).expect("write script");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        path
    }

    /// Runs `kubeairunway ARGS` with this HOME and kubeconfig, no browser and no proxy.
    fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, &[])
    }

    fn run_with(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let out = Command::new(env!("CARGO_BIN_EXE_kubeairunway"))
            .args(args)
            .env("HOME", self.path())
            .env("KUBECONFIG", self.path().join("kubeconfig"))
            .env("NO_PROXY", "*")
            .env_remove("KUBEAIRUNWAY_SERVER")
            .env_remove("BROWSER")
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .envs(env.iter().copied())
            .output()
            .expect("kubeairunway runs");
        Run(out)
    }
}

struct Run(Output);

impl Run {
    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).into_owned()
    }

    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.0.stderr).into_owned()
    }

    #[track_caller]
    fn ok(&self) -> String {
        assert!(
            self.0.status.success(),
            "expected success; stdout:\n{}\nstderr:\n{}",
            self.stdout(),
            self.stderr()
        );
        self.stdout()
    }

    /// Asserts exit code 1 and returns stderr.
    #[track_caller]
    fn fails(&self) -> String {
        assert_eq!(
            self.0.status.code(),
            Some(1),
            "expected exit code 1; stdout:\n{}\nstderr:\n{}",
            self.stdout(),
            self.stderr()
        );
        self.stderr()
    }
}

fn stored(home: &Home) -> serde_json::Value {
    let text = std::fs::read_to_string(home.credentials()).expect("credentials file");
    serde_json::from_str(&text).expect("credentials JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_static_token_logs_in_is_stored_privately_and_logs_out() {
    let server = start_server(true).await;
    let token = shared().info().users.viewer.clone();
    let home = Home::new();
    home.kubeconfig(&format!("    token: {token}\n"));

    let out = home
        .run(&["login", "--server", &format!("{server}/"), "--no-browser"])
        .ok();
    assert!(
        out.contains(&format!(
            "Logged in to {server} as viewer (groups: kubeairunway:viewers, system:authenticated)."
        )),
        "{out}"
    );
    assert!(out.contains("(context \"ctx\", static token)"), "{out}");
    // The link is printed alone on the last line, the token in its fragment.
    assert_eq!(
        out.lines().last(),
        Some(format!("{server}/login#token={token}").as_str()),
        "{out}"
    );

    // Private: the directory 0700, the file 0600, and nothing else left beside it.
    let mode = |p: &Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
    assert_eq!(mode(&home.credentials()), 0o600);
    assert_eq!(mode(&home.path().join(".kubeairunway")), 0o700);
    let entries = std::fs::read_dir(home.path().join(".kubeairunway"))
        .expect("dir")
        .count();
    assert_eq!(entries, 1, "only credentials.json");
    let file = stored(&home);
    let entry = &file["servers"][&server];
    assert_eq!(entry["token"], token.as_str());
    assert_eq!(entry["username"], "viewer");
    assert_eq!(entry["context"], "ctx");
    assert!(
        entry.get("expiresAt").is_none(),
        "a static token states no expiry"
    );

    let who = home.run(&["whoami", "--server", &server]).ok();
    assert!(who.contains("Username: viewer\n"), "{who}");
    assert!(
        who.contains("Groups: kubeairunway:viewers, system:authenticated\n"),
        "{who}"
    );

    let out = home.run(&["logout", "--server", &server]).ok();
    assert!(out.contains(&format!("Logged out of {server}")), "{out}");
    assert!(
        !home.credentials().exists(),
        "the last credential removes the file"
    );
    let err = home.run(&["whoami", "--server", &server]).fails();
    assert!(
        err.contains(&format!(
            "not logged in to {server}: run `kubeairunway login --server {server}`"
        )),
        "{err}"
    );
    let out = home.run(&["logout", "--server", &server]).ok();
    assert!(out.contains("nothing to remove"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exec_plugin_is_run_as_kubectl_runs_it() {
    let server = start_server(true).await;
    let token = shared().info().users.team_a.clone();
    let home = Home::new();
    let seen = home.path().join("plugin-saw");
    let expiry = "2099-01-02T03:04:05Z";
    let plugin = home.script(
        "token-plugin",
        &format!(
            "printf '%s\\n' \"$*\" \"$PLUGIN_SETTING\" \"$KUBERNETES_EXEC_INFO\" > {seen}\n\
             cat <<EOF\n{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\
             \"status\":{{\"token\":\"{token}\",\"expirationTimestamp\":\"{expiry}\"}}}}\nEOF\n",
            seen = seen.display()
        ),
    );
    home.kubeconfig(&format!(
        "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {}\n      \
         args: [get-token, \"--with space\"]\n      env:\n      - name: PLUGIN_SETTING\n        \
         value: from-kubeconfig\n      interactiveMode: Never\n      provideClusterInfo: true\n",
        plugin.display()
    ));

    let out = home
        .run(&["login", "--server", &server, "--no-browser"])
        .ok();
    assert!(
        out.contains(&format!("Logged in to {server} as alice")),
        "{out}"
    );
    assert!(
        out.contains(&format!("exec plugin `{}`", plugin.display())),
        "{out}"
    );
    assert!(out.contains(&format!("expires at {expiry}")), "{out}");
    assert_eq!(stored(&home)["servers"][&server]["expiresAt"], expiry);

    // Its arguments arrive as given (no shell), its env from the kubeconfig, and the exec info
    // says what kubectl says: the version asked for, not interactive, and the cluster.
    let saw = std::fs::read_to_string(&seen).expect("the plugin ran");
    let mut lines = saw.lines();
    assert_eq!(lines.next(), Some("get-token --with space"));
    assert_eq!(lines.next(), Some("from-kubeconfig"));
    let info: serde_json::Value =
        serde_json::from_str(lines.next().expect("exec info")).expect("exec info JSON");
    assert_eq!(info["apiVersion"], "client.authentication.k8s.io/v1");
    assert_eq!(info["kind"], "ExecCredential");
    assert_eq!(info["spec"]["interactive"], false);
    assert_eq!(
        info["spec"]["cluster"]["server"],
        shared().info().server.as_str()
    );

    let who = home.run(&["whoami", "--server", &server]).ok();
    assert!(who.contains("Username: alice\n"), "{who}");
    assert!(who.contains(&format!("Expires: {expiry}")), "{who}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exec_plugin_in_v1beta1_that_reports_a_client_certificate_is_refused_with_advice() {
    let server = start_server(true).await;
    let home = Home::new();
    let plugin = home.script(
        "cert-plugin",
        "echo '{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"kind\":\"ExecCredential\",\
         \"status\":{\"clientCertificateData\":\"x\",\"clientKeyData\":\"y\"}}'\n",
    );
    home.kubeconfig(&format!(
        "    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: {}\n",
        plugin.display()
    ));
    let err = home
        .run(&["login", "--server", &server, "--no-browser"])
        .fails();
    assert!(
        err.contains("signs in with a client certificate (from its exec plugin)"),
        "{err}"
    );
    assert!(
        err.contains("`kubectl --context ctx create token NAME"),
        "{err}"
    );
    assert!(!home.credentials().exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_certificate_user_is_told_how_to_get_a_token() {
    let server = start_server(true).await;
    let home = Home::new();
    // The test cluster's CA stands in for a client certificate: it is never sent anywhere.
    let ca = shared().info().ca_path();
    home.kubeconfig(&format!(
        "    client-certificate: {ca}\n    client-key: {ca}\n",
        ca = ca.display()
    ));
    let err = home
        .run(&["login", "--server", &server, "--no-browser"])
        .fails();
    assert!(
        err.contains("signs in with a client certificate, which is not a token"),
        "{err}"
    );
    assert!(
        err.contains("kubectl --context ctx create token NAME"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_is_refused_with_how_to_refresh_it() {
    let server = start_server(true).await;
    let home = Home::new();

    // The plugin says the token has expired: nothing is sent to the server.
    let plugin = home.script(
        "stale-plugin",
        "echo '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\
         \"status\":{\"token\":\"stale\",\"expirationTimestamp\":\"2020-01-01T00:00:00Z\"}}'\n",
    );
    home.kubeconfig(&format!(
        "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {}\n      \
         interactiveMode: IfAvailable\n",
        plugin.display()
    ));
    let err = home
        .run(&["login", "--server", &server, "--no-browser"])
        .fails();
    assert!(err.contains("expired at 2020-01-01T00:00:00Z"), "{err}");
    assert!(
        err.contains("kubectl --context ctx get namespaces"),
        "{err}"
    );
    assert!(!home.credentials().exists());

    // A service account token the cluster no longer accepts (its account is gone; the API
    // server will not issue one shorter than 10 minutes to wait for): the server says why.
    let admin = shared().client(User::Admin).await.expect("admin client");
    let namespace = shared().namespace("login").await.expect("namespace").name;
    let accounts: Api<ServiceAccount> = Api::namespaced(admin, &namespace);
    let account: ServiceAccount =
        serde_json::from_value(serde_json::json!({ "metadata": { "name": "short-lived" } }))
            .expect("service account");
    accounts
        .create(&PostParams::default(), &account)
        .await
        .expect("create service account");
    let request = TokenRequest {
        spec: TokenRequestSpec {
            expiration_seconds: Some(600),
            ..Default::default()
        },
        ..Default::default()
    };
    let issued = accounts
        .create_token_request("short-lived", &PostParams::default(), &request)
        .await
        .expect("token request");
    let token = issued.status.expect("token status").token;
    accounts
        .delete("short-lived", &DeleteParams::default())
        .await
        .expect("delete service account");
    // The account is gone once the API server no longer returns it.
    kubeairunway_testenv::wait_until(
        "the service account to be deleted",
        Duration::from_secs(30),
        || {
            let accounts = accounts.clone();
            async move {
                let found = accounts.get_opt("short-lived").await.map_err(|e| {
                    kubeairunway_testenv::Error::State(format!("reading service accounts: {e}"))
                })?;
                Ok((found.is_none().then_some(()), String::new()))
            }
        },
    )
    .await
    .expect("service account deleted");
    home.kubeconfig(&format!("    token: {token}\n"));
    let err = home
        .run(&["login", "--server", &server, "--no-browser"])
        .fails();
    assert!(
        err.contains(&format!(
            "the server at {server} rejected the token of kubeconfig context \"ctx\" (static token)"
        )),
        "{err}"
    );
    assert!(
        err.contains("The token has expired or is not valid"),
        "{err}"
    );
    assert!(err.contains("kubectl create token"), "{err}");
    assert!(!home.credentials().exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_server_is_named_clearly() {
    let home = Home::new();
    home.kubeconfig(&format!("    token: {}\n", shared().info().users.viewer));

    // Nothing listens.
    let free = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = free.local_addr().expect("addr").port();
    drop(free);
    let url = format!("http://127.0.0.1:{port}");
    let err = home
        .run(&["login", "--server", &url, "--no-browser"])
        .fails();
    assert!(
        err.contains(&format!("cannot reach a KubeAIRunway server at {url}")),
        "{err}"
    );
    assert!(err.contains("Connection refused"), "{err}");

    // Something else answers.
    let other = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let other_url = format!("http://{}", other.local_addr().expect("addr"));
    std::thread::spawn(move || {
        use std::io::{Read as _, Write as _};
        for stream in other.incoming().take(1) {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(
                b"HTTP/1.1 404 Not Found\r\ncontent-length: 9\r\nconnection: close\r\n\r\nnot found",
            );
        }
    });
    let err = home
        .run(&["login", "--server", &other_url, "--no-browser"])
        .fails();
    assert!(
        err.contains(&format!(
            "{other_url} does not look like a KubeAIRunway server: GET /api/auth/whoami answered 404 Not Found"
        )),
        "{err}"
    );

    let err = home.run(&["login", "--server", "localhost:3001"]).fails();
    assert!(err.contains("is not a server URL"), "{err}");
    assert!(!home.credentials().exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_auth_has_nothing_to_sign_in_to() {
    let server = start_server(false).await;
    let home = Home::new();
    home.kubeconfig(&format!("    token: {}\n", shared().info().users.viewer));
    let err = home
        .run(&["login", "--server", &server, "--no-browser"])
        .fails();
    assert!(
        err.contains(&format!(
            "the server at {server} does not require signing in"
        )),
        "{err}"
    );
    assert!(!home.credentials().exists());
    let out = home.run(&["whoami", "--server", &server]).ok();
    assert!(out.contains("does not require signing in"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_browser_is_opened_on_the_magic_link() {
    let server = start_server(true).await;
    let token = shared().info().users.admin.clone();
    let home = Home::new();
    home.kubeconfig(&format!("    token: {token}\n"));
    let opened = home.path().join("opened");
    let browser = home.script(
        "browser",
        // Written whole (a rename), so the file is never seen half-written.
        &format!(
            "printf '%s' \"$1\" > '{o}.part' && mv '{o}.part' '{o}'\n",
            o = opened.display()
        ),
    );
    let browser = browser.display().to_string();
    let out = home
        .run_with(&["login", "--server", &server], &[("BROWSER", &browser)])
        .ok();
    assert!(out.contains("Opened the web UI in your browser"), "{out}");
    assert!(
        !out.contains(&token),
        "the token is not printed when a browser opens: {out}"
    );
    // The browser is started detached (login does not wait for it): give it time to run.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !opened.exists() && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let link = std::fs::read_to_string(&opened).expect("the browser was started");
    assert_eq!(link, format!("{server}/login#token={token}"));

    // Without a display or BROWSER, the link is printed instead.
    let out = home.run(&["login", "--server", &server]).ok();
    assert!(
        out.contains("Could not open a browser (no display"),
        "{out}"
    );
    assert_eq!(
        out.lines().last(),
        Some(format!("{server}/login#token={token}").as_str())
    );
}
