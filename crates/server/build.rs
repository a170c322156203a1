//! Points `KAIR_UI_DIR` at the web UI the binary embeds: `<repo>/web/dist` once the UI is built,
//! else a generated placeholder page in `OUT_DIR` (the source tree is never written to).

use std::path::{Path, PathBuf};

const PLACEHOLDER: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>KubeAIRunway</title>
</head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; padding: 0 1rem">
<h1>KubeAIRunway</h1>
<p>The web UI is not built yet: build it in <code>web/</code> (its output goes to <code>web/dist</code>) and rebuild the server.</p>
<p>The REST API is running: see <a href="/api/health">/api/health</a> and <a href="/api/openapi.json">/api/openapi.json</a>.</p>
</body>
</html>
"#;

fn main() {
    let manifest =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into()));
    let web = manifest.join("../../web");
    let dist = web.join("dist");
    println!("cargo:rerun-if-changed=build.rs");
    let dir = if dist.join("index.html").is_file() {
        println!("cargo:rerun-if-changed={}", dist.display());
        dist
    } else {
        // A missing path would make Cargo rerun this script on every build, so watch the
        // nearest existing directory for `dist` to appear.
        if web.is_dir() {
            println!("cargo:rerun-if-changed={}", web.display());
        }
        placeholder()
    };
    let dir = dir.canonicalize().unwrap_or(dir);
    println!("cargo:rustc-env=KAIR_UI_DIR={}", dir.display());
}

/// Writes the placeholder UI into `OUT_DIR` and returns its directory.
fn placeholder() -> PathBuf {
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_else(|_| ".".into()));
    let dir = out.join("ui-placeholder");
    if let Err(e) = write(&dir) {
        panic!("cannot write the placeholder UI to {}: {e}", dir.display());
    }
    dir
}

fn write(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let index = dir.join("index.html");
    if std::fs::read_to_string(&index).ok().as_deref() != Some(PLACEHOLDER) {
        std::fs::write(index, PLACEHOLDER)?;
    }
    Ok(())
}
