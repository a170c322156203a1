//! The web UI, served from files embedded in the binary (docs/contract/api.md §1.8 with §19's
//! fixes): exact-path lookup; content-hashed `/assets/*` cached as immutable, everything else
//! revalidated (`no-cache`) with an ETag; unknown `/assets/*` is a 404 instead of `index.html`;
//! other GET/HEAD paths are client-side routes and get `index.html`; other methods get 405; dot
//! segments, backslashes and bad escapes are refused before any lookup.
//!
//! `build.rs` points `KAIR_UI_DIR` at `web/dist`, or at a placeholder page while the UI is not
//! built. The serving logic works on any [`UiFiles`], so it is tested with in-memory files.

use std::borrow::Cow;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

/// Cache policy of content-hashed assets: the name changes whenever the content does.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Cache policy of everything else: always revalidate (cheap with the ETag).
const REVALIDATE: &str = "no-cache";
/// Length of the content hash Vite puts into asset names (`index-BdF3k9aZ.js`).
const HASH_LEN: usize = 8;

/// The files of the built UI, embedded at compile time (read from disk in debug builds).
#[derive(rust_embed::RustEmbed)]
#[folder = "$KAIR_UI_DIR"]
struct Embedded;

/// One UI file.
pub(crate) struct UiFile {
    /// The content.
    pub body: Cow<'static, [u8]>,
    /// Strong ETag (quoted) derived from the content hash.
    pub etag: String,
}

/// A set of UI files keyed by path without the leading `/` (`index.html`, `assets/x-1.js`).
pub(crate) trait UiFiles: Send + Sync {
    /// The file at `path`, if there is one.
    fn get(&self, path: &str) -> Option<UiFile>;
}

/// The files compiled into the binary.
struct EmbeddedFiles;

impl UiFiles for EmbeddedFiles {
    fn get(&self, path: &str) -> Option<UiFile> {
        Embedded::get(path).map(|f| UiFile {
            etag: etag(&f.metadata.sha256_hash()),
            body: f.data,
        })
    }
}

/// A quoted ETag from the first 16 bytes of a SHA-256.
fn etag(hash: &[u8]) -> String {
    format!("\"{}\"", hex::encode(&hash[..hash.len().min(16)]))
}

/// Fallback for every non-API path.
pub(crate) async fn serve(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    respond(&EmbeddedFiles, &method, uri.path(), &headers)
}

/// The answer to `method path` from `files`.
pub(crate) fn respond(
    files: &dyn UiFiles,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "GET, HEAD")],
            "Method not allowed",
        )
            .into_response();
    }
    let Some(path) = clean_path(path) else {
        return (StatusCode::BAD_REQUEST, "Invalid path").into_response();
    };
    let key = if path == "/" {
        "index.html"
    } else {
        &path[1..]
    };
    if let Some(file) = files.get(key) {
        let cache = if is_hashed_asset(key) {
            IMMUTABLE
        } else {
            REVALIDATE
        };
        return file_response(method, headers, key, &file, cache);
    }
    if path == "/assets" || path.starts_with("/assets/") {
        return (StatusCode::NOT_FOUND, "Not found").into_response();
    }
    match files.get("index.html") {
        Some(index) => file_response(method, headers, "index.html", &index, REVALIDATE),
        None => (StatusCode::NOT_FOUND, "Frontend not available").into_response(),
    }
}

/// The percent-decoded path, or `None` when it is malformed or could walk out of the file set
/// (`.`/`..` segments, backslashes, NUL, bad escapes, invalid UTF-8).
fn clean_path(raw: &str) -> Option<String> {
    if !raw.starts_with('/') {
        return None;
    }
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    let path = String::from_utf8(out).ok()?;
    let bad_segment = path.split('/').any(|s| s == "." || s == "..");
    if bad_segment || path.contains(['\\', '\0']) {
        return None;
    }
    Some(path)
}

