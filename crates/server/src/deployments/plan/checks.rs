//! Checks of single values of the body (names, images, quantities, counts), each naming the
//! field it refuses.

use super::InvalidRequest;
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
