//! Kubernetes quantities (`500m`, `32Gi`, `1e3`, `1.5`) as the integers the scheduler compares:
//! CPU in millicores, everything else in whole units, both rounded up like `MilliValue()` and
//! `Value()` of `resource.Quantity`.

/// A quantity in thousandths of its unit, rounded up; `None` when the text is not a quantity.
/// Values beyond `i64` saturate (no node offers that much of anything).
pub fn parse_milli(text: &str) -> Option<i64> {
    let s = text.trim();
    let (negative, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let number_end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, suffix) = s.split_at(number_end);
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if (whole.is_empty() && fraction.is_empty()) || fraction.contains('.') {
        return None;
    }
    // The digits as one integer `mantissa`, scaled down by 10^fraction.len().
    let digits = format!("{whole}{fraction}");
    let digits = digits.trim_start_matches('0');
    if digits.len() > 36 {
        return Some(if negative { i64::MIN } else { i64::MAX });
    }
    let mantissa: u128 = if digits.is_empty() {
        0
    } else {
        digits.parse().ok()?
    };
    let (base2, base10) = suffix_scale(suffix)?;
    // milli = mantissa * 2^base2 * 10^(base10 + 3 - fraction.len()), rounded up.
    let exp10 = base10 + 3 - i64::try_from(fraction.len()).ok()?;
    let mut value = mantissa.checked_mul(1u128.checked_shl(base2)?);
    let mut round_up = false;
    if exp10 >= 0 {
        for _ in 0..exp10 {
            value = value.and_then(|v| v.checked_mul(10));
        }
    } else {
        let divisor = (0..-exp10).try_fold(1u128, |d, _| d.checked_mul(10));
        value = match (value, divisor) {
            (Some(v), Some(d)) => {
                round_up = v % d != 0;
                Some(v / d)
            }
            // A divisor beyond u128 leaves less than one thousandth.
            (Some(v), None) => {
                round_up = v != 0;
                Some(0)
            }
            (None, _) => None,
        };
    }
    let magnitude = value.map(|v| v + u128::from(round_up && !negative));
    let magnitude = magnitude.and_then(|v| i64::try_from(v).ok());
    Some(match (magnitude, negative) {
        (Some(v), false) => v,
        (Some(v), true) => -v,
        (None, false) => i64::MAX,
        (None, true) => i64::MIN,
    })
}

/// A quantity in whole units, rounded up (`Value()`); `None` when the text is not a quantity.
pub fn parse_value(text: &str) -> Option<i64> {
    parse_milli(text).map(|m| {
        if m == i64::MAX {
            i64::MAX
        } else if m >= 0 {
            m / 1000 + i64::from(m % 1000 != 0)
        } else {
            m / 1000
        }
    })
}

/// The binary shift and decimal exponent of a suffix.
fn suffix_scale(suffix: &str) -> Option<(u32, i64)> {
    Some(match suffix {
        "" => (0, 0),
        "n" => (0, -9),
        "u" => (0, -6),
        "m" => (0, -3),
        "k" => (0, 3),
        "M" => (0, 6),
        "G" => (0, 9),
        "T" => (0, 12),
        "P" => (0, 15),
        "E" => (0, 18),
        "Ki" => (10, 0),
        "Mi" => (20, 0),
        "Gi" => (30, 0),
        "Ti" => (40, 0),
        "Pi" => (50, 0),
        "Ei" => (60, 0),
        other => {
            let exponent = other.strip_prefix(['e', 'E'])?;
            let digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
            if digits.is_empty() || digits.len() > 3 || !digits.chars().all(|c| c.is_ascii_digit())
            {
                return None;
            }
            (0, exponent.parse().ok()?)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_in_millicores_rounded_up() {
        assert_eq!(parse_milli("500m"), Some(500));
        assert_eq!(parse_milli("2"), Some(2000));
        assert_eq!(parse_milli("0.5"), Some(500));
        assert_eq!(parse_milli("1.0005"), Some(1001), "rounded up");
        assert_eq!(parse_milli("100u"), Some(1), "rounded up");
        assert_eq!(parse_milli("0"), Some(0));
    }

    #[test]
    fn memory_in_bytes() {
        assert_eq!(parse_value("1Gi"), Some(1 << 30));
        assert_eq!(parse_value("512Mi"), Some(512 << 20));
        assert_eq!(parse_value("1.5Gi"), Some(3 << 29));
        assert_eq!(parse_value("1G"), Some(1_000_000_000));
        assert_eq!(parse_value("1e3"), Some(1000));
        assert_eq!(
            parse_value("1E-3"),
            Some(1),
            "a thousandth rounds up to one"
        );
        assert_eq!(parse_value("8"), Some(8));
        assert_eq!(parse_value("1800Gi"), Some(1800 << 30));
    }

    #[test]
    fn rejects_what_is_not_a_quantity() {
        for bad in ["", "abc", "1.2.3", "1Gb", "1e", "1e1234", ".", "Gi"] {
            assert_eq!(parse_milli(bad), None, "{bad}");
        }
        assert_eq!(parse_value("9Ei"), Some(i64::MAX), "saturates");
    }
}