/// Whether `key` is a content-hashed build asset: under `assets/`, its stem ending in
/// `-` and a hash of [`HASH_LEN`] URL-safe characters with at least one digit or capital (so
/// a plain word such as `-standard` is not mistaken for a hash).
fn is_hashed_asset(key: &str) -> bool {
    let Some(name) = key.strip_prefix("assets/") else {
        return false;
    };
    let name = name.rsplit('/').next().unwrap_or(name);
    let stem = name.split_once('.').map_or(name, |(stem, _)| stem);
    let Some(split) = stem.len().checked_sub(HASH_LEN + 1) else {
        return false;
    };
    let (head, hash) = stem.split_at(split);
    let hash = &hash[1..];
    !head.is_empty()
        && stem.as_bytes()[split] == b'-'
        && hash
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        && hash
            .bytes()
            .any(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
}

/// 200 with the file (empty body for HEAD), or 304 when the client's copy is current.
fn file_response(
    method: &Method,
    headers: &HeaderMap,
    key: &str,
    file: &UiFile,
    cache: &'static str,
) -> Response {
    let mut builder = Response::builder()
        .header(header::CACHE_CONTROL, cache)
        .header(header::CONTENT_TYPE, content_type(key));
    if let Ok(tag) = HeaderValue::from_str(&file.etag) {
        builder = builder.header(header::ETAG, tag);
    }
    let fresh = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim())
        .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == file.etag);
    let response = if fresh {
        builder.status(StatusCode::NOT_MODIFIED).body(Body::empty())
    } else if method == Method::HEAD {
        builder
            .status(StatusCode::OK)
            .header(header::CONTENT_LENGTH, file.body.len())
            .body(Body::empty())
    } else {
        builder
            .status(StatusCode::OK)
            .body(Body::from(file.body.clone().into_owned()))
    };
    response.unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// Content type from the file extension.
