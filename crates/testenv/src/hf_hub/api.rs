//! The repository routes: the model listing, model info and raw files (`resolve`).

use std::cmp::Ordering;

use axum::extract::{Path, RawQuery, State};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE, ETAG, LOCATION};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use super::catalogue::{
    Content, EXPANDABLE, FULL_KEYS, LISTING_KEYS, Lookup, MODEL_INFO_KEYS, Repo,
};
use super::{AppState, Caller, NOT_SIGNED_IN, Shared, hub_error, json_response};

/// Where LFS files redirect to (the Hub redirects to its CDN).
pub(super) const LFS_OBJECT_ROUTE: &str = "/__testenv/lfs/{oid}";

/// Page size when `limit` is absent, and the largest `limit` honoured.
const MAX_PAGE: usize = 1000;

/// `GET /api/models`.
pub(super) async fn list_models(
    State(shared): AppState,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    if let Err(refused) = Caller::from_headers(&shared, &headers) {
        return refused.into_response();
    }
    let pairs = query_pairs(query.as_deref());
    let query = match ListQuery::parse(&pairs) {
        Ok(query) => query,
        Err(message) => return hub_error(StatusCode::BAD_REQUEST, None, &message),
    };
    let mut hits: Vec<&Repo> = shared
        .catalogue
        .repos()
        .filter(|repo| query.matches(repo))
        .collect();
    hits.sort_by(|a, b| query.order(a, b));
    let start = query.offset.min(hits.len());
    let end = (start + query.limit).min(hits.len());
    let keys = query.keys();
    let page: Vec<Value> = hits[start..end]
        .iter()
        .map(|repo| repo.render(&keys, false))
        .collect();
    let mut response = json_response(StatusCode::OK, &Value::Array(page));
    if end < hits.len() {
        let link = next_link(&shared.base_url, &pairs, end);
        if let Ok(value) = HeaderValue::from_str(&link) {
            response.headers_mut().insert("Link", value);
        }
    }
    response
}

/// The parameters of a listing request.
struct ListQuery {
    search: Option<String>,
    author: Option<String>,
    filters: Vec<String>,
    sort: Option<String>,
    descending: bool,
    limit: usize,
    offset: usize,
    full: bool,
    config: bool,
    expand: Vec<String>,
}

impl ListQuery {
    fn parse(pairs: &[(String, String)]) -> Result<ListQuery, String> {
        let mut query = ListQuery {
            search: None,
            author: None,
            filters: Vec::new(),
            sort: None,
            descending: true,
            limit: MAX_PAGE,
            offset: 0,
            full: false,
            config: false,
            expand: Vec::new(),
        };
        for (key, value) in pairs {
            match key.as_str() {
                "search" => query.search = Some(value.to_lowercase()),
                "author" => query.author = Some(value.clone()),
                "filter" | "pipeline_tag" | "library" => query.filters.push(value.clone()),
                "sort" => {
                    let known = [
                        "downloads",
                        "likes",
                        "trendingScore",
                        "createdAt",
                        "lastModified",
                        "id",
                    ];
                    if !known.contains(&value.as_str()) {
                        return Err(format!(
                            "Invalid sort \"{value}\": must be one of {}",
                            known.join(", ")
                        ));
                    }
                    query.sort = Some(value.clone());
                }
                "direction" => query.descending = value == "-1",
                "limit" => {
                    let limit: usize = value
                        .parse()
                        .map_err(|_| format!("Invalid limit \"{value}\": must be a number"))?;
                    query.limit = limit.clamp(1, MAX_PAGE);
                }
                "full" => query.full = truthy(value),
                "config" => query.config = truthy(value),
                "expand" | "expand[]" => query.expand.push(expand_value(value)?),
                "cursor" => query.offset = decode_cursor(value)?,
                _ => {}
            }
        }
        Ok(query)
    }

    fn matches(&self, repo: &Repo) -> bool {
        let search = self
            .search
            .as_ref()
            .is_none_or(|s| repo.id.to_lowercase().contains(s));
        let author = self
            .author
            .as_ref()
            .is_none_or(|a| repo.author().eq_ignore_ascii_case(a));
        search && author && self.filters.iter().all(|f| repo.has_tag(f))
    }

    /// The Hub's order: by `sort` (descending unless `direction` says otherwise), by trending
    /// score without one; ties by id.
    fn order(&self, a: &Repo, b: &Repo) -> Ordering {
        let by = match self.sort.as_deref() {
            Some("downloads") => a.downloads().cmp(&b.downloads()),
            Some("likes") => a.likes().cmp(&b.likes()),
            Some("createdAt") => a.created_at().cmp(b.created_at()),
            Some("lastModified") => a.last_modified().cmp(b.last_modified()),
            Some("id") => a.id.cmp(&b.id),
            _ => a.trending_score().cmp(&b.trending_score()),
        };
        let by = if self.descending { by.reverse() } else { by };
        by.then_with(|| a.id.cmp(&b.id))
    }

