//! A TypeScript program written against the reference implementation's shared client — it
//! imports only `@kubeairunway/shared/api` — lists, creates, reads and deletes a deployment
//! against the real backend on the local control plane, with and without authentication. The
//! program is `packages/shared/test/node/reference-client.node.ts`, run by Node's own test runner
//! (`node --test`), which fails this test when any of its checks fails.
//!
//! Nothing is skipped: without Node or the npm packages the test fails with the command that
//! fixes it.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use kubeairunway_testenv::User;
use support::{AuthMode, Server};

/// `packages/shared`, after checking that Node and the package's dependencies are there.
fn package_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../packages/shared")
        .canonicalize()
        .expect("packages/shared");
    let resolve = Command::new("node")
        .args([
            "-e",
            "for (const p of ['typescript', 'openapi-fetch']) require.resolve(p)",
        ])
        .current_dir(&dir)
        .output();
    match resolve {
        Err(e) => panic!("Node.js cannot be run ({e}): install Node ≥ 20.19 with npm"),
        Ok(o) if !o.status.success() => panic!(
            "the npm packages are not installed (run `npm ci` in the repository root): {}",
            String::from_utf8_lossy(&o.stderr)
                .lines()
                .next()
                .unwrap_or_default()
        ),
        Ok(_) => {}
    }
    dir
}

/// Runs the program against `server` in a fresh namespace, with `token` when given.
async fn run_program(server: &Server, token: Option<String>) {
    let dir = package_dir();
    let namespace = support::namespace("shared-client").await;
    let base = server.base.clone();
    let output = tokio::task::spawn_blocking(move || {
        let mut command = Command::new("node");
        command
            .args([
                "--import",
                "./test/node/register.mjs",
                "--test",
                "--test-reporter=spec",
                "test/node/reference-client.node.ts",
            ])
            .current_dir(&dir)
            .env("KAIR_BASE_URL", base)
            .env("KAIR_NAMESPACE", namespace)
            .env_remove("KAIR_TOKEN")
            .env("NO_COLOR", "1");
        if let Some(token) = token {
            command.env("KAIR_TOKEN", token);
        }
        command.output()
    })
    .await
    .expect("join")
    .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(
        output.status.success(),
        "the program using @kubeairunway/shared/api failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("pass 3"), "all three tests ran:\n{stdout}");
}

#[tokio::test]
async fn the_reference_client_surface_drives_the_backend_without_auth() {
    let server = support::own_server(AuthMode::Off);
    tokio::time::timeout(Duration::from_secs(180), run_program(&server, None))
        .await
        .expect("the program finished in time");
}

#[tokio::test]
async fn the_reference_client_surface_drives_the_backend_with_a_bearer_token() {
    let server = support::own_server(AuthMode::On);
    tokio::time::timeout(
        Duration::from_secs(180),
        run_program(&server, Some(support::token(User::Admin))),
    )
    .await
    .expect("the program finished in time");
}
