//! `kubeairunway serve` refuses unsafe configurations at start, with the reason, before it
//! listens: `CORS_ORIGIN=*` without `AUTH_ENABLED=true`.

use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn cors_any_origin_without_auth_stops_the_start_with_the_reason() {
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_kubeairunway"))
        .arg("serve")
        .env("CORS_ORIGIN", "*")
        .env("AUTH_ENABLED", "false")
        .env("PORT", "0")
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .output()
        .expect("kubeairunway runs");
    assert!(!out.status.success(), "serve must not start");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("CORS_ORIGIN=* (any origin) needs AUTH_ENABLED=true"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("is serving on"),
        "refused before listening: {stderr}"
    );
    assert!(started.elapsed() < Duration::from_secs(30));
}
