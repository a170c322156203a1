//! The container image: the repository's `Dockerfile`, built with a real builder (buildah), run
//! with a real OCI runtime (runc) the way the chart runs it — as user 65532 from the image
//! config, on a read-only root filesystem with a tmpfs `/tmp`, with no capabilities and
//! `no_new_privs`.
//!
//! This machine reaches package registries but no container registry, so the base images of
//! the builder stages (Rust, Node, Go) and of the runtime stage (distroless) cannot be pulled.
//! `scripts/image.sh offline` builds the Dockerfile's `runtime` stage for real and substitutes
//! the rest: the `build` and `helm` stages by build contexts holding what this machine built
//! (here the test binary Cargo built for this test, which carries the `dev` feature; `make
//! image-offline` uses the release binary), and the distroless base by one assembled from this
//! machine's Debian files (the libraries `ldd` names, CA certificates, a nonroot user). So this
//! test proves the runtime stage, the image config (user, entrypoint, ports), that the binary
//! runs with only those libraries, non-root and read-only — not the builder stages, whose
//! commands `make image-offline` runs on the host instead (docs/install.md).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Runs `cmd`, failing the test with its output when it fails.
fn run(cmd: &mut Command, what: &str) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Fails with the command that installs what is missing.
fn preconditions() {
    let mut missing = Vec::new();
    for tool in ["buildah", "runc"] {
        let found = Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !found {
            missing.push(tool);
        }
    }
    assert!(
        missing.is_empty(),
        "{} not installed: run `make image-tools` (Debian's buildah and runc)",
        missing.join(" and ")
    );
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let root = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .and_then(|l| l.split_whitespace().nth(2))
        == Some("0");
    assert!(
        root,
        "building into a private store and running runc needs root here (CI runs as root)"
    );
}

/// A private buildah store and runc state, removed at the end.
struct Store {
    dir: tempfile::TempDir,
}

impl Store {
    fn flags(&self) -> Vec<String> {
        let d = self.dir.path();
        vec![
            "--root".into(),
            d.join("storage").display().to_string(),
            "--runroot".into(),
            d.join("run").display().to_string(),
            "--storage-driver".into(),
            "vfs".into(),
        ]
    }

    fn buildah(&self) -> Command {
        let mut c = Command::new("buildah");
        c.args(self.flags());
        c
    }

    fn runc(&self) -> Command {
        let mut c = Command::new("runc");
        c.arg("--root").arg(self.dir.path().join("runc"));
        c
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        // vfs layers are plain directories; unmount and remove the containers first.
        let _ = self.buildah().args(["rm", "--all"]).output();
        let _ = self.buildah().args(["rmi", "--all", "--force"]).output();
    }
}

/// The OCI runtime config of one container of the image: the image's user, env and working
/// directory, `args`, a read-only root, a tmpfs `/tmp` (the chart's emptyDir), no
/// capabilities, `no_new_privs`, and this machine's network (so a test can reach it).
fn runtime_config(rootfs: &Path, image: &Value, args: &[String]) -> Value {
    let cfg = &image["OCIv1"]["config"];
    let user = cfg["User"].as_str().unwrap_or_default();
    let (uid, gid) = user.split_once(':').unwrap_or((user, user));
    let id = |s: &str| {
        s.parse::<u32>()
            .unwrap_or_else(|_| panic!("numeric user expected, got {user:?}"))
    };
    let none: Vec<String> = Vec::new();
    json!({
        "ociVersion": "1.0.2",
        "process": {
            "terminal": false,
            "user": { "uid": id(uid), "gid": id(gid) },
            "args": args,
            "env": cfg["Env"],
            "cwd": cfg["WorkingDir"].as_str().unwrap_or("/"),
            "capabilities": { "bounding": none, "effective": none, "permitted": none, "inheritable": none, "ambient": none },
            "noNewPrivileges": true,
            "rlimits": [{ "type": "RLIMIT_NOFILE", "hard": 4096, "soft": 4096 }],
        },
        "root": { "path": rootfs, "readonly": true },
        "hostname": "kubeairunway",
        "mounts": [
            { "destination": "/proc", "type": "proc", "source": "proc" },
            { "destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"] },
            { "destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"] },
            { "destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
            { "destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"] },
            { "destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=1777", "size=64m"] },
        ],
        "linux": {
            "namespaces": [{ "type": "pid" }, { "type": "ipc" }, { "type": "uts" }, { "type": "mount" }],
            "maskedPaths": ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
        },
    })
}

/// A bundle directory for one container.
fn bundle(store: &Store, name: &str, config: &Value) -> PathBuf {
    let dir = store.dir.path().join("bundles").join(name);
    std::fs::create_dir_all(&dir).expect("bundle dir");
    std::fs::write(
        dir.join("config.json"),
        serde_json::to_vec_pretty(config).expect("config"),
    )
    .expect("config.json");
    dir
}

