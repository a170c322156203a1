//! Checks of single values of the body (names, images, quantities, counts), each naming the
//! field it refuses.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Toleration;

use super::InvalidRequest;
use super::request::{TaintEffect, TolerationOperator, TolerationRequest};
use crate::extract::truncate;

/// A required, non-blank string of at most `max` characters without control characters.
pub(super) fn text(field: &str, value: &str, max: usize) -> Result<String, InvalidRequest> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(InvalidRequest::field(format!("{field} must not be empty")));
    }
    if trimmed.chars().count() > max {
        return Err(InvalidRequest::field(format!(
            "{field} is longer than {max} characters"
        )));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(InvalidRequest::field(format!(
            "{field} must not contain control characters"
        )));
    }
    Ok(trimmed.to_string())
}

/// A Kubernetes object name (DNS-1123 subdomain).
pub(super) fn dns_subdomain(field: &str, value: &str) -> Result<String, InvalidRequest> {
    let valid = value.len() <= 253
        && value.split('.').all(|part| {
            let b = part.as_bytes();
            let alnum = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
            !b.is_empty()
                && b.first().is_some_and(alnum)
                && b.last().is_some_and(alnum)
                && b.iter().all(|c| alnum(c) || *c == b'-')
        });
    if valid {
        Ok(value.to_string())
    } else {
        Err(InvalidRequest::field(format!(
            "Invalid {field} \"{}\": must be a Kubernetes object name (lower-case letters, digits, '-' and '.', at most 253 characters)",
            truncate(value)
        )))
    }
}

/// A container image reference: non-blank, no whitespace, at most 512 characters.
pub(super) fn image_ref(field: &str, value: &str) -> Result<String, InvalidRequest> {
    if value.is_empty()
        || value.len() > 512
        || value.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(InvalidRequest::field(format!(
            "Invalid {field} \"{}\": must be a container image reference such as ghcr.io/org/image:tag",
            truncate(value)
        )));
    }
    Ok(value.to_string())
}

/// An AIKit premade id such as `llama3.2:1b`.
pub(super) fn premade_id(value: &str) -> Result<&str, InvalidRequest> {
    let ok_part = |p: &str| {
        !p.is_empty()
            && p.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_')
            })
    };
    match value.split_once(':') {
        Some((model, tag)) if value.len() <= 128 && ok_part(model) && ok_part(tag) => Ok(value),
        _ => Err(InvalidRequest::field(format!(
            "Invalid premadeModel \"{}\": must be an AIKit model id such as llama3.2:1b",
            truncate(value)
        ))),
    }
}

/// A `.gguf` file path inside the model repository.
pub(super) fn gguf_file(value: &str) -> Result<String, InvalidRequest> {
    let safe = value.len() <= 512
        && value.ends_with(".gguf")
        && !value.starts_with('/')
        && !value
            .split('/')
            .any(|p| p.is_empty() || p == "." || p == "..")
        && !value.chars().any(|c| c.is_whitespace() || c.is_control());
    if safe {
        Ok(value.to_string())
    } else {
        Err(InvalidRequest::field(format!(
            "Invalid ggufFile \"{}\": must be a relative path to a .gguf file in the model repository",
            truncate(value)
        )))
    }
}

/// Most digits of a quantity's decimal exponent (`1e999`). The API server rescales a quantity
/// to nano units with arbitrary precision, so an exponent such as `1e2147483648` keeps it busy
/// for minutes (the dry run never answered); no resource needs more than three digits.
const MAX_EXPONENT_DIGITS: usize = 3;

/// A Kubernetes quantity such as `32Gi`, `500m` or `4` (the CRD checks it as well; this gives a
/// clearer message first).
pub(super) fn quantity(field: &str, value: &str) -> Result<String, InvalidRequest> {
    let number_end = value
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(value.len());
    let (number, suffix) = value.split_at(number_end);
    let number_ok =
        !number.is_empty() && number.chars().filter(|c| *c == '.').count() <= 1 && number != ".";
    let exponent = |s: &str| {
        s.strip_prefix(['e', 'E'])
            .map(|e| e.strip_prefix(['+', '-']).unwrap_or(e))
            .is_some_and(|d| {
                (1..=MAX_EXPONENT_DIGITS).contains(&d.len())
                    && d.chars().all(|c| c.is_ascii_digit())
            })
    };
    let suffix_ok = matches!(
        suffix,
        "" | "m" | "k" | "M" | "G" | "T" | "P" | "E" | "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei"
    ) || exponent(suffix);
    if number_ok && suffix_ok && value.len() <= 64 {
        Ok(value.to_string())
    } else {
        Err(InvalidRequest::field(format!(
            "Invalid {field} \"{}\": must be a Kubernetes quantity such as 32Gi or 500m",
            truncate(value)
        )))
    }
}

pub(super) fn non_negative_i32(
    field: &str,
    value: Option<i64>,
) -> Result<Option<i32>, InvalidRequest> {
    value
        .map(|v| {
            i32::try_from(v).ok().filter(|v| *v >= 0).ok_or_else(|| {
                InvalidRequest::field(format!("{field} must be an integer from 0 to {}", i32::MAX))
            })
        })
        .transpose()
}