fn content_type(key: &str) -> &'static str {
    let ext = key
        .rsplit('/')
        .next()
        .and_then(|name| name.rsplit_once('.'))
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "txt" => "text/plain; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "eot" => "application/vnd.ms-fontobject",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use axum::Router;
    use axum::http::Request;
    use sha2::{Digest, Sha256};
    use tower::ServiceExt;

    use super::*;

    /// UI files held in memory.
    struct MemoryFiles(BTreeMap<String, Vec<u8>>);

    impl UiFiles for MemoryFiles {
        fn get(&self, path: &str) -> Option<UiFile> {
            self.0.get(path).map(|body| UiFile {
                etag: etag(&Sha256::digest(body)),
                body: Cow::Owned(body.clone()),
            })
        }
    }

    const INDEX: &str = "<!doctype html><title>KubeAIRunway</title>";

    fn app() -> Router {
        let files = Arc::new(MemoryFiles(
            [
                ("index.html", INDEX),
                ("assets/index-BdF3k9aZ.js", "console.log(1)"),
                ("assets/index-a1b2c3d4.css", "body{}"),
                ("assets/logo-standard.svg", "<svg/>"),
                ("favicon.ico", "ico"),
                ("robots.txt", "User-agent: *"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
            .collect(),
        ));
        Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap| {
            let files = files.clone();
            async move { respond(files.as_ref(), &method, uri.path(), &headers) }
        })
    }

    struct Reply {
        status: StatusCode,
        headers: HeaderMap,
        body: String,
    }

    async fn call(method: Method, path: &str, headers: &[(&str, &str)]) -> Reply {
        let mut req = Request::builder().method(method).uri(path);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let response = app()
            .oneshot(req.body(Body::empty()).expect("request"))
            .await
            .expect("answer");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .expect("body");
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    fn header<'a>(r: &'a Reply, name: &str) -> &'a str {
        r.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    #[tokio::test]
    async fn hashed_assets_are_immutable_and_typed() {
        let js = call(Method::GET, "/assets/index-BdF3k9aZ.js", &[]).await;
        assert_eq!(js.status, StatusCode::OK);
        assert_eq!(js.body, "console.log(1)");
        assert_eq!(header(&js, "cache-control"), IMMUTABLE);
        assert_eq!(
            header(&js, "content-type"),
            "text/javascript; charset=utf-8"
        );
        let css = call(Method::GET, "/assets/index-a1b2c3d4.css", &[]).await;
        assert_eq!(header(&css, "cache-control"), IMMUTABLE);
        assert_eq!(header(&css, "content-type"), "text/css; charset=utf-8");
        let unhashed = call(Method::GET, "/assets/logo-standard.svg", &[]).await;
        assert_eq!(unhashed.status, StatusCode::OK);
        assert_eq!(header(&unhashed, "cache-control"), REVALIDATE);
        assert_eq!(header(&unhashed, "content-type"), "image/svg+xml");
        let ico = call(Method::GET, "/favicon.ico", &[]).await;
        assert_eq!(header(&ico, "content-type"), "image/x-icon");
        assert_eq!(header(&ico, "cache-control"), REVALIDATE);
    }

    #[tokio::test]
    async fn index_and_client_routes_get_index_html_uncached() {
        for path in [
            "/",
            "/index.html",
            "/login",
            "/deployments",
            "/deployments/llama-3",
            "/deploy/Qwen%2FQwen2.5-0.5B",
            "/settings?tab=general",
            "/oauth/callback/huggingface",
        ] {
            let r = call(Method::GET, path, &[]).await;
            assert_eq!(r.status, StatusCode::OK, "{path}");
            assert_eq!(r.body, INDEX, "{path}");
            assert_eq!(header(&r, "cache-control"), "no-cache", "{path}");
            assert_eq!(
                header(&r, "content-type"),
                "text/html; charset=utf-8",
                "{path}"
            );
        }
    }

    #[tokio::test]
    async fn unknown_assets_are_404_not_index_html() {
        for path in [
            "/assets/missing-AbCd1234.js",
            "/assets/index-BdF3k9aZ.js.map",
            "/assets/",
            "/assets",
            "/assets/deep/missing.css",
        ] {
            let r = call(Method::GET, path, &[]).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
            assert_ne!(r.body, INDEX, "{path}");
        }
    }

    #[tokio::test]
    async fn other_methods_get_405() {
        for method in [Method::POST, Method::PUT, Method::DELETE, Method::PATCH] {
            let r = call(method.clone(), "/deployments", &[]).await;
            assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
            assert_eq!(header(&r, "allow"), "GET, HEAD");
            let r = call(method.clone(), "/assets/index-BdF3k9aZ.js", &[]).await;
            assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
        }
    }

    #[tokio::test]
    async fn head_has_headers_and_no_body() {
        let r = call(Method::HEAD, "/assets/index-BdF3k9aZ.js", &[]).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body, "");
        assert_eq!(header(&r, "content-length"), "14");
        assert_eq!(header(&r, "cache-control"), IMMUTABLE);
    }

    #[tokio::test]
    async fn matching_etags_get_304() {
        let first = call(Method::GET, "/", &[]).await;
        let tag = header(&first, "etag").to_string();
        assert!(tag.starts_with('"') && tag.len() > 10, "{tag}");
        let again = call(Method::GET, "/login", &[("if-none-match", &tag)]).await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED);
        assert_eq!(again.body, "");
        assert_eq!(header(&again, "etag"), tag);
        let weak = format!("\"other\", W/{tag}");
        let again = call(Method::GET, "/", &[("if-none-match", &weak)]).await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED);
        let stale = call(Method::GET, "/", &[("if-none-match", "\"other\"")]).await;
        assert_eq!(stale.status, StatusCode::OK);
        assert_eq!(stale.body, INDEX);
    }

    #[tokio::test]
    async fn traversal_and_malformed_paths_never_reach_a_file() {
        for path in [
            "/../Cargo.toml",
            "/assets/../index.html",
            "/%2e%2e/etc/passwd",
            "/%2E%2E/%2E%2E/etc/passwd",
            "/assets/%2e%2e/%2e%2e/Cargo.toml",
            "/.%2e/x",
            "/./index.html",
            "/assets/..%2findex.html",
            "/..%5c..%5cwindows",
            "/%5c..%5cindex.html",
            "/a%00b",
            "/bad%zzescape",
            "/trunc%2",
            "/%ff%fe",
        ] {
            let r = call(Method::GET, path, &[]).await;
            assert!(
                r.status == StatusCode::BAD_REQUEST || r.status == StatusCode::NOT_FOUND,
                "{path}: {}",
                r.status
            );
            assert_ne!(r.body, INDEX, "{path}");
        }
    }

    #[test]
    fn hash_detection() {
        assert!(is_hashed_asset("assets/index-BdF3k9aZ.js"));
        assert!(is_hashed_asset("assets/vendor-react-Bd-3k9aZ.js"));
        assert!(is_hashed_asset("assets/font-a1b2c3d4.woff2"));
        assert!(!is_hashed_asset("assets/logo-standard.svg"));
        assert!(!is_hashed_asset("assets/-BdF3k9aZ.js"));
        assert!(!is_hashed_asset("assets/short-Ab1.js"));
        assert!(!is_hashed_asset("index-BdF3k9aZ.js"));
        assert!(!is_hashed_asset("assets/indexBdF3k9aZ1.js"));
    }

    #[test]
    fn the_embedded_files_have_an_index() {
        let index = EmbeddedFiles
            .get("index.html")
            .expect("index.html embedded");
        assert!(
            String::from_utf8_lossy(&index.body)
                .to_ascii_lowercase()
                .contains("<html"),
            "index.html is HTML"
        );
        assert!(EmbeddedFiles.get("../Cargo.toml").is_none());
    }
}