/// Runs one container to completion: (success, stdout + stderr).
fn run_container(store: &Store, name: &str, config: &Value) -> (bool, String) {
    let dir = bundle(store, name, config);
    let out = store
        .runc()
        .args(["run", "--bundle"])
        .arg(&dir)
        .arg(name)
        .stdin(Stdio::null())
        .output()
        .expect("runc runs");
    let _ = store.runc().args(["delete", "--force", name]).output();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_image_runs_non_root_on_a_read_only_root_filesystem_and_serves() {
    preconditions();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let helm = kubeairunway_testenv::Binaries::from_env()
        .tool("helm")
        .unwrap_or_else(|e| panic!("{e}; run `make testbin`"));
    let store = Store {
        dir: tempfile::tempdir().expect("temp dir"),
    };
    let tag = format!("localhost/kubeairunway-test:{}", std::process::id());
    let started = Instant::now();
    run(
        Command::new("bash")
            .arg(root.join("scripts/image.sh"))
            .args(["offline", env!("CARGO_BIN_EXE_kubeairunway")])
            .arg(&helm)
            .arg(&tag)
            .env("BUILDAH_FLAGS", store.flags().join(" ")),
        "scripts/image.sh offline",
    );
    eprintln!("image built in {:.1}s", started.elapsed().as_secs_f64());

    let inspect = run(
        store.buildah().args(["inspect", "--type", "image", &tag]),
        "buildah inspect",
    );
    let image: Value = serde_json::from_str(&inspect).expect("inspect JSON");
    let cfg = &image["OCIv1"]["config"];
    assert_eq!(cfg["User"], "65532:65532", "the image runs as nonroot");
    assert_eq!(cfg["Entrypoint"], json!(["/usr/local/bin/kubeairunway"]));
    assert_eq!(cfg["Cmd"], json!(["serve"]));
    assert!(
        cfg["ExposedPorts"]["3001/tcp"].is_object() && cfg["ExposedPorts"]["8081/tcp"].is_object()
    );

    let ctr = run(
        store.buildah().args(["from", "--quiet", &tag]),
        "buildah from",
    );
    let rootfs = PathBuf::from(run(store.buildah().args(["mount", &ctr]), "buildah mount"));
    let entry = |args: &[&str]| -> Vec<String> {
        std::iter::once("/usr/local/bin/kubeairunway")
            .chain(args.iter().copied())
            .map(String::from)
            .collect()
    };

    // The root filesystem refuses writes; the tmpfs /tmp takes them.
    let (ok, out) = run_container(
        &store,
        "write-root",
        &runtime_config(&rootfs, &image, &entry(&["crds", "--output-dir", "/crds"])),
    );
    assert!(
        !ok && out.contains("Read-only file system"),
        "writing / must fail: {out}"
    );
    let (ok, out) = run_container(
        &store,
        "write-tmp",
        &runtime_config(
            &rootfs,
            &image,
            &entry(&["crds", "--output-dir", "/tmp/crds"]),
        ),
    );
    assert!(
        ok && out.contains("/tmp/crds"),
        "writing /tmp must work: {out}"
    );
    // helm, which runtime installation runs, is there and runs.
    let (ok, out) = run_container(
        &store,
        "helm",
        &runtime_config(
            &rootfs,
            &image,
            &[
                "/usr/local/bin/helm".into(),
                "version".into(),
                "--short".into(),
            ],
        ),
    );
    assert!(ok && out.starts_with("v3."), "helm in the image: {out}");

    // `serve` (the image's command), on a port of this machine.
    let port = free_port();
    let config = runtime_config(
        &rootfs,
        &image,
        &entry(&["serve", "--port", &port.to_string()]),
    );
    let dir = bundle(&store, "serve", &config);
    let log = store.dir.path().join("serve.log");
    let out = std::fs::File::create(&log).expect("log");
    let err = out.try_clone().expect("log");
    let mut runc = store
        .runc()
        .args(["run", "--bundle"])
        .arg(&dir)
        .arg("serve")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .expect("runc runs");
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(2))
        .build()
        .expect("http client");
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let health = loop {
        if let Ok(r) = http.get(format!("{base}/api/health")).send().await {
            break r;
        }
        if let Ok(Some(status)) = runc.try_wait() {
            panic!(
                "serve exited with {status}: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        assert!(
            Instant::now() < deadline,
            "no answer in 30 s: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(health.status().as_u16(), 200);
    let ready = http
        .get(format!("{base}/api/health/ready"))
        .send()
        .await
        .expect("ready");
    assert_eq!(
        ready.status().as_u16(),
        503,
        "no cluster configuration: not ready"
    );

    // The process as the kernel sees it: user 65532, no capabilities, no_new_privs.
    let state = run(store.runc().args(["state", "serve"]), "runc state");
    let state: Value = serde_json::from_str(&state).expect("state JSON");
    let pid = state["pid"].as_i64().expect("pid");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("process status");
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .map(|l| {
                l[name.len()..]
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default()
    };
    assert_eq!(field("Uid:"), "65532 65532 65532 65532");
    assert_eq!(field("CapEff:"), "0000000000000000");
    assert_eq!(field("CapBnd:"), "0000000000000000");
    assert_eq!(field("NoNewPrivs:"), "1");

    let _ = store.runc().args(["kill", "serve", "TERM"]).output();
    let stopped = Instant::now();
    while runc.try_wait().ok().flatten().is_none() && stopped.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let exited = runc.try_wait().ok().flatten();
    let _ = store.runc().args(["delete", "--force", "serve"]).output();
    let _ = runc.kill();
    assert!(
        exited.is_some_and(|s| s.success()),
        "serve stops cleanly on SIGTERM: {exited:?}"
    );
    let _ = store.buildah().args(["umount", &ctr]).output();
}
