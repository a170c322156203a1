//! The rules for every user value that reaches an image name, a build argument or a command
//! line. Each is an allow-list (characters, shape, length): nothing that a shell, a CSV option
//! parser (`--output type=image,name=…`) or an option parser could read as something else gets
//! through, whatever runs the command later. No value may start with `-`.

use std::sync::LazyLock;

use regex::Regex;

/// Longest HuggingFace repository id (the Hub's own limit).
pub const MAX_MODEL_ID: usize = 96;
/// Longest GGUF file path within a repository.
pub const MAX_GGUF_FILE: usize = 255;
/// Longest image name (path of the repository in the registry).
pub const MAX_IMAGE_NAME: usize = 128;
/// Longest image tag (the OCI distribution limit).
pub const MAX_IMAGE_TAG: usize = 128;
/// Longest derived image name (`aikit-<sanitized id>`), as in the reference.
pub const MAX_DERIVED_NAME: usize = 63;

/// A value that breaks its rule; the message names the field and the rule.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field} {problem}")]
pub struct NameError {
    /// The field (`modelId`, `ggufFile`, `imageName`, `imageTag`, …).
    pub field: &'static str,
    /// What is wrong, e.g. `must be a HuggingFace repository id (owner/name)`.
    pub problem: String,
}

impl NameError {
    fn new(field: &'static str, problem: impl Into<String>) -> Self {
        Self {
            field,
            problem: problem.into(),
        }
    }
}

fn regex(pattern: &str) -> Regex {
    // The patterns are constants of this file; a typo fails every test at once.
    Regex::new(pattern).unwrap_or_else(|e| panic!("invalid built-in pattern {pattern}: {e}"))
}