    /// The keys of each entry: only `_id`, `id` and the expanded ones when `expand` is given
    /// (the Hub then ignores `full` and `config`), else the light listing plus `full`/`config`.
    fn keys(&self) -> Vec<&str> {
        if !self.expand.is_empty() {
            return self.expand.iter().map(String::as_str).collect();
        }
        let mut keys = LISTING_KEYS.to_vec();
        if self.full {
            keys.extend_from_slice(FULL_KEYS);
        }
        if self.config {
            keys.push("config");
        }
        keys
    }
}

fn truthy(value: &str) -> bool {
    !matches!(value.to_ascii_lowercase().as_str(), "false" | "0")
}

fn expand_value(value: &str) -> Result<String, String> {
    if EXPANDABLE.contains(&value) {
        Ok(value.to_string())
    } else {
        Err(format!(
            "Invalid expand value \"{value}\": must be one of {}",
            EXPANDABLE.join(", ")
        ))
    }
}

/// The cursor is opaque to clients; here it is the offset of the next page.
fn encode_cursor(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("{{\"offset\":{offset}}}"))
}

fn decode_cursor(cursor: &str) -> Result<usize, String> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .and_then(|value| value.get("offset")?.as_u64())
        .map(|offset| offset as usize)
        .ok_or_else(|| "Invalid cursor".to_string())
}

/// `Link: <…/api/models?…&cursor=…>; rel="next"`, the query of this page with the next cursor.
fn next_link(base_url: &str, pairs: &[(String, String)], offset: usize) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in pairs.iter().filter(|(k, _)| k != "cursor") {
        query.append_pair(key, value);
    }
    query.append_pair("cursor", &encode_cursor(offset));
    format!("<{base_url}/api/models?{}>; rel=\"next\"", query.finish())
}

/// `GET /api/models/{id}`, `/api/models/{id}/revision/{rev}`.
pub(super) async fn model_info(
    State(shared): AppState,
    Path(rest): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let caller = match Caller::from_headers(&shared, &headers) {
        Ok(caller) => caller,
        Err(refused) => return refused.into_response(),
    };
    let (id, revision) = match rest.split_once("/revision/") {
        Some((id, revision)) => (id, Some(revision)),
        None => (rest.as_str(), None),
    };
    let repo = match shared.catalogue.lookup(id) {
        Lookup::Found(repo) => repo,
        Lookup::OtherCase(repo) => {
            let suffix = revision
                .map(|r| format!("/revision/{r}"))
                .unwrap_or_default();
            return redirect(
                &format!("/api/models/{}{suffix}", repo.id),
                query.as_deref(),
            );
        }
        Lookup::Missing => return repo_not_found(&caller),
    };
    if let Some(revision) = revision
        && !is_known_revision(repo, revision)
    {
        return revision_not_found(revision);
    }
    let pairs = query_pairs(query.as_deref());
    let blobs = pairs
        .iter()
        .any(|(key, value)| key == "blobs" && truthy(value));
    let mut expand = Vec::new();
    for (key, value) in &pairs {
        if key == "expand" || key == "expand[]" {
            match expand_value(value) {
                Ok(value) => expand.push(value),
                Err(message) => return hub_error(StatusCode::BAD_REQUEST, None, &message),
            }
        }
    }
    let keys: Vec<&str> = if expand.is_empty() {
        MODEL_INFO_KEYS.to_vec()
    } else {
        expand.iter().map(String::as_str).collect()
    };
    json_response(StatusCode::OK, &repo.render(&keys, blobs))
}