pub(super) fn positive_i32(field: &str, value: Option<i64>) -> Result<Option<i32>, InvalidRequest> {
    value
        .map(|v| {
            i32::try_from(v).ok().filter(|v| *v > 0).ok_or_else(|| {
                InvalidRequest::field(format!("{field} must be an integer from 1 to {}", i32::MAX))
            })
        })
        .transpose()
}

/// Most entries of `nodeSelector` and `tolerations`.
const MAX_SCHEDULING_ENTRIES: usize = 64;

/// `nodeSelector`: label keys (an optional DNS-subdomain prefix and `/`, then a name) and label
/// values, as the API server will check them on the provider's pods; empty means none.
pub(super) fn node_selector(
    value: Option<&BTreeMap<String, String>>,
) -> Result<Option<BTreeMap<String, String>>, InvalidRequest> {
    let Some(map) = value.filter(|m| !m.is_empty()) else {
        return Ok(None);
    };
    if map.len() > MAX_SCHEDULING_ENTRIES {
        return Err(InvalidRequest::field(format!(
            "nodeSelector has more than {MAX_SCHEDULING_ENTRIES} entries"
        )));
    }
    for (k, v) in map {
        if !label_key(k) {
            return Err(InvalidRequest::field(format!(
                "Invalid nodeSelector key \"{}\": must be a label key such as nvidia.com/gpu.product",
                truncate(k)
            )));
        }
        if !label_value(v) {
            return Err(InvalidRequest::field(format!(
                "Invalid nodeSelector value \"{}\" for {}: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
                truncate(v),
                truncate(k)
            )));
        }
    }
    Ok(Some(map.clone()))
}

/// `tolerations`, checked the way the API server checks a pod's: `Exists` has no value, an
/// empty key needs `Exists`, `tolerationSeconds` needs `NoExecute`; empty means none.
pub(super) fn tolerations(
    value: Option<&[TolerationRequest]>,
) -> Result<Option<Vec<Toleration>>, InvalidRequest> {
    let Some(list) = value.filter(|l| !l.is_empty()) else {
        return Ok(None);
    };
    if list.len() > MAX_SCHEDULING_ENTRIES {
        return Err(InvalidRequest::field(format!(
            "tolerations has more than {MAX_SCHEDULING_ENTRIES} entries"
        )));
    }
    let mut out = Vec::with_capacity(list.len());
    for (i, t) in list.iter().enumerate() {
        let field = format!("tolerations[{i}]");
        let key = t.key.clone().filter(|k| !k.is_empty());
        let operator = t.operator.unwrap_or_default();
        if let Some(k) = &key
            && !label_key(k)
        {
            return Err(InvalidRequest::field(format!(
                "Invalid {field}.key \"{}\": must be a label key",
                truncate(k)
            )));
        }
        let value = t.value.clone().filter(|v| !v.is_empty());
        if operator == TolerationOperator::Exists && value.is_some() {
            return Err(InvalidRequest::field(format!(
                "{field}.value must be empty when operator is Exists"
            )));
        }
        if key.is_none() && operator != TolerationOperator::Exists {
            return Err(InvalidRequest::field(format!(
                "{field}.operator must be Exists when key is empty"
            )));
        }
        if let Some(v) = &value
            && !label_value(v)
        {
            return Err(InvalidRequest::field(format!(
                "Invalid {field}.value \"{}\": at most 63 letters, digits, '-', '_' or '.'",
                truncate(v)
            )));
        }
        if t.toleration_seconds.is_some() && t.effect != Some(TaintEffect::NoExecute) {
            return Err(InvalidRequest::field(format!(
                "{field}.tolerationSeconds needs effect NoExecute"
            )));
        }
        out.push(Toleration {
            key,
            operator: Some(
                match operator {
                    TolerationOperator::Equal => "Equal",
                    TolerationOperator::Exists => "Exists",
                }
                .into(),
            ),
            value,
            effect: t.effect.map(|e| {
                match e {
                    TaintEffect::NoSchedule => "NoSchedule",
                    TaintEffect::PreferNoSchedule => "PreferNoSchedule",
                    TaintEffect::NoExecute => "NoExecute",
                }
                .into()
            }),
            toleration_seconds: t.toleration_seconds,
        });
    }
    Ok(Some(out))
}

/// A label key: `[prefix/]name`, the prefix a DNS subdomain of at most 253 characters, the name
/// at most 63 letters, digits, `-`, `_`, `.` starting and ending with a letter or digit.
fn label_key(key: &str) -> bool {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    let prefix_ok = prefix.is_none_or(|p| dns_subdomain("", p).is_ok());
    prefix_ok && !name.is_empty() && label_value(name)
}

/// A label value: empty, or at most 63 letters, digits, `-`, `_`, `.` starting and ending with
/// a letter or digit.
fn label_value(value: &str) -> bool {
    let b = value.as_bytes();
    let edge = |c: Option<&u8>| c.is_some_and(u8::is_ascii_alphanumeric);
    value.is_empty()
        || (b.len() <= 63
            && edge(b.first())
            && edge(b.last())
            && b.iter()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.')))
}
