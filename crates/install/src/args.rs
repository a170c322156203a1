//! The rules every value must pass before it becomes an argument of the `helm` command line.
//!
//! Helm is run without a shell, so no value can start a second command; what remains is option
//! injection (a chart named `--post-renderer=…`, a namespace `-n`) and reading local files (a
//! chart given as a path). Every value is therefore checked against the narrow form Helm
//! documents for it, none may start with `-`, and chart references are limited to `repo/chart`
//! with a declared repository, or an http(s)/oci URL.

use std::sync::LazyLock;

use regex::Regex;

/// A value that may not be passed to Helm.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} \"{value}\" is not allowed: {rule}")]
pub struct InvalidArg {
    /// What the value is (`chart`, `namespace`, …).
    pub what: &'static str,
    /// The value, shortened for messages.
    pub value: String,
    /// The rule it breaks.
    pub rule: String,
}

fn invalid(what: &'static str, value: &str, rule: impl Into<String>) -> InvalidArg {
    InvalidArg {
        what,
        value: truncate(value),
        rule: rule.into(),
    }
}

/// At most 80 characters of a value, for messages (a value can be as long as a request allows).
pub fn truncate(s: &str) -> String {
    if s.chars().count() <= 80 {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(80).collect::<String>())
    }
}

/// Longest value accepted for one `--set-json` entry (Linux limits a single argument to 128 KiB).
pub const MAX_SET_JSON_VALUE: usize = 32 * 1024;

static RELEASE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
        .expect("constant regex")
});
static REPO: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$").expect("constant regex"));
static CHART_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$").expect("constant regex"));
static VERSION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[0-9A-Za-z^~=<>*][0-9A-Za-z^~=<>*.+,| -]{0,63}$").expect("constant regex")
});
static SET_KEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[A-Za-z0-9_][A-Za-z0-9_./\\\[\]-]{0,252}$").expect("constant regex")
});

/// A Helm release name: a lower-case DNS-1123 subdomain of at most 53 characters.
pub fn release_name(value: &str) -> Result<(), InvalidArg> {
    if value.len() <= 53 && RELEASE.is_match(value) {
        Ok(())
    } else {
        Err(invalid(
            "release name",
            value,
            "use 1-53 lower-case letters, digits, '-' or '.', starting and ending with a letter or digit",
        ))
    }
}

/// A namespace: a DNS-1123 label.
pub fn namespace(value: &str) -> Result<(), InvalidArg> {
    let bytes = value.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let valid = bytes.len() <= 63
        && bytes.first().is_some_and(alnum)
        && bytes.last().is_some_and(alnum)
        && bytes.iter().all(|b| alnum(b) || *b == b'-');
    if valid {
        Ok(())
    } else {
        Err(invalid(
            "namespace",
            value,
            "use 1-63 lower-case letters, digits or '-', starting and ending with a letter or digit",
        ))
    }
}

/// A local repository name (what `helm repo add` stores it as).
pub fn repo_name(value: &str) -> Result<(), InvalidArg> {
    if REPO.is_match(value) {
        Ok(())
    } else {
        Err(invalid(
            "repository name",
            value,
            "use 1-63 letters, digits, '_', '.' or '-', starting with a letter or digit",
        ))
    }
}

/// A chart repository URL: http(s), with a host and without credentials.
pub fn repo_url(value: &str) -> Result<(), InvalidArg> {
    web_url("repository URL", value, &["http", "https"])
}

fn web_url(what: &'static str, value: &str, schemes: &[&str]) -> Result<(), InvalidArg> {
    if value.len() > 2048 || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid(
            what,
            value,
            "must be a URL of at most 2048 characters without spaces",
        ));
    }
    let url = url::Url::parse(value).map_err(|e| invalid(what, value, e.to_string()))?;
    if !schemes.contains(&url.scheme()) {
        return Err(invalid(
            what,
            value,
            format!("the scheme must be one of {}", schemes.join(", ")),
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid(what, value, "the URL needs a host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            what,
            value,
            "credentials in URLs are not accepted (they would show in commands and logs)",
        ));
    }
    Ok(())
}

/// A chart reference: `repo/chart` naming one of `repos`, or an http(s) or oci URL. Local
/// paths are refused: they would read files of the machine the server runs on.
pub fn chart_ref(value: &str, repos: &[&str]) -> Result<(), InvalidArg> {
    if value.contains("://") {
        return web_url("chart", value, &["http", "https", "oci"]);
    }
    let Some((repo, chart)) = value.split_once('/') else {
        return Err(invalid(
            "chart",
            value,
            "use repo/chart with a declared repository, or an http(s)/oci URL",
        ));
    };
    repo_name(repo)
        .map_err(|_| invalid("chart", value, "the repository part is not a valid name"))?;
    if !CHART_NAME.is_match(chart) {
        return Err(invalid(
            "chart",
            value,
            "the chart part must be 1-100 letters, digits, '_', '.' or '-', starting with a letter or digit",
        ));
    }
    if !repos.contains(&repo) {
        return Err(invalid(
            "chart",
            value,
            format!("repository \"{repo}\" is not among the installation's helmRepos"),
        ));
    }
    Ok(())
}