/// `GET|HEAD /{namespace}/{repo}/resolve/{revision}/{path}`; every other path is a 404.
pub(super) async fn resolve(
    State(shared): AppState,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let segments: Vec<String> = uri
        .path()
        .trim_start_matches('/')
        .split('/')
        .map(percent_decode)
        .collect();
    let position = segments.iter().position(|s| s == "resolve");
    let (Some(position @ 1..=2), true) =
        (position, method == Method::GET || method == Method::HEAD)
    else {
        return page_not_found();
    };
    if segments.len() < position + 3 {
        return page_not_found();
    }
    let id = segments[..position].join("/");
    let revision = &segments[position + 1];
    let file_name = segments[position + 2..].join("/");

    let caller = match Caller::from_headers(&shared, &headers) {
        Ok(caller) => caller,
        Err(refused) => return refused.into_response(),
    };
    let repo = match shared.catalogue.lookup(&id) {
        Lookup::Found(repo) => repo,
        Lookup::OtherCase(repo) => {
            let rest = uri
                .path()
                .splitn(position + 2, '/')
                .last()
                .unwrap_or_default();
            return redirect(&format!("/{}/{rest}", repo.id), uri.query());
        }
        Lookup::Missing => return repo_not_found(&caller),
    };
    if repo.is_gated() && !caller.can_read_gated() {
        return gated(&shared, repo, &caller);
    }
    if !is_known_revision(repo, revision) {
        return revision_not_found(revision);
    }
    let Some(file) = repo.file(&file_name) else {
        let mut response = hub_error(
            StatusCode::NOT_FOUND,
            Some("EntryNotFound"),
            "Entry not found",
        );
        insert_header(&mut response, "X-Repo-Commit", &repo.sha);
        return response;
    };
    match &file.content {
        Content::Text(text) => {
            let content_type = if file.name.ends_with(".json") {
                "application/json; charset=utf-8"
            } else {
                "text/plain; charset=utf-8"
            };
            let mut response = (
                StatusCode::OK,
                [
                    (CONTENT_TYPE, content_type.to_string()),
                    (CONTENT_LENGTH, text.len().to_string()),
                    (ETAG, format!("\"{}\"", file.blob_id)),
                ],
                text.clone(),
            )
                .into_response();
            insert_header(&mut response, "X-Repo-Commit", &repo.sha);
            response
        }
        Content::Lfs { sha256, .. } => {
            let location = format!(
                "{}{}",
                shared.base_url,
                LFS_OBJECT_ROUTE.replace("{oid}", sha256)
            );
            let mut response = StatusCode::FOUND.into_response();
            insert_header(&mut response, LOCATION.as_str(), &location);
            insert_header(&mut response, ETAG.as_str(), &format!("\"{sha256}\""));
            insert_header(&mut response, "X-Repo-Commit", &repo.sha);
            insert_header(&mut response, "X-Linked-Etag", &format!("\"{sha256}\""));
            insert_header(&mut response, "X-Linked-Size", &file.size.to_string());
            response
        }
    }
}

/// What LFS redirects land on: a placeholder, since the fixture keeps no weights.
pub(super) async fn lfs_object(Path(oid): Path<String>) -> Response {
    (
        StatusCode::OK,
        [(CONTENT_TYPE, "application/octet-stream")],
        format!("LFS object {oid}: the local HuggingFace Hub does not store file contents\n"),
    )
        .into_response()
}

/// A missing repository: anonymous callers get the Hub's bare 401 (it does not tell missing
/// from private), authenticated ones a 404 `RepoNotFound`.
fn repo_not_found(caller: &Caller) -> Response {
    match caller {
        Caller::Anonymous => hub_error(StatusCode::UNAUTHORIZED, None, NOT_SIGNED_IN),
        Caller::User { .. } => hub_error(
            StatusCode::NOT_FOUND,
            Some("RepoNotFound"),
            "Repository not found",
        ),
    }
}

fn gated(shared: &Shared, repo: &Repo, caller: &Caller) -> Response {
    match caller {
        Caller::Anonymous => {
            let message = format!(
                "Access to model {} is restricted. You must have access to it and be \
                 authenticated to access it. Please log in.",
                repo.id
            );
            let mut response = hub_error(StatusCode::UNAUTHORIZED, Some("GatedRepo"), &message);
            insert_header(
                &mut response,
                "WWW-Authenticate",
                "Bearer realm=\"Authentication required\"",
            );
            response
        }
        Caller::User { .. } => {
            let message = format!(
                "Access to model {id} is restricted and you are not in the authorized list. \
                 Visit {base}/{id} to ask for access.",
                id = repo.id,
                base = shared.base_url
            );
            hub_error(StatusCode::FORBIDDEN, Some("GatedRepo"), &message)
        }
    }
}

/// `main` or the repository's commit (full or abbreviated to at least 7 digits).
fn is_known_revision(repo: &Repo, revision: &str) -> bool {
    revision == "main" || (revision.len() >= 7 && repo.sha.starts_with(revision))
}

fn revision_not_found(revision: &str) -> Response {
    hub_error(
        StatusCode::NOT_FOUND,
        Some("RevisionNotFound"),
        &format!("Invalid rev id: {revision}"),
    )
}

fn page_not_found() -> Response {
    hub_error(
        StatusCode::NOT_FOUND,
        None,
        "Sorry, we can't find the page you are looking for.",
    )
}

/// The Hub's answer to an id in another case: 307 to the canonical path, query kept.
fn redirect(path: &str, query: Option<&str>) -> Response {
    let location = match query {
        Some(query) if !query.is_empty() => format!("{path}?{query}"),
        _ => path.to_string(),
    };
    let mut response = StatusCode::TEMPORARY_REDIRECT.into_response();
    insert_header(&mut response, LOCATION.as_str(), &location);
    response
}

fn insert_header(response: &mut Response, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().insert(name, value);
    }
}

fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

/// Decodes `%XX` escapes of one path segment (invalid escapes are kept as they are).
fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| segment.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                decoded.push(byte);
                i += 3;
            }
            None => {
                decoded.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}