static REPO_PART: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$"));
static FILE_SEGMENT: LazyLock<Regex> = LazyLock::new(|| regex(r"^[A-Za-z0-9_][A-Za-z0-9._+-]*$"));
static IMAGE_COMPONENT: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$"));
static TAG: LazyLock<Regex> = LazyLock::new(|| regex(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$"));
static HOST_LABEL: LazyLock<Regex> = LazyLock::new(|| regex(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$"));
static DIGEST: LazyLock<Regex> = LazyLock::new(|| regex(r"^sha256:[a-f0-9]{64}$"));

fn printable(value: &str) -> String {
    let mut shown: String = value.chars().take(64).collect();
    if value.chars().count() > 64 {
        shown.push('…');
    }
    format!("{shown:?}")
}

/// A HuggingFace repository id `owner/name`: letters, digits, `-`, `_`, `.`; each part starts
/// and ends with a letter or digit, no `--` or `..`, at most 96 characters.
pub fn model_id(value: &str) -> Result<(), NameError> {
    const FIELD: &str = "modelId";
    if value.len() > MAX_MODEL_ID {
        return Err(NameError::new(
            FIELD,
            format!("is longer than {MAX_MODEL_ID} characters"),
        ));
    }
    let rule = "must be a HuggingFace repository id (owner/name: letters, digits, '-', '_', '.')";
    let mut parts = value.split('/');
    let (Some(owner), Some(name), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(NameError::new(
            FIELD,
            format!("{rule}, got {}", printable(value)),
        ));
    };
    for part in [owner, name] {
        if !REPO_PART.is_match(part) || part.contains("--") || part.contains("..") {
            return Err(NameError::new(
                FIELD,
                format!("{rule}, got {}", printable(value)),
            ));
        }
    }
    Ok(())
}

/// A `.gguf` file of a repository: a relative path of segments made of letters, digits, `.`,
/// `_`, `+`, `-` (no segment starts with `.` or `-`, so no `..` and no hidden files), ending in
/// `.gguf`, at most 255 characters.
pub fn gguf_file(value: &str) -> Result<(), NameError> {
    const FIELD: &str = "ggufFile";
    if value.len() > MAX_GGUF_FILE {
        return Err(NameError::new(
            FIELD,
            format!("is longer than {MAX_GGUF_FILE} characters"),
        ));
    }
    if !value.ends_with(".gguf") {
        return Err(NameError::new(FIELD, "must be a .gguf file"));
    }
    if value.split('/').any(|s| !FILE_SEGMENT.is_match(s)) {
        return Err(NameError::new(
            FIELD,
            format!(
                "must be a relative path of letters, digits, '.', '_', '+', '-' (no segment may start with '.' or '-'), got {}",
                printable(value)
            ),
        ));
    }
    Ok(())
}

/// An image name (repository path) in the registry: lower-case components of letters and
/// digits joined by `.`, `_`, `__` or dashes, separated by `/` (at most 3), at most 128
/// characters.
pub fn image_name(value: &str) -> Result<(), NameError> {
    const FIELD: &str = "imageName";
    if value.len() > MAX_IMAGE_NAME {
        return Err(NameError::new(
            FIELD,
            format!("is longer than {MAX_IMAGE_NAME} characters"),
        ));
    }
    let components: Vec<&str> = value.split('/').collect();
    if components.len() > 3 || components.iter().any(|c| !IMAGE_COMPONENT.is_match(c)) {
        return Err(NameError::new(
            FIELD,
            format!(
                "must be a lower-case image name (letters, digits, '.', '_', '-' between them, up to 3 '/'-separated parts), got {}",
                printable(value)
            ),
        ));
    }
    Ok(())
}

/// An image tag: letters, digits, `_`, `.`, `-`, not starting with `.` or `-`, at most 128.
pub fn image_tag(value: &str) -> Result<(), NameError> {
    const FIELD: &str = "imageTag";
    if value.len() > MAX_IMAGE_TAG {
        return Err(NameError::new(
            FIELD,
            format!("is longer than {MAX_IMAGE_TAG} characters"),
        ));
    }
    if !TAG.is_match(value) {
        return Err(NameError::new(
            FIELD,
            format!(
                "must be an image tag (letters, digits, '_', '.', '-', not starting with '.' or '-'), got {}",
                printable(value)
            ),
        ));
    }
    Ok(())
}

/// A registry host: lower-case DNS labels (or an IPv4 address) with an optional port.
pub fn registry_host(field: &'static str, value: &str) -> Result<(), NameError> {
    let bad = || {
        NameError::new(
            field,
            format!("must be a registry host[:port], got {}", printable(value)),
        )
    };
    if value.is_empty() || value.len() > 253 {
        return Err(bad());
    }
    let (host, port) = match value.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (value, None),
    };
    if let Some(port) = port
        && !port.parse::<u16>().is_ok_and(|p| p > 0)
    {
        return Err(bad());
    }
    if !host.split('.').all(|label| HOST_LABEL.is_match(label)) {
        return Err(bad());
    }
    Ok(())
}

/// A full image reference `host[:port]/name[:tag][@sha256:…]` whose parts obey the rules above
/// (used for configured images such as the AIKit frontend).
pub fn image_ref(field: &'static str, value: &str) -> Result<(), NameError> {
    let bad = |why: String| {
        NameError::new(
            field,
            format!("must be an image reference host/name[:tag][@digest]: {why}"),
        )
    };
    let (rest, digest) = match value.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (value, None),
    };
    if let Some(digest) = digest
        && !DIGEST.is_match(digest)
    {
        return Err(bad(format!("bad digest in {}", printable(value))));
    }
    let Some((host, path)) = rest.split_once('/') else {
        return Err(bad(format!("no registry host in {}", printable(value))));
    };
    registry_host(field, host).map_err(|e| bad(e.problem))?;
    let (name, tag) = match path.rsplit_once(':') {
        Some((name, tag)) => (name, Some(tag)),
        None => (path, None),
    };
    if name.len() > MAX_IMAGE_NAME || name.split('/').any(|c| !IMAGE_COMPONENT.is_match(c)) {
        return Err(bad(format!("bad name in {}", printable(value))));
    }
    if let Some(tag) = tag {
        image_tag(tag).map_err(|e| bad(e.problem))?;
    }
    Ok(())
}

/// An `http(s)://` URL without credentials, spaces, quotes or commas (used for the configured
/// aikitfile).
pub fn http_url(field: &'static str, value: &str) -> Result<(), NameError> {
    let bad = || {
        NameError::new(
            field,
            format!(
                "must be an http(s) URL without credentials, got {}",
                printable(value)
            ),
        )
    };
    let Some(rest) = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))
    else {
        return Err(bad());
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() || authority.contains('@') || value.len() > 2048 {
        return Err(bad());
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-._~:/?#[]!$&()*+;=%".contains(c);
    if !value.chars().all(allowed) {
        return Err(bad());
    }
    Ok(())
}

/// `buildkitd`'s address: `tcp://host:port` or `unix:///absolute/path`.
pub fn buildkit_addr(value: &str) -> Result<(), NameError> {
    const FIELD: &str = "buildkit address";
    if let Some(path) = value.strip_prefix("unix://") {
        if path.starts_with('/')
            && !path.split('/').any(|s| s == "..")
            && path
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "/._-".contains(c))
        {
            return Ok(());
        }
    } else if let Some(hostport) = value.strip_prefix("tcp://")
        && hostport.contains(':')
        && registry_host(FIELD, hostport).is_ok()
    {
        return Ok(());
    }
    Err(NameError::new(
        FIELD,
        format!(
            "must be tcp://host:port or unix:///path, got {}",
            printable(value)
        ),
    ))
}

/// The reference's default image name for `model_id`: `aikit-` + the id sanitised (lower-case,
/// non-`[a-z0-9-]` turned into `-`, dashes collapsed and trimmed, cut to 63 characters). A dash
/// left at the end by the cut is trimmed too, so the name stays a valid image name.
pub fn default_image_name(model_id: &str) -> String {
    let mut id = String::new();
    for c in model_id.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            id.push(c);
        } else if !id.is_empty() && !id.ends_with('-') {
            id.push('-');
        }
    }
    let mut id: String = id.chars().take(MAX_DERIVED_NAME).collect();
    while id.ends_with('-') {
        id.pop();
    }
    format!("aikit-{id}")
}

static QUANTIZATIONS: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        r"(?i)\.(Q\d+_K_[SM])\.gguf$",
        r"(?i)\.(Q\d+_\d)\.gguf$",
        r"(?i)\.(Q\d+)\.gguf$",
        r"(?i)\.(IQ\d+_[A-Z]+)\.gguf$",
        r"(?i)\.(F\d+)\.gguf$",
    ]
    .iter()
    .map(|p| regex(p))
    .collect()
});

/// The reference's default tag: the quantisation in the file name, upper-cased
/// (`model.Q4_K_M.gguf` → `Q4_K_M`), else `custom`.
pub fn default_image_tag(gguf_file: &str) -> String {
    QUANTIZATIONS
        .iter()
        .find_map(|re| re.captures(gguf_file))
        .and_then(|c| c.get(1))
        .map_or_else(|| "custom".to_string(), |m| m.as_str().to_ascii_uppercase())
}