/// A chart version or version constraint (`1.2.3`, `v0.4.0`, `^1.2`, `>=1.0, <2.0`).
pub fn version(value: &str) -> Result<(), InvalidArg> {
    if VERSION.is_match(value) {
        Ok(())
    } else {
        Err(invalid(
            "version",
            value,
            "use a version or constraint of at most 64 characters (digits, letters and . + - ^ ~ = < > * , |)",
        ))
    }
}

/// One `--set-json` entry as the argument value `key=<compact JSON>`. The key is a Helm value
/// path (`a.b[0].c`, `\.` for dots in names); it may not contain `=` or `,`, which Helm treats
/// as separators.
pub fn set_json(key: &str, value: &serde_json::Value) -> Result<String, InvalidArg> {
    if !SET_KEY.is_match(key) {
        return Err(invalid(
            "value key",
            key,
            "use a Helm value path: letters, digits, '_', '-', '.', '/', '[n]', starting with a letter, digit or '_'",
        ));
    }
    let json = serde_json::to_string(value)
        .map_err(|e| invalid("value", key, format!("cannot be written as JSON: {e}")))?;
    if json.len() > MAX_SET_JSON_VALUE {
        return Err(invalid(
            "value",
            key,
            format!("its JSON is longer than {MAX_SET_JSON_VALUE} bytes"),
        ));
    }
    Ok(format!("{key}={json}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn option_like_values_are_refused_everywhere() {
        for bad in ["-n", "--post-renderer=x", "--kubeconfig", "-"] {
            assert!(release_name(bad).is_err(), "{bad}");
            assert!(namespace(bad).is_err(), "{bad}");
            assert!(repo_name(bad).is_err(), "{bad}");
            assert!(repo_url(bad).is_err(), "{bad}");
            assert!(chart_ref(bad, &["repo"]).is_err(), "{bad}");
            assert!(version(bad).is_err(), "{bad}");
            assert!(set_json(bad, &json!(1)).is_err(), "{bad}");
        }
    }

    #[test]
    fn charts() {
        assert!(chart_ref("kaito/workspace", &["kaito"]).is_ok());
        assert!(chart_ref("other/workspace", &["kaito"]).is_err());
        assert!(chart_ref("oci://ghcr.io/org/chart", &[]).is_ok());
        assert!(chart_ref("https://example.com/c-1.0.0.tgz", &[]).is_ok());
        assert!(chart_ref("https://user:pw@example.com/c.tgz", &[]).is_err());
        assert!(chart_ref("file:///etc/passwd", &[]).is_err());
        assert!(chart_ref("./chart", &["."]).is_err());
        assert!(chart_ref("/etc", &[]).is_err());
        assert!(chart_ref("kaito/../x", &["kaito"]).is_err());
        assert!(chart_ref("kaito/a b", &["kaito"]).is_err());
        assert!(chart_ref("kaito/--x", &["kaito"]).is_err());
    }

    #[test]
    fn names_versions_urls() {
        assert!(release_name("kaito-workspace").is_ok());
        assert!(release_name("gpu.operator").is_ok());
        assert!(release_name(&"a".repeat(54)).is_err());
        assert!(release_name("Upper").is_err());
        assert!(namespace("gpu-operator").is_ok());
        assert!(namespace("a.b").is_err());
        assert!(repo_name("nvidia").is_ok());
        assert!(repo_name("a/b").is_err());
        assert!(repo_url("https://helm.ngc.nvidia.com/nvidia").is_ok());
        assert!(repo_url("ftp://x").is_err());
        assert!(repo_url("https://x/ y").is_err());
        for good in [
            "1.2.3",
            "v0.4.0",
            "^1.2",
            ">=1.0, <2.0",
            "1.x",
            "0.1.0-rc.1+build",
        ] {
            assert!(version(good).is_ok(), "{good}");
        }
        assert!(version("1.0\n").is_err());
        assert!(version("").is_err());
    }

    #[test]
    fn set_json_entries() {
        assert_eq!(
            set_json("driver.enabled", &json!(false)).ok().as_deref(),
            Some("driver.enabled=false")
        );
        assert_eq!(
            set_json("a.b[0]", &json!({"x": "y,z"})).ok().as_deref(),
            Some(r#"a.b[0]={"x":"y,z"}"#)
        );
        assert!(set_json("a=b", &json!(1)).is_err());
        assert!(set_json("a,b", &json!(1)).is_err());
        assert!(set_json("k", &json!("x".repeat(MAX_SET_JSON_VALUE))).is_err());
    }
}
